"""The analytics date range (``?from=&to=``) and the dashboard's SVG marks, without a cloud."""

from __future__ import annotations

from datetime import date

import pytest

from api.dashboard import charts
from lms.analytics.period import RangeTooLongError, parse_period
from lms.errors import ValidationError

TODAY = date(2026, 11, 29)


def test_without_dates_the_range_is_the_last_30_days_up_to_today() -> None:
    period = parse_period(None, None, today=TODAY)
    assert (period.start, period.end, period.days) == (date(2026, 10, 31), TODAY, 30)


def test_one_end_gives_30_days_from_it() -> None:
    assert parse_period("2026-11-20", None, today=TODAY).end == TODAY  # never past today from a recent start
    assert parse_period("2026-01-01", None, today=TODAY).end == date(2026, 1, 30)
    assert parse_period(None, "2026-03-01", today=TODAY).start == date(2026, 1, 31)
    assert parse_period("2027-01-01", None, today=TODAY).end == date(2027, 1, 1)  # a future day: itself


def test_366_days_is_the_longest_range_a_leap_year_included() -> None:
    assert parse_period("2024-01-01", "2024-12-31", today=TODAY).days == 366
    with pytest.raises(RangeTooLongError) as refused:
        parse_period("2024-01-01", "2025-01-01", today=TODAY)
    assert refused.value.status == 422 and refused.value.code == "RANGE_TOO_LONG"


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-1-01", None),
        ("20260101", None),
        (None, "2026-02-30"),
        ("2026-W01-1", None),
        ("2026-03-02", "2026-03-01"),
    ],
)
def test_a_malformed_date_or_from_after_to_is_a_400(start: str | None, end: str | None) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_period(start, end, today=TODAY)
    assert refused.value.status == 400


def test_a_period_holds_its_days_and_the_iso_text_of_them() -> None:
    period = parse_period("2026-11-01", "2026-11-03", today=TODAY)
    assert period.holds("2026-11-01") and period.holds(date(2026, 11, 3)) and not period.holds("2026-11-04")
    assert [d.isoformat() for d in period.each_day()] == ["2026-11-01", "2026-11-02", "2026-11-03"]


def test_chart_marks_carry_their_figures_and_labels_are_escaped() -> None:
    points = [charts.Point("<b>", 3), charts.Point("two", 0)]
    drawn = str(charts.bar_chart("enrollments", points))
    assert drawn.count('class="mark"') == 2 and 'data-value="3"' in drawn
    assert "<b>" not in drawn and "&lt;b&gt;" in drawn
    line = str(charts.line_chart("revenue", points, charts.cents("usd")))
    assert "<title>&lt;b&gt;: $0.03</title>" in line
    funnel = str(charts.funnel("funnel", [charts.Step("L1", 10, 4)]))
    assert 'data-reached="10"' in funnel and 'data-completed="4"' in funnel
    assert "no data in this range" in str(charts.line_chart("empty", []))
