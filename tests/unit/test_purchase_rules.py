"""Purchase rules with fakes: a fake payment gateway, fake workflow callbacks, a fake clock.

No network and no table service: the few records a rule reads live in a dict.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from lms import keys
from lms.callbacks import FakeCallbacks
from lms.clock import FakeClock, use_clock
from lms.entities import Money, Transaction
from lms.expressions import Update
from lms.payments import PaymentIntent, PaymentRejectedError, WebhookEvent
from lms.purchases import steps, webhooks
from lms.purchases.records import transaction_item


class ProcessKilledError(BaseException):
    """What a Lambda timeout or an out-of-memory kill looks like to the code: nothing runs after it."""


@dataclass
class FakeGateway:
    intents: dict[str, PaymentIntent] = field(default_factory=dict)
    confirm_before_cancel: bool = False  # the customer confirms between our last look and the cancel
    die_on_next_read: bool = False
    refunds: list[str] = field(default_factory=list)

    def add(self, intent: PaymentIntent) -> PaymentIntent:
        self.intents[intent.id] = intent
        return intent

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntent:
        if self.die_on_next_read:
            self.die_on_next_read = False
            raise ProcessKilledError
        return self.intents[payment_intent_id]

    def cancel_payment_intent(self, payment_intent_id: str, *, idempotency_key: str) -> PaymentIntent:
        intent = self.intents[payment_intent_id]
        if self.confirm_before_cancel:
            intent = self.add(replace(intent, status="succeeded"))
        if intent.status in ("succeeded", "canceled"):
            raise PaymentRejectedError(
                f"You cannot cancel this PaymentIntent because it has a status of {intent.status}."
            )
        return self.add(replace(intent, status="canceled"))

    def refund(self, payment_intent_id: str, *, idempotency_key: str) -> str:
        self.refunds.append(idempotency_key)
        return f"re_{len(self.refunds)}"

    def find_refund(self, payment_intent_id: str) -> str | None:
        return f"re_{len(self.refunds)}" if self.refunds else None

    def create_payment_intent(self, **_: Any) -> PaymentIntent:
        raise NotImplementedError("the rules under test never create a PaymentIntent")


class FakeTable:
    """The reads and writes these rules make, on a dict. Conditions are not evaluated, except the
    one conditional create the webhook makes (``put_if(..., when=item_absent())``)."""

    def __init__(self) -> None:
        self.items: dict[keys.Key, dict[str, Any]] = {}

    def get(self, key: keys.Key, *, consistent: bool = False) -> dict[str, Any] | None:
        return self.items.get(key)

    def put(self, item: dict[str, Any], **_: Any) -> None:
        self.items[keys.Key(item[keys.PK], item[keys.SK])] = item

    def put_if(self, item: dict[str, Any], *, when: Any) -> bool:
        key = keys.Key(item[keys.PK], item[keys.SK])
        if key in self.items:
            return False
        self.items[key] = item
        return True

    def update(self, key: keys.Key, changes: Update, **_: Any) -> dict[str, Any]:
        item = self.items.setdefault(key, key.as_item())
        item.update(changes._set)
        return item

    def update_if(self, key: keys.Key, changes: Update, *, when: Any) -> dict[str, Any]:
        return self.update(key, changes)


@dataclass
class FakeRuns(FakeCallbacks):
    """Fake callbacks that also say which executions still run."""

    running: set[str] = field(default_factory=set)

    def is_running(self, execution_arn: str) -> bool:
        return execution_arn in self.running


def open_intent(status: str = "requires_payment_method") -> PaymentIntent:
    return PaymentIntent(
        id="pi_1",
        status=status,
        amount=4900,
        currency="usd",
        client_secret="secret",
        metadata={"transactionId": "t1"},
    )


RUN = "arn:aws:states:us-east-1:123456789012:execution:lms-purchase:purchase-t1"


def pending(task_token: str | None = "token-1") -> Transaction:
    return Transaction(
        transaction_id="t1",
        user_id="u1",
        course_id="c1",
        amount=Money(amount=4900),
        payment_intent_id="pi_1",
        task_token=task_token,
        execution_arn=RUN,
    )


def test_a_payment_confirmed_just_before_the_cancel_is_found_by_reading_it_again() -> None:
    gateway = FakeGateway(confirm_before_cancel=True)
    gateway.add(open_intent())
    found = steps.cancel_or_reread(gateway, pending())
    assert found.succeeded, "the caller sees the payment and refunds it"


def test_a_cancel_of_an_already_canceled_payment_intent_is_done() -> None:
    gateway = FakeGateway()
    gateway.add(open_intent("canceled"))
    assert steps.cancel_or_reread(gateway, pending()).status == "canceled"


def test_a_cancel_refused_for_another_reason_is_not_hidden() -> None:
    class Refusing(FakeGateway):
        def cancel_payment_intent(self, payment_intent_id: str, *, idempotency_key: str) -> PaymentIntent:
            raise PaymentRejectedError("No such payment_intent")

    gateway = Refusing()
    gateway.add(open_intent())
    with pytest.raises(PaymentRejectedError):
        steps.cancel_or_reread(gateway, pending())


def test_a_paid_intent_resumes_the_waiting_execution_with_what_was_paid() -> None:
    port = FakeCallbacks()
    resolution = steps.resolve_payment(FakeTable(), port, pending(), open_intent("succeeded"))  # type: ignore[arg-type]
    assert resolution.outcome == "succeeded"
    assert port.succeeded["token-1"] == {"paymentIntentId": "pi_1", "amount": 4900, "currency": "usd"}


def test_a_dead_task_token_is_an_outcome_not_an_error() -> None:
    port = FakeCallbacks()
    port.kill("token-1", "expired")
    resolution = steps.resolve_payment(FakeTable(), port, pending(), open_intent("succeeded"))  # type: ignore[arg-type]
    assert (resolution.outcome, resolution.detail) == ("closed", "expired")


def test_a_task_token_answers_once() -> None:
    port = FakeCallbacks()
    assert port.succeed("t", {}).delivered
    again = port.fail("t", error="PaymentFailed", cause="late")
    assert not again.delivered and again.dead_reason == "already answered"


def test_a_webhook_whose_handler_died_is_handled_on_stripes_retry() -> None:
    table, port, clock = FakeTable(), FakeRuns(), FakeClock()
    table.put(transaction_item(pending()))
    gateway = FakeGateway(die_on_next_read=True)
    gateway.add(open_intent("succeeded"))
    event = WebhookEvent(id="evt_1", type="payment_intent.succeeded", object_id="pi_1", created=0)

    with use_clock(clock):
        with pytest.raises(ProcessKilledError):
            webhooks.process_event(table, gateway, port, event)  # type: ignore[arg-type]
        assert not port.succeeded
        retried = webhooks.process_event(table, gateway, port, event)  # type: ignore[arg-type]

    assert retried == "transaction t1: succeeded" and "token-1" in port.succeeded
    recorded = table.get(keys.stripe_event("evt_1"))
    assert recorded is not None
    expected_expiry = int(clock.now().timestamp()) + webhooks.STRIPE_EVENT_RETENTION_SECONDS
    assert recorded[keys.TTL_ATTRIBUTE] == expected_expiry
    assert webhooks.process_event(table, gateway, port, event) == webhooks.DUPLICATE  # type: ignore[arg-type]


def test_a_cursor_over_every_status_partition_fits_the_apis_limit_and_round_trips() -> None:
    import uuid

    from lms import table
    from lms.entities import TransactionStatus

    partitions = [p for s in TransactionStatus for p in keys.transaction_status_partitions(s.value)]
    positions = [
        f"2026-11-29T03:04:{i:02d}.{i:06d}+00:00#{uuid.uuid4().hex}" if i % 5 else (None if i % 2 else 0)
        for i in range(len(partitions))
    ]
    cursor = table.encode_merge_cursor(positions)
    assert len(cursor) <= 2048
    decoded = table.decode_merge_cursor(cursor, partitions)
    assert list(decoded.values()) == [table._DONE if p == 0 else p for p in positions]


@pytest.mark.parametrize("why_dead", ["already answered", "a retried AwaitPayment stored a newer one"])
def test_a_dead_token_of_a_running_execution_leaves_the_money_to_it(why_dead: str) -> None:
    """Two deliveries of one payment, or a delivery during an AwaitPayment retry: the token is dead
    but the execution runs, and it enrolls (or refunds) itself. No refund from the webhook."""
    table, port = FakeTable(), FakeRuns(running={RUN})
    table.put(transaction_item(pending()))
    port.kill("token-1", why_dead)
    gateway = FakeGateway()
    gateway.add(open_intent("succeeded"))
    event = WebhookEvent(id="evt_2", type="payment_intent.succeeded", object_id="pi_1", created=0)

    outcome = webhooks.process_event(table, gateway, port, event)  # type: ignore[arg-type]

    assert outcome == "transaction t1: left to its running execution"
    assert gateway.refunds == []


def test_a_delivery_of_an_event_still_being_handled_is_handled_again_not_dropped() -> None:
    """Recorded RECEIVED but not HANDLED (the first delivery died, or is still at it): handle it."""
    table, port = FakeTable(), FakeRuns()
    table.put(transaction_item(pending()))
    gateway = FakeGateway()
    gateway.add(open_intent("succeeded"))
    assert webhooks.record_received(table, "evt_3")  # type: ignore[arg-type]
    event = WebhookEvent(id="evt_3", type="payment_intent.succeeded", object_id="pi_1", created=0)

    assert webhooks.process_event(table, gateway, port, event) == "transaction t1: succeeded"  # type: ignore[arg-type]
    assert table.get(keys.stripe_event("evt_3"))["state"] == webhooks.HANDLED  # type: ignore[index]
    assert webhooks.process_event(table, gateway, port, event) == webhooks.DUPLICATE  # type: ignore[arg-type]


def test_a_run_the_transaction_does_not_name_neither_cancels_nor_refunds() -> None:
    """An old run retrying its close, or a re-run, after another run took the purchase over."""
    from lms.entities import TransactionStatus
    from lms.purchases import refunds

    table = FakeTable()
    table.put(transaction_item(pending()))
    gateway = FakeGateway()
    gateway.add(open_intent("succeeded"))
    other_run = RUN.replace("purchase-t1", "purchase-t1-rerun-1")

    closed = steps.close_transaction(
        table,  # type: ignore[arg-type]
        gateway,
        transaction_id="t1",
        user_id="u1",
        course_id="c1",
        status=TransactionStatus.EXPIRED,
        error=None,
        execution_arn=other_run,
    )
    refunded = refunds.refund_payment(
        table,  # type: ignore[arg-type]
        gateway,
        transaction_id="t1",
        reason="enrollment failed",
        execution_arn=other_run,
    )

    assert closed.status == refunded.status == TransactionStatus.PENDING
    assert gateway.intents["pi_1"].status == "succeeded" and gateway.refunds == []


def test_a_refund_stripe_says_is_already_made_is_found_not_failed() -> None:
    """Past the idempotency key's 24 hours (or a refund made between the look and the create),
    Stripe refuses a second refund; the one it lists is the refund."""
    from lms.purchases import refunds

    class AlreadyRefunded(FakeGateway):
        def find_refund(self, payment_intent_id: str) -> str | None:
            return "re_earlier" if self.refunds else None

        def refund(self, payment_intent_id: str, *, idempotency_key: str) -> str:
            self.refunds.append(idempotency_key)
            raise PaymentRejectedError("Charge ch_1 has already been refunded.")

    assert refunds.refund_once(AlreadyRefunded(), "pi_1", "purchase-t1-refund") == "re_earlier"

    class Refusing(AlreadyRefunded):
        def find_refund(self, payment_intent_id: str) -> str | None:
            return None  # nothing refunded: the refusal has another reason, and is not hidden

    with pytest.raises(PaymentRejectedError):
        refunds.refund_once(Refusing(), "pi_1", "purchase-t1-refund")
