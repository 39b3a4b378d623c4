"""Task handlers of the purchase-to-enrollment workflow (``state-machines/purchase.asl.json``).

Thin: parse the input, call :mod:`lms.purchases`, return a small result. Exceptions reach Step
Functions by class name (``OrderNotValidError``, ``PaymentProviderUnavailableError``, ...), which is
what the ASL's Retry and Catch clauses match.

Cold start: importing this module loads only Powertools, :mod:`tasks.runtime` and
:mod:`lms.snapstart`. Each handler imports the domain (pydantic models, :mod:`lms.purchases`, the
Stripe SDK when it pays) inside its body, so each function loads what its own step uses on its first
call; with SnapStart that happens before the snapshot (:func:`lms.snapstart.preload`), so a restored
environment has it all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from lms.snapstart import preload
from tasks.runtime import metrics, task_handler

if TYPE_CHECKING:
    from lms.entities import Transaction

logger = Logger(service="lms-purchase")
# The outcome of a run that found the purchase driven by another run (it changed nothing).
ANOTHER_RUN = "HandledByAnotherRun"
preload("lms.purchases", "lms.payments", "stripe", "workflows.callbacks", "workflows.purchase")


@task_handler(logger)
def validate_order(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms import purchases
    from lms.table import Table
    from workflows.purchase import OrderInput

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
    from lms import payments, purchases
    from lms.table import Table
    from workflows.purchase import TaskInput

    request = TaskInput.model_validate(event)
    intent = purchases.create_payment_intent(Table(), payments.gateway(), request.transaction_id)
    logger.info("payment intent ready", extra={"payment_intent_id": intent.id})
    return {"paymentIntentId": intent.id}


@task_handler(logger)
def await_payment(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms import payments, purchases
    from lms.table import Table
    from workflows import callbacks
    from workflows.purchase import AwaitInput

    request = AwaitInput.model_validate(event)
    resolution = purchases.await_payment(
        Table(), payments.gateway(), callbacks.callbacks(), request.transaction_id, request.task_token
    )
    logger.info("awaiting payment", extra={"outcome": resolution.outcome})
    return {"outcome": resolution.outcome}


@task_handler(logger)
def enroll_student(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms import purchases
    from lms.clock import isoformat
    from lms.table import Table
    from workflows.purchase import TaskInput

    request = TaskInput.model_validate(event)
    enrolled = purchases.enroll_student(Table(), transaction_id=request.transaction_id)
    metrics.add_metric(name="PurchasesCompleted", unit=MetricUnit.Count, value=1)
    # PublishEnrollmentCreated puts these details on the bus (the same ids when this step is retried).
    return {
        "enrolledAt": isoformat(enrolled.enrollment.enrolled_at),
        "enrollmentCreated": enrolled.enrollment_created.detail(),
        "purchaseCompleted": enrolled.purchase_completed.detail(),
    }


@task_handler(logger)
def refund_payment(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms import payments, purchases
    from lms.table import Table
    from workflows.purchase import RefundInput

    request = RefundInput.model_validate(event)
    cause = purchases.describe_error(request.error)
    transaction = purchases.refund_payment(
        Table(),
        payments.gateway(),
        transaction_id=request.transaction_id,
        reason=f"The payment was refunded because the enrollment failed: {cause}",
        execution_arn=request.execution_arn,
    )
    if not purchases.owned_by(transaction, request.execution_arn):
        logger.warning("another run owns the transaction", extra={"owner": transaction.execution_arn})
        return {"status": transaction.status.value, "reason": None, "outcome": ANOTHER_RUN}
    logger.warning("payment refunded", extra={"reason": transaction.reason})
    return {"status": transaction.status.value, "reason": transaction.reason, "outcome": "PaymentRefunded"}


@task_handler(logger)
def close_transaction(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms import payments, purchases
    from lms.entities import TransactionStatus
    from lms.table import Table
    from workflows.purchase import CloseInput

    request = CloseInput.model_validate(event)
    transaction = purchases.close_transaction(
        Table(),
        payments.gateway(),
        transaction_id=request.transaction_id,
        user_id=request.user_id,
        course_id=request.course_id,
        status=request.status,
        error=request.error,
        execution_arn=request.execution_arn,
    )
    if not purchases.owned_by(transaction, request.execution_arn):
        # A re-run started while the original waits, or an old run: the purchase is not ours to close.
        logger.warning("another run owns the transaction", extra={"owner": transaction.execution_arn})
        return {"status": transaction.status.value, "reason": None, "outcome": ANOTHER_RUN}
    # A payment that arrived after all was refunded: that, not the planned closing, is the outcome.
    outcome = "PaymentRefunded" if transaction.status == TransactionStatus.REFUNDED else request.outcome
    logger.info("transaction closed", extra={"status": transaction.status, "outcome": outcome})
    if outcome == "PaymentDeclined":
        metrics.add_metric(name="PaymentFailures", unit=MetricUnit.Count, value=1)
    if outcome in DECLINED_OUTCOMES:
        _announce_declined(transaction)
    return {"status": transaction.status.value, "reason": transaction.reason, "outcome": outcome}


# The outcomes PurchaseDeclined announces: the student did not pay (declined, or the window closed),
# nothing was charged. OrderRejected never reached a payment; PaymentRefunded was charged and refunded.
DECLINED_OUTCOMES = frozenset({"PaymentDeclined", "PaymentExpired"})


def _announce_declined(transaction: Transaction) -> None:
    """PurchaseDeclined, for analytics only: after the transaction is closed, and a bus that refuses it
    is logged, never a failure of the step (the run still ends in its Succeed state). The id comes from
    the transaction and the time from its record, so a retried step announces the same event."""
    from lms.events import Actor, PurchaseDeclined, publish_for_analytics

    publish_for_analytics(
        PurchaseDeclined(
            event_id=PurchaseDeclined.id_for(transaction.transaction_id),
            occurred_at=transaction.updated_at,
            actor=Actor.user(transaction.user_id),
            transaction_id=transaction.transaction_id,
            user_id=transaction.user_id,
            course_id=transaction.course_id,
            reason=transaction.reason or "",
        )
    )
