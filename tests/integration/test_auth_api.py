"""Auth and users over HTTP (docs/api.md, "Auth and users")."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import jwt
import pytest
import requests
from botocore.awsrequest import AWSResponse
from requests.adapters import HTTPAdapter

from lms import keys
from lms.clock import FakeClock, use_clock, utcnow
from lms.expressions import Update
from lms.settings import get_settings
from tests.conftest import ApiClient, api_dynamodb


class _FromAddress(HTTPAdapter):
    def __init__(self, address: str) -> None:
        self._address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self._address, 0)
        super().init_poolmanager(*args, **kwargs)


@pytest.fixture
def stranger(api_url: str) -> ApiClient:
    """An anonymous client calling from its own loopback address (127.x.y.z, all of it is local).

    Login throttling counts failures per source address too; a fresh address per test means no
    test inherits another one's failed logins.
    """
    address = "127." + ".".join(str(secrets.randbelow(254) + 1) for _ in range(3))
    session = requests.Session()
    session.mount("http://", _FromAddress(address))
    return ApiClient(api_url, session=session)


@contextmanager
def _between_read_and_write(user_id: str, action: Callable[[], None]) -> Iterator[list[str]]:
    """Run ``action`` once, just before the first write of the user's item after this point."""
    fired: list[str] = []
    lock = threading.Lock()

    def hook(model: Any, params: dict[str, Any], **_: Any) -> None:
        body = json.loads(params["body"])
        key = body.get("Key") or body.get("Item") or {}
        if key.get(keys.PK, {}).get("S") != keys.user(user_id).pk:
            return
        with lock:
            if fired:
                return
            fired.append(model.name)
        action()

    events = api_dynamodb().meta.events  # the API's client
    for operation in ("PutItem", "UpdateItem"):
        events.register(f"before-call.dynamodb.{operation}", hook)
    try:
        yield fired
    finally:
        for operation in ("PutItem", "UpdateItem"):
            events.unregister(f"before-call.dynamodb.{operation}", hook)


def _admin_change(admin: ApiClient, user_id: str, **changes: Any) -> Callable[[], None]:
    """The administrator's change, made through the domain as a second Lambda invocation would.

    Not over HTTP: the local API runs one request at a time (one Lambda execution environment), so
    a request staged inside another request's handler would wait for that handler forever.
    """
    from lms import identity, tokens
    from lms.entities import Role
    from lms.table import Table

    admin_id = admin.get("/auth/profile").json()["userId"]  # read before the race is staged

    def change() -> None:
        table = Table()
        principal = identity.Principal(
            user=identity.get_user(table, admin_id),
            token=tokens.TokenClaims(admin_id, Role.ADMIN, "staged", expires_at=0),
        )
        identity.admin_update_user(table, principal, user_id, changes)

    return change


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


def test_wrong_password_and_unknown_email_get_the_same_answer(stranger: ApiClient) -> None:
    email = _email()
    _register(stranger, email)
    wrong = stranger.post("/auth/login", json={"email": email, "password": "not the password"})
    unknown = stranger.post("/auth/login", json={"email": _email(), "password": "not the password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_repeated_failed_logins_are_throttled_with_retry_after(stranger: ApiClient) -> None:
    email = _email()
    _register(stranger, email, password="the real password")
    # The product's clock stands still, so the attempts cannot straddle a window edge.
    with use_clock(FakeClock(utcnow())) as clock:
        statuses = [
            stranger.post("/auth/login", json={"email": email, "password": f"guess {n}"}).status_code
            for n in range(5)
        ]
        assert statuses == [401] * 5
        blocked = stranger.post("/auth/login", json={"email": email, "password": "the real password"})
        assert blocked.status_code == 429
        retry_after = int(blocked.headers["Retry-After"])
        assert 0 < retry_after <= get_settings().login_window_seconds
        assert blocked.json()["error"]["code"] == "RATE_LIMITED"

        clock.advance(retry_after)
        again = stranger.post("/auth/login", json={"email": email, "password": "the real password"})
        assert again.status_code == 200


def test_parallel_wrong_guesses_cannot_exceed_the_limit(stranger: ApiClient) -> None:
    email = _email()
    _register(stranger, email, password="the real password")
    limit = get_settings().login_max_failures_per_account
    guesses = 3 * limit

    def guess(n: int) -> requests.Response:
        return stranger.post("/auth/login", json={"email": email, "password": f"guess {n}"})

    with use_clock(FakeClock(utcnow())), ThreadPoolExecutor(max_workers=guesses) as pool:
        answers = list(pool.map(guess, range(guesses)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses.count(401) <= limit
    assert statuses.count(429) == guesses - statuses.count(401)
    assert all(int(a.headers["Retry-After"]) > 0 for a in answers if a.status_code == 429)


def test_successful_logins_do_not_use_up_the_limit(stranger: ApiClient) -> None:
    email = _email()
    _register(stranger, email, password="the real password")
    limit = get_settings().login_max_failures_per_account
    with use_clock(FakeClock(utcnow())):
        for _ in range(limit + 1):
            ok = stranger.post("/auth/login", json={"email": email, "password": "the real password"})
            assert ok.status_code == 200


def test_login_right_after_register_does_not_wait_for_the_email_index(stranger: ApiClient) -> None:
    """The email GSI is eventually consistent: simulate it lagging, as it may in AWS."""
    email = _email()

    def lagging_index(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        body = json.loads(params["body"])
        values = json.dumps(body.get("ExpressionAttributeValues", {}))
        if body.get("IndexName") == keys.GSI1 and keys.normalise_email(email) in values:
            return AWSResponse(params["url"], 200, {}, None), {"Items": [], "Count": 0, "ScannedCount": 0}
        return None

    events = api_dynamodb().meta.events  # the API's client
    events.register("before-call.dynamodb.Query", lagging_index)
    try:
        assert _register(stranger, email, password="the real password").status_code == 201
        login = stranger.post("/auth/login", json={"email": email, "password": "the real password"})
    finally:
        events.unregister("before-call.dynamodb.Query", lagging_index)
    assert login.status_code == 200, login.text


def test_profile_update_changes_name_and_password(new_user, stranger: ApiClient) -> None:
    user = new_user()
    other_session = stranger.login(user.email, user.password)
    changed = user.client.patch(
        "/auth/profile", json={"firstName": "Renamed", "password": "a brand new password"}
    )
    assert changed.status_code == 200 and changed.json()["firstName"] == "Renamed"
    old = stranger.post("/auth/login", json={"email": user.email, "password": user.password})
    assert old.status_code == 401
    stranger.login(user.email, "a brand new password")

    # Every token from before the change is refused, the caller's own included ...
    for stale in (user.client, other_session):
        refused = stale.get("/auth/profile")
        assert refused.status_code == 401 and "credentials changed" in refused.json()["error"]["message"]
    # ... and the answer carries the one that replaces it.
    fresh = user.client.as_token(changed.json()["accessToken"])
    assert changed.json()["tokenType"] == "Bearer" and changed.json()["expiresIn"] > 0
    assert fresh.get("/auth/profile").json()["firstName"] == "Renamed"


def test_name_change_keeps_the_token_valid(new_user) -> None:
    user = new_user()
    changed = user.client.patch("/auth/profile", json={"lastName": "Lovelace"})
    assert changed.status_code == 200 and changed.json()["accessToken"] is None
    assert user.client.get("/auth/profile").json()["lastName"] == "Lovelace"


def test_reactivation_does_not_revive_tokens_from_before(admin: ApiClient, new_user, stranger) -> None:
    user = new_user()
    assert admin.patch(f"/admin/users/{user.user_id}", json={"isActive": False}).status_code == 200
    assert admin.patch(f"/admin/users/{user.user_id}", json={"isActive": True}).status_code == 200
    refused = user.client.get("/auth/profile")
    assert refused.status_code == 401
    assert stranger.login(user.email, user.password).get("/auth/profile").status_code == 200


def test_admin_update_of_an_active_user_keeps_their_tokens(admin: ApiClient, new_user) -> None:
    user = new_user()
    assert admin.patch(f"/admin/users/{user.user_id}", json={"isActive": True}).status_code == 200
    assert user.client.get("/auth/profile").status_code == 200


@pytest.mark.parametrize("body", [{"firstName": "Racing"}, {"password": "a racing new password"}])
def test_profile_update_never_undoes_a_concurrent_deactivation(
    admin: ApiClient, new_user, stranger: ApiClient, body: dict[str, str]
) -> None:
    user = new_user()

    deactivate = _admin_change(admin, user.user_id, is_active=False)

    with _between_read_and_write(user.user_id, deactivate) as fired:
        changed = user.client.patch("/auth/profile", json=body)
    assert fired, "the hook never ran, so the race was not staged"
    assert changed.status_code == 401
    login = stranger.post("/auth/login", json={"email": user.email, "password": user.password})
    assert login.status_code == 403


def test_profile_update_never_undoes_a_concurrent_role_change(admin: ApiClient, new_user) -> None:
    user = new_user()

    promote = _admin_change(admin, user.user_id, role="instructor")

    with _between_read_and_write(user.user_id, promote) as fired:
        changed = user.client.patch("/auth/profile", json={"firstName": "Racing"})
    assert fired and changed.status_code == 200
    profile = user.client.get("/auth/profile").json()
    assert profile["role"] == "instructor" and profile["firstName"] == "Racing"


def test_login_rehash_never_undoes_a_concurrent_deactivation(
    admin: ApiClient, new_user, stranger: ApiClient
) -> None:
    from argon2 import PasswordHasher

    from lms.table import Table

    user = new_user()
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(user.password)
    Table().update(keys.user(user.user_id), Update().set(passwordHash=weak))

    deactivate = _admin_change(admin, user.user_id, is_active=False)

    with _between_read_and_write(user.user_id, deactivate) as fired:
        stranger.post("/auth/login", json={"email": user.email, "password": user.password})
    assert fired, "the login did not rehash, so the race was not staged"
    again = stranger.post("/auth/login", json={"email": user.email, "password": user.password})
    assert again.status_code == 403


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


@pytest.mark.parametrize("limit", [2, 5])
def test_admin_user_list_pages_across_shards_without_gaps_or_repeats(
    admin: ApiClient, anonymous: ApiClient, limit: int
) -> None:
    from lms.table import Table

    created = {_register(anonymous, _email()).json()["userId"] for _ in range(12)}
    partitions = {Table().get(keys.user(user_id))[keys.GSI2PK] for user_id in created}
    assert len(partitions) > 1, "the new users all landed in one index partition"

    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page = admin.get("/admin/users", params=params)
        assert page.status_code == 200, page.text
        assert len(page.json()["items"]) == limit or not page.json()["nextCursor"]
        seen.extend(page.json()["items"])
        cursor = page.json()["nextCursor"]
        if not cursor:
            break
    ids = [user["userId"] for user in seen]
    assert len(ids) == len(set(ids)), "a user was listed twice"
    assert created <= set(ids), "a user was never listed"
    created_at = [user["createdAt"] for user in seen]
    assert created_at == sorted(created_at), "not oldest first"


def _cursor(plain: dict[str, str]) -> str:
    """A list cursor holding ``{shard: sort key}``; a shard the list does not have makes it longer."""
    from lms.table import encode_merge_cursor

    positions: list[str | None] = [None] * keys.USER_LIST_SHARDS
    for shard, sort in plain.items():
        if shard.isdigit() and int(shard) < len(positions):
            positions[int(shard)] = sort
        else:
            positions.append(sort)
    return encode_merge_cursor(positions)


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        _cursor({"99": "2020-01-01T00:00:00+00:00#abc"}),
        _cursor({"one": "2020-01-01T00:00:00+00:00#abc"}),
        _cursor({"0": "no sort key"}),
        _cursor({"0": "#"}),
    ],
)
def test_a_forged_user_list_cursor_is_400(admin: ApiClient, cursor: str) -> None:
    response = admin.get("/admin/users", params={"cursor": cursor})
    assert response.status_code == 400 and response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_a_user_list_cursor_from_a_shard_it_cannot_belong_to_is_400(admin: ApiClient) -> None:
    user_id = next(f"u{n}" for n in range(1000) if keys.user_list_shard(f"u{n}") == 3)
    elsewhere = _cursor({"4": f"2020-01-01T00:00:00+00:00#{user_id}"})
    assert admin.get("/admin/users", params={"cursor": elsewhere}).status_code == 400
    # A well-formed position is a place in the list, even if no user sits exactly there.
    position = _cursor({"3": f"2020-01-01T00:00:00+00:00#{user_id}"})
    assert admin.get("/admin/users", params={"cursor": position}).status_code == 200


def test_deactivated_user_cannot_log_in_and_existing_token_dies(
    admin: ApiClient, new_user, stranger: ApiClient
) -> None:
    user = new_user()
    assert admin.patch(f"/admin/users/{user.user_id}", json={"isActive": False}).status_code == 200
    assert user.client.get("/auth/profile").status_code == 401
    login = stranger.post("/auth/login", json={"email": user.email, "password": user.password})
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
