"""The CloudWatch namespace of every business metric (task handlers and the API emit, CDK graphs).

Its own module so that a handler can name it without importing anything heavier.
"""

METRICS_NAMESPACE = "LMS"
