"""The date range an analytics reader asks for (``?from=&to=``, ISO dates, UTC): parsed and checked once.

Both ends are inclusive days. Without them the range is the last 30 days up to today; with one end
only, the other is 30 days away from it (``to`` never later than needed: a range may end in the
future, it is simply empty there). A malformed date or ``from`` after ``to`` is a 400; a range longer
than :data:`MAX_DAYS` is a 422 ``RANGE_TOO_LONG`` (the stored per-day figures cover that much at most).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from lms.clock import utcnow
from lms.errors import BusinessRuleError, ValidationError

DEFAULT_DAYS = 30
MAX_DAYS = 366


class RangeTooLongError(BusinessRuleError):
    code = "RANGE_TOO_LONG"


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def holds(self, day: str | date) -> bool:
        """Whether ``day`` (a date or its ISO text, as the stored rows carry it) is in the range."""
        when = day if isinstance(day, date) else _parse_day(str(day)[:10])
        return when is not None and self.start <= when <= self.end

    def each_day(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range(self.days)]


def _parse_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _day(name: str, text: str) -> date:
    # date.fromisoformat also takes "20261101" and week dates: only YYYY-MM-DD is the contract.
    parsed = _parse_day(text) if len(text) == 10 and text[4] == "-" and text[7] == "-" else None
    if parsed is None:
        raise ValidationError(
            f"'{name}' must be an ISO date (YYYY-MM-DD).",
            details=[{"location": ["query", name], "message": "not a YYYY-MM-DD date"}],
        )
    return parsed


def parse_period(start: str | None, end: str | None, *, today: date | None = None) -> Period:
    """``?from=&to=`` as a :class:`Period`; see the module docstring for the defaults and errors."""
    today = today or utcnow().date()
    first = _day("from", start.strip()) if start else None
    last = _day("to", end.strip()) if end else None
    if first is None and last is None:
        last = today
    if first is None:
        assert last is not None
        first = last - timedelta(days=DEFAULT_DAYS - 1)
    if last is None:
        last = min(today, first + timedelta(days=DEFAULT_DAYS - 1)) if first <= today else first
    if first > last:
        raise ValidationError(
            f"'from' ({first.isoformat()}) is after 'to' ({last.isoformat()}).",
            details=[{"location": ["query", "from"], "message": "after 'to'"}],
        )
    period = Period(first, last)
    if period.days > MAX_DAYS:
        raise RangeTooLongError(
            f"A range covers at most {MAX_DAYS} days; this one covers {period.days}.",
            details={"maxDays": MAX_DAYS, "days": period.days},
        )
    return period
