"""Users, authentication, logout and login throttling."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic_core import to_jsonable_python

from lms import events, keys, passwords, throttle, tokens
from lms.clock import utcnow
from lms.entities import Role, User
from lms.errors import (
    AuthenticationError,
    BusinessRuleError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
)
from lms.expressions import Update, equal_all, item_absent
from lms.settings import get_settings
from lms.table import Item, Put, Table, query_merged

INVALID_CREDENTIALS = "Invalid email or password."


# --- persistence -------------------------------------------------------------------------------


def user_item(user: User) -> Item:
    user_key = keys.user(user.user_id)
    return {
        **user_key.as_item(),
        keys.GSI2PK: keys.user_list_index(keys.user_list_shard(user.user_id)),
        keys.GSI2SK: keys.user_list_sort(user.created_at.isoformat(), user.user_id),
        **user.attributes(),
    }


def find_user_by_email(table: Table, email: str) -> User | None:
    """Through the email claim, read strongly consistently: a user who just registered is found."""
    claim = table.get(keys.email_claim(email), consistent=True)
    if claim is None:
        return None
    item = table.get(keys.user(str(claim["userId"])), consistent=True)
    return User.from_item(item) if item else None


def get_user(table: Table, user_id: str) -> User:
    item = table.get(keys.user(user_id), consistent=True)
    if item is None:
        raise NotFoundError(f"No user with id {user_id}.")
    return User.from_item(item)


def create_user(table: Table, user: User) -> User:
    """Store a new user; the email claim makes the address unique in the same transaction."""
    user = user.model_copy(update={"email": keys.normalise_email(user.email)})
    claim = {**keys.email_claim(user.email).as_item(), "userId": user.user_id}
    table.transact(
        [Put(user_item(user), when=item_absent()), Put(claim, when=item_absent())],
        otherwise=ConflictError("An account with this email already exists."),
    )
    return user


def _alias(field_name: str) -> str:
    return User.model_fields[field_name].alias or field_name


def update_user_attributes(
    table: Table,
    user_id: str,
    changes: dict[str, Any],
    *,
    expected: dict[str, Any] | None = None,
) -> User | None:
    """SET only ``changes`` (entity field names) on an existing user, if it still has ``expected``.

    Writing back a whole item read earlier would undo whatever changed in between (an admin's
    deactivation undone by a profile update); this touches nothing but the changed attributes.
    None (nothing changed) when the user is gone or ``expected`` no longer holds.
    """

    def stored(fields: dict[str, Any]) -> dict[str, Any]:
        return {_alias(name): to_jsonable_python(value) for name, value in fields.items()}

    item = table.update_if(
        keys.user(user_id), Update().set(stored(changes)), when=equal_all(stored(expected or {}))
    )
    return User.from_item(item) if item is not None else None


def list_users(table: Table, *, limit: int, cursor: str | None) -> tuple[list[User], str | None]:
    """Oldest first across every ``USERS#<shard>``: each shard is read in parallel and merged."""
    shards = {keys.user_list_index(shard): shard for shard in range(keys.USER_LIST_SHARDS)}
    page = query_merged(
        table,
        index=keys.GSI2,
        partition_attribute=keys.GSI2PK,
        sort_attribute=keys.GSI2SK,
        partitions=list(shards),
        start_key=lambda partition, sort: keys.user_list_position(shards[partition], sort),
        accepts=lambda partition, sort: keys.is_user_list_sort(shards[partition], sort),
        limit=limit,
        cursor=cursor,
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
    if user.tokens_valid_after and claims.issued_at_ms < _epoch_ms(user.tokens_valid_after):
        raise AuthenticationError("The account's credentials changed after this token; log in again.")
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


def _epoch_ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def _now_to_the_millisecond() -> datetime:
    """Token ``iat`` has millisecond precision, so ``tokensValidAfter`` is kept to the same."""
    now = utcnow()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _throttle_keys(email: str, source: str, start: int) -> list[tuple[keys.Key, int]]:
    settings = get_settings()
    return [
        (
            keys.login_failures("account", keys.normalise_email(email), start),
            settings.login_max_failures_per_account,
        ),
        (keys.login_failures("source", source, start), settings.login_max_failures_per_source),
    ]


def login(table: Table, *, email: str, password: str, source: str) -> LoginResult:
    start, retry_after = throttle.window(get_settings().login_window_seconds)
    counters = _throttle_keys(email, source, start)
    # Counted as a failure up front (given back on success), so parallel guesses cannot pass the limit.
    expires = start + 2 * get_settings().login_window_seconds
    throttle.take_attempt(
        table,
        counters,
        expires=expires,
        retry_after=retry_after,
        message="Too many failed logins; try again later.",
    )
    user = find_user_by_email(table, email)
    # Verify even for an unknown email, so both failures cost the same time.
    password_ok = passwords.verify_password(user.password_hash if user else None, password)
    if user is None or not password_ok:
        raise AuthenticationError(INVALID_CREDENTIALS)
    throttle.give_back(table, [key for key, _ in counters], expires)
    if not user.is_active:
        raise ForbiddenError("This account is deactivated; contact an administrator.")
    if passwords.needs_rehash(user.password_hash):
        user = _rehash(table, user, password)
    token, expires_in = tokens.issue_access_token(user.user_id, user.role)
    return LoginResult(access_token=token, expires_in=expires_in, user=user)


def _rehash(table: Table, user: User, password: str) -> User:
    """Upgrade the stored hash, unless the password changed meanwhile (then keep the new one)."""
    rehashed = update_user_attributes(
        table,
        user.user_id,
        {"password_hash": passwords.hash_password(password)},
        expected={"password_hash": user.password_hash},
    )
    return rehashed or user


# --- profile and administration ----------------------------------------------------------------


def register(table: Table, *, email: str, password: str, first_name: str, last_name: str) -> User:
    user = User(
        email=email,
        first_name=first_name,
        last_name=last_name,
        role=Role.STUDENT,
        password_hash=passwords.hash_password(password),
    )
    created = create_user(table, user)
    events.publish_for_analytics(
        events.UserRegistered(
            actor=events.Actor.user(created.user_id), user_id=created.user_id, role=created.role
        )
    )
    return created


@dataclass(frozen=True)
class ProfileChange:
    user: User
    # A password change revokes every earlier token, the caller's too: this one replaces it.
    access_token: str | None = None
    expires_in: int | None = None


def update_profile(table: Table, user: User, changes: dict[str, Any]) -> ProfileChange:
    update: dict[str, Any] = {}
    for name in ("first_name", "last_name"):
        if changes.get(name) is not None:
            update[name] = changes[name]
    if changes.get("password") is not None:
        update["password_hash"] = passwords.hash_password(changes["password"])
        update["tokens_valid_after"] = _now_to_the_millisecond()
    update["updated_at"] = utcnow()
    # Only an active account may change itself: a deactivation during the hash above wins.
    updated = update_user_attributes(table, user.user_id, update, expected={"is_active": True})
    if updated is None:
        raise AuthenticationError("This account is deactivated.")
    if "password_hash" not in update:
        return ProfileChange(updated)
    token, expires_in = tokens.issue_access_token(updated.user_id, updated.role)
    return ProfileChange(updated, token, expires_in)


_ADMIN_UPDATE_ATTEMPTS = 3


def admin_update_user(table: Table, admin: Principal, user_id: str, changes: dict[str, Any]) -> User:
    if user_id == admin.user_id and (
        changes.get("is_active") is False or changes.get("role") not in (None, Role.ADMIN)
    ):
        raise BusinessRuleError("Administrators cannot deactivate or demote themselves.")
    for _ in range(_ADMIN_UPDATE_ATTEMPTS):
        target = get_user(table, user_id)
        update: dict[str, Any] = {"updated_at": utcnow()}
        expected: dict[str, Any] = {}
        if changes.get("role") is not None:
            update["role"] = Role(changes["role"])
        if changes.get("is_active") is not None:
            update["is_active"] = changes["is_active"]
            # The active flag decides whether this is a reactivation, so it must not move under us.
            expected["is_active"] = target.is_active
            if changes["is_active"] and not target.is_active:
                # Tokens from before the deactivation must not come back to life with the account.
                update["tokens_valid_after"] = _now_to_the_millisecond()
        updated = update_user_attributes(table, user_id, update, expected=expected)
        if updated is not None:
            return updated
    raise ConflictError("The user changed while this update was applied; try again.")
