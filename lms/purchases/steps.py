"""The steps of the purchase-to-enrollment workflow (``state-machines/purchase.asl.json``).

Every step is idempotent: Step Functions and Stripe may both deliver twice, so running a step again
finds the work done and answers as the first run did.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from lms import callbacks, keys
from lms.callbacks import WorkflowCallbacks
from lms.clock import isoformat, utcnow
from lms.entities import (
    Course,
    CourseStatus,
    Enrollment,
    EnrollmentStatus,
    Money,
    PaymentMethod,
    Transaction,
    TransactionStatus,
    User,
)
from lms.errors import BusinessRuleError
from lms.events import Actor, EnrollmentCreated, PurchaseCompleted
from lms.expressions import Update, absent, eq, exists, item_absent, item_exists
from lms.payments import PaymentGateway, PaymentIntent, PaymentRejectedError
from lms.purchases import refunds
from lms.purchases.records import (
    AlreadyEnrolledError,
    finish,
    free_lock,
    get_transaction,
    move_counters,
    owned_by,
    require_transaction,
    transaction_item,
)
from lms.table import Check, Put, Table, serialize

PAYMENT_FAILED_ERROR = "PaymentFailed"  # the error name AwaitPayment's Catch matches


class OrderNotValidError(BusinessRuleError):
    """The order cannot go ahead: unknown or unpublished course, or an inactive user."""

    code = "ORDER_NOT_VALID"


class EnrollmentFailedError(Exception):
    """The enrollment could not be written after the payment succeeded: the payment is refunded."""


class Order(BaseModel):
    """A validated order. The price always comes from the course record, never from the client."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)

    transaction_id: str
    user_id: str
    course_id: str
    course_title: str
    price: Money
    is_free: bool


def validate_order(table: Table, *, transaction_id: str, user_id: str, course_id: str) -> Order:
    """Check that the course is published, the user active and not yet enrolled; price the order."""
    found = table.batch_get(
        [
            keys.user(user_id),
            keys.course(course_id),
            keys.enrollment(user_id, course_id),
            keys.published_pointer(course_id),
        ]
    )
    user_item = found.get(keys.user(user_id))
    if user_item is None or not User.from_item(user_item).is_active:
        raise OrderNotValidError("The account does not exist or is deactivated.")
    course_item = found.get(keys.course(course_id))
    if course_item is None:
        raise OrderNotValidError(f"No course with id {course_id}.")
    course = Course.from_item(course_item)
    if course.status != CourseStatus.PUBLISHED:
        raise OrderNotValidError("The course is not published.")
    if Enrollment.is_active_item(found.get(keys.enrollment(user_id, course_id))):
        raise AlreadyEnrolledError("The student is already enrolled in this course.")
    # Students buy the published version: a price the owner has edited since is not for sale yet.
    published = found.get(keys.published_pointer(course_id))
    if published is not None:
        course = Course.from_item(published)
    price = Money(amount=course.price_cents, currency=course.currency)
    return Order(
        transaction_id=transaction_id,
        user_id=user_id,
        course_id=course_id,
        course_title=course.title,
        price=price,
        is_free=price.amount == 0,
    )


def pending_transaction_item(order: Order, *, execution_name: str, execution_arn: str) -> dict[str, Any]:
    """The PENDING transaction as DynamoDB JSON, for the state machine's direct putItem.

    It names the execution that drives it (ops go from the transaction to its history). The put
    may replace a FAILED transaction that never reached Stripe: a re-run of a failed purchase
    (``lms executions redrive``) with the same transaction id then reopens it.
    """
    transaction = Transaction(
        transaction_id=order.transaction_id,
        user_id=order.user_id,
        course_id=order.course_id,
        amount=order.price,
        execution_name=execution_name,
        execution_arn=execution_arn or None,
        payment_method=PaymentMethod.FREE if order.is_free else PaymentMethod.CARD,
    )
    return serialize(transaction_item(transaction))


def create_payment_intent(table: Table, gateway: PaymentGateway, transaction_id: str) -> PaymentIntent:
    """Create the PaymentIntent once and keep its id and client secret with the transaction."""
    transaction = require_transaction(table, transaction_id)
    if transaction.payment_intent_id:
        return gateway.retrieve_payment_intent(transaction.payment_intent_id)
    if transaction.status != TransactionStatus.PENDING or transaction.amount is None:
        raise BusinessRuleError(f"Transaction {transaction_id} is {transaction.status}, not PENDING.")
    intent = gateway.create_payment_intent(
        amount=transaction.amount.amount,
        currency=transaction.amount.currency,
        metadata={
            "transactionId": transaction_id,
            "userId": transaction.user_id,
            "courseId": transaction.course_id,
        },
        idempotency_key=f"purchase-{transaction_id}-create",
    )
    table.update(
        keys.transaction(transaction_id),
        Update().set(
            paymentIntentId=intent.id, clientSecret=intent.client_secret, updatedAt=isoformat(utcnow())
        ),
        when=eq("status", TransactionStatus.PENDING.value),
        otherwise=BusinessRuleError(f"Transaction {transaction_id} stopped being PENDING meanwhile."),
    )
    return intent


@dataclass(frozen=True)
class PaymentResolution:
    outcome: str  # "succeeded", "failed", "pending", "closed" (the execution no longer waits)
    detail: str = ""


def _fail_payment(
    table: Table, port: WorkflowCallbacks, transaction: Transaction, cause: str
) -> PaymentResolution:
    # The reason is kept on the record first: the Catch's Cause is not carried by every engine
    # (moto 5.2.5 drops SendTaskFailure's cause), and the record is what the customer reads.
    table.update_if(
        keys.transaction(transaction.transaction_id),
        Update().set(reason=cause),
        when=eq("status", TransactionStatus.PENDING.value),
    )
    assert transaction.task_token
    sent = port.fail(transaction.task_token, error=PAYMENT_FAILED_ERROR, cause=cause)
    return (
        PaymentResolution("failed", cause)
        if sent.delivered
        else PaymentResolution("closed", sent.dead_reason or "")
    )


def resolve_payment(
    table: Table, port: WorkflowCallbacks, transaction: Transaction, intent: PaymentIntent
) -> PaymentResolution:
    """Resume the waiting execution from the PaymentIntent as Stripe reports it now.

    Never from a webhook body: the caller re-fetched ``intent`` from Stripe.
    """
    if not transaction.task_token:
        return PaymentResolution("pending", "the execution has not stored its task token yet")
    if intent.succeeded:
        expected = transaction.amount
        if expected is None or (intent.amount, intent.currency) != (expected.amount, expected.currency):
            return _fail_payment(table, port, transaction, "The amount paid does not match the order.")
        output = {"paymentIntentId": intent.id, "amount": intent.amount, "currency": intent.currency}
        sent = port.succeed(transaction.task_token, output)
        return (
            PaymentResolution("succeeded")
            if sent.delivered
            else PaymentResolution("closed", sent.dead_reason or "")
        )
    if intent.status == "canceled" or intent.failure_message:
        return _fail_payment(
            table, port, transaction, (intent.failure_message or "The payment was canceled.")[:256]
        )
    return PaymentResolution("pending", intent.status)


def await_payment(
    table: Table,
    gateway: PaymentGateway,
    port: WorkflowCallbacks,
    transaction_id: str,
    task_token: str,
) -> PaymentResolution:
    """Store the task token, then look at the PaymentIntent once: the payment may have beaten us here."""
    stored = table.update_if(
        keys.transaction(transaction_id),
        Update().set({callbacks.TASK_TOKEN_ATTRIBUTE: task_token, "updatedAt": isoformat(utcnow())}),
        when=eq("status", TransactionStatus.PENDING.value) & exists("paymentIntentId"),
    )
    if not stored:
        raise BusinessRuleError(f"Transaction {transaction_id} is not awaiting a payment.")
    transaction = require_transaction(table, transaction_id)
    assert transaction.payment_intent_id  # guaranteed by the condition above
    return resolve_payment(
        table, port, transaction, gateway.retrieve_payment_intent(transaction.payment_intent_id)
    )


@dataclass(frozen=True)
class Enrolled:
    """What EnrollStudent answers: the enrollment and the two events that announce it.

    Each event's id comes from the transaction (:meth:`~lms.events.Event.id_for`) and its time from
    the enrollment record, so a retried step, or a re-driven run, announces exactly the same events.
    """

    enrollment: Enrollment
    enrollment_created: EnrollmentCreated
    purchase_completed: PurchaseCompleted


def _enrolled(transaction: Transaction, enrollment: Enrollment) -> Enrolled:
    amount = transaction.amount or Money(amount=0)
    student = Actor.user(transaction.user_id)
    return Enrolled(
        enrollment=enrollment,
        enrollment_created=EnrollmentCreated(
            event_id=EnrollmentCreated.id_for(transaction.transaction_id),
            occurred_at=enrollment.enrolled_at,
            actor=student,
            transaction_id=transaction.transaction_id,
            user_id=transaction.user_id,
            course_id=transaction.course_id,
            amount=amount.amount,
            enrolled_at=enrollment.enrolled_at,
        ),
        purchase_completed=PurchaseCompleted(
            event_id=PurchaseCompleted.id_for(transaction.transaction_id),
            occurred_at=enrollment.enrolled_at,  # written in the same transaction as completedAt
            actor=student,
            transaction_id=transaction.transaction_id,
            user_id=transaction.user_id,
            course_id=transaction.course_id,
            amount=amount.amount,
            currency=amount.currency,
        ),
    )


def enroll_student(table: Table, *, transaction_id: str) -> Enrolled:
    """One TransactWriteItems: transaction COMPLETED, enrollment created, course counters, lock released."""
    transaction = require_transaction(table, transaction_id)
    if transaction.status == TransactionStatus.COMPLETED:
        existing = table.get(keys.enrollment(transaction.user_id, transaction.course_id), consistent=True)
        if existing and existing.get("transactionId") == transaction_id:
            # A retry of a step that already succeeded: the same enrollment, the same events.
            return _enrolled(transaction, Enrollment.from_item(existing))
    amount = transaction.amount.amount if transaction.amount else 0
    enrollment = Enrollment.new(
        user_id=transaction.user_id, course_id=transaction.course_id, transaction_id=transaction_id
    )
    enrollment_key = keys.enrollment(enrollment.user_id, enrollment.course_id)
    written = table.transact_if(
        [
            # Not once a refund of this transaction was recorded: that money is going back.
            finish(
                transaction_id,
                TransactionStatus.COMPLETED,
                expected=TransactionStatus.PENDING,
                extra_set={"completedAt": isoformat(enrollment.enrolled_at)},
                also=absent("refundKey"),
            ),
            Put(
                {
                    **enrollment_key.as_item(),
                    **keys.roster_entry(enrollment.course_id, enrollment.user_id),  # the gradebook's rows
                    **enrollment.attributes(),
                },
                when=item_absent() | eq("status", EnrollmentStatus.REVOKED.value),
            ),
            Check(keys.course(transaction.course_id), when=item_exists()),
            move_counters(transaction.course_id, enrollments=1, revenue_cents=amount),
            free_lock(transaction.user_id, transaction.course_id, transaction_id),
        ]
    )
    if not written:
        raise EnrollmentFailedError(
            "The enrollment could not be written (the transaction, the enrollment or the course changed)."
        )
    return _enrolled(transaction, enrollment)


# Errors whose message is meant for the customer; anything else is reported by name only, so
# internal details (stack traces, SDK messages) never reach a transaction's reason.
CUSTOMER_FACING_ERRORS = frozenset(
    {
        "OrderNotValidError",
        "AlreadyEnrolledError",
        PAYMENT_FAILED_ERROR,
        "PaymentRejectedError",
        "PaymentProviderUnavailableError",
        "EnrollmentFailedError",
    }
)


def describe_error(error: dict[str, Any] | None) -> str:
    """A reason for the transaction record from a Catch's ``{Error, Cause}``."""
    if not error:
        return "unknown"
    name = str(error.get("Error") or "unknown")
    if name in CUSTOMER_FACING_ERRORS:
        return _parse_cause(error.get("Cause")) if error.get("Cause") else name
    return f"The purchase stopped on an internal error ({name}); it has been logged."


def _parse_cause(cause: str | None) -> str:
    """A Catch's Cause is a Lambda error payload (JSON) or the plain text of SendTaskFailure."""
    if not cause:
        return "unknown"
    try:
        parsed = json.loads(cause)
    except json.JSONDecodeError:
        return cause[:500]
    if isinstance(parsed, dict):
        return str(parsed.get("errorMessage") or parsed.get("Cause") or cause)[:500]
    return cause[:500]


def cancel_or_reread(gateway: PaymentGateway, transaction: Transaction) -> PaymentIntent:
    """Cancel the PaymentIntent; if Stripe refuses, what the PaymentIntent is now decides.

    The customer may confirm between our last look and the cancel: Stripe then refuses to cancel a
    succeeded PaymentIntent, and that payment must be refunded, not forgotten.
    """
    assert transaction.payment_intent_id
    try:
        return gateway.cancel_payment_intent(
            transaction.payment_intent_id, idempotency_key=f"purchase-{transaction.transaction_id}-cancel"
        )
    except PaymentRejectedError:
        current = gateway.retrieve_payment_intent(transaction.payment_intent_id)
        if current.succeeded or current.status == "canceled":
            return current
        raise


def close_transaction(
    table: Table,
    gateway: PaymentGateway,
    *,
    transaction_id: str,
    user_id: str,
    course_id: str,
    status: TransactionStatus,
    error: dict[str, Any] | None,
    execution_arn: str | None = None,
) -> Transaction:
    """End a purchase that will not complete: FAILED or EXPIRED with a reason, the PaymentIntent canceled.

    If the payment succeeded after all (it raced the timeout or the cancel), it is refunded and the
    transaction ends REFUNDED: a customer is never charged without an enrollment or a refund.
    Only the run the transaction names closes it (``execution_arn``): for any other run (a re-run
    started while this one waits, an old run retrying a late step) this changes nothing and answers
    the transaction as it is.
    """
    reason = describe_error(error)
    if status == TransactionStatus.EXPIRED:
        reason = "The payment window closed before a payment arrived."
    transaction = get_transaction(table, transaction_id)
    if transaction is None:
        # Rejected before the PENDING record existed: record the rejection so the client sees why.
        rejected = Transaction(
            transaction_id=transaction_id,
            user_id=user_id,
            course_id=course_id,
            status=status,
            reason=reason,
            execution_arn=execution_arn or None,
        )
        recorded = table.transact_if(
            [
                Put(transaction_item(rejected), when=item_absent()),
                free_lock(user_id, course_id, transaction_id),
            ]
        )
        if recorded:
            return rejected
        transaction = require_transaction(table, transaction_id)
    if transaction.status != TransactionStatus.PENDING or not owned_by(transaction, execution_arn):
        return transaction  # already closed by an earlier attempt, or another run's purchase
    if transaction.reason and status == TransactionStatus.FAILED:
        reason = transaction.reason  # recorded when the payment failed
    if transaction.payment_intent_id and cancel_or_reread(gateway, transaction).succeeded:
        return refunds.refund_payment(
            table,
            gateway,
            transaction_id=transaction_id,
            reason=f"The payment arrived after the purchase ended ({reason}).",
            execution_arn=execution_arn,
        )
    closed = table.transact_if(
        [
            finish(
                transaction_id,
                status,
                expected=TransactionStatus.PENDING,
                extra_set={"reason": reason},
                execution_arn=execution_arn,
            ),
            free_lock(transaction.user_id, transaction.course_id, transaction_id),
        ]
    )
    current = require_transaction(table, transaction_id)
    if not closed and current.status == TransactionStatus.PENDING and owned_by(current, execution_arn):
        raise BusinessRuleError(f"Transaction {transaction_id} could not be closed: its lock is another's.")
    return current
