"""The LMS domain: entities, the single-table key design, repositories and services.

Both the API (``api/``) and the task handlers (``tasks/``) import this package; it knows
nothing about Lambda or HTTP.
"""
