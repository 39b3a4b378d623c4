"""What every task handler shares: the execution name in its logs, a trace, business metrics, transient
errors by name.

Step Functions retries by error *name*, so throttling and transaction conflicts are re-raised as
:class:`StoreThrottledError`, which the ASL's Retry clauses list.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from botocore.exceptions import ClientError

from lms.metrics import METRICS_NAMESPACE
from lms.tracing import traced

THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "TransactionConflictException",
        "TransactionInProgressException",
    }
)
# A cancelled TransactWriteItems is transient when it lost a race or was throttled, not when a
# condition failed (that is a business outcome the domain code already handles).
TRANSIENT_CANCELLATION_REASONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
)


def is_transient(error: ClientError) -> bool:
    code = error.response["Error"]["Code"]
    if code in THROTTLING_CODES:
        return True
    if code == "TransactionCanceledException":
        reasons = {r.get("Code") for r in error.response.get("CancellationReasons", [])}
        return bool(reasons & TRANSIENT_CANCELLATION_REASONS)
    return False


F = TypeVar("F", bound=Callable[..., Any])

# One namespace for every workflow's business metrics (PurchasesCompleted, VideoSecondsProcessed, ...):
# handlers call ``metrics.add_metric(...)``; :func:`task_handler` flushes them as EMF log lines.
metrics = Metrics(namespace=METRICS_NAMESPACE)


class StoreThrottledError(Exception):
    """DynamoDB throttled or briefly failed: transient, retried with backoff by the state machine."""


def translate_transient_errors(handler: F) -> F:
    """Re-raise throttling and transaction conflicts as :class:`StoreThrottledError`.

    The ASL retries that name with backoff; every task is idempotent, so a retry is safe.
    """

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except ClientError as error:
            if is_transient(error):
                raise StoreThrottledError(str(error)) from error
            raise

    return wrapper  # type: ignore[return-value]


def task_handler(logger: Logger) -> Callable[[F], F]:
    """Decorate a task handler: logs by execution name, traced (X-Ray in AWS), metrics flushed,
    transient errors translated."""

    def decorate(handler: F) -> F:
        wrapped = logger.inject_lambda_context(correlation_id_path="executionName")(
            traced(metrics.log_metrics(translate_transient_errors(handler)))
        )
        return functools.wraps(handler)(wrapped)  # type: ignore[return-value]

    return decorate
