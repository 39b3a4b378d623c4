"""The load suite: Locust users that behave like the product's users, and `make load` (``python -m load``).

The runner (:mod:`load.__main__`) never imports Locust: Locust imports gevent, which monkey-patches
the standard library, so the run itself happens in a child process (:mod:`load.run`). See
docs/performance.md.
"""
