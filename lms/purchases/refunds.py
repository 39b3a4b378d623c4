"""Refunds: compensation inside the workflow, late payments found by the webhook, and admin refunds.

Every refund carries the idempotency key ``purchase-<transactionId>-refund``, and is recorded on the
transaction (``refundKey``) *before* Stripe is asked, so a refund interrupted after Stripe made it
(a crash, a transaction conflict) is finished from the record, never forgotten and never made twice:
before creating one, the refund already listed for the PaymentIntent is looked up (Stripe replays an
idempotency key for 24 hours only; after that it answers "already refunded").

An admin refund goes COMPLETED -> REFUND_PENDING -> REFUNDED. A request that stops in between
is finished by the admin's retry of the request or by :func:`sweep_pending_refunds`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from lms import events, keys
from lms.clock import isoformat, utcnow
from lms.entities import Enrollment, EnrollmentStatus, Transaction, TransactionStatus
from lms.errors import BusinessRuleError, ConflictError, LmsError
from lms.expressions import Update, eq, one_of
from lms.payments import PaymentGateway, PaymentProviderUnavailableError, PaymentRejectedError
from lms.purchases.records import (
    finish,
    free_lock,
    get_transaction,
    list_all_transactions,
    move_counters,
    owned_by,
    require_transaction,
)
from lms.table import Change, Table

# Statuses in which a payment that succeeded has no enrollment behind it, so it must go back.
UNENROLLED_STATUSES = (
    TransactionStatus.PENDING,
    TransactionStatus.FAILED,
    TransactionStatus.EXPIRED,
    TransactionStatus.NEEDS_RECONCILIATION,
)


class TransactionNotRefundableError(ConflictError):
    code = "NOT_REFUNDABLE"


def refund_key(transaction_id: str) -> str:
    return f"purchase-{transaction_id}-refund"


def refund_once(gateway: PaymentGateway, payment_intent_id: str, idempotency_key: str) -> str:
    """The PaymentIntent's refund: the one Stripe already has, or a new one.

    A refusal of the new one ("already refunded": one was made between the look and the create,
    or the key's 24 hours are over) is answered by the refund Stripe now lists, if there is one.
    """
    found = gateway.find_refund(payment_intent_id)
    if found:
        return found
    try:
        return gateway.refund(payment_intent_id, idempotency_key=idempotency_key)
    except PaymentRejectedError:
        found = gateway.find_refund(payment_intent_id)
        if found:
            return found
        raise


def _pays(transaction: Transaction) -> bool:
    return bool(transaction.payment_intent_id and transaction.amount and transaction.amount.amount > 0)


def refund_payment(
    table: Table,
    gateway: PaymentGateway,
    *,
    transaction_id: str,
    reason: str,
    execution_arn: str | None = None,
) -> Transaction:
    """Give back a payment that did not become an enrollment; the transaction ends REFUNDED.

    ``execution_arn``: the run asking; a run that the transaction does not name changes nothing
    (the caller sees the transaction as it is). The refund is recorded first (``refundKey``), which
    also stops an enrollment of this transaction from being written after it.
    """
    transaction = require_transaction(table, transaction_id)
    if transaction.status == TransactionStatus.REFUNDED or not owned_by(transaction, execution_arn):
        return transaction
    if transaction.status not in UNENROLLED_STATUSES:
        raise BusinessRuleError(
            f"Transaction {transaction_id} is {transaction.status}; nothing to compensate."
        )
    extra: dict[str, Any] = {"reason": reason}
    if _pays(transaction):
        assert transaction.payment_intent_id
        still_unenrolled = one_of("status", [s.value for s in UNENROLLED_STATUSES])
        if execution_arn:
            still_unenrolled = still_unenrolled & eq("executionArn", execution_arn)
        claimed = table.update_if(
            keys.transaction(transaction_id),
            Update().set_if_absent(refundKey=refund_key(transaction_id)),
            when=still_unenrolled,
        )
        if claimed is None:  # enrolled (or moved on) meanwhile: that is not money to give back
            return require_transaction(table, transaction_id)
        extra["refundId"] = refund_once(gateway, transaction.payment_intent_id, refund_key(transaction_id))
    writes: list[Any] = [
        finish(
            transaction_id,
            TransactionStatus.REFUNDED,
            expected=UNENROLLED_STATUSES,
            extra_set=extra,
            execution_arn=execution_arn,
        )
    ]
    if transaction.status == TransactionStatus.PENDING:
        # Only a running purchase holds the lock; a closed one's lock may belong to a newer purchase.
        writes.append(free_lock(transaction.user_id, transaction.course_id, transaction_id))
    if not table.transact_if(writes):
        current = require_transaction(table, transaction_id)
        if current.status != TransactionStatus.REFUNDED:
            raise ConflictError(f"Transaction {transaction_id} changed while it was being refunded.")
    return require_transaction(table, transaction_id)


def refund_late_payment(table: Table, gateway: PaymentGateway, transaction: Transaction) -> str:
    """A payment succeeded for a purchase whose workflow no longer runs: refund it.

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
    """Refund a COMPLETED purchase in Stripe and revoke the enrollment.

    The refund is recorded first (REFUND_PENDING, with its idempotency key), then made in Stripe, then
    the transaction, the enrollment and the course counters move together. A retry of a request that
    stopped anywhere in between finishes it.
    """
    transaction = require_transaction(table, transaction_id)
    if transaction.status == TransactionStatus.REFUNDED and transaction.revocation_event_pending:
        return publish_enrollment_revoked(table, transaction)  # a retry after the event was lost
    if transaction.status == TransactionStatus.REFUNDED:
        raise TransactionNotRefundableError("This transaction is already refunded.")
    if transaction.status == TransactionStatus.COMPLETED:
        transaction = _record_refund_pending(table, transaction, reason)
    if transaction.status != TransactionStatus.REFUND_PENDING:
        raise TransactionNotRefundableError(
            f"Only COMPLETED transactions can be refunded; this one is {transaction.status}."
        )
    return finish_refund(table, gateway, transaction)


def _record_refund_pending(table: Table, transaction: Transaction, reason: str) -> Transaction:
    """COMPLETED -> REFUND_PENDING with the refund's idempotency key; whoever moved it first wins."""
    transaction_id = transaction.transaction_id
    pending = TransactionStatus.REFUND_PENDING.value
    recorded = table.update_if(
        keys.transaction(transaction_id),
        Update().set(
            {
                "status": pending,
                keys.GSI2PK: keys.transaction_status_index(pending, transaction_id),
                "updatedAt": isoformat(utcnow()),
                "reason": reason,
                "refundKey": refund_key(transaction_id),
            }
        ),
        when=eq("status", TransactionStatus.COMPLETED.value),
    )
    return Transaction.from_item(recorded) if recorded else require_transaction(table, transaction_id)


def _back_to_completed(table: Table, transaction: Transaction) -> None:
    """Stripe refused the refund for good: the purchase stands as it was."""
    transaction_id = transaction.transaction_id
    completed = TransactionStatus.COMPLETED.value
    table.update_if(
        keys.transaction(transaction_id),
        Update()
        .set(
            {
                "status": completed,
                keys.GSI2PK: keys.transaction_status_index(completed, transaction_id),
                "updatedAt": isoformat(utcnow()),
            }
        )
        .remove("reason", "refundKey"),
        when=eq("status", TransactionStatus.REFUND_PENDING.value),
    )


def finish_refund(table: Table, gateway: PaymentGateway, transaction: Transaction) -> Transaction:
    """From REFUND_PENDING: the money back in Stripe (found or made), then REFUNDED, the enrollment
    revoked and the counters moved in one transaction, then EnrollmentRevoked on the bus."""
    transaction_id = transaction.transaction_id
    amount = transaction.amount.amount if transaction.amount else 0
    extra: dict[str, Any] = {"revocationEventPending": True}
    if _pays(transaction):
        assert transaction.payment_intent_id
        try:
            extra["refundId"] = refund_once(
                gateway, transaction.payment_intent_id, transaction.refund_key or refund_key(transaction_id)
            )
        except PaymentRejectedError:
            _back_to_completed(table, transaction)
            raise
    refunded = finish(
        transaction_id, TransactionStatus.REFUNDED, expected=TransactionStatus.REFUND_PENDING, extra_set=extra
    )
    enrollment = keys.enrollment(transaction.user_id, transaction.course_id)
    revoke = Change(
        enrollment,
        Update().set(status=EnrollmentStatus.REVOKED.value),
        when=eq("transactionId", transaction_id),
    )
    counters = move_counters(transaction.course_id, enrollments=-1, revenue_cents=-amount)
    # Conflicts with other transactions on the counters or the enrollment are retried by transact.
    if not table.transact_if([refunded, revoke, counters]):
        current = require_transaction(table, transaction_id)
        if current.status != TransactionStatus.REFUND_PENDING:
            return current  # finished meanwhile by a concurrent request or the sweeper
        # The enrollment is not this purchase's (any more): the money is back, the record says so.
        if not table.transact_if([refunded]):
            return require_transaction(table, transaction_id)
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
    table.update(keys.transaction(transaction.transaction_id), Update().remove("revocationEventPending"))
    return require_transaction(table, transaction.transaction_id)


# An admin refund pending longer than this is taken to have stopped (its request answers in seconds).
STOPPED_AFTER = timedelta(minutes=2)


def finish_if_stopped(
    table: Table, gateway: PaymentGateway, transaction: Transaction, *, older_than: timedelta = STOPPED_AFTER
) -> Transaction:
    """Finish an admin refund left REFUND_PENDING for longer than ``older_than``; anything else is
    answered as it is (a younger one is left to the request still working on it)."""
    if transaction.status != TransactionStatus.REFUND_PENDING:
        return transaction
    if transaction.updated_at > utcnow() - older_than:
        return transaction
    return finish_refund(table, gateway, transaction)


@dataclass
class SweepReport:
    finished: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # transaction id -> why it is still pending


def sweep_pending_refunds(
    table: Table, gateway: PaymentGateway, *, older_than: timedelta = STOPPED_AFTER
) -> SweepReport:
    """Finish every admin refund left REFUND_PENDING for longer than ``older_than``.

    A request that stopped mid-way (a crash, Stripe unreachable, a conflict that outlasted the
    retries) is finished here; younger ones are left to the request still working on them. Reads the
    REFUND_PENDING index partitions only (no scan).
    """
    report = SweepReport()
    cursor: str | None = None
    while True:
        page, cursor = list_all_transactions(
            table, status=TransactionStatus.REFUND_PENDING, limit=100, cursor=cursor
        )
        for listed in page:
            current = get_transaction(table, listed.transaction_id)
            if current is None:
                continue
            try:
                finished = finish_if_stopped(table, gateway, current, older_than=older_than)
            except (LmsError, PaymentRejectedError, PaymentProviderUnavailableError) as error:
                report.failed[current.transaction_id] = f"{type(error).__name__}: {error}"
                continue
            if current.status == TransactionStatus.REFUND_PENDING != finished.status:
                report.finished.append(current.transaction_id)
        if not cursor:
            return report
