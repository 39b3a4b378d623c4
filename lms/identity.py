"""Users, authentication, logout and login throttling."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from lms import keys, passwords, tokens
from lms.clock import utcnow
from lms.entities import Role, User
from lms.errors import (
    AuthenticationError,
    BusinessRuleError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
)
from lms.settings import get_settings
from lms.table import Item, Page, Table, is_conditional_failure, serialize

INVALID_CREDENTIALS = "Invalid email or password."


# --- persistence -------------------------------------------------------------------------------


def user_item(user: User) -> Item:
    user_key = keys.user(user.user_id)
    return {
        **user_key.as_item(),
        keys.GSI1PK: keys.email_index(user.email),
        keys.GSI1SK: keys.PROFILE,
        keys.GSI2PK: keys.ALL_USERS,
        keys.GSI2SK: f"{user.created_at.isoformat()}#{user.user_id}",
        **user.attributes(),
    }


def find_user_by_email(table: Table, email: str) -> User | None:
    page = table.query(partition=(keys.GSI1PK, keys.email_index(email)), index=keys.GSI1, limit=1)
    return User.from_item(page.items[0]) if page.items else None


def get_user(table: Table, user_id: str) -> User:
    item = table.get(keys.user(user_id))
    if item is None:
        raise NotFoundError(f"No user with id {user_id}.")
    return User.from_item(item)


def create_user(table: Table, user: User) -> User:
    """Store a new user; the email claim makes the address unique in the same transaction."""
    user = user.model_copy(update={"email": keys.normalise_email(user.email)})
    not_there = {"ConditionExpression": "attribute_not_exists(PK)"}
    claim = {**keys.email_claim(user.email).as_item(), "userId": user.user_id}
    try:
        table.transact_write(
            [
                {"Put": {"Item": serialize(user_item(user)), **not_there}},
                {"Put": {"Item": serialize(claim), **not_there}},
            ]
        )
    except ClientError as error:
        if is_conditional_failure(error):
            raise ConflictError("An account with this email already exists.") from error
        raise
    return user


def save_user(table: Table, user: User) -> None:
    """Overwrite an existing user (the email never changes, so its claim stays valid)."""
    table.put(user_item(user), condition="attribute_exists(PK)")


def list_users(table: Table, *, limit: int, cursor: str | None) -> tuple[list[User], str | None]:
    page: Page = table.query(
        partition=(keys.GSI2PK, keys.ALL_USERS), index=keys.GSI2, limit=limit, cursor=cursor
    )
    return [User.from_item(item) for item in page.items], page.next_cursor


# --- authentication ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, as stored now (role and active flag are read per request)."""

    user: User
    token: tokens.TokenClaims

    @property
    def user_id(self) -> str:
        return self.user.user_id

    @property
    def role(self) -> Role:
        return self.user.role

    def has_role(self, *roles: Role) -> bool:
        return self.user.role in roles


@dataclass(frozen=True)
class Authenticated:
    principal: Principal
    extras: dict[keys.Key, Item] = field(default_factory=dict)


ExtraKeys = Sequence[keys.Key] | Callable[[str], Sequence[keys.Key]]


def authenticate(table: Table, bearer_token: str, extra_keys: ExtraKeys = ()) -> Authenticated:
    """Verify the token, then in one BatchGetItem read the caller, the denylist and ``extra_keys``.

    ``extra_keys`` may be a function of the caller's user id (for keys such as an enrollment).
    """
    claims = tokens.decode_access_token(bearer_token)
    user_key, revoked_key = keys.user(claims.user_id), keys.revoked_token(claims.jti)
    wanted = extra_keys(claims.user_id) if callable(extra_keys) else extra_keys
    found = table.batch_get([user_key, revoked_key, *wanted])
    if revoked_key in found:
        raise AuthenticationError("The access token has been revoked; log in again.")
    if user_key not in found:
        raise AuthenticationError("The account behind this token no longer exists.")
    user = User.from_item(found[user_key])
    if not user.is_active:
        raise AuthenticationError("This account is deactivated.")
    extras = {k: v for k, v in found.items() if k not in (user_key, revoked_key)}
    return Authenticated(Principal(user=user, token=claims), extras)


def revoke(table: Table, claims: tokens.TokenClaims) -> None:
    """Deny the token until it would have expired anyway (DynamoDB TTL removes the entry)."""
    table.put({**keys.revoked_token(claims.jti).as_item(), keys.TTL_ATTRIBUTE: claims.expires_at})


# --- login and throttling ----------------------------------------------------------------------


@dataclass(frozen=True)
class LoginResult:
    access_token: str
    expires_in: int
    user: User


def _window() -> tuple[int, int]:
    window = get_settings().login_window_seconds
    now = utcnow().timestamp()
    start = int(now // window * window)
    return start, max(1, math.ceil(start + window - now))


def _throttle_keys(email: str, source: str, start: int) -> list[tuple[keys.Key, int]]:
    settings = get_settings()
    return [
        (
            keys.login_failures("account", keys.normalise_email(email), start),
            settings.login_max_failures_per_account,
        ),
        (keys.login_failures("source", source, start), settings.login_max_failures_per_source),
    ]


def _record_failure(table: Table, counters: list[tuple[keys.Key, int]], start: int) -> None:
    expires = start + 2 * get_settings().login_window_seconds
    for key, _ in counters:
        table.update(
            key,
            expression="ADD failures :one SET #ttl = :ttl",
            names={"#ttl": keys.TTL_ATTRIBUTE},
            values={":one": 1, ":ttl": expires},
        )


def login(table: Table, *, email: str, password: str, source: str) -> LoginResult:
    start, retry_after = _window()
    counters = _throttle_keys(email, source, start)
    seen = table.batch_get([key for key, _ in counters])
    for key, limit in counters:
        if int(seen.get(key, {}).get("failures", 0)) >= limit:
            raise RateLimitedError(
                "Too many failed logins; try again later.", retry_after_seconds=retry_after
            )
    user = find_user_by_email(table, email)
    # Verify even for an unknown email, so both failures cost the same time.
    password_ok = passwords.verify_password(user.password_hash if user else None, password)
    if user is None or not password_ok:
        _record_failure(table, counters, start)
        raise AuthenticationError(INVALID_CREDENTIALS)
    if not user.is_active:
        raise ForbiddenError("This account is deactivated; contact an administrator.")
    if passwords.needs_rehash(user.password_hash):
        user = user.model_copy(update={"password_hash": passwords.hash_password(password)})
        save_user(table, user)
    token, expires_in = tokens.issue_access_token(user.user_id, user.role)
    return LoginResult(access_token=token, expires_in=expires_in, user=user)


# --- profile and administration ----------------------------------------------------------------


def register(table: Table, *, email: str, password: str, first_name: str, last_name: str) -> User:
    user = User(
        email=email,
        first_name=first_name,
        last_name=last_name,
        role=Role.STUDENT,
        password_hash=passwords.hash_password(password),
    )
    return create_user(table, user)


def update_profile(table: Table, user: User, changes: dict[str, Any]) -> User:
    update: dict[str, Any] = {"updated_at": utcnow()}
    for name in ("first_name", "last_name"):
        if changes.get(name) is not None:
            update[name] = changes[name]
    if changes.get("password") is not None:
        update["password_hash"] = passwords.hash_password(changes["password"])
    updated = user.model_copy(update=update)
    save_user(table, updated)
    return updated


def admin_update_user(table: Table, admin: Principal, user_id: str, changes: dict[str, Any]) -> User:
    target = get_user(table, user_id)
    if user_id == admin.user_id and (
        changes.get("is_active") is False or changes.get("role") not in (None, Role.ADMIN)
    ):
        raise BusinessRuleError("Administrators cannot deactivate or demote themselves.")
    update: dict[str, Any] = {"updated_at": utcnow()}
    if changes.get("role") is not None:
        update["role"] = Role(changes["role"])
    if changes.get("is_active") is not None:
        update["is_active"] = changes["is_active"]
    updated = target.model_copy(update=update)
    save_user(table, updated)
    return updated
