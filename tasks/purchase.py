"""Task handlers of the purchase-to-enrollment workflow (``state-machines/purchase.asl.json``).

Thin: parse the input, call :mod:`lms.purchases`, return a small result. Exceptions reach Step
Functions by class name (``OrderNotValidError``, ``PaymentProviderUnavailableError``, ...), which is
what the ASL's Retry and Catch clauses match.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from lms import callbacks, payments, purchases
from lms.clock import isoformat
from lms.entities import TransactionStatus
from lms.table import Table
from tasks.runtime import metrics, task_handler

logger = Logger(service="lms-purchase")


class TaskInput(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    transaction_id: str
    execution_name: str = ""
    execution_arn: str = ""


class OrderInput(TaskInput):
    user_id: str
    course_id: str


class AwaitInput(TaskInput):
    task_token: str


class CloseInput(OrderInput):
    status: TransactionStatus
    outcome: str
    error: dict[str, Any] | None = None


class RefundInput(TaskInput):
    error: dict[str, Any] | None = None


@task_handler(logger)
def validate_order(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = OrderInput.model_validate(event)
    order = purchases.validate_order(
        Table(), transaction_id=request.transaction_id, user_id=request.user_id, course_id=request.course_id
    )
    return {
        **order.model_dump(mode="json", by_alias=True),
        "pendingItem": purchases.pending_transaction_item(
            order, execution_name=request.execution_name, execution_arn=request.execution_arn
        ),
    }


@task_handler(logger)
def create_payment_intent(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = TaskInput.model_validate(event)
    intent = purchases.create_payment_intent(Table(), payments.gateway(), request.transaction_id)
    logger.info("payment intent ready", extra={"payment_intent_id": intent.id})
    return {"paymentIntentId": intent.id}


@task_handler(logger)
def await_payment(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = AwaitInput.model_validate(event)
    resolution = purchases.await_payment(
        Table(), payments.gateway(), callbacks.callbacks(), request.transaction_id, request.task_token
    )
    logger.info("awaiting payment", extra={"outcome": resolution.outcome})
    return {"outcome": resolution.outcome}


@task_handler(logger)
def enroll_student(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = TaskInput.model_validate(event)
    enrollment = purchases.enroll_student(Table(), transaction_id=request.transaction_id)
    metrics.add_metric(name="PurchasesCompleted", unit=MetricUnit.Count, value=1)
    return {"enrolledAt": isoformat(enrollment.enrolled_at)}


@task_handler(logger)
def refund_payment(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = RefundInput.model_validate(event)
    cause = purchases.describe_error(request.error)
    transaction = purchases.refund_payment(
        Table(),
        payments.gateway(),
        transaction_id=request.transaction_id,
        reason=f"The payment was refunded because the enrollment failed: {cause}",
    )
    logger.warning("payment refunded", extra={"reason": transaction.reason})
    return {"status": transaction.status.value, "reason": transaction.reason}


@task_handler(logger)
def close_transaction(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = CloseInput.model_validate(event)
    transaction = purchases.close_transaction(
        Table(),
        payments.gateway(),
        transaction_id=request.transaction_id,
        user_id=request.user_id,
        course_id=request.course_id,
        status=request.status,
        error=request.error,
    )
    # A payment that arrived after all was refunded: that, not the planned closing, is the outcome.
    outcome = "PaymentRefunded" if transaction.status == TransactionStatus.REFUNDED else request.outcome
    logger.info("transaction closed", extra={"status": transaction.status, "outcome": outcome})
    if outcome == "PaymentDeclined":
        metrics.add_metric(name="PaymentFailures", unit=MetricUnit.Count, value=1)
    return {"status": transaction.status.value, "reason": transaction.reason, "outcome": outcome}
