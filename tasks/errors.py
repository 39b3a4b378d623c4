"""Error translation shared by task handlers: Step Functions retries by error *name*."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from botocore.exceptions import ClientError

THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "TransactionConflictException",
    }
)

F = TypeVar("F", bound=Callable[..., Any])


class StoreThrottledError(Exception):
    """DynamoDB throttled or briefly failed: transient, retried with backoff by the state machine."""


def translate_transient_errors(handler: F) -> F:
    """Re-raise throttling as :class:`StoreThrottledError`, so the ASL can retry it by name."""

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except ClientError as error:
            if error.response["Error"]["Code"] in THROTTLING_CODES:
                raise StoreThrottledError(str(error)) from error
            raise

    return wrapper  # type: ignore[return-value]
