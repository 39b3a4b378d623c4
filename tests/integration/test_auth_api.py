"""Auth and users over HTTP (API.md, "Auth and users")."""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid

import jwt
import pytest

from tests.conftest import ApiClient


def _email() -> str:
    return f"new-{uuid.uuid4().hex[:10]}@example.org"


def _register(client: ApiClient, email: str, password: str = "correct horse battery", **extra: object):
    body = {"email": email, "password": password, "firstName": "Grace", "lastName": "Hopper", **extra}
    return client.post("/auth/register", json=body)


def test_register_login_profile_logout_then_token_refused(anonymous: ApiClient) -> None:
    email = _email()
    registered = _register(anonymous, email)
    assert registered.status_code == 201
    user = registered.json()
    assert user["email"] == email and user["role"] == "student" and user["isActive"] is True
    assert not any("password" in key.lower() for key in user)

    login = anonymous.post("/auth/login", json={"email": email, "password": "correct horse battery"})
    assert login.status_code == 200
    body = login.json()
    assert body["tokenType"] == "Bearer" and 0 < body["expiresIn"] <= 3600
    assert body["user"]["userId"] == user["userId"]
    me = anonymous.as_token(body["accessToken"])

    profile = me.get("/auth/profile")
    assert profile.status_code == 200 and profile.json()["userId"] == user["userId"]

    assert me.post("/auth/logout").status_code == 204
    refused = me.get("/auth/profile")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "UNAUTHORIZED"
    assert "revoked" in refused.json()["error"]["message"]


def test_duplicate_email_is_409_whatever_the_case(anonymous: ApiClient) -> None:
    email = _email()
    assert _register(anonymous, email).status_code == 201
    duplicate = _register(anonymous, email.upper())
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "CONFLICT"


def test_wrong_password_and_unknown_email_get_the_same_answer(anonymous: ApiClient) -> None:
    email = _email()
    _register(anonymous, email)
    wrong = anonymous.post("/auth/login", json={"email": email, "password": "not the password"})
    unknown = anonymous.post("/auth/login", json={"email": _email(), "password": "not the password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_repeated_failed_logins_are_throttled_with_retry_after(anonymous: ApiClient) -> None:
    email = _email()
    _register(anonymous, email, password="the real password")
    statuses = [
        anonymous.post("/auth/login", json={"email": email, "password": f"guess {n}"}).status_code
        for n in range(5)
    ]
    assert statuses == [401] * 5
    blocked = anonymous.post("/auth/login", json={"email": email, "password": "the real password"})
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert blocked.json()["error"]["code"] == "RATE_LIMITED"


def test_profile_update_changes_name_and_password(new_user) -> None:
    user = new_user()
    changed = user.client.patch(
        "/auth/profile", json={"firstName": "Renamed", "password": "a brand new password"}
    )
    assert changed.status_code == 200 and changed.json()["firstName"] == "Renamed"
    old = user.client.as_token(None).post(
        "/auth/login", json={"email": user.email, "password": user.password}
    )
    assert old.status_code == 401
    user.client.login(user.email, "a brand new password")


def test_profile_update_cannot_set_role(new_user) -> None:
    user = new_user()
    refused = user.client.patch("/auth/profile", json={"role": "admin"})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "VALIDATION_ERROR"
    assert user.client.get("/auth/profile").json()["role"] == "student"


def test_register_cannot_choose_a_role(anonymous: ApiClient) -> None:
    email = _email()
    refused = _register(anonymous, email, role="admin")
    assert refused.status_code == 400
    # Nothing was created: the email is still free.
    assert _register(anonymous, email).status_code == 201


def test_admin_lists_users_with_pagination(admin: ApiClient, new_user) -> None:
    new_user(), new_user()
    first = admin.get("/admin/users", params={"limit": 2})
    assert first.status_code == 200
    assert len(first.json()["items"]) == 2 and first.json()["nextCursor"]
    second = admin.get("/admin/users", params={"limit": 2, "cursor": first.json()["nextCursor"]})
    assert second.status_code == 200
    first_ids = {u["userId"] for u in first.json()["items"]}
    assert not first_ids & {u["userId"] for u in second.json()["items"]}


def test_deactivated_user_cannot_log_in_and_existing_token_dies(admin: ApiClient, new_user) -> None:
    user = new_user()
    assert admin.patch(f"/admin/users/{user.user_id}", json={"isActive": False}).status_code == 200
    assert user.client.get("/auth/profile").status_code == 401
    login = user.client.as_token(None).post(
        "/auth/login", json={"email": user.email, "password": user.password}
    )
    assert login.status_code == 403


def test_admin_cannot_demote_themselves(admin: ApiClient) -> None:
    me = admin.get("/auth/profile").json()
    refused = admin.patch(f"/admin/users/{me['userId']}", json={"role": "student"})
    assert refused.status_code == 422
    assert admin.get("/auth/profile").json()["role"] == "admin"


@pytest.mark.parametrize("role", ["student", "instructor"])
def test_admin_routes_refuse_other_roles(new_user, role: str) -> None:
    user = new_user(role)
    assert user.client.get("/admin/users").status_code == 403
    target = new_user()
    refused = user.client.patch(f"/admin/users/{target.user_id}", json={"role": "admin"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "FORBIDDEN"
    assert target.client.get("/auth/profile").json()["role"] == "student"


def test_unknown_user_id_is_404(admin: ApiClient) -> None:
    response = admin.patch("/admin/users/does-not-exist", json={"isActive": False})
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"


# --- bad tokens ----------------------------------------------------------------------------------


def _claims(user_id: str, **overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims = {
        "sub": user_id,
        "role": "admin",
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + 600,
        "iss": "lms",
        "aud": "lms-api",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _bad_tokens(user_id: str) -> dict[str, str]:
    import os

    secret = os.environ["LMS_JWT_SECRET"]
    now = int(time.time())
    good = jwt.encode(_claims(user_id), secret, algorithm="HS256")
    header, payload, signature = good.split(".")
    return {
        "expired": jwt.encode(_claims(user_id, iat=now - 7200, exp=now - 3600), secret, algorithm="HS256"),
        "tampered": f"{header}.{_b64(_claims(user_id, role='admin', sub='someone-else'))}.{signature}",
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(user_id))}.",
        "other secret": jwt.encode(_claims(user_id), secrets.token_urlsafe(32), algorithm="HS256"),
        "no exp": jwt.encode(_claims(user_id, exp=None), secret, algorithm="HS256"),
        "wrong issuer": jwt.encode(_claims(user_id, iss="someone"), secret, algorithm="HS256"),
        "garbage": "not-a-jwt",
    }


@pytest.mark.parametrize(
    "kind", ["expired", "tampered", "alg none", "other secret", "no exp", "wrong issuer", "garbage"]
)
def test_bad_tokens_are_refused(anonymous: ApiClient, new_user, kind: str) -> None:
    user = new_user()
    token = _bad_tokens(user.user_id)[kind]
    response = anonymous.as_token(token).get("/auth/profile")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"


def test_missing_and_malformed_authorization_headers(anonymous: ApiClient) -> None:
    assert anonymous.get("/auth/profile").status_code == 401
    basic = anonymous.get("/auth/profile", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401
    assert "Bearer" in basic.json()["error"]["message"]
