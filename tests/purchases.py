"""Helpers for tests that buy courses: the customer's side of a payment and waiting for outcomes."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from lms import aws, purchases
from lms.entities import Transaction, TransactionStatus
from lms.table import Table
from tests.conftest import ApiClient

GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000341"


def buy(client: ApiClient, course_id: str, **headers: str) -> dict[str, Any]:
    response = client.post("/transactions", json={"courseId": course_id}, headers=headers)
    assert response.status_code == 202, response.text
    return response.json()


def transaction(transaction_id: str) -> Transaction:
    found = purchases.get_transaction(Table(), transaction_id)
    assert found is not None, transaction_id
    return found


def pay(transaction_id: str, card: str = GOOD_CARD) -> str:
    from infra.local.stripe import pay as confirm

    intent = transaction(transaction_id).payment_intent_id
    assert intent, "the PaymentIntent exists before the customer pays"
    status, _ = confirm(intent, card)
    return status


def wait_for(transaction_id: str, *statuses: TransactionStatus, timeout: float = 20) -> Transaction:
    deadline = time.monotonic() + timeout
    while True:
        current = purchases.get_transaction(Table(), transaction_id)
        if current is not None and current.status in statuses:
            return current
        assert time.monotonic() < deadline, (
            f"{transaction_id} is {current and current.status}, not {statuses}"
        )
        time.sleep(0.1)


def execution(execution_arn: str, *, timeout: float = 20) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The finished execution and its history."""
    sfn = aws.client("stepfunctions")
    deadline = time.monotonic() + timeout
    while (described := sfn.describe_execution(executionArn=execution_arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "execution still running"
        time.sleep(0.1)
    events = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
    return described, events


def states_entered(history: list[dict[str, Any]]) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in history if e["type"].endswith("StateEntered")]


def signed_event(
    secret: str,
    *,
    event_type: str,
    payment_intent_id: str,
    event_id: str | None = None,
    timestamp: int | None = None,
) -> tuple[bytes, str]:
    """A Stripe event and its Stripe-Signature header, as Stripe would sign it."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    payload = json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex[:20]}",
            "object": "event",
            "type": event_type,
            "created": timestamp,
            "data": {"object": {"id": payment_intent_id, "object": "payment_intent"}},
        }
    ).encode()
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return payload, f"t={timestamp},v1={signature}"


def post_webhook(client: ApiClient, payload: bytes, signature: str) -> Any:
    return client.post(
        "/webhooks/stripe",
        data=payload,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )


def refunds_of(payment_intent_id: str) -> list[Any]:
    """The refunds Stripe holds for a PaymentIntent (localstripe or Stripe test mode)."""
    import stripe

    from lms.payments import stripe_secrets
    from lms.settings import get_settings

    api_base = get_settings().stripe_api_base
    client = stripe.StripeClient(
        stripe_secrets().secret_key, base_addresses={"api": api_base} if api_base else {}
    )
    return list(client.v1.refunds.list(params={"payment_intent": payment_intent_id, "limit": 100}).data)
