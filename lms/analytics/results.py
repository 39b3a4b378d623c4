"""The stored report results: what the reports workflow writes and the analytics API reads.

The contract between the lake (which computes the figures) and the API/dashboard (which serves
them). Each scope's latest results are one JSON object in the product's bucket
(``keys.analytics_results``): the API answers with one read, never waiting on a query.

Scopes: ``"platform"`` or ``"course#<courseId>"`` (``keys.course_scope``). Each report is a list of
rows; the columns of each report are the fields of its row model below (snake_case, as in the SQL).
Daily reports cover the last :data:`DAILY_WINDOW_DAYS` days, so the API filters ``?from=&to=``
on the stored rows. Money is integer cents with its currency; days are ISO dates (UTC); instants
are ISO 8601 UTC strings; user ids only (names are resolved at read time, never stored here).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from lms import keys
from lms.blobs import BlobStore, S3BlobStore
from lms.clock import isoformat
from lms.settings import get_settings

DAILY_WINDOW_DAYS = 366
PLATFORM = keys.PLATFORM_SCOPE


def course_scope(course_id: str) -> str:
    return keys.course_scope(course_id)


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- course scope ---------------------------------------------------------------------------------
class EnrollmentsPerDay(_Row):
    day: date
    enrollments: int


class RevenuePerDay(_Row):
    day: date
    currency: str
    amount_cents: int


class FunnelStep(_Row):
    """One lesson of the course, in the course's order: how many enrolled students reached it (any
    progress recorded) and completed it."""

    position: int  # 1-based, the lesson's order in the course
    lesson_id: str
    title: str | None = None
    reached: int
    completed: int


class Completion(_Row):
    enrolled: int  # students with an active enrollment (refunds excluded)
    completed: int  # of those, how many completed the course (certificate issued, not revoked)
    completion_rate: float  # completed / enrolled, 0.0 when nobody is enrolled
    median_days_to_complete: float | None  # enrolment -> certificate, in days; None when nobody completed


class AtRisk(_Row):
    """An enrolled student with no activity for 14 days and progress under 50 %."""

    user_id: str
    last_activity_at: datetime  # the student's latest event in the course (at least the enrolment)
    progress_percentage: int


class QuestionStatistics(_Row):
    """Classical item statistics over first attempts, as Moodle defines them."""

    question_id: str
    attempts: int
    facility_index: float | None  # mean score on the question / its maximum, 0..1
    discrimination_index: float | None  # correlation of the question's score with the rest of the test


class Forum(_Row):
    threads: int
    replies: int
    posters: int  # distinct


# --- platform scope ------------------------------------------------------------------------------
class RevenuePerCourse(_Row):
    course_id: str
    currency: str
    amount_cents: int


class RegistrationsPerDay(_Row):
    day: date
    registrations: int


class ActiveLearners(_Row):
    """Distinct learners with any activity on ``day`` (daily) and in the 7 days ending on it (weekly)."""

    day: date
    daily: int
    weekly: int


class WorkflowOutcomes(_Row):
    day: date
    workflow: str
    succeeded: int
    outcomes: dict[str, int]  # business outcome name -> executions that ended with it
    failed: int


# Report name -> its row model, per scope. The API serves exactly these names.
COURSE_REPORTS: dict[str, type[_Row]] = {
    "enrollments_per_day": EnrollmentsPerDay,
    "revenue_per_day": RevenuePerDay,
    "funnel": FunnelStep,
    "completion": Completion,
    "at_risk": AtRisk,
    "questions": QuestionStatistics,
    "forum": Forum,
}
PLATFORM_REPORTS: dict[str, type[_Row]] = {
    "revenue_per_day": RevenuePerDay,
    "revenue_per_course": RevenuePerCourse,
    "registrations_per_day": RegistrationsPerDay,
    "active_learners": ActiveLearners,
    "enrollments_per_day": EnrollmentsPerDay,
    "completion": Completion,
    "workflows": WorkflowOutcomes,
}
# Reports whose rows are one per day (filtered by ?from=&to= on the stored rows).
DAILY_REPORTS = frozenset(
    {"enrollments_per_day", "revenue_per_day", "registrations_per_day", "active_learners", "workflows"}
)


def reports_of(scope: str) -> dict[str, type[_Row]]:
    if scope == PLATFORM:
        return PLATFORM_REPORTS
    keys.analytics_results(scope)  # raises ValueError for an unknown scope
    return COURSE_REPORTS


@dataclass(frozen=True)
class StoredResults:
    as_of: datetime  # when the figures were computed (UTC): the dashboard shows it
    results: dict[str, list[dict[str, Any]]]  # report name -> rows (JSON values, columns as above)


def _store() -> BlobStore:
    return S3BlobStore(get_settings().bucket_name)


def validate(scope: str, results: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The rows as JSON values, each checked against its report's row model; a report of another
    scope, or a row with missing or extra columns, raises ``ValueError``."""
    models = reports_of(scope)
    unknown = set(results) - set(models)
    if unknown:
        raise ValueError(f"reports {sorted(unknown)} are not reports of {scope!r}")
    return {
        name: [models[name].model_validate(row).model_dump(mode="json") for row in rows]
        for name, rows in results.items()
    }


def store(
    scope: str, results: dict[str, list[dict[str, Any]]], as_of: datetime, blobs: BlobStore | None = None
) -> None:
    """Replace the scope's stored results (one S3 PUT)."""
    body = {"scope": scope, "asOf": isoformat(as_of), "results": validate(scope, results)}
    (blobs or _store()).put(
        keys.analytics_results(scope), json.dumps(body, separators=(",", ":")).encode(), "application/json"
    )


def latest(scope: str, blobs: BlobStore | None = None) -> StoredResults | None:
    """The scope's latest stored results (one S3 GET), or None before the first refresh."""
    raw = (blobs or _store()).get(keys.analytics_results(scope))
    if raw is None:
        return None
    body = json.loads(raw)
    return StoredResults(as_of=datetime.fromisoformat(body["asOf"]), results=body["results"])
