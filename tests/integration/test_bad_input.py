"""Bad input of every class gets the documented status and envelope, and changes nothing."""

from __future__ import annotations

import base64
import uuid

import pytest

from lms.settings import reset_settings
from tests.conftest import ApiClient


def test_malformed_json_is_400(anonymous: ApiClient) -> None:
    response = anonymous.post(
        "/auth/register", data='{"email": "x@example.org", ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MALFORMED_JSON"


def test_missing_fields_wrong_types_and_extra_fields_are_400_with_details(anonymous: ApiClient) -> None:
    email = f"never-{uuid.uuid4().hex[:8]}@example.org"
    cases = [
        {"email": email},  # missing fields
        {"email": email, "password": 12345678901, "firstName": "A", "lastName": "B"},  # wrong type
        {"email": "not-an-email", "password": "long enough pw", "firstName": "A", "lastName": "B"},
        {
            "email": email,
            "password": "long enough pw",
            "firstName": "A",
            "lastName": "B",
            "isAdmin": True,
        },
        {"email": email, "password": "short", "firstName": "A", "lastName": "B"},
    ]
    for body in cases:
        response = anonymous.post("/auth/register", json=body)
        assert response.status_code == 400, body
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR" and error["details"], body
        assert "long enough pw" not in response.text, "rejected input (maybe a password) is never echoed"
    # None of them created the account: the address is still free, and nobody can log in with it.
    login = anonymous.post("/auth/login", json={"email": email, "password": "long enough pw"})
    assert login.status_code == 401
    created = anonymous.post(
        "/auth/register",
        json={"email": email, "password": "long enough pw", "firstName": "A", "lastName": "B"},
    )
    assert created.status_code == 201, created.text


def test_oversized_body_is_413_and_creates_nothing(anonymous: ApiClient) -> None:
    email = f"big-{uuid.uuid4().hex[:8]}@example.org"
    body = {"email": email, "password": "long enough pw", "firstName": "A" * 70_000, "lastName": "B"}
    response = anonymous.post("/auth/register", json=body)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    login = anonymous.post("/auth/login", json={"email": email, "password": "long enough pw"})
    assert login.status_code == 401


def test_unknown_route_is_404_in_the_envelope(anonymous: ApiClient) -> None:
    response = anonymous.get("/no/such/route")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "ROUTE_NOT_FOUND"


def test_bad_query_parameters_are_400(anonymous: ApiClient) -> None:
    assert anonymous.get("/courses", params={"limit": "lots"}).status_code == 400
    assert anonymous.get("/courses", params={"limit": 1000}).status_code == 400
    tampered = anonymous.get("/courses", params={"cursor": "bm90IGEgY3Vyc29y"})
    assert tampered.status_code == 400 and tampered.json()["error"]["code"] == "VALIDATION_ERROR"


REGISTRATION = b'{"email": "%s", "password": "long enough pw", "firstName": "A", "lastName": "B"}'


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
def test_a_body_that_is_not_json_is_415_and_creates_nothing(anonymous: ApiClient, content_type: str) -> None:
    email = f"media-{uuid.uuid4().hex[:8]}@example.org"
    response = anonymous.post(
        "/auth/register", data=REGISTRATION % email.encode(), headers={"Content-Type": content_type}
    )
    assert response.status_code == 415, response.text
    assert response.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert (
        anonymous.post("/auth/login", json={"email": email, "password": "long enough pw"}).status_code == 401
    )


@pytest.mark.parametrize(
    "body",
    [
        b'{"email": "' + bytes([0xFF, 0xFE]) + b'@example.org"}',  # not UTF-8
        b"[" * 20_000 + b"]" * 20_000,  # a parser bomb
        b'{"a":' * 40 + b"1" + b"}" * 40,  # deeper than any body of ours
        b'{"email": ',
    ],
    ids=["not-utf8", "deeply-nested", "nested", "truncated"],
)
def test_a_body_that_is_not_utf8_json_is_400(anonymous: ApiClient, body: bytes) -> None:
    response = anonymous.post(
        "/auth/register", data=body, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "MALFORMED_JSON"


def _gateway_event(body: str) -> dict[str, object]:
    return {
        "resource": "/{proxy+}",
        "path": "/auth/register",
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "requestContext": {"requestId": "r-1", "stage": "local", "identity": {"sourceIp": "127.0.0.1"}},
        "body": body,
        "isBase64Encoded": True,
    }


def _invoke(event: dict[str, object]) -> dict[str, object]:
    from api.app import handler
    from infra.local.lambda_runtime import LambdaContext

    context = LambdaContext(
        function_name="lms-api",
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:lms-api",
        aws_request_id="r-1",
    )
    return handler(event, context)  # type: ignore[arg-type]


def test_invalid_base64_from_api_gateway_is_400(anonymous: ApiClient) -> None:
    """API Gateway base64-encodes binary bodies; a broken encoding is the client's, not a 500."""
    response = _invoke(_gateway_event("not base64 at all!!"))
    assert response["statusCode"] == 400, response
    assert '"MALFORMED_JSON"' in response["body"]


def test_valid_base64_json_from_api_gateway_is_accepted(anonymous: ApiClient) -> None:
    email = f"b64-{uuid.uuid4().hex[:8]}@example.org"
    event = _gateway_event(base64.b64encode(REGISTRATION % email.encode()).decode())
    assert _invoke(event)["statusCode"] == 201


def test_the_webhook_refuses_non_json_but_takes_what_stripe_sends(anonymous: ApiClient) -> None:
    text = anonymous.post("/webhooks/stripe", data=b"{}", headers={"Content-Type": "text/plain"})
    assert text.status_code == 415 and text.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    binary = anonymous.post(
        "/webhooks/stripe", data=b"\xff\x00", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert binary.status_code == 400 and binary.json()["error"]["code"] == "MALFORMED_JSON"
    # Stripe's own content type reaches the signature check (and fails it: this one is unsigned).
    stripe_like = anonymous.post(
        "/webhooks/stripe",
        data=b'{"id": "evt_1", "type": "payment_intent.succeeded"}',
        headers={"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": "t=1,v1=00"},
    )
    assert stripe_like.status_code == 400 and stripe_like.json()["error"]["code"] == "INVALID_SIGNATURE"


def test_a_post_without_any_body_is_not_a_415(admin: ApiClient, anonymous: ApiClient) -> None:
    logout_less = anonymous.post("/auth/logout")
    assert logout_less.status_code == 401, "no body, no content type: judged on who calls"
    refund = admin.post("/transactions/no-such-transaction/refund")
    assert refund.status_code != 415 and refund.status_code < 500, refund.text


def test_server_side_errors_name_no_configuration(anonymous: ApiClient, monkeypatch) -> None:
    """A missing secret is the operator's problem: logged in full, answered generically."""
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    reset_settings()
    try:
        response = anonymous.post(
            "/webhooks/stripe", json={"id": "evt_1"}, headers={"Stripe-Signature": "t=1,v1=00"}
        )
    finally:
        monkeypatch.undo()
        reset_settings()
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "CONFIGURATION_ERROR"
    assert (
        "STRIPE" not in error["message"] and "LMS_" not in error["message"] and "set " not in error["message"]
    )


def test_a_refund_stripe_refuses_is_422_without_stripes_words(admin: ApiClient, new_user, demo) -> None:
    """Stripe (localstripe here) refuses to refund a payment that never went through."""
    from lms import payments, purchases
    from lms.entities import Money, Transaction, TransactionStatus
    from lms.table import Table

    buyer = new_user()
    course = demo.data.courses["Async Python in Practice"]
    intent = payments.gateway().create_payment_intent(
        amount=course.price_cents,
        currency="usd",
        metadata={"test": "refund-refused"},
        idempotency_key=f"refund-refused-{uuid.uuid4().hex}",
    )
    # Given a COMPLETED transaction whose PaymentIntent was never paid (what a botched manual fix
    # in the dashboard could leave behind) ...
    transaction = Transaction(
        user_id=buyer.user_id,
        course_id=course.course_id,
        amount=Money(amount=course.price_cents),
        status=TransactionStatus.COMPLETED,
        payment_intent_id=intent.id,
    )
    Table().put(purchases.transaction_item(transaction))
    # ... the refund is refused by Stripe: a clear 422, Stripe's own wording stays in our logs.
    response = admin.post(f"/transactions/{transaction.transaction_id}/refund", json={"reason": "test"})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "PAYMENT_REJECTED"
    assert "failed payment" not in error["message"].lower() and "refund" not in error["message"].lower()
    assert (
        purchases.get_transaction(Table(), transaction.transaction_id).status == TransactionStatus.COMPLETED
    )
