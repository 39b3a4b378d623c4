"""Purchases: the rules of the purchase-to-enrollment workflow and of refunds.

Every function here is idempotent: Step Functions and Stripe may both deliver twice, so running a
step again finds the work done and answers as the first run did.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from lms import aws, keys
from lms.clock import isoformat, utcnow
from lms.entities import (
    Course,
    CourseStatus,
    Enrollment,
    EnrollmentStatus,
    Money,
    Transaction,
    TransactionStatus,
    User,
)
from lms.errors import BusinessRuleError, ConflictError, NotFoundError
from lms.payments import PaymentGateway, PaymentIntent
from lms.table import Item, Table, is_conditional_failure, serialize, serialize_key

PAYMENT_FAILED_ERROR = "PaymentFailed"  # the error name AwaitPayment's Catch matches
STRIPE_EVENT_RETENTION_SECONDS = 30 * 24 * 3600
_IDEMPOTENCY_NAMESPACE = uuid.UUID("0b7a8f0e-3f51-4c1e-9d0e-6c2f4f7d2a10")


class OrderNotValidError(BusinessRuleError):
    """The order cannot go ahead: unknown or unpublished course, or an inactive user."""

    code = "ORDER_NOT_VALID"


class AlreadyEnrolledError(ConflictError):
    code = "ALREADY_ENROLLED"


class EnrollmentFailedError(Exception):
    """The enrollment could not be written after the payment succeeded: the payment is refunded."""


class TransactionNotRefundableError(ConflictError):
    code = "NOT_REFUNDABLE"


class Order(BaseModel):
    """A validated order. The price always comes from the course record, never from the client."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)

    transaction_id: str
    user_id: str
    course_id: str
    course_title: str
    price: Money
    is_free: bool


# --- records -----------------------------------------------------------------------------------


def transaction_item(transaction: Transaction) -> Item:
    created = transaction.created_at.isoformat()
    return {
        **keys.transaction(transaction.transaction_id).as_item(),
        keys.GSI1PK: keys.user_index(transaction.user_id),
        keys.GSI1SK: keys.transaction_in_user_sort(created, transaction.transaction_id),
        keys.GSI2PK: keys.ALL_TRANSACTIONS,
        keys.GSI2SK: f"{created}#{transaction.transaction_id}",
        **transaction.attributes(),
    }


def get_transaction(table: Table, transaction_id: str, *, consistent: bool = True) -> Transaction | None:
    item = table.get(keys.transaction(transaction_id), consistent=consistent)
    return Transaction.from_item(item) if item else None


def require_transaction(table: Table, transaction_id: str) -> Transaction:
    transaction = get_transaction(table, transaction_id)
    if transaction is None:
        raise NotFoundError(f"No transaction with id {transaction_id}.")
    return transaction


def list_user_transactions(
    table: Table, user_id: str, *, limit: int, cursor: str | None
) -> tuple[list[Transaction], str | None]:
    page = table.query(
        partition=(keys.GSI1PK, keys.user_index(user_id)),
        sort_prefix=(keys.GSI1SK, keys.TRANSACTION_PREFIX),
        index=keys.GSI1,
        limit=limit,
        cursor=cursor,
        newest_first=True,
    )
    return [Transaction.from_item(i) for i in page.items], page.next_cursor


def list_all_transactions(
    table: Table, *, status: TransactionStatus | None, limit: int, cursor: str | None
) -> tuple[list[Transaction], str | None]:
    page = table.query(
        partition=(keys.GSI2PK, keys.ALL_TRANSACTIONS),
        index=keys.GSI2,
        limit=limit,
        cursor=cursor,
        newest_first=True,
        filter_equals={"status": status.value} if status else None,
    )
    return [Transaction.from_item(i) for i in page.items], page.next_cursor


# --- starting a purchase (API side) ------------------------------------------------------------


def transaction_id_for(user_id: str, idempotency_key: str | None) -> str:
    """A client's Idempotency-Key maps to one transaction id per user; without one, a fresh id."""
    if idempotency_key:
        return uuid.uuid5(_IDEMPOTENCY_NAMESPACE, f"{user_id}/{idempotency_key}").hex
    return uuid.uuid4().hex


def claim_purchase(
    table: Table, *, user_id: str, course_id: str, transaction_id: str, window_seconds: int
) -> str:
    """Take the (student, course) purchase lock for ``transaction_id`` with a conditional write.

    Returns the transaction that holds the lock: ours, or the one already in flight, so concurrent
    requests for the same course converge on one transaction, one execution and one charge.
    """
    now = int(time.time())
    # The lock outlives the payment window a little; the workflow releases it when it ends.
    expires = now + window_seconds + 300
    lock = {
        **keys.purchase_lock(user_id, course_id).as_item(),
        "transactionId": transaction_id,
        "expiresAt": expires,
        keys.TTL_ATTRIBUTE: expires,
    }
    for _ in range(3):
        try:
            table.put(
                lock,
                condition="attribute_not_exists(PK) OR expiresAt < :now OR transactionId = :tid",
                values={":now": now, ":tid": transaction_id},
            )
            return transaction_id
        except ClientError as error:
            if not is_conditional_failure(error):
                raise
        holder = table.get(keys.purchase_lock(user_id, course_id), consistent=True)
        if holder is not None:
            return str(holder["transactionId"])
    raise ConflictError("Another purchase of this course is being set up; retry in a moment.")


def release_lock(table: Table, *, user_id: str, course_id: str, transaction_id: str) -> None:
    """Free the purchase lock if ``transaction_id`` still holds it."""
    try:
        table.delete(
            keys.purchase_lock(user_id, course_id),
            condition="transactionId = :tid",
            values={":tid": transaction_id},
        )
    except ClientError as error:
        if not is_conditional_failure(error):
            raise


# --- workflow steps ----------------------------------------------------------------------------


def validate_order(table: Table, *, transaction_id: str, user_id: str, course_id: str) -> Order:
    """Check that the course is published, the user active and not yet enrolled; price the order."""
    found = table.batch_get([keys.user(user_id), keys.course(course_id), keys.enrollment(user_id, course_id)])
    user_item = found.get(keys.user(user_id))
    if user_item is None or not User.from_item(user_item).is_active:
        raise OrderNotValidError("The account does not exist or is deactivated.")
    course_item = found.get(keys.course(course_id))
    if course_item is None:
        raise OrderNotValidError(f"No course with id {course_id}.")
    course = Course.from_item(course_item)
    if course.status != CourseStatus.PUBLISHED:
        raise OrderNotValidError("The course is not published.")
    enrollment = found.get(keys.enrollment(user_id, course_id))
    if enrollment is not None and enrollment.get("status") == EnrollmentStatus.ACTIVE.value:
        raise AlreadyEnrolledError("The student is already enrolled in this course.")
    price = Money(amount=course.price_cents, currency=course.currency)
    return Order(
        transaction_id=transaction_id,
        user_id=user_id,
        course_id=course_id,
        course_title=course.title,
        price=price,
        is_free=price.amount == 0,
    )


def pending_transaction_item(order: Order, execution_name: str) -> dict[str, Any]:
    """The PENDING transaction as DynamoDB JSON, for the state machine's direct putItem."""
    transaction = Transaction(
        transaction_id=order.transaction_id,
        user_id=order.user_id,
        course_id=order.course_id,
        amount=order.price,
        execution_name=execution_name,
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
        expression="SET paymentIntentId = :pi, clientSecret = :secret, updatedAt = :now",
        names={"#status": "status"},
        values={
            ":pi": intent.id,
            ":secret": intent.client_secret,
            ":now": isoformat(utcnow()),
            ":pending": TransactionStatus.PENDING.value,
        },
        condition="#status = :pending",
    )
    return intent


@dataclass(frozen=True)
class PaymentResolution:
    outcome: str  # "succeeded", "failed", "pending", "closed"
    detail: str = ""


def _fail_payment(table: Table, transaction: Transaction, cause: str) -> PaymentResolution:
    # The reason is kept on the record first: the Catch's Cause is not carried by every engine
    # (moto 5.2.5 drops SendTaskFailure's cause), and the record is what the customer reads.
    table.update(
        keys.transaction(transaction.transaction_id),
        expression="SET reason = :reason",
        names={"#status": "status"},
        values={":reason": cause, ":pending": TransactionStatus.PENDING.value},
        condition="#status = :pending",
    )
    assert transaction.task_token
    aws.client("stepfunctions").send_task_failure(
        taskToken=transaction.task_token, error=PAYMENT_FAILED_ERROR, cause=cause
    )
    return PaymentResolution("failed", cause)


def resolve_payment(table: Table, transaction: Transaction, intent: PaymentIntent) -> PaymentResolution:
    """Resume the waiting execution from the PaymentIntent as Stripe reports it now.

    Never from a webhook body: the caller re-fetched ``intent`` from Stripe.
    """
    if not transaction.task_token:
        return PaymentResolution("pending", "the execution has not stored its task token yet")
    try:
        if intent.succeeded:
            expected = transaction.amount
            if expected is None or (intent.amount, intent.currency) != (expected.amount, expected.currency):
                return _fail_payment(table, transaction, "The amount paid does not match the order.")
            output = {"paymentIntentId": intent.id, "amount": intent.amount, "currency": intent.currency}
            aws.client("stepfunctions").send_task_success(
                taskToken=transaction.task_token, output=json.dumps(output)
            )
            return PaymentResolution("succeeded")
        if intent.status == "canceled" or intent.failure_message:
            return _fail_payment(
                table, transaction, (intent.failure_message or "The payment was canceled.")[:256]
            )
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code in ("TaskTimedOut", "TaskDoesNotExist", "InvalidToken"):
            return PaymentResolution("closed", code)
        raise
    return PaymentResolution("pending", intent.status)


def await_payment(
    table: Table, gateway: PaymentGateway, transaction_id: str, task_token: str
) -> PaymentResolution:
    """Store the task token, then look at the PaymentIntent once: the payment may have beaten us here."""
    now = isoformat(utcnow())
    try:
        table.update(
            keys.transaction(transaction_id),
            expression="SET taskToken = :token, updatedAt = :now",
            names={"#status": "status"},
            values={":token": task_token, ":now": now, ":pending": TransactionStatus.PENDING.value},
            condition="#status = :pending AND attribute_exists(paymentIntentId)",
        )
    except ClientError as error:
        if is_conditional_failure(error):
            raise BusinessRuleError(f"Transaction {transaction_id} is not awaiting a payment.") from error
        raise
    transaction = require_transaction(table, transaction_id)
    assert transaction.payment_intent_id  # guaranteed by the condition above
    return resolve_payment(table, transaction, gateway.retrieve_payment_intent(transaction.payment_intent_id))


def _finish_transaction_operation(
    transaction_id: str, status: TransactionStatus, *, expected: TransactionStatus, extra_set: dict[str, Any]
) -> dict[str, Any]:
    sets = ", ".join(f"#{name} = :{name}" for name in extra_set)
    values = {":status": status.value, ":expected": expected.value, ":now": isoformat(utcnow())}
    values.update({f":{name}": value for name, value in extra_set.items()})
    names = {"#status": "status", **{f"#{name}": name for name in extra_set}}
    return {
        "Update": {
            "Key": serialize_key(keys.transaction(transaction_id)),
            "UpdateExpression": f"SET #status = :status, updatedAt = :now{', ' + sets if sets else ''} "
            "REMOVE clientSecret, taskToken",
            "ConditionExpression": "#status = :expected",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": serialize(values),
        }
    }


def _release_lock_operation(user_id: str, course_id: str, transaction_id: str) -> dict[str, Any]:
    return {
        "Delete": {
            "Key": serialize_key(keys.purchase_lock(user_id, course_id)),
            "ConditionExpression": "attribute_not_exists(PK) OR transactionId = :tid",
            "ExpressionAttributeValues": serialize({":tid": transaction_id}),
        }
    }


def enroll_student(table: Table, *, transaction_id: str) -> Enrollment:
    """One TransactWriteItems: transaction COMPLETED, enrollment created, course counters, lock released."""
    transaction = require_transaction(table, transaction_id)
    if transaction.status == TransactionStatus.COMPLETED:
        existing = table.get(keys.enrollment(transaction.user_id, transaction.course_id), consistent=True)
        if existing and existing.get("transactionId") == transaction_id:
            return Enrollment.from_item(existing)  # a retry of a step that already succeeded
    amount = transaction.amount.amount if transaction.amount else 0
    enrollment = Enrollment(
        user_id=transaction.user_id, course_id=transaction.course_id, transaction_id=transaction_id
    )
    extra: dict[str, Any] = {"completedAt": isoformat(utcnow())}
    enrollment_key = keys.enrollment(enrollment.user_id, enrollment.course_id)
    try:
        table.transact_write(
            [
                _finish_transaction_operation(
                    transaction_id,
                    TransactionStatus.COMPLETED,
                    expected=TransactionStatus.PENDING,
                    extra_set=extra,
                ),
                {
                    "Put": {
                        "Item": serialize({**enrollment_key.as_item(), **enrollment.attributes()}),
                        "ConditionExpression": "attribute_not_exists(PK) OR #status = :revoked",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": serialize({":revoked": EnrollmentStatus.REVOKED.value}),
                    }
                },
                {
                    "Update": {
                        "Key": serialize_key(keys.course(transaction.course_id)),
                        "UpdateExpression": "ADD enrollmentCount :one, revenueCents :amount",
                        "ConditionExpression": "attribute_exists(PK)",
                        "ExpressionAttributeValues": serialize({":one": 1, ":amount": amount}),
                    }
                },
                _release_lock_operation(transaction.user_id, transaction.course_id, transaction_id),
            ]
        )
    except ClientError as error:
        if is_conditional_failure(error):
            reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
            raise EnrollmentFailedError(f"The enrollment could not be written ({reasons}).") from error
        raise
    return enrollment


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


def close_transaction(
    table: Table,
    gateway: PaymentGateway,
    *,
    transaction_id: str,
    user_id: str,
    course_id: str,
    status: TransactionStatus,
    error: dict[str, Any] | None,
) -> Transaction:
    """End a purchase that will not complete: FAILED or EXPIRED with a reason, the PaymentIntent canceled.

    If the payment succeeded after all (it raced the timeout), it is refunded and the transaction
    ends REFUNDED: a customer is never charged without an enrollment or a refund.
    """
    reason = describe_error(error)
    if status == TransactionStatus.EXPIRED:
        reason = "The payment window closed before a payment arrived."
    transaction = get_transaction(table, transaction_id)
    if transaction is None:
        # Rejected before the PENDING record existed: record the rejection so the client sees why.
        rejected = Transaction(
            transaction_id=transaction_id, user_id=user_id, course_id=course_id, status=status, reason=reason
        )
        table.transact_write(
            [
                {
                    "Put": {
                        "Item": serialize(transaction_item(rejected)),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
                _release_lock_operation(user_id, course_id, transaction_id),
            ]
        )
        return rejected
    if transaction.status != TransactionStatus.PENDING:
        return transaction  # already closed by an earlier attempt
    if transaction.reason and status == TransactionStatus.FAILED:
        reason = transaction.reason  # recorded when the payment failed
    extra: dict[str, Any] = {"reason": reason}
    if transaction.payment_intent_id:
        intent = gateway.cancel_payment_intent(
            transaction.payment_intent_id, idempotency_key=f"purchase-{transaction_id}-cancel"
        )
        if intent.succeeded:
            return refund_payment(
                table,
                gateway,
                transaction_id=transaction_id,
                reason=f"The payment arrived after the purchase ended ({reason}).",
            )
    table.transact_write(
        [
            _finish_transaction_operation(
                transaction_id, status, expected=TransactionStatus.PENDING, extra_set=extra
            ),
            _release_lock_operation(transaction.user_id, transaction.course_id, transaction_id),
        ]
    )
    return require_transaction(table, transaction_id)


def refund_payment(table: Table, gateway: PaymentGateway, *, transaction_id: str, reason: str) -> Transaction:
    """Compensation after a successful payment that could not become an enrollment."""
    transaction = require_transaction(table, transaction_id)
    if transaction.status == TransactionStatus.REFUNDED:
        return transaction
    if transaction.status != TransactionStatus.PENDING:
        raise BusinessRuleError(
            f"Transaction {transaction_id} is {transaction.status}; nothing to compensate."
        )
    extra: dict[str, Any] = {"reason": reason}
    if transaction.payment_intent_id and transaction.amount and transaction.amount.amount > 0:
        extra["refundId"] = gateway.refund(
            transaction.payment_intent_id, idempotency_key=f"purchase-{transaction_id}-refund"
        )
    table.transact_write(
        [
            _finish_transaction_operation(
                transaction_id,
                TransactionStatus.REFUNDED,
                expected=TransactionStatus.PENDING,
                extra_set=extra,
            ),
            _release_lock_operation(transaction.user_id, transaction.course_id, transaction_id),
        ]
    )
    return require_transaction(table, transaction_id)


def admin_refund(table: Table, gateway: PaymentGateway, transaction_id: str, *, reason: str) -> Transaction:
    """Refund a COMPLETED purchase in Stripe and revoke the enrollment, atomically on our side."""
    transaction = require_transaction(table, transaction_id)
    if transaction.status == TransactionStatus.REFUNDED:
        raise TransactionNotRefundableError("This transaction is already refunded.")
    if transaction.status != TransactionStatus.COMPLETED:
        raise TransactionNotRefundableError(
            f"Only COMPLETED transactions can be refunded; this one is {transaction.status}."
        )
    amount = transaction.amount.amount if transaction.amount else 0
    extra: dict[str, Any] = {"reason": reason}
    if transaction.payment_intent_id and amount > 0:
        extra["refundId"] = gateway.refund(
            transaction.payment_intent_id, idempotency_key=f"purchase-{transaction_id}-refund"
        )
    try:
        table.transact_write(
            [
                _finish_transaction_operation(
                    transaction_id,
                    TransactionStatus.REFUNDED,
                    expected=TransactionStatus.COMPLETED,
                    extra_set=extra,
                ),
                {
                    "Update": {
                        "Key": serialize_key(keys.enrollment(transaction.user_id, transaction.course_id)),
                        "UpdateExpression": "SET #status = :revoked",
                        "ConditionExpression": "transactionId = :tid",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": serialize(
                            {":revoked": EnrollmentStatus.REVOKED.value, ":tid": transaction_id}
                        ),
                    }
                },
                {
                    "Update": {
                        "Key": serialize_key(keys.course(transaction.course_id)),
                        "UpdateExpression": "ADD enrollmentCount :minus, revenueCents :refund",
                        "ExpressionAttributeValues": serialize({":minus": -1, ":refund": -amount}),
                    }
                },
            ]
        )
    except ClientError as error:
        if is_conditional_failure(error):
            raise TransactionNotRefundableError(
                "The transaction changed while it was being refunded."
            ) from error
        raise
    return require_transaction(table, transaction_id)


# --- Stripe webhooks ---------------------------------------------------------------------------

HANDLED_EVENTS = frozenset(
    {"payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled"}
)


def record_event_once(table: Table, event_id: str) -> bool:
    """True the first time an event id is seen (a conditional write), False for a duplicate."""
    expires = int(time.time()) + STRIPE_EVENT_RETENTION_SECONDS
    try:
        table.put(
            {**keys.stripe_event(event_id).as_item(), keys.TTL_ATTRIBUTE: expires},
            condition="attribute_not_exists(PK)",
        )
        return True
    except ClientError as error:
        if is_conditional_failure(error):
            return False
        raise


def forget_event(table: Table, event_id: str) -> None:
    """Processing failed: let Stripe's retry of this event be processed again."""
    table.delete(keys.stripe_event(event_id))


def handle_payment_event(
    table: Table, gateway: PaymentGateway, *, event_type: str, object_id: str | None
) -> str:
    """Act on a verified, first-seen event. Returns what happened, for the log."""
    if event_type not in HANDLED_EVENTS or not object_id:
        return "ignored"
    intent = gateway.retrieve_payment_intent(object_id)  # never act on the webhook body itself
    transaction_id = intent.metadata.get("transactionId")
    if not transaction_id:
        return "ignored: not one of our PaymentIntents"
    transaction = get_transaction(table, transaction_id)
    if transaction is None:
        return f"unknown transaction {transaction_id}"
    if transaction.status != TransactionStatus.PENDING:
        return f"transaction {transaction_id} is already {transaction.status}"
    return f"transaction {transaction_id}: {resolve_payment(table, transaction, intent).outcome}"
