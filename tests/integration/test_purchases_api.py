"""Purchases over HTTP: who may buy, who may read which transaction, and bad input."""

from __future__ import annotations

import pytest

from lms.entities import TransactionStatus
from tests.conftest import ApiClient, register_user
from tests.purchases import buy, wait_for


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


def test_admin_lists_all_transactions_by_status(free_purchase, admin: ApiClient, student: ApiClient) -> None:
    completed = admin.get("/transactions", params={"status": "COMPLETED", "limit": 100})
    assert completed.status_code == 200
    statuses = {t["status"] for t in completed.json()["items"]}
    assert statuses == {"COMPLETED"}
    assert free_purchase["transactionId"] in {t["transactionId"] for t in completed.json()["items"]}
    assert admin.get("/transactions", params={"status": "LOST"}).status_code == 400
    assert student.get("/transactions").status_code == 403


def test_refund_of_unknown_or_unfinished_transactions(admin: ApiClient) -> None:
    response = admin.post("/transactions/nope/refund", json={})
    assert response.status_code == 404


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
        (admin, "/transactions?status=COMPLETED"),
    ):
        dynamodb_calls.reset()
        assert client.get(path).status_code == 200
        assert 0 < len(dynamodb_calls.operations) <= 2, (path, dynamodb_calls.operations)
