"""Purchases over HTTP: who may buy, who may read which transaction, and bad input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

import pytest
from botocore.exceptions import ClientError

from lms import aws, keys
from lms.entities import TransactionStatus
from lms.table import Table
from tests.conftest import ApiClient, register_user
from tests.purchases import buy, pay, refunds_of, transaction, wait_for

PAID = "Python for Beginners"


@pytest.fixture(scope="module")
def free_purchase(anonymous: ApiClient, admin: ApiClient, demo) -> dict:
    """A student with one COMPLETED (free) purchase."""
    student = register_user(anonymous, admin)
    started = buy(student.client, demo.data.courses["HTML & CSS Foundations"].course_id)
    wait_for(started["transactionId"], TransactionStatus.COMPLETED)
    return {"student": student, **started}


def test_only_students_buy(instructor: ApiClient, admin: ApiClient, anonymous: ApiClient, demo) -> None:
    body = {"courseId": demo.data.courses["Python for Beginners"].course_id}
    assert anonymous.post("/transactions", json=body).status_code == 401
    for caller in (instructor, admin):
        response = caller.post("/transactions", json=body)
        assert response.status_code == 403 and response.json()["error"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"courseId": "no-such-course"}, 404),
        ({"courseId": "bad id with spaces"}, 400),
        ({"courseId": "x", "amount": 1}, 400),  # the price never comes from the client
        ({}, 400),
    ],
)
def test_bad_purchase_requests(student: ApiClient, body: dict, status: int) -> None:
    response = student.post("/transactions", json=body)
    assert response.status_code == status, response.text
    assert "error" in response.json()


def test_draft_courses_cannot_be_bought(student: ApiClient, demo) -> None:
    response = student.post(
        "/transactions", json={"courseId": demo.data.courses["Django Deep Dive (draft)"].course_id}
    )
    assert response.status_code == 404


def test_a_student_reads_only_their_own_transactions(free_purchase, new_user, admin: ApiClient) -> None:
    owner = free_purchase["student"]
    path = f"/transactions/{owner.user_id}/{free_purchase['transactionId']}"
    mine = owner.client.get(path)
    assert mine.status_code == 200 and mine.json()["status"] == "COMPLETED"
    assert mine.json()["amount"] == {"amount": 0, "currency": "usd"} and mine.json()["clientSecret"] is None
    assert "taskToken" not in mine.json()

    other = new_user()
    assert other.client.get(f"/transactions/{owner.user_id}").status_code == 403
    assert other.client.get(path).status_code == 403
    # Their own user id with someone else's transaction id: not found, not leaked.
    assert (
        other.client.get(f"/transactions/{other.user_id}/{free_purchase['transactionId']}").status_code == 404
    )
    assert admin.get(path).status_code == 200


def pages(admin: ApiClient, **params: object) -> list[list[dict]]:
    """Every page of ``GET /transactions`` with these parameters, following the cursor to the end."""
    found, cursor = [], None
    while True:
        response = admin.get("/transactions", params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        found.append(response.json()["items"])
        cursor = response.json()["nextCursor"]
        if not cursor:
            return found


def test_admin_lists_all_transactions_by_status(
    free_purchase, admin: ApiClient, student: ApiClient, demo, new_user
) -> None:
    # A newer purchase in another status sits between the completed ones and the top of the list.
    buy(new_user().client, demo.data.courses["Python for Beginners"].course_id)
    completed = pages(admin, status="COMPLETED", limit=2)
    assert all(len(page) == 2 for page in completed[:-1]), "only the last page may be short"
    listed = [t for page in completed for t in page]
    assert {t["status"] for t in listed} == {"COMPLETED"}
    assert free_purchase["transactionId"] in {t["transactionId"] for t in listed}
    created = [t["createdAt"] for t in listed]
    assert created == sorted(created, reverse=True), "newest first across the index shards"
    everything = [t for page in pages(admin, limit=3) for t in page]
    assert len({t["transactionId"] for t in everything}) == len(everything) >= len(listed) + 1
    assert admin.get("/transactions", params={"status": "LOST"}).status_code == 400
    assert student.get("/transactions").status_code == 403


def test_refund_of_unknown_or_unfinished_transactions(admin: ApiClient) -> None:
    response = admin.post("/transactions/nope/refund", json={})
    assert response.status_code == 404


def test_a_refund_needs_no_body(admin: ApiClient, anonymous: ApiClient, demo) -> None:
    student = register_user(anonymous, admin)
    started = buy(student.client, demo.data.courses["HTML & CSS Foundations"].course_id)
    wait_for(started["transactionId"], TransactionStatus.COMPLETED)
    response = admin.post(f"/transactions/{started['transactionId']}/refund")  # no body, no content type
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "REFUNDED" and response.json()["reason"]


def test_webhook_without_signature_is_400(anonymous: ApiClient) -> None:
    response = anonymous.post(
        "/webhooks/stripe", data=b'{"id": "evt_1"}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_SIGNATURE"


def test_transaction_reads_stay_within_two_dynamodb_calls(
    free_purchase, admin: ApiClient, dynamodb_calls
) -> None:
    owner = free_purchase["student"]
    for client, path in (
        (owner.client, f"/transactions/{owner.user_id}"),
        (owner.client, f"/transactions/{owner.user_id}/{free_purchase['transactionId']}"),
    ):
        dynamodb_calls.reset()
        assert client.get(path).status_code == 200
        assert 0 < len(dynamodb_calls.operations) <= 2, (path, dynamodb_calls.operations)
    # A status is spread over write shards (lms/keys.py): the caller's read plus one Query per shard.
    dynamodb_calls.reset()
    assert admin.get("/transactions?status=COMPLETED").status_code == 200
    assert dynamodb_calls.operations.count("Query") == keys.TRANSACTION_STATUS_SHARDS
    assert len(dynamodb_calls.operations) == 1 + keys.TRANSACTION_STATUS_SHARDS


class ConflictingTable(Table):
    """The product's table, except that the next ``conflicts`` TransactWriteItems meet a concurrent
    transaction on one of their items, which DynamoDB cancels with TransactionConflict (nothing
    applied). The local DynamoDB never produces it on demand; a busy course's counters item does."""

    conflicts: ClassVar[int] = 0

    @property
    def _client(self) -> Any:
        real = aws.dynamodb()

        class Client:
            def __getattr__(self, name: str) -> Any:
                return getattr(real, name)

            def transact_write_items(self, **request: Any) -> Any:
                if ConflictingTable.conflicts <= 0:
                    return real.transact_write_items(**request)
                ConflictingTable.conflicts -= 1
                reasons = [{"Code": "TransactionConflict"}] + [{"Code": "None"}] * (
                    len(request["TransactItems"]) - 1
                )
                raise ClientError(
                    {
                        "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                        "CancellationReasons": reasons,
                    },
                    "TransactWriteItems",
                )

        return Client()


def completed_paid_purchase(new_user: Any, demo: Any) -> tuple[Any, str, str]:
    student = new_user()
    course = demo.data.courses[PAID].course_id
    started = buy(student.client, course)
    assert pay(started["transactionId"]) == "succeeded"
    wait_for(started["transactionId"], TransactionStatus.COMPLETED)
    return student, course, started["transactionId"]


def enrollments_of(course: str) -> int:
    counters = Table().get(keys.course_counters(course), consistent=True) or {}
    return int(counters.get("enrollmentCount", 0))


def test_a_transaction_conflict_during_an_admin_refund_is_retried_not_a_500(
    new_user, demo, admin: ApiClient
) -> None:
    from lms import payments, purchases

    student, course, transaction_id = completed_paid_purchase(new_user, demo)
    before = enrollments_of(course)
    ConflictingTable.conflicts = 2  # fewer than the storage helpers' attempts

    refunded = purchases.admin_refund(ConflictingTable(), payments.gateway(), transaction_id, reason="Asked")

    assert refunded.status == TransactionStatus.REFUNDED and ConflictingTable.conflicts == 0
    assert [r.id for r in refunds_of(refunded.payment_intent_id or "")] == [refunded.refund_id]
    assert student.client.get(f"/lessons/{course}").json()["fullContent"] is False
    assert enrollments_of(course) == before - 1


@pytest.mark.parametrize("finisher", ["the admin's retry", "the sweeper", "its student's read"])
def test_an_admin_refund_stopped_after_stripe_refunded_is_finished_without_a_second_refund(
    new_user, demo, admin: ApiClient, finisher: str
) -> None:
    """Stripe refunded, then the write kept conflicting: the refund stays REFUND_PENDING (not lost,
    not forgotten), and finishing it finds Stripe's refund instead of making another."""
    from lms import payments, purchases

    student, course, transaction_id = completed_paid_purchase(new_user, demo)
    before = enrollments_of(course)
    ConflictingTable.conflicts = 100
    try:
        with pytest.raises(ClientError):
            purchases.admin_refund(ConflictingTable(), payments.gateway(), transaction_id, reason="Asked")
    finally:
        ConflictingTable.conflicts = 0

    stopped = transaction(transaction_id)
    assert stopped.status == TransactionStatus.REFUND_PENDING and stopped.refund_key
    assert stopped.payment_intent_id and len(refunds_of(stopped.payment_intent_id)) == 1
    listed = admin.get("/transactions", params={"status": "REFUND_PENDING", "limit": 100}).json()["items"]
    assert transaction_id in {t["transactionId"] for t in listed}

    view = f"/transactions/{student.user_id}/{transaction_id}"
    assert student.client.get(view).json()["status"] == "REFUND_PENDING", "a young one is left to its request"
    if finisher == "its student's read":
        # Given the request stopped minutes ago (the API answers in seconds) ...
        from lms.clock import isoformat, utcnow
        from lms.expressions import Update

        stopped_at = isoformat(utcnow() - timedelta(minutes=10))
        Table().update(keys.transaction(transaction_id), Update().set(updatedAt=stopped_at))
        # ... the student looking at it finishes it.
        assert student.client.get(view).json()["status"] == "REFUNDED"
    elif finisher == "the sweeper":
        report = purchases.sweep_pending_refunds(Table(), payments.gateway(), older_than=timedelta(0))
        assert transaction_id in report.finished
    else:
        response = admin.post(f"/transactions/{transaction_id}/refund", json={"reason": "Asked"})
        assert response.status_code == 200, response.text

    finished = transaction(transaction_id)
    assert finished.status == TransactionStatus.REFUNDED and finished.reason == "Asked"
    assert [r.id for r in refunds_of(stopped.payment_intent_id)] == [finished.refund_id]
    assert student.client.get(f"/lessons/{course}").json()["fullContent"] is False
    assert enrollments_of(course) == before - 1
    assert admin.post(f"/transactions/{transaction_id}/refund", json={}).status_code == 409
