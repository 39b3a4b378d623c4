"""Identity rules with a fake clock and an in-memory table (no network)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lms import identity, keys, throttle, tokens
from lms.clock import FakeClock, use_clock
from lms.entities import User
from lms.errors import AuthenticationError, RateLimitedError
from lms.expressions import Condition, Placeholders, Update
from lms.settings import get_settings
from lms.table import Item


class FakeTable:
    """Just the reads ``identity.authenticate`` makes: one BatchGetItem."""

    def __init__(self, *items: Item) -> None:
        self.items = {keys.Key(item[keys.PK], item[keys.SK]): item for item in items}

    def batch_get(self, wanted: list[keys.Key]) -> dict[keys.Key, Item]:
        return {key: self.items[key] for key in wanted if key in self.items}


def _user(**changes: Any) -> User:
    return User(email="ada@example.org", first_name="Ada", last_name="L", password_hash="x", **changes)


def test_a_token_from_earlier_in_the_same_second_as_a_password_change_is_refused() -> None:
    # Given a password change half-way through this second (near now: the JWT library checks
    # expiry against the real time)
    change = datetime.now(UTC).replace(microsecond=500_000)
    user = _user(tokens_valid_after=change)
    table: Any = FakeTable(identity.user_item(user))
    with use_clock(FakeClock(change - timedelta(milliseconds=300))) as clock:
        before, _ = tokens.issue_access_token(user.user_id, user.role)
        clock.set(change + timedelta(milliseconds=200))
        after, _ = tokens.issue_access_token(user.user_id, user.role)
    # Then the token from .200 in that second is refused, the one from .700 is accepted
    with pytest.raises(AuthenticationError, match="credentials changed"):
        identity.authenticate(table, before)
    assert identity.authenticate(table, after).principal.user_id == user.user_id


def test_a_token_issued_in_the_very_millisecond_of_the_change_is_accepted() -> None:
    # The fresh token handed back by a password change is issued right after it.
    with use_clock(FakeClock(datetime.now(UTC).replace(microsecond=500_900))):
        user = _user(tokens_valid_after=identity._now_to_the_millisecond())
        token, _ = tokens.issue_access_token(user.user_id, user.role)
    assert identity.authenticate(FakeTable(identity.user_item(user)), token)  # type: ignore[arg-type]


class CountingTable:
    """The conditional ADD of the throttle counters, applied like DynamoDB applies it."""

    def __init__(self) -> None:
        self.failures: dict[keys.Key, int] = {}

    def update_if(self, key: keys.Key, changes: Update, *, when: Condition | None) -> Item | None:
        placeholders = Placeholders()
        added = re.search(r"ADD #n\d+ (:v\d+)", changes.render(placeholders))
        assert added, "the counter is an atomic ADD"
        current = self.failures.get(key, 0)
        if when is not None:
            below = re.search(r"< (:v\d+)", when.render(placeholders))
            assert below, "the limit is a condition on the stored count"
            if current >= placeholders.values[below[1]]:
                return None
        self.failures[key] = current + placeholders.values[added[1]]
        return {}

    def update(self, key: keys.Key, changes: Update) -> Item:
        updated = self.update_if(key, changes, when=None)
        assert updated is not None
        return updated


def test_retry_after_is_the_rest_of_the_window() -> None:
    window = get_settings().login_window_seconds
    limit = get_settings().login_max_failures_per_account
    table: Any = CountingTable()
    window_start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    message = "Too many failed logins; try again later."
    with use_clock(FakeClock(window_start + timedelta(seconds=10))):
        for _ in range(limit):
            counters = identity._throttle_keys("a@b.org", "src", 0)
            throttle.take_attempt(table, counters, expires=0, retry_after=1, message=message)
        start, retry_after = throttle.window(window)
        assert start == int(window_start.timestamp()) and retry_after == window - 10
        counters = identity._throttle_keys("a@b.org", "src", 0)
        with pytest.raises(RateLimitedError) as refused:
            throttle.take_attempt(table, counters, expires=0, retry_after=retry_after, message=message)
    assert refused.value.retry_after_seconds == window - 10
    # The refused attempt was not counted against the source address.
    assert table.failures[counters[1][0]] == limit
