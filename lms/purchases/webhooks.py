"""Stripe webhooks: act on a verified event, then remember it.

The event id is recorded only *after* the event was handled. Handling is idempotent, so a
concurrent or repeated delivery that slips past the check does no harm; recording first would
turn Stripe's retry of an event whose handler died mid-way (a timeout, out of memory) into a
dropped "duplicate".
"""

from __future__ import annotations

from lms import keys
from lms.callbacks import WorkflowCallbacks
from lms.clock import epoch_seconds
from lms.entities import TransactionStatus
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


def already_handled(table: Table, event_id: str) -> bool:
    return table.get(keys.stripe_event(event_id), consistent=True) is not None


def mark_handled(table: Table, event_id: str) -> None:
    table.put(
        {
            **keys.stripe_event(event_id).as_item(),
            keys.TTL_ATTRIBUTE: epoch_seconds() + STRIPE_EVENT_RETENTION_SECONDS,
        }
    )


def process_event(table: Table, gateway: PaymentGateway, port: WorkflowCallbacks, event: WebhookEvent) -> str:
    """Handle a verified event once; returns what happened, for the log and the receipt."""
    if already_handled(table, event.id):
        return DUPLICATE
    outcome = handle_payment_event(table, gateway, port, event_type=event.type, object_id=event.object_id)
    mark_handled(table, event.id)
    return outcome


def handle_payment_event(
    table: Table, gateway: PaymentGateway, port: WorkflowCallbacks, *, event_type: str, object_id: str | None
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
            # The execution no longer waits (its token is dead): nobody else will act on this money.
            return f"transaction {transaction_id}: {refund_late_payment(table, gateway, transaction)}"
        return f"transaction {transaction_id}: {resolution.outcome}"
    if intent.succeeded and transaction.status in UNENROLLED_STATUSES:
        return f"transaction {transaction_id}: {refund_late_payment(table, gateway, transaction)}"
    return f"transaction {transaction_id} is already {transaction.status}"
