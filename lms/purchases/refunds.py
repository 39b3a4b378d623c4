"""Refunds: compensation inside the workflow, late payments found by the webhook, and admin refunds.

Every refund carries the idempotency key ``purchase-<transactionId>-refund``: one transaction is
refunded in Stripe at most once, whoever asks and however often.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from lms import events, keys
from lms.entities import Enrollment, EnrollmentStatus, Transaction, TransactionStatus
from lms.errors import BusinessRuleError, ConflictError
from lms.payments import PaymentGateway
from lms.purchases.records import (
    counters_operation,
    finish_operation,
    release_lock_operation,
    require_transaction,
)
from lms.table import Table, is_conditional_failure, serialize, serialize_key

# Statuses in which a payment that succeeded has no enrollment behind it, so it must go back.
UNENROLLED_STATUSES = (
    TransactionStatus.PENDING,
    TransactionStatus.FAILED,
    TransactionStatus.EXPIRED,
    TransactionStatus.NEEDS_RECONCILIATION,
)


class TransactionNotRefundableError(ConflictError):
    code = "NOT_REFUNDABLE"


def _refund_key(transaction_id: str) -> str:
    return f"purchase-{transaction_id}-refund"


def refund_payment(table: Table, gateway: PaymentGateway, *, transaction_id: str, reason: str) -> Transaction:
    """Give back a payment that did not become an enrollment; the transaction ends REFUNDED."""
    transaction = require_transaction(table, transaction_id)
    if transaction.status == TransactionStatus.REFUNDED:
        return transaction
    if transaction.status not in UNENROLLED_STATUSES:
        raise BusinessRuleError(
            f"Transaction {transaction_id} is {transaction.status}; nothing to compensate."
        )
    extra: dict[str, Any] = {"reason": reason}
    if transaction.payment_intent_id and transaction.amount and transaction.amount.amount > 0:
        extra["refundId"] = gateway.refund(
            transaction.payment_intent_id, idempotency_key=_refund_key(transaction_id)
        )
    operations = [
        finish_operation(
            transaction_id, TransactionStatus.REFUNDED, expected=transaction.status, extra_set=extra
        )
    ]
    if transaction.status == TransactionStatus.PENDING:
        # Only a running purchase holds the lock; a closed one's lock may belong to a newer purchase.
        operations.append(release_lock_operation(transaction.user_id, transaction.course_id, transaction_id))
    table.transact_write(operations)
    return require_transaction(table, transaction_id)


def refund_late_payment(table: Table, gateway: PaymentGateway, transaction: Transaction) -> str:
    """A payment succeeded for a purchase whose workflow no longer waits for it: refund it.

    Unless this very purchase enrolled the student (then the money bought the course). An enrollment
    through another transaction does not count: this payment would be a second charge.
    """
    key = keys.enrollment(transaction.user_id, transaction.course_id)
    enrollment = table.get(key, consistent=True) or {}
    paid_for_this = enrollment.get("transactionId") == transaction.transaction_id
    if Enrollment.is_active_item(enrollment) and paid_for_this:
        return "enrolled by this payment"
    refunded = refund_payment(
        table,
        gateway,
        transaction_id=transaction.transaction_id,
        reason="The payment arrived after the purchase had ended; it was refunded.",
    )
    return f"refunded ({refunded.status})"


def admin_refund(table: Table, gateway: PaymentGateway, transaction_id: str, *, reason: str) -> Transaction:
    """Refund a COMPLETED purchase in Stripe and revoke the enrollment, atomically on our side."""
    transaction = require_transaction(table, transaction_id)
    if transaction.status == TransactionStatus.REFUNDED and transaction.revocation_event_pending:
        return publish_enrollment_revoked(table, transaction)  # a retry after the event was lost
    if transaction.status == TransactionStatus.REFUNDED:
        raise TransactionNotRefundableError("This transaction is already refunded.")
    if transaction.status != TransactionStatus.COMPLETED:
        raise TransactionNotRefundableError(
            f"Only COMPLETED transactions can be refunded; this one is {transaction.status}."
        )
    amount = transaction.amount.amount if transaction.amount else 0
    extra: dict[str, Any] = {"reason": reason, "revocationEventPending": True}
    if transaction.payment_intent_id and amount > 0:
        extra["refundId"] = gateway.refund(
            transaction.payment_intent_id, idempotency_key=_refund_key(transaction_id)
        )
    try:
        table.transact_write(
            [
                finish_operation(
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
                counters_operation(transaction.course_id, enrollments=-1, revenue_cents=-amount),
            ]
        )
    except ClientError as error:
        if is_conditional_failure(error):
            raise TransactionNotRefundableError(
                "The transaction changed while it was being refunded."
            ) from error
        raise
    return publish_enrollment_revoked(table, require_transaction(table, transaction_id))


def publish_enrollment_revoked(table: Table, transaction: Transaction) -> Transaction:
    """Tell the bus the enrollment is revoked (consumers, e.g. certificate revocation, act on it).

    The refund commits first with ``revocationEventPending``; the flag goes once the event is on the
    bus. If publishing fails the error reaches the admin, whose retry of the refund publishes it.
    """
    events.publish(
        events.EnrollmentRevoked(
            actor=events.Actor.system("admin-refund"),  # the refunding admin's id is not passed down yet
            transaction_id=transaction.transaction_id,
            user_id=transaction.user_id,
            course_id=transaction.course_id,
            reason=transaction.reason or "refunded",
        )
    )
    table.update(keys.transaction(transaction.transaction_id), expression="REMOVE revocationEventPending")
    return require_transaction(table, transaction.transaction_id)
