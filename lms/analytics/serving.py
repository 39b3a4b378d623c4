"""Serving the stored analytics results: what the analytics API and the dashboard read, and how.

* One read of stored results per request (:func:`lms.analytics.results.latest`): the API never waits
  on a query, and answers with the results' ``asOf``.
* Per-day reports are cut to the asked :class:`~lms.analytics.period.Period` from the stored rows
  (they cover the last 366 days); the other figures are as of ``asOf``.
* The lake holds user ids only. The at-risk list is given names here, at read time, with one
  BatchGet of the users (per 100), and only to a caller who manages the course. A user who no longer
  exists has no name to give and is left out.
* CSV: one section per figure (see :func:`csv_sections`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lms import keys
from lms.analytics import results
from lms.analytics.period import Period
from lms.clock import isoformat
from lms.courses import courses
from lms.entities import Course, User
from lms.errors import ForbiddenError, NotFoundError
from lms.identity import Principal
from lms.table import Item, Table

Rows = list[dict[str, Any]]
_BATCH = 100


@dataclass(frozen=True)
class Figures:
    """One scope's stored results as served: the period asked, daily rows cut to it."""

    scope: str
    period: Period
    as_of: str | None  # ISO 8601 UTC; None before the first refresh
    reports: dict[str, Rows]

    def rows(self, report: str) -> Rows:
        return self.reports.get(report, [])

    def one(self, report: str) -> dict[str, Any] | None:
        found = self.rows(report)
        return found[0] if found else None


def _in_period(report: str, rows: Rows, period: Period) -> Rows:
    if report not in results.DAILY_REPORTS:
        return rows
    return sorted((row for row in rows if period.holds(row["day"])), key=lambda row: str(row["day"]))


def figures(scope: str, period: Period) -> Figures:
    """The scope's latest stored results (one read), daily reports cut to ``period``."""
    stored = results.latest(scope)
    if stored is None:
        return Figures(scope, period, None, {name: [] for name in results.reports_of(scope)})
    reports = {
        name: _in_period(name, list(stored.results.get(name, [])), period)
        for name in results.reports_of(scope)
    }
    return Figures(scope, period, isoformat(stored.as_of), reports)


def managed_course(principal: Principal, found: Mapping[keys.Key, Item], course_id: str) -> Course:
    """The course read with the caller (``courses.course_keys``): 404 unknown, 403 not its manager."""
    course = courses.read_course_with_counters(dict(found), course_id)
    if course is None:
        raise NotFoundError(f"No course with id {course_id}.")
    if not courses.can_manage(principal, course):
        raise ForbiddenError("Only the course's instructor or an administrator may read its analytics.")
    return course


def learner_names(table: Table, user_ids: Iterable[str]) -> dict[str, str]:
    """``userId -> "First Last"`` for the users who still exist (one BatchGet per 100 ids)."""
    wanted = list(dict.fromkeys(user_ids))
    names: dict[str, str] = {}
    for start in range(0, len(wanted), _BATCH):
        found = table.batch_get([keys.user(user_id) for user_id in wanted[start : start + _BATCH]])
        for item in found.values():
            user = User.from_item(item)
            names[user.user_id] = f"{user.first_name} {user.last_name}".strip()
    return names


def courses_of(table: Table, instructor_id: str) -> list[Course]:
    """The instructor's courses (drafts and published; archived ones are listed too), newest first.

    Every course's draft item is in the DRAFT (or ARCHIVED) status partition of GSI2, filtered here by
    owner: a Query, never a Scan, but it reads the whole partition (see docs/dashboard.md).
    """
    from lms.entities import CourseStatus

    found: list[Course] = []
    for status in (CourseStatus.DRAFT, CourseStatus.ARCHIVED):
        items = table.query_all(
            partition=(keys.GSI2PK, keys.course_status_index(status)),
            index=keys.GSI2,
            newest_first=True,
            filter_equals={"instructorId": instructor_id},
        )
        found.extend(Course.from_item(item) for item in items)
    return found


def course_titles(table: Table, course_ids: Sequence[str]) -> dict[str, str]:
    """``courseId -> title`` for the courses that exist (one BatchGet per 100 ids)."""
    titles: dict[str, str] = {}
    unique = list(dict.fromkeys(course_ids))
    for start in range(0, len(unique), _BATCH):
        found = table.batch_get([keys.course(course_id) for course_id in unique[start : start + _BATCH]])
        titles.update({str(item["courseId"]): str(item.get("title", "")) for item in found.values()})
    return titles


# --- CSV ------------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text: a leading ``= + - @`` (formula injection through a
    lesson title, say) gets a quote in front of it; numbers pass unchanged."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_sections(sections: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> str:
    """One section per figure: a ``# <figure>`` line, the column names, the rows, then a blank line.

    The same layout for both scopes (docs/dashboard.md, "CSV"). Lines end with CRLF (RFC 4180).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for position, (name, columns, rows) in enumerate(sections):
        if position:
            buffer.write("\r\n")
        buffer.write(f"# {name}\r\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(value) for value in row])
    return buffer.getvalue()
