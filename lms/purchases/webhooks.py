"""Stripe webhooks: remember a verified event, act on it, then mark it handled.

The event id is recorded (RECEIVED) *before* the event is handled and marked HANDLED after. A
delivery of an event already HANDLED is a duplicate; a delivery of one only RECEIVED (its handler
died mid-way: a timeout, out of memory) or being handled concurrently handles it again. Handling is
idempotent, so that finishes the job once: a task token answers once, a refund is found before one
is made, and a dead task token is read against the execution before any money moves.
"""

from __future__ import annotations

from typing import Protocol

from lms import keys
from lms.callbacks import WorkflowCallbacks
from lms.clock import epoch_seconds, isoformat, utcnow
from lms.entities import TransactionStatus
from lms.expressions import Update, item_absent
from lms.payments import PaymentGateway, WebhookEvent
from lms.purchases.records import get_transaction
from lms.purchases.refunds import UNENROLLED_STATUSES, refund_late_payment
from lms.purchases.steps import resolve_payment
from lms.table import Table

STRIPE_EVENT_RETENTION_SECONDS = 30 * 24 * 3600
HANDLED_EVENTS = frozenset(
    {"payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled"}
)
DUPLICATE = "duplicate"
RECEIVED, HANDLED = "RECEIVED", "HANDLED"


class PaymentCallbacks(WorkflowCallbacks, Protocol):
    """The callbacks port, plus what a dead task token needs: does the execution still run?

    A token is dead when its step timed out or the execution ended, but also when it was already
    answered (a concurrent delivery, a retried AwaitPayment that stored a newer token): then the
    execution still runs and settles the payment itself.
    """

    def is_running(self, execution_arn: str) -> bool: ...


def record_received(table: Table, event_id: str) -> bool:
    """Record the event before handling it; False when an earlier delivery already handled it."""
    key = keys.stripe_event(event_id)
    received = {
        **key.as_item(),
        "state": RECEIVED,
        "receivedAt": isoformat(utcnow()),
        keys.TTL_ATTRIBUTE: epoch_seconds() + STRIPE_EVENT_RETENTION_SECONDS,
    }
    if table.put_if(received, when=item_absent()):
        return True
    stored = table.get(key, consistent=True)
    # Events recorded before the RECEIVED state existed were recorded once handled.
    return stored is None or stored.get("state", HANDLED) != HANDLED


def mark_handled(table: Table, event_id: str) -> None:
    table.update(keys.stripe_event(event_id), Update().set(state=HANDLED, handledAt=isoformat(utcnow())))


def process_event(table: Table, gateway: PaymentGateway, port: PaymentCallbacks, event: WebhookEvent) -> str:
    """Handle a verified event once; returns what happened, for the log and the receipt."""
    if not record_received(table, event.id):
        return DUPLICATE
    outcome = handle_payment_event(table, gateway, port, event_type=event.type, object_id=event.object_id)
    mark_handled(table, event.id)
    return outcome


def handle_payment_event(
    table: Table, gateway: PaymentGateway, port: PaymentCallbacks, *, event_type: str, object_id: str | None
) -> str:
    """Act on an event. Returns what happened, for the log."""
    if event_type not in HANDLED_EVENTS or not object_id:
        return "ignored"
    intent = gateway.retrieve_payment_intent(object_id)  # never act on the webhook body itself
    transaction_id = intent.metadata.get("transactionId")
    if not transaction_id:
        return "ignored: not one of our PaymentIntents"
    transaction = get_transaction(table, transaction_id)
    if transaction is None:
        return f"unknown transaction {transaction_id}"
    if transaction.status == TransactionStatus.PENDING:
        resolution = resolve_payment(table, port, transaction, intent)
        if resolution.outcome == "closed" and intent.succeeded:
            if transaction.execution_arn and port.is_running(transaction.execution_arn):
                # The token was answered already, or a retried step holds a newer one: the run
                # enrolls, or its close finds the payment and refunds it. Moving money here too
                # would race it.
                return f"transaction {transaction_id}: left to its running execution"
            # The execution has ended: nobody else will act on this money.
            return f"transaction {transaction_id}: {refund_late_payment(table, gateway, transaction)}"
        return f"transaction {transaction_id}: {resolution.outcome}"
    if intent.succeeded and transaction.status in UNENROLLED_STATUSES:
        return f"transaction {transaction_id}: {refund_late_payment(table, gateway, transaction)}"
    return f"transaction {transaction_id} is already {transaction.status}"
