"""The purchase-to-enrollment workflow: definition, task functions, their inputs, the execution input."""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from lms import keys, purchases
from lms.clock import epoch_seconds
from lms.entities import Transaction, TransactionStatus
from lms.settings import get_settings
from lms.table import Item, Table, serialize_key
from workflows import executions, records
from workflows.definition import Access, BusinessRecord, Needs, TaskFunction, Workflow, Zip, settled_when
from workflows.executions import StartedExecution

_STRIPE = Needs(table=Access.READ_WRITE, stripe_secret=True)
# One module (tasks.purchase) serves every step, and its paying steps import the Stripe SDK.
_PACKAGE = Zip(dependencies=(*Zip().dependencies, "stripe"))

PURCHASE = Workflow(
    name="purchase",
    functions=(
        # ValidateOrder only reads: the state machine writes the PENDING item it returns.
        TaskFunction("ValidateOrder", Needs(table=Access.READ), timeout_seconds=15, packaging=_PACKAGE),
        TaskFunction("CreatePaymentIntent", _STRIPE, packaging=_PACKAGE),
        TaskFunction(
            "AwaitPayment",
            Needs(table=Access.READ_WRITE, stripe_secret=True, task_callbacks=True),
            packaging=_PACKAGE,
        ),
        TaskFunction("EnrollStudent", Needs(table=Access.READ_WRITE), timeout_seconds=15, packaging=_PACKAGE),
        TaskFunction("RefundPayment", _STRIPE, packaging=_PACKAGE),
        # It announces PurchaseDeclined (lms.events.publish_for_analytics) once the transaction is closed.
        TaskFunction(
            "CloseTransaction",
            Needs(table=Access.READ_WRITE, stripe_secret=True, event_bus_put=True),
            packaging=_PACKAGE,
        ),
    ),
    # The payment window is at most 24 hours (Settings.payment_window_seconds); closing takes seconds.
    timeout_seconds=25 * 3600,
    error_alarms=("NeedsReconciliation",),
    record=BusinessRecord(
        "transaction",
        records.transaction,
        # Money has moved (or must be reconciled by hand): a re-run would only repeat the payment.
        settled=(settled_when("status", "COMPLETED", "REFUNDED", "NEEDS_RECONCILIATION"),),
    ),
)


# The inputs of its task functions (the ASL's Parameters), parsed by tasks.purchase.
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


class PurchaseInput(BaseModel):
    """The execution input. The price is not here: ValidateOrder reads it from the course."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)

    transaction_id: str
    user_id: str
    course_id: str
    # What RecordNeedsReconciliation (a direct updateItem) writes, formatted by lms.keys, not the ASL.
    transaction_key: dict[str, Any]
    needs_reconciliation_index: str
    payment_window_seconds: int = Field(default_factory=lambda: get_settings().payment_window_seconds)


def begin_purchase(
    table: Table, *, user_id: str, course_id: str, idempotency_key: str | None, lock: Item | None
) -> tuple[str, StartedExecution]:
    """Claim the (student, course) purchase and start its execution, once.

    Concurrent or repeated requests converge on one transaction id, hence one execution name
    (``purchase-<transactionId>``), hence at most one PaymentIntent and one charge.
    """
    in_flight = lock is not None and int(lock.get("expiresAt", 0)) > epoch_seconds() and not idempotency_key
    candidate = (
        str(lock["transactionId"])
        if lock is not None and in_flight
        else purchases.transaction_id_for(user_id, course_id, idempotency_key)
    )
    transaction_id = purchases.claim_purchase(
        table,
        user_id=user_id,
        course_id=course_id,
        transaction_id=candidate,
        window_seconds=get_settings().payment_window_seconds,
    )
    payload = PurchaseInput(
        transaction_id=transaction_id,
        user_id=user_id,
        course_id=course_id,
        transaction_key=serialize_key(keys.transaction(transaction_id)),
        needs_reconciliation_index=keys.transaction_status_index(
            TransactionStatus.NEEDS_RECONCILIATION, transaction_id
        ),
    )
    started = executions.start(PURCHASE, transaction_id, payload.model_dump(by_alias=True))
    if started.already_started:
        existing = purchases.get_transaction(table, transaction_id)
        if existing is not None and existing.status != TransactionStatus.PENDING:
            # A replay of a finished purchase (same Idempotency-Key), or a lock its run failed to
            # release: free the lock so the student can buy again.
            purchases.release_lock(table, user_id=user_id, course_id=course_id, transaction_id=transaction_id)
            if not idempotency_key:
                return begin_purchase(
                    table, user_id=user_id, course_id=course_id, idempotency_key=None, lock=None
                )
    return transaction_id, started


def wait_for_payment_details(table: Table, transaction_id: str) -> Transaction | None:
    """Poll briefly until the transaction has its client secret or has finished (a free course).

    The pause grows (0.1 s, 0.15 s, ... up to 0.5 s) so a busy system is not read harder the slower it gets.
    """
    deadline = time.monotonic() + get_settings().client_secret_wait_seconds
    pause = 0.1
    while True:
        transaction = purchases.get_transaction(table, transaction_id)
        ready = transaction is not None and (
            transaction.client_secret or transaction.status != TransactionStatus.PENDING
        )
        remaining = deadline - time.monotonic()
        if ready or remaining <= 0:
            return transaction
        time.sleep(min(pause, remaining))
        pause = min(pause * 1.5, 0.5)
