"""Domain errors. Each carries the machine code and HTTP status the API answers with."""

from __future__ import annotations

from typing import Any


class LmsError(Exception):
    status = 400
    code = "BAD_REQUEST"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class ValidationError(LmsError):
    status, code = 400, "VALIDATION_ERROR"


class AuthenticationError(LmsError):
    status, code = 401, "UNAUTHORIZED"


class ForbiddenError(LmsError):
    status, code = 403, "FORBIDDEN"


class NotFoundError(LmsError):
    status, code = 404, "NOT_FOUND"


class ConflictError(LmsError):
    status, code = 409, "CONFLICT"


class ConditionFailedError(ConflictError):
    """A conditional write found the record changed (the default when a caller names no error)."""


class BusinessRuleError(LmsError):
    status, code = 422, "BUSINESS_RULE"


class RateLimitedError(LmsError):
    status, code = 429, "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message, details={"retryAfterSeconds": retry_after_seconds})
        self.retry_after_seconds = retry_after_seconds


class ConfigurationError(LmsError):
    status, code = 500, "CONFIGURATION_ERROR"
