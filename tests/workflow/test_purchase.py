"""Purchase to enrollment: the real ASL on the local engine, the real task handlers, localstripe.

Every test buys over HTTP as a fresh student, so tests never share an enrollment.
"""

from __future__ import annotations

import concurrent.futures
import json
import time
from datetime import datetime
from typing import Any

import pytest

from lms import aws, keys
from lms.clock import isoformat
from lms.entities import TransactionStatus
from lms.expressions import Update
from lms.table import Table
from tests.conftest import ApiClient
from tests.purchases import (
    DECLINED_CARD,
    buy,
    execution,
    pay,
    post_webhook,
    refunds_of,
    signed_event,
    states_entered,
    transaction,
    wait_for,
)

PAID = "Python for Beginners"
FREE = "HTML & CSS Foundations"


def course_id(demo, title: str) -> str:
    return demo.data.courses[title].course_id


def enrollment_count(course: str) -> int:
    counters = Table().get(keys.course_counters(course), consistent=True) or {}
    return int(counters.get("enrollmentCount", 0))


def outcome(described: dict[str, Any]) -> str:
    """The business outcome a finished execution reports in its output."""
    return str(json.loads(described["output"])["result"]["outcome"])


def to_the_millisecond(stored: str) -> str:
    """A time as an event carries it (UTC, milliseconds) from a record's ISO text."""
    return isoformat(datetime.fromisoformat(stored))


def until(check: Any, *, timeout: float = 20) -> Any:
    """Poll ``check`` until it returns something truthy (a positive signal, never a bare sleep)."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, "the signal never came"
        time.sleep(0.1)
    return found


def stripe_client(local_stripe) -> Any:
    import stripe

    return stripe.StripeClient(local_stripe.secret_key, base_addresses={"api": local_stripe.url})


def buy_within(client: ApiClient, course: str, window_seconds: int, **headers: str) -> dict[str, Any]:
    """Buy with a short payment window (the API reads it when it starts the execution)."""
    from lms.settings import reset_settings

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LMS_PAYMENT_WINDOW_SECONDS", str(window_seconds))
        reset_settings()
        try:
            return buy(client, course, **headers)
        finally:
            patch.delenv("LMS_PAYMENT_WINDOW_SECONDS")
            reset_settings()


@pytest.fixture
def webhooks_lost(local_stripe, api_url: str) -> Any:
    """Stripe's deliveries go nowhere during the test, as when they are late or the endpoint is down."""
    from tests.conftest import free_port

    local_stripe.register_webhook(f"http://127.0.0.1:{free_port()}/webhooks/stripe")
    yield
    local_stripe.register_webhook(f"{api_url}/webhooks/stripe")


@pytest.fixture
def bus(local_cloud) -> Any:
    """``subscribe(EventClass)`` on the product's bus (tests/events.py), once the local cloud runs."""
    from tests.events import subscribe

    return subscribe


def test_paid_purchase_ends_enrolled_with_a_completed_transaction(new_user, demo, bus) -> None:
    from lms.events import EnrollmentCreated, PurchaseCompleted

    enrollments, purchases_completed = bus(EnrollmentCreated), bus(PurchaseCompleted)
    student = new_user()
    course = course_id(demo, PAID)
    before = enrollment_count(course)

    started = buy(student.client, course)
    assert started["status"] == "PENDING" and started["clientSecret"]
    assert started["executionName"] == f"purchase-{started['transactionId']}"
    assert pay(started["transactionId"]) == "succeeded"

    done = wait_for(started["transactionId"], TransactionStatus.COMPLETED)
    assert done.amount and done.amount.amount == demo.data.courses[PAID].price_cents
    assert done.client_secret is None and done.task_token is None, "secrets leave with PENDING"
    history = student.client.get(f"/transactions/{student.user_id}").json()["items"]
    assert [(t["transactionId"], t["status"]) for t in history] == [(started["transactionId"], "COMPLETED")]
    assert student.client.get(f"/lessons/{course}").json()["fullContent"] is True
    assert enrollment_count(course) == before + 1
    assert student.client.get(f"/courses/{course}").json()["enrollmentCount"] == before + 1
    assert "enrollmentCount" not in Table().get(keys.course(course), consistent=True), (
        "counters have their own item"
    )
    view = student.client.get(f"/transactions/{student.user_id}/{started['transactionId']}").json()
    assert view["paymentMethod"] == "card" and view["stripePaymentId"] == done.payment_intent_id
    enrollment = Table().get(keys.enrollment(student.user_id, course), consistent=True)
    assert enrollment is not None
    assert enrollment["lastAccessed"] == enrollment["enrolledAt"]
    assert enrollment["progressPercentage"] == 0 and enrollment["isCompleted"] is False
    assert "completedAt" not in enrollment

    described, events = execution(started["executionArn"])
    assert described["status"] == "SUCCEEDED"
    entered = states_entered(events)
    assert entered == [
        "ValidateOrder",
        "RecordPendingTransaction",
        "IsFreeCourse",
        "CreatePaymentIntent",
        "AwaitPayment",
        "EnrollStudent",
        "PublishEnrollmentEvents",
        "Enrolled",
    ]
    assert len(entered) <= 10
    assert "eventError" not in json.loads(described["output"]), described["output"]
    (enrolled,) = enrollments(transactionId=started["transactionId"])
    assert enrolled == {
        "eventId": EnrollmentCreated.id_for(started["transactionId"]),  # a retry or a re-run repeats it
        "occurredAt": to_the_millisecond(enrollment["enrolledAt"]),
        "schemaVersion": 1,
        "actor": {"type": "user", "id": student.user_id},
        "verb": "enrolled",
        "object": {"type": "course", "id": course},
        "result": "enrolled",
        "courseId": course,
        "transactionId": started["transactionId"],
        "userId": student.user_id,
        "amount": 4900,
        "enrolledAt": to_the_millisecond(enrollment["enrolledAt"]),
    }
    (completed,) = purchases_completed(transactionId=started["transactionId"])
    assert completed["eventId"] == PurchaseCompleted.id_for(started["transactionId"])
    assert PurchaseCompleted.from_detail(completed).transaction_id == started["transactionId"]
    assert (completed["verb"], completed["object"], completed["result"]) == (
        "purchased",
        {"type": "transaction", "id": started["transactionId"]},
        "completed",
    )
    assert (completed["amount"], completed["currency"], completed["courseId"]) == (4900, "usd", course)
    assert completed["actor"] == {"type": "user", "id": student.user_id}
    assert done.completed_at is not None
    assert completed["occurredAt"] == isoformat(done.completed_at) == enrolled["enrolledAt"]

    again = student.client.post("/transactions", json={"courseId": course})
    assert again.status_code == 409 and again.json()["error"]["code"] == "ALREADY_ENROLLED"


def test_free_course_enrolls_without_payment(new_user, demo) -> None:
    student = new_user()
    started = buy(student.client, course_id(demo, FREE))
    done = wait_for(started["transactionId"], TransactionStatus.COMPLETED)
    assert done.amount and done.amount.amount == 0 and done.payment_intent_id is None
    view = student.client.get(f"/transactions/{student.user_id}/{started['transactionId']}").json()
    assert view["paymentMethod"] == "free" and view["stripePaymentId"] is None
    assert student.client.get(f"/lessons/{course_id(demo, FREE)}").json()["fullContent"] is True
    _, events = execution(started["executionArn"])
    assert "CreatePaymentIntent" not in states_entered(events)


def test_declined_card_ends_failed_with_the_reason_and_can_be_retried(new_user, demo, local_stripe) -> None:
    student = new_user()
    course = course_id(demo, PAID)
    started = buy(student.client, course)
    assert pay(started["transactionId"], DECLINED_CARD) == "declined"

    failed = wait_for(started["transactionId"], TransactionStatus.FAILED)
    assert failed.reason == "Your card was declined."
    described, _ = execution(started["executionArn"])
    assert described["status"] == "SUCCEEDED" and outcome(described) == "PaymentDeclined"
    intent = stripe_client(local_stripe).v1.payment_intents.retrieve(failed.payment_intent_id)
    assert intent.status == "canceled", "a failed purchase can never be charged later"
    assert student.client.get(f"/lessons/{course}").json()["fullContent"] is False

    retry = buy(student.client, course)
    assert retry["transactionId"] != started["transactionId"], "the lock was released"


def test_no_payment_in_the_window_expires_and_cancels_the_payment_intent(
    new_user, demo, local_stripe, monkeypatch
):
    from lms.settings import reset_settings

    monkeypatch.setenv("LMS_PAYMENT_WINDOW_SECONDS", "2")
    reset_settings()
    try:
        started = buy(new_user().client, course_id(demo, PAID))
    finally:
        monkeypatch.delenv("LMS_PAYMENT_WINDOW_SECONDS")
        reset_settings()
    expired = wait_for(started["transactionId"], TransactionStatus.EXPIRED, timeout=30)
    assert "window" in (expired.reason or "")
    intent = stripe_client(local_stripe).v1.payment_intents.retrieve(expired.payment_intent_id)
    assert intent.status == "canceled"
    described, _ = execution(started["executionArn"])
    assert described["status"] == "SUCCEEDED" and outcome(described) == "PaymentExpired"


def test_the_same_webhook_three_times_makes_one_enrollment(
    new_user, demo, anonymous: ApiClient, local_stripe
):
    student = new_user()
    course = course_id(demo, PAID)
    before = enrollment_count(course)
    started = buy(student.client, course)
    assert pay(started["transactionId"]) == "succeeded"
    intent_id = transaction(started["transactionId"]).payment_intent_id

    payload, signature = signed_event(
        local_stripe.webhook_secret, event_type="payment_intent.succeeded", payment_intent_id=intent_id
    )
    outcomes = [post_webhook(anonymous, payload, signature) for _ in range(3)]
    assert [r.status_code for r in outcomes] == [200, 200, 200]
    assert [r.json()["outcome"] for r in outcomes][1:] == ["duplicate", "duplicate"]

    wait_for(started["transactionId"], TransactionStatus.COMPLETED)
    # localstripe's own event for this payment arrives too: wait until it has been handled.
    stripe_events = stripe_client(local_stripe).v1.events
    own_event = until(
        lambda: next(
            (
                e.id
                for e in stripe_events.list(params={"type": "payment_intent.succeeded"}).auto_paging_iter()
                if e.data.object.id == intent_id
            ),
            None,
        )
    )
    until(lambda: Table().get(keys.stripe_event(own_event), consistent=True))
    assert enrollment_count(course) == before + 1
    enrollments = Table().query_all(
        partition=(keys.PK, keys.user_index(student.user_id)), sort_prefix=(keys.SK, keys.ENROLLMENT_PREFIX)
    )
    assert len(enrollments) == 1


def test_bad_signature_is_400_and_changes_nothing(new_user, demo, anonymous: ApiClient, local_stripe) -> None:
    started = buy(new_user().client, course_id(demo, PAID))
    intent_id = transaction(started["transactionId"]).payment_intent_id
    payload, _ = signed_event(
        "whsec_not_ours", event_type="payment_intent.succeeded", payment_intent_id=intent_id
    )
    _, good_signature = signed_event(
        local_stripe.webhook_secret, event_type="payment_intent.succeeded", payment_intent_id=intent_id
    )
    for signature in ("t=1,v1=deadbeef", "garbage", good_signature):  # the last one signs a different body
        response = post_webhook(anonymous, payload, signature)
        assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_SIGNATURE"
    assert post_webhook(anonymous, payload, "").status_code == 400
    assert transaction(started["transactionId"]).status == TransactionStatus.PENDING


def test_a_validly_signed_lie_is_checked_against_stripe(
    new_user, demo, anonymous: ApiClient, local_stripe
) -> None:
    """API10: the event says 'succeeded' but the PaymentIntent was never paid: nothing happens."""
    started = buy(new_user().client, course_id(demo, PAID))
    intent_id = transaction(started["transactionId"]).payment_intent_id
    payload, signature = signed_event(
        local_stripe.webhook_secret, event_type="payment_intent.succeeded", payment_intent_id=intent_id
    )
    response = post_webhook(anonymous, payload, signature)
    assert response.status_code == 200 and response.json()["outcome"].endswith("pending")
    assert transaction(started["transactionId"]).status == TransactionStatus.PENDING


@pytest.mark.parametrize("age_seconds", [600, -600], ids=["replayed old event", "timestamp from the future"])
def test_events_outside_the_tolerance_are_rejected(
    new_user, demo, anonymous, local_stripe, age_seconds
) -> None:
    started = buy(new_user().client, course_id(demo, PAID))
    assert pay(started["transactionId"]) == "succeeded"
    payload, signature = signed_event(
        local_stripe.webhook_secret,
        event_type="payment_intent.succeeded",
        payment_intent_id=transaction(started["transactionId"]).payment_intent_id,
        timestamp=int(time.time()) - age_seconds,
    )
    response = post_webhook(anonymous, payload, signature)
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_SIGNATURE"


def test_ten_concurrent_purchases_make_one_transaction_and_one_charge(new_user, demo, local_stripe) -> None:
    student = new_user()
    course = course_id(demo, PAID)
    with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(
            pool.map(lambda _: student.client.post("/transactions", json={"courseId": course}), range(10))
        )
    assert {r.status_code for r in responses} == {202}
    transaction_ids = {r.json()["transactionId"] for r in responses}
    assert len(transaction_ids) == 1
    (transaction_id,) = transaction_ids
    assert pay(transaction_id) == "succeeded"
    wait_for(transaction_id, TransactionStatus.COMPLETED)

    intents = stripe_client(local_stripe).v1.payment_intents.list(params={"limit": 100}).auto_paging_iter()
    ours = [i for i in intents if (i.metadata.to_dict() or {}).get("userId") == student.user_id]
    assert len(ours) == 1 and ours[0].status == "succeeded"
    history = student.client.get(f"/transactions/{student.user_id}").json()["items"]
    assert len(history) == 1


def test_idempotency_key_replays_the_same_purchase(new_user, demo) -> None:
    student = new_user()
    first = buy(student.client, course_id(demo, PAID), **{"Idempotency-Key": "order-42"})
    second = buy(student.client, course_id(demo, PAID), **{"Idempotency-Key": "order-42"})
    assert first["transactionId"] == second["transactionId"]
    assert first["clientSecret"] == second["clientSecret"]


def test_enrollment_failing_after_payment_is_refunded(new_user, demo, local_cloud, local_stripe) -> None:
    student = new_user()
    course = course_id(demo, PAID)
    started = buy(student.client, course)
    local_cloud.runtime.inject_fault(
        "lms-purchase-enroll-student",
        "EnrollmentFailedError",
        "disk on fire",
        count=1,
        match={"transactionId": started["transactionId"]},  # only this test's execution
    )
    assert pay(started["transactionId"]) == "succeeded"

    refunded = wait_for(started["transactionId"], TransactionStatus.REFUNDED)
    assert refunded.refund_id and "enrollment failed" in (refunded.reason or "")
    refund = stripe_client(local_stripe).v1.refunds.retrieve(refunded.refund_id)
    assert refund.status == "succeeded" and refund.amount == 4900
    assert student.client.get(f"/lessons/{course}").json()["fullContent"] is False
    described, _ = execution(started["executionArn"])
    assert described["status"] == "SUCCEEDED" and outcome(described) == "PaymentRefunded"


def test_stripe_outage_is_retried_with_backoff(new_user, demo, local_cloud) -> None:
    from lms.purchases import transaction_id_for

    student = new_user()
    # An Idempotency-Key makes the transaction id known in advance, so the fault targets this purchase only.
    expected_id = transaction_id_for(student.user_id, course_id(demo, PAID), "outage-test")
    local_cloud.runtime.inject_fault(
        "lms-purchase-create-payment-intent",
        "PaymentProviderUnavailableError",
        "Stripe answered 503",
        count=2,
        match={"transactionId": expected_id},
    )
    started = buy(student.client, course_id(demo, PAID), **{"Idempotency-Key": "outage-test"})
    assert started["transactionId"] == expected_id
    assert pay(started["transactionId"]) == "succeeded"
    wait_for(started["transactionId"], TransactionStatus.COMPLETED)
    _, events = execution(started["executionArn"])
    failures = [e["taskFailedEventDetails"]["error"] for e in events if e["type"] == "TaskFailed"]
    assert failures == ["PaymentProviderUnavailableError"] * 2


def test_admin_refund_revokes_the_enrollment(new_user, demo, admin: ApiClient, local_stripe) -> None:
    student = new_user()
    course = course_id(demo, PAID)
    before = enrollment_count(course)
    started = buy(student.client, course)
    pay(started["transactionId"])
    wait_for(started["transactionId"], TransactionStatus.COMPLETED)

    assert student.client.post(f"/transactions/{started['transactionId']}/refund", json={}).status_code == 403
    response = admin.post(
        f"/transactions/{started['transactionId']}/refund", json={"reason": "Customer asked"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "REFUNDED" and response.json()["reason"] == "Customer asked"
    refund = stripe_client(local_stripe).v1.refunds.retrieve(transaction(started["transactionId"]).refund_id)
    assert refund.amount == 4900
    assert student.client.get(f"/lessons/{course}").json()["fullContent"] is False
    assert enrollment_count(course) == before
    again = admin.post(f"/transactions/{started['transactionId']}/refund", json={})
    assert again.status_code == 409
    assert buy(student.client, course)["status"] == "PENDING", "a refunded student may buy again"


def test_replaying_a_failed_purchase_returns_it_and_frees_the_student_to_buy_again(new_user, demo) -> None:
    student = new_user()
    course = course_id(demo, PAID)
    first = buy(student.client, course, **{"Idempotency-Key": "checkout-1"})
    pay(first["transactionId"], DECLINED_CARD)
    wait_for(first["transactionId"], TransactionStatus.FAILED)

    replay = buy(student.client, course, **{"Idempotency-Key": "checkout-1"})
    assert replay["transactionId"] == first["transactionId"] and replay["status"] == "FAILED"
    fresh = buy(student.client, course)
    assert fresh["transactionId"] != first["transactionId"] and fresh["status"] == "PENDING"


def test_a_refund_stripe_refuses_is_422_and_changes_nothing(new_user, demo, admin: ApiClient) -> None:
    student = new_user()
    course = course_id(demo, PAID)
    started = buy(student.client, course)
    pay(started["transactionId"])
    wait_for(started["transactionId"], TransactionStatus.COMPLETED)
    # Point the record at a PaymentIntent Stripe does not know, so the refund is refused.
    Table().update(
        keys.transaction(started["transactionId"]), Update().set(paymentIntentId="pi_unknown_to_stripe")
    )
    response = admin.post(f"/transactions/{started['transactionId']}/refund", json={})
    assert response.status_code == 422 and response.json()["error"]["code"] == "PAYMENT_REJECTED"
    assert transaction(started["transactionId"]).status == TransactionStatus.COMPLETED
    assert student.client.get(f"/lessons/{course}").json()["fullContent"] is True


def test_an_idempotency_key_reused_for_another_course_starts_that_course(new_user, demo) -> None:
    student = new_user()
    paid = buy(student.client, course_id(demo, PAID), **{"Idempotency-Key": "cart-7"})
    free = buy(student.client, course_id(demo, FREE), **{"Idempotency-Key": "cart-7"})
    assert free["transactionId"] != paid["transactionId"]
    assert wait_for(free["transactionId"], TransactionStatus.COMPLETED).course_id == course_id(demo, FREE)
    assert student.client.get(f"/lessons/{course_id(demo, FREE)}").json()["fullContent"] is True
    # The first course's purchase is untouched, still payable with its own client secret.
    again = buy(student.client, course_id(demo, PAID), **{"Idempotency-Key": "cart-7"})
    assert again["transactionId"] == paid["transactionId"] and again["clientSecret"] == paid["clientSecret"]


def test_a_close_that_cannot_be_done_needs_reconciliation_and_a_late_payment_is_refunded(
    new_user, demo, local_cloud, local_stripe, admin: ApiClient
) -> None:
    from lms.purchases import transaction_id_for

    student = new_user()
    course = course_id(demo, PAID)
    transaction_id = transaction_id_for(student.user_id, course, "close-fault")
    local_cloud.runtime.inject_fault(
        "lms-purchase-close-transaction",
        "KeyError",  # an internal fault, not retried
        "'paymentIntentId'",
        count=1,
        match={"transactionId": transaction_id},
    )
    started = buy_within(student.client, course, 2, **{"Idempotency-Key": "close-fault"})

    described, events = execution(started["executionArn"], timeout=30)
    assert described["status"] == "FAILED" and described["error"] == "NeedsReconciliation"
    assert states_entered(events)[-3:] == [
        "CloseTransaction",
        "RecordNeedsReconciliation",
        "NeedsReconciliation",
    ]
    stuck = transaction(transaction_id)
    assert stuck.status == TransactionStatus.NEEDS_RECONCILIATION and stuck.reason
    assert stuck.client_secret is None and stuck.task_token is None
    view = student.client.get(f"/transactions/{student.user_id}/{transaction_id}").json()
    assert view["status"] == "NEEDS_RECONCILIATION" and view["clientSecret"] is None
    queue = admin.get("/transactions", params={"status": "NEEDS_RECONCILIATION", "limit": 100}).json()[
        "items"
    ]
    assert transaction_id in {t["transactionId"] for t in queue}

    # The PaymentIntent was never canceled and the customer pays anyway: Stripe's webhook finds no
    # execution waiting, and the payment goes back.
    assert pay(transaction_id) == "succeeded"
    refunded = wait_for(transaction_id, TransactionStatus.REFUNDED)
    refund = stripe_client(local_stripe).v1.refunds.retrieve(refunded.refund_id)
    assert refund.status == "succeeded" and refund.amount == 4900
    assert student.client.get(f"/lessons/{course}").json()["fullContent"] is False


def test_a_refund_that_cannot_be_done_needs_reconciliation(new_user, demo, local_cloud) -> None:
    student = new_user()
    started = buy(student.client, course_id(demo, PAID))
    only_this = {"transactionId": started["transactionId"]}
    local_cloud.runtime.inject_fault(
        "lms-purchase-enroll-student", "EnrollmentFailedError", "no", count=1, match=only_this
    )
    local_cloud.runtime.inject_fault(
        "lms-purchase-refund-payment", "KeyError", "'refundId'", count=1, match=only_this
    )
    assert pay(started["transactionId"]) == "succeeded"

    described, events = execution(started["executionArn"])
    assert described["status"] == "FAILED" and described["error"] == "NeedsReconciliation"
    assert states_entered(events)[-3:] == [
        "RefundPayment",
        "RecordNeedsReconciliation",
        "NeedsReconciliation",
    ]
    stuck = transaction(started["transactionId"])
    assert stuck.status == TransactionStatus.NEEDS_RECONCILIATION and stuck.refund_id is None
    assert stuck.client_secret is None and stuck.task_token is None


def test_a_payment_confirmed_before_the_cancel_is_refunded(
    new_user, demo, local_cloud, local_stripe, webhooks_lost
) -> None:
    """Stripe refuses to cancel a PaymentIntent that succeeded meanwhile: the close re-reads it, refunds."""
    from lms.purchases import transaction_id_for

    student = new_user()
    course = course_id(demo, PAID)
    transaction_id = transaction_id_for(student.user_id, course, "cancel-race")
    # The close is held up (Stripe briefly unreachable) while the customer confirms.
    local_cloud.runtime.inject_fault(
        "lms-purchase-close-transaction",
        "PaymentProviderUnavailableError",
        "Stripe answered 503",
        count=2,
        match={"transactionId": transaction_id},
    )
    started = buy_within(student.client, course, 2, **{"Idempotency-Key": "cancel-race"})
    sfn = aws.client("stepfunctions")
    until(
        lambda: any(
            e["type"] == "TaskFailed"
            for e in sfn.get_execution_history(executionArn=started["executionArn"], maxResults=1000)[
                "events"
            ]
        ),
        timeout=30,
    )
    assert pay(transaction_id) == "succeeded"

    described, _ = execution(started["executionArn"], timeout=30)
    assert described["status"] == "SUCCEEDED" and outcome(described) == "PaymentRefunded"
    refunded = transaction(transaction_id)
    assert refunded.status == TransactionStatus.REFUNDED and "after the purchase ended" in (
        refunded.reason or ""
    )
    refund = stripe_client(local_stripe).v1.refunds.retrieve(refunded.refund_id)
    assert refund.amount == 4900


@pytest.mark.parametrize(
    ("error_type", "status", "end", "reason"),
    [
        ("OrderNotValidError", "SUCCEEDED", "OrderRejected", "The course was withdrawn."),
        ("KeyError", "FAILED", "PurchaseFailed", "internal error (KeyError)"),
    ],
    ids=["a refused order is an outcome", "a fault in validation is a fault"],
)
def test_validation_ends_in_an_outcome_or_a_fault(
    new_user, demo, local_cloud, error_type, status, end, reason
) -> None:
    from lms.purchases import transaction_id_for

    student = new_user()
    course = course_id(demo, PAID)
    transaction_id = transaction_id_for(student.user_id, course, "validate")
    local_cloud.runtime.inject_fault(
        "lms-purchase-validate-order",
        error_type,
        "The course was withdrawn.",
        count=1,
        match={"transactionId": transaction_id},
    )
    started = buy(student.client, course, **{"Idempotency-Key": "validate"})
    described, events = execution(started["executionArn"])
    assert described["status"] == status and states_entered(events)[-1] == end
    if status == "FAILED":
        assert described["error"] == "PurchaseFailed"
    else:
        assert outcome(described) == "OrderRejected"
    failed = wait_for(transaction_id, TransactionStatus.FAILED)
    assert (
        reason in (failed.reason or "") and "withdrawn" not in failed.reason if status == "FAILED" else True
    )
    assert buy(student.client, course)["transactionId"] != transaction_id, "the lock was released"


def test_a_dead_task_token_is_reported_not_raised(new_user, demo, local_stripe) -> None:
    from workflows.callbacks import DEAD_TOKEN_CODES, StepFunctionsCallbacks

    started = buy_within(new_user().client, course_id(demo, PAID), 2)
    token = until(lambda: transaction(started["transactionId"]).task_token)  # AwaitPayment stored it
    described, _ = execution(started["executionArn"], timeout=30)
    assert outcome(described) == "PaymentExpired"
    late = StepFunctionsCallbacks().succeed(token, {"paymentIntentId": "pi_late"})
    assert not late.delivered and late.dead_reason in DEAD_TOKEN_CODES


def paid_while_the_enrollment_is_held_up(
    student: Any, course: str, local_cloud: Any, key: str, throttled: int
) -> tuple[dict[str, Any], str, str]:
    """A purchase paid (with no webhook from Stripe yet) whose EnrollStudent will be throttled
    ``throttled`` times (retried with backoff): the window in which the token is answered but the
    transaction is still PENDING. Returns the started purchase, its transaction and PaymentIntent."""
    from lms.purchases import transaction_id_for

    transaction_id = transaction_id_for(student.user_id, course, key)
    local_cloud.runtime.inject_fault(
        "lms-purchase-enroll-student",
        "StoreThrottledError",
        "the table is throttling",
        count=throttled,
        match={"transactionId": transaction_id},
    )
    started = buy(student.client, course, **{"Idempotency-Key": key})
    until(lambda: transaction(transaction_id).task_token)  # AwaitPayment waits
    assert pay(transaction_id) == "succeeded"
    return started, transaction_id, transaction(transaction_id).payment_intent_id or ""


def test_a_second_delivery_while_the_enrollment_is_written_refunds_nothing(
    new_user, demo, anonymous: ApiClient, local_cloud, local_stripe, webhooks_lost
) -> None:
    """The first delivery answered the task token; the execution is still writing the enrollment
    (EnrollStudent retried on throttling) when another delivery finds the token dead. That is not a
    late payment: the execution still runs, and the money stays with the enrollment."""
    from workflows.callbacks import StepFunctionsCallbacks

    student = new_user()
    course = course_id(demo, PAID)
    started, transaction_id, intent_id = paid_while_the_enrollment_is_held_up(
        student, course, local_cloud, "second-delivery", throttled=4
    )
    first, second = (
        signed_event(
            local_stripe.webhook_secret, event_type="payment_intent.succeeded", payment_intent_id=intent_id
        )
        for _ in range(2)
    )

    token = transaction(transaction_id).task_token
    answered = post_webhook(anonymous, *first)
    late = post_webhook(anonymous, *second)

    assert (answered.status_code, late.status_code) == (200, 200), late.text
    assert late.json()["outcome"] == f"transaction {transaction_id}: left to its running execution"
    assert post_webhook(anonymous, *first).json()["outcome"] == "duplicate"
    again = StepFunctionsCallbacks().succeed(token or "", {"paymentIntentId": intent_id})
    assert not again.delivered and again.dead_reason == "TaskTimedOut", "a token answers once, as in AWS"
    done = wait_for(transaction_id, TransactionStatus.COMPLETED, TransactionStatus.REFUNDED, timeout=60)
    assert done.status == TransactionStatus.COMPLETED and done.refund_id is None
    assert refunds_of(intent_id) == [], "the customer keeps the course they paid for"
    assert student.client.get(f"/lessons/{course}").json()["fullContent"] is True
    described, _ = execution(started["executionArn"])
    assert described["status"] == "SUCCEEDED"


def test_concurrent_deliveries_of_one_event_make_one_enrollment_and_no_refund(
    new_user, demo, anonymous: ApiClient, local_cloud, local_stripe, webhooks_lost
) -> None:
    student = new_user()
    _, transaction_id, intent_id = paid_while_the_enrollment_is_held_up(
        student, course_id(demo, PAID), local_cloud, "concurrent-deliveries", throttled=3
    )
    payload, signature = signed_event(
        local_stripe.webhook_secret, event_type="payment_intent.succeeded", payment_intent_id=intent_id
    )
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        deliveries = list(pool.map(lambda _: post_webhook(anonymous, payload, signature), range(4)))

    assert {r.status_code for r in deliveries} == {200}
    assert not any("refunded" in r.json()["outcome"] for r in deliveries)
    wait_for(transaction_id, TransactionStatus.COMPLETED, TransactionStatus.REFUNDED, timeout=60)
    assert transaction(transaction_id).status == TransactionStatus.COMPLETED
    assert refunds_of(intent_id) == []


def test_a_rerun_started_while_the_purchase_waits_leaves_it_alone(new_user, demo, local_stripe) -> None:
    """Re-running a purchase that still waits for its payment (as `lms executions redrive --rerun`
    does, with the original input) must not cancel the waiting run's PaymentIntent."""
    student = new_user()
    course = course_id(demo, PAID)
    started = buy(student.client, course)
    transaction_id = started["transactionId"]
    until(lambda: transaction(transaction_id).task_token)
    sfn = aws.client("stepfunctions")
    original = sfn.describe_execution(executionArn=started["executionArn"])
    rerun = sfn.start_execution(
        stateMachineArn=original["stateMachineArn"],
        name=f"{started['executionName']}-rerun-1",
        input=original["input"],
    )

    described, events = execution(rerun["executionArn"])
    assert described["status"] == "SUCCEEDED" and outcome(described) == "HandledByAnotherRun"
    assert states_entered(events)[-1] == "HandledByAnotherRun"
    waiting = transaction(transaction_id)
    assert waiting.status == TransactionStatus.PENDING and waiting.execution_arn == started["executionArn"]
    intent = stripe_client(local_stripe).v1.payment_intents.retrieve(waiting.payment_intent_id)
    assert intent.status != "canceled", "the customer can still pay"

    assert pay(transaction_id) == "succeeded"
    wait_for(transaction_id, TransactionStatus.COMPLETED)
    assert student.client.get(f"/lessons/{course}").json()["fullContent"] is True


def test_an_enrollment_step_retried_after_its_write_announces_the_same_events_once(
    new_user, demo, local_cloud, bus
) -> None:
    from lms.events import EnrollmentCreated, PurchaseCompleted

    enrollments, purchases_completed = bus(EnrollmentCreated), bus(PurchaseCompleted)
    student = new_user()
    course = course_id(demo, PAID)
    started = buy(student.client, course)
    # EnrollStudent commits the enrollment, then its answer is lost: Step Functions retries the step.
    local_cloud.runtime.inject_fault(
        "lms-purchase-enroll-student",
        "Lambda.ServiceException",
        "the answer was lost",
        count=1,
        match={"transactionId": started["transactionId"]},
        after_work=True,
    )
    assert pay(started["transactionId"]) == "succeeded"

    wait_for(started["transactionId"], TransactionStatus.COMPLETED)
    described, events = execution(started["executionArn"])
    assert described["status"] == "SUCCEEDED" and states_entered(events)[-1] == "Enrolled"
    failures = [e["taskFailedEventDetails"]["error"] for e in events if e["type"] == "TaskFailed"]
    assert failures == ["Lambda.ServiceException"], "the step ran twice"
    enrollment = Table().get(keys.enrollment(student.user_id, course), consistent=True)
    assert enrollment is not None
    # The retry found the enrollment and announced what the first attempt had built: same id, same time.
    (enrolled,) = enrollments(transactionId=started["transactionId"])
    assert enrolled["eventId"] == EnrollmentCreated.id_for(started["transactionId"])
    assert enrolled["occurredAt"] == enrolled["enrolledAt"] == to_the_millisecond(enrollment["enrolledAt"])
    (completed,) = purchases_completed(transactionId=started["transactionId"])
    assert completed["eventId"] == PurchaseCompleted.id_for(started["transactionId"])
    assert completed["occurredAt"] == enrolled["occurredAt"]
    assert enrollment_count(course) >= 1


def test_a_declined_payment_is_announced_and_a_retried_close_repeats_its_event_id(
    new_user, demo, local_cloud, bus
) -> None:
    from lms.events import PurchaseCompleted, PurchaseDeclined

    declined, completed = bus(PurchaseDeclined), bus(PurchaseCompleted)
    student = new_user()
    course = course_id(demo, PAID)
    started = buy(student.client, course)
    # CloseTransaction closes the purchase and announces it, then its answer is lost: it runs again.
    local_cloud.runtime.inject_fault(
        "lms-purchase-close-transaction",
        "Lambda.ServiceException",
        "the answer was lost",
        count=1,
        match={"transactionId": started["transactionId"]},
        after_work=True,
    )
    assert pay(started["transactionId"], DECLINED_CARD) == "declined"

    failed = wait_for(started["transactionId"], TransactionStatus.FAILED)
    described, events = execution(started["executionArn"])
    assert described["status"] == "SUCCEEDED" and outcome(described) == "PaymentDeclined"
    failures = [e["taskFailedEventDetails"]["error"] for e in events if e["type"] == "TaskFailed"]
    assert failures == ["PaymentFailed", "Lambda.ServiceException"], "the close ran twice"

    # Both attempts published; the deliveries are one event (one id), which consumers keep once.
    until(lambda: len(declined(timeout=1, transactionId=started["transactionId"])) >= 2)
    announced = declined(timeout=0, transactionId=started["transactionId"])
    assert {a["eventId"] for a in announced} == {PurchaseDeclined.id_for(started["transactionId"])}
    assert all(a == announced[0] for a in announced), "the retry announced exactly what the first did"
    event = PurchaseDeclined.from_detail(announced[0])
    assert (event.actor.id, event.user_id, event.course_id) == (student.user_id, student.user_id, course)
    assert event.reason == failed.reason == "Your card was declined."
    assert (announced[0]["verb"], announced[0]["object"], announced[0]["result"]) == (
        "purchased",
        {"type": "transaction", "id": started["transactionId"]},
        "declined",
    )
    assert announced[0]["occurredAt"] == isoformat(failed.updated_at)
    assert completed(timeout=2, transactionId=started["transactionId"]) == []


def test_an_expired_payment_is_announced_as_declined(new_user, demo, bus) -> None:
    from lms.events import PurchaseDeclined

    declined = bus(PurchaseDeclined)
    started = buy_within(new_user().client, course_id(demo, PAID), 2)
    expired = wait_for(started["transactionId"], TransactionStatus.EXPIRED, timeout=30)
    described, _ = execution(started["executionArn"])
    assert described["status"] == "SUCCEEDED" and outcome(described) == "PaymentExpired"
    (announced,) = declined(timeout=20, transactionId=started["transactionId"])
    assert announced["eventId"] == PurchaseDeclined.id_for(started["transactionId"])
    assert announced["result"] == "declined" and announced["reason"] == expired.reason
