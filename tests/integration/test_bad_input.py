"""Bad input of every class gets the documented status and envelope, and changes nothing."""

from __future__ import annotations

import uuid

from tests.conftest import ApiClient


def test_malformed_json_is_400(anonymous: ApiClient) -> None:
    response = anonymous.post(
        "/auth/register", data='{"email": "x@example.org", ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MALFORMED_JSON"


def test_missing_fields_wrong_types_and_extra_fields_are_400_with_details(anonymous: ApiClient) -> None:
    cases = [
        {"email": "x@example.org"},  # missing fields
        {"email": "x@example.org", "password": 12345678901, "firstName": "A", "lastName": "B"},  # wrong type
        {"email": "not-an-email", "password": "long enough pw", "firstName": "A", "lastName": "B"},
        {
            "email": "x@example.org",
            "password": "long enough pw",
            "firstName": "A",
            "lastName": "B",
            "isAdmin": True,
        },
        {"email": "x@example.org", "password": "short", "firstName": "A", "lastName": "B"},
    ]
    for body in cases:
        response = anonymous.post("/auth/register", json=body)
        assert response.status_code == 400, body
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR" and error["details"], body
        assert "long enough pw" not in response.text, "rejected input (maybe a password) is never echoed"
    # None of them created the account.
    created = anonymous.post(
        "/auth/register",
        json={"email": "x@example.org", "password": "long enough pw", "firstName": "A", "lastName": "B"},
    )
    assert created.status_code in (201, 409)


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
