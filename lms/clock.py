"""Time and identifiers: the only place that reads the wall clock or makes new ids.

``Clock`` is a port: product code asks :func:`clock` (or the helpers below) for the time, never
``time.time()`` or ``datetime.now()`` directly, so unit tests can swap in :class:`FakeClock` and
move time by hand.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that only moves when told to (unit tests)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)

    def set(self, moment: datetime) -> None:
        self._now = moment


_current: Clock = SystemClock()


def clock() -> Clock:
    return _current


@contextmanager
def use_clock(replacement: Clock) -> Iterator[Clock]:
    """Run a block with ``replacement`` as the product's clock (unit tests)."""
    global _current
    previous, _current = _current, replacement
    try:
        yield replacement
    finally:
        _current = previous


def utcnow() -> datetime:
    return _current.now()


def epoch_seconds() -> int:
    """Whole seconds since the epoch, for TTLs, expiries and windows."""
    return int(_current.now().timestamp())


def isoformat(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id() -> str:
    return uuid.uuid4().hex
