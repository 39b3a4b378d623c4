"""The reports: one SQL file each (``lms/analytics/sql/``, Athena's Trino dialect), and how their
result rows become the stored results of each scope (:mod:`lms.analytics.results`).

A course report computes every course at once (its rows carry ``course_id``), so a refresh runs one
query per report, not one per course; :func:`results_by_scope` splits the rows into the scopes.
Every query is the shared prelude (``_prelude.sql``: the events deduplicated on their id, active
enrollments, progress) followed by the report's file. Result rows arrive as Athena writes them
(CSV text: every value a string, NULL as empty), and are typed by the row models of the contract.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from lms import keys
from lms.analytics import results

SQL_DIR = Path(__file__).resolve().parent / "sql"
PRELUDE = "_prelude.sql"
COURSE, PLATFORM = "course", "platform"

# (lesson id, title) of a course's lessons in order; empty for an unknown course.
LessonsOf = Callable[[str], list[tuple[str, str | None]]]


@dataclass(frozen=True)
class Report:
    scope: str  # COURSE or PLATFORM
    name: str  # the results name (lms.analytics.results)

    @property
    def id(self) -> str:
        """``course_funnel``: the SQL file's stem, and the report's name in the workflow."""
        return f"{self.scope}_{self.name}"

    @property
    def sql_file(self) -> Path:
        return SQL_DIR / f"{self.id}.sql"

    def query(self) -> str:
        """The whole query (prelude + the report), in Athena's dialect."""
        return _query(self.id)


REPORTS: tuple[Report, ...] = (
    *(Report(COURSE, name) for name in results.COURSE_REPORTS),
    *(Report(PLATFORM, name) for name in results.PLATFORM_REPORTS),
)
BY_ID = {report.id: report for report in REPORTS}


@cache
def _query(report_id: str) -> str:
    prelude = (SQL_DIR / PRELUDE).read_text()
    return f"{prelude.rstrip()}\n{(SQL_DIR / f'{report_id}.sql').read_text()}"


def parse_csv(text: str) -> list[dict[str, str | None]]:
    """Athena's result file: a header row, then one row per result; an empty field is NULL."""
    reader = csv.DictReader(io.StringIO(text))
    return [{column: (value if value != "" else None) for column, value in row.items()} for row in reader]


def parse_instant(value: str) -> datetime:
    """A timestamp as Athena (``2026-11-29 12:00:00.000 UTC``) or DuckDB (``...+00``) writes it."""
    text = value.strip().removesuffix(" UTC").replace(" ", "T", 1)
    if text.endswith(("+00", "-00")):
        text += ":00"
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def results_by_scope(
    rows_by_report: dict[str, list[dict[str, str | None]]], lessons_of: LessonsOf
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Scope (``platform``, ``course#<id>``) -> report name -> rows in the contract's columns.

    ``rows_by_report`` is each report's result rows by report id. Every course that appears in any
    course report gets every course report (an empty list where it has no rows); the funnel lists
    the course's lessons in order, those nobody reached with zeros.
    """
    scoped: dict[str, dict[str, list[dict[str, Any]]]] = {
        keys.PLATFORM_SCOPE: {name: [] for name in results.PLATFORM_REPORTS}
    }
    for report_id, rows in rows_by_report.items():
        report = BY_ID[report_id]
        if report.scope == PLATFORM:
            shaped = _workflows(rows) if report.name == "workflows" else [_typed(report, row) for row in rows]
            scoped[keys.PLATFORM_SCOPE][report.name] = shaped
            continue
        for row in rows:
            course_id = str(row["course_id"])
            scope = keys.course_scope(course_id)
            course = scoped.setdefault(scope, {name: [] for name in results.COURSE_REPORTS})
            course[report.name].append(_typed(report, {k: v for k, v in row.items() if k != "course_id"}))
    for scope, reports in scoped.items():
        if scope != keys.PLATFORM_SCOPE:
            reports["funnel"] = _funnel(
                reports["funnel"], lessons_of(scope.removeprefix(keys.COURSE_SCOPE_PREFIX))
            )
    return scoped


def _typed(report: Report, row: dict[str, Any]) -> dict[str, Any]:
    model = (
        results.COURSE_REPORTS[report.name]
        if report.scope == COURSE
        else results.PLATFORM_REPORTS[report.name]
    )
    values = dict(row)
    if "last_activity_at" in values and values["last_activity_at"] is not None:
        values["last_activity_at"] = parse_instant(values["last_activity_at"])
    if report.name == "funnel":
        values.setdefault("position", 0)  # set in order by _funnel
    return model.model_validate(values).model_dump(mode="json")


def _funnel(found: list[dict[str, Any]], lessons: list[tuple[str, str | None]]) -> list[dict[str, Any]]:
    """The course's lessons in order (a lesson nobody reached: zeros), then lessons no longer in the
    course that students had reached, by id."""
    by_lesson = {row["lesson_id"]: row for row in found}
    ordered = [
        {
            "lesson_id": lesson_id,
            "title": title,
            "reached": by_lesson.get(lesson_id, {}).get("reached", 0),
            "completed": by_lesson.get(lesson_id, {}).get("completed", 0),
        }
        for lesson_id, title in lessons
    ]
    listed = {lesson_id for lesson_id, _ in lessons}
    ordered += [
        {**row, "title": None} for lesson_id, row in sorted(by_lesson.items()) if lesson_id not in listed
    ]
    return [
        results.FunnelStep.model_validate({**row, "position": position}).model_dump(mode="json")
        for position, row in enumerate(ordered, start=1)
    ]


def _workflows(rows: Iterable[dict[str, str | None]]) -> list[dict[str, Any]]:
    """(day, workflow, status, outcome, executions) -> one row per day and workflow."""
    folded: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {"succeeded": 0, "failed": 0, "outcomes": defaultdict(int)}
    )
    for row in rows:
        day, workflow = str(row["day"]), str(row["workflow"])
        entry = folded[(day, workflow)]
        count = int(row["executions"] or 0)
        if row["status"] == "SUCCEEDED":
            entry["succeeded"] += count
            if row["outcome"]:
                entry["outcomes"][row["outcome"]] += count
        else:
            entry["failed"] += count
    return [
        results.WorkflowOutcomes(
            day=date.fromisoformat(day),
            workflow=workflow,
            succeeded=entry["succeeded"],
            outcomes=dict(entry["outcomes"]),
            failed=entry["failed"],
        ).model_dump(mode="json")
        for (day, workflow), entry in sorted(folded.items())
    ]
