"""A known event set for the analytics reports, with its figures worked out by hand.

Shared by the SQL test (the events as Parquet, queried on DuckDB) and the workflow test (the same
events published on the bus, routed to the local lake, queried through the local Athena). Times are
relative to today (the daily reports cover the last 366 days; at-risk means 14 days without
activity), at noon UTC of each day.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from lms import events
from lms.analytics import lake
from lms.entities import Role

COURSE, FREE_COURSE = "c1course", "c2course"
LESSONS = [("l1", "Welcome"), ("l2", "Basics"), ("l3", "Wrap-up")]
FREE_LESSONS = [("m1", "Only lesson")]


def noon(days_ago: int) -> datetime:
    today = datetime.now(UTC).date()
    return datetime(today.year, today.month, today.day, 12, tzinfo=UTC) - timedelta(days=days_ago)


def day(days_ago: int) -> str:
    return noon(days_ago).date().isoformat()


def envelope(
    detail_type: str, source: str, detail: dict[str, Any], *, event_id: str | None = None
) -> dict[str, Any]:
    """An event as EventBridge delivers it to a rule's target."""
    return {
        "version": "0",
        "id": event_id or uuid.uuid4().hex,
        "detail-type": detail_type,
        "source": source,
        "account": "123456789012",
        "time": detail.get("occurredAt", ""),
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def delivered(event: events.Event) -> dict[str, Any]:
    return envelope(event.name, event.source, event.detail())


def _graded(user: str, attempt: int, scores: list[tuple[str, float, float]], days_ago: int) -> dict[str, Any]:
    """AttemptGraded as the quiz workflow announces it (the fields the questions report reads)."""
    detail = {
        "eventId": uuid.uuid4().hex,
        "occurredAt": f"{day(days_ago)}T12:00:00.000Z",
        "schemaVersion": 1,
        "actor": {"type": "system", "id": "attempt"},
        "verb": "graded",
        "object": {"type": "attempt", "id": f"{user}-{attempt}"},
        "result": "graded",
        "courseId": COURSE,
        "userId": user,
        "attemptNumber": attempt,
        "score": sum(score for _, score, _ in scores),
        "maxScore": sum(top for _, _, top in scores),
        "questions": [{"questionId": q, "score": s, "maxScore": m} for q, s, m in scores],
    }
    return envelope("AttemptGraded", "lms.assessments", detail)


def _post(user: str, thread: str, post: str, days_ago: int) -> dict[str, Any]:
    detail = {
        "eventId": uuid.uuid4().hex,
        "occurredAt": f"{day(days_ago)}T12:00:00.000Z",
        "schemaVersion": 1,
        "actor": {"type": "user", "id": user},
        "verb": "posted",
        "object": {"type": "post", "id": post},
        "result": "posted",
        "courseId": COURSE,
        "userId": user,
        "threadId": thread,
        "postId": post,
    }
    return envelope("PostCreated", "lms.discussions", detail)


def _execution(workflow: str, status: str, outcome: str | None, days_ago: int) -> dict[str, Any]:
    name = uuid.uuid4().hex
    output = None if status != "SUCCEEDED" else (json.dumps({"outcome": outcome}) if outcome else "{}")
    return {
        "version": "0",
        "id": uuid.uuid4().hex,
        "detail-type": lake.EXECUTION_STATUS_CHANGE,
        "source": lake.EXECUTION_STATUS_SOURCE,
        "account": "123456789012",
        "time": f"{day(days_ago)}T12:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "executionArn": f"arn:aws:states:us-east-1:123456789012:execution:lms-{workflow}:{name}",
            "stateMachineArn": f"arn:aws:states:us-east-1:123456789012:stateMachine:lms-{workflow}",
            "name": name,
            "status": status,
            "input": "{}",
            "output": output,
        },
    }


def _enrol(user: str, course: str, transaction: str, amount: int, days_ago: int) -> list[dict[str, Any]]:
    at = noon(days_ago)
    return [
        delivered(
            events.EnrollmentCreated(
                event_id=events.EnrollmentCreated.id_for(transaction),
                occurred_at=at,
                actor=events.Actor.user(user),
                transaction_id=transaction,
                user_id=user,
                course_id=course,
                amount=amount,
                enrolled_at=at,
            )
        ),
        delivered(
            events.PurchaseCompleted(
                event_id=events.PurchaseCompleted.id_for(transaction),
                occurred_at=at,
                actor=events.Actor.user(user),
                transaction_id=transaction,
                user_id=user,
                course_id=course,
                amount=amount,
            )
        ),
    ]


def _progress(user: str, lesson: str, completed: bool, percentage: int, days_ago: int, course: str = COURSE):
    return delivered(
        events.LessonProgressRecorded(
            occurred_at=noon(days_ago),
            actor=events.Actor.user(user),
            user_id=user,
            course_id=course,
            lesson_id=lesson,
            is_completed=completed,
            time_spent_seconds=60,
            progress_percentage=percentage,
        )
    )


def _registered(user: str, role: Role, days_ago: int) -> dict[str, Any]:
    return delivered(
        events.UserRegistered(
            occurred_at=noon(days_ago), actor=events.Actor.user(user), user_id=user, role=role
        )
    )


def known_events() -> list[dict[str, Any]]:
    """The event set (each once); the figures below are what it must give."""
    found = [
        _registered("u1", Role.STUDENT, 10),
        _registered("u2", Role.STUDENT, 10),
        _registered("u3", Role.STUDENT, 9),
        _registered("u4", Role.STUDENT, 30),
        _registered("u5", Role.STUDENT, 30),
        _registered("i1", Role.INSTRUCTOR, 40),
        *_enrol("u1", COURSE, "t1", 1000, 10),
        *_enrol("u2", COURSE, "t2", 1000, 10),
        *_enrol("u3", COURSE, "t3", 1000, 9),
        *_enrol("u4", COURSE, "t4", 1000, 30),
        *_enrol("u5", COURSE, "t5", 1000, 30),
        *_enrol("u1", FREE_COURSE, "t6", 0, 5),
        delivered(
            events.EnrollmentRevoked(
                occurred_at=noon(29),
                actor=events.Actor.user("admin"),
                transaction_id="t5",
                user_id="u5",
                course_id=COURSE,
                reason="requested by the student",
            )
        ),
        # u1 completes the course in 3 days, u2 in 5; u3 is half-way; u4 stalled 28 days ago; u5
        # was refunded (never counted); u1 completes the free course in 1 day.
        _progress("u1", "l1", True, 33, 9),
        _progress("u1", "l2", True, 67, 8),
        _progress("u1", "l3", True, 100, 7),
        _progress("u2", "l1", True, 33, 10),
        _progress("u2", "l2", True, 67, 9),
        _progress("u2", "l3", True, 100, 5),
        _progress("u3", "l1", False, 0, 8),
        _progress("u3", "l1", True, 33, 8),
        _progress("u3", "l2", False, 33, 8),
        _progress("u4", "l1", True, 33, 28),
        _progress("u5", "l1", True, 33, 29),
        _progress("u1", "m1", True, 100, 4, course=FREE_COURSE),
        # First attempts of u1, u2, u3; u2's second attempt is not counted.
        _graded("u1", 1, [("q1", 1, 1), ("q2", 2, 2)], 6),
        _graded("u2", 1, [("q1", 0, 1), ("q2", 2, 2)], 6),
        _graded("u3", 1, [("q1", 1, 1), ("q2", 0, 2)], 6),
        _graded("u2", 2, [("q1", 1, 1), ("q2", 2, 2)], 6),
        _post("u1", "th1", "p1", 6),
        _post("u2", "th1", "p2", 6),
        _post("u1", "th1", "p3", 6),
        _post("u3", "th2", "p4", 6),
        _execution("purchase", "SUCCEEDED", "completed", 10),
        _execution("purchase", "SUCCEEDED", "completed", 10),
        _execution("purchase", "FAILED", None, 10),
        _execution("certificate", "SUCCEEDED", "issued", 7),
        _execution("certificate", "SUCCEEDED", None, 7),
    ]
    return found


def lessons_of(course_id: str) -> list[tuple[str, str | None]]:
    return {COURSE: list(LESSONS), FREE_COURSE: list(FREE_LESSONS)}.get(course_id, [])  # type: ignore[arg-type]


def expected_course() -> dict[str, list[dict[str, Any]]]:
    """The course's figures, by hand."""
    return {
        "enrollments_per_day": [
            {"day": day(30), "enrollments": 2},
            {"day": day(10), "enrollments": 2},
            {"day": day(9), "enrollments": 1},
        ],
        "revenue_per_day": [
            {"day": day(30), "currency": "usd", "amount_cents": 2000},
            {"day": day(10), "currency": "usd", "amount_cents": 2000},
            {"day": day(9), "currency": "usd", "amount_cents": 1000},
        ],
        # Active enrollments u1-u4 (u5 refunded): l1 reached by all four and completed by all
        # four (u3 completed it after an in-progress post); l2 reached by u1, u2, u3, completed by
        # u1, u2; l3 by u1 and u2.
        "funnel": [
            {"position": 1, "lesson_id": "l1", "title": "Welcome", "reached": 4, "completed": 4},
            {"position": 2, "lesson_id": "l2", "title": "Basics", "reached": 3, "completed": 2},
            {"position": 3, "lesson_id": "l3", "title": "Wrap-up", "reached": 2, "completed": 2},
        ],
        # 2 of 4 completed, in 3 and 5 days: the median of two values is their mean.
        "completion": [
            {"enrolled": 4, "completed": 2, "completion_rate": 0.5, "median_days_to_complete": 4.0}
        ],
        # u4: last seen 28 days ago at 33 %. u3 was active 8 days ago; u5 is refunded.
        "at_risk": [{"user_id": "u4", "last_activity_at": f"{day(28)}T12:00:00Z", "progress_percentage": 33}],
        # First attempts: q1 scores 1, 0, 1 of 1 (facility 2/3), the rest of each attempt 2, 2, 0;
        # q2 scores 2, 2, 0 of 2 (facility 2/3), the rest 1, 0, 1. Both correlations are
        # (-2/3) / sqrt(6/9 * 24/9) = -0.5.
        "questions": [
            {"question_id": "q1", "attempts": 3, "facility_index": 2 / 3, "discrimination_index": -0.5},
            {"question_id": "q2", "attempts": 3, "facility_index": 2 / 3, "discrimination_index": -0.5},
        ],
        # th1 (p1, replies p2, p3) and th2 (p4): 2 threads, 2 replies, posters u1, u2, u3.
        "forum": [{"threads": 2, "replies": 2, "posters": 3}],
    }


def expected_platform() -> dict[str, list[dict[str, Any]]]:
    return {
        "revenue_per_day": [
            {"day": day(30), "currency": "usd", "amount_cents": 2000},
            {"day": day(10), "currency": "usd", "amount_cents": 2000},
            {"day": day(9), "currency": "usd", "amount_cents": 1000},
        ],
        "revenue_per_course": [{"course_id": COURSE, "currency": "usd", "amount_cents": 5000}],
        "registrations_per_day": [
            {"day": day(40), "registrations": 1},
            {"day": day(30), "registrations": 2},
            {"day": day(10), "registrations": 2},
            {"day": day(9), "registrations": 1},
        ],
        # Learning activity per day (progress, attempts, posts): 29 u5; 28 u4; 10 u2; 9 u1 u2;
        # 8 u1 u3; 7 u1; 6 u1 u2 u3; 5 u2; 4 u1. Weekly: the distinct learners of days N..N+6 ago.
        "active_learners": [
            {"day": day(29), "daily": 1, "weekly": 1},
            {"day": day(28), "daily": 1, "weekly": 2},
            {"day": day(10), "daily": 1, "weekly": 1},
            {"day": day(9), "daily": 2, "weekly": 2},
            {"day": day(8), "daily": 2, "weekly": 3},
            {"day": day(7), "daily": 1, "weekly": 3},
            {"day": day(6), "daily": 3, "weekly": 3},
            {"day": day(5), "daily": 1, "weekly": 3},
            {"day": day(4), "daily": 1, "weekly": 3},
        ],
        "enrollments_per_day": [
            {"day": day(30), "enrollments": 2},
            {"day": day(10), "enrollments": 2},
            {"day": day(9), "enrollments": 1},
            {"day": day(5), "enrollments": 1},
        ],
        # 5 active enrollments (4 + the free course), 3 completed in 3, 5 and 1 days: median 3.
        "completion": [
            {"enrolled": 5, "completed": 3, "completion_rate": 0.6, "median_days_to_complete": 3.0}
        ],
        "workflows": [
            {
                "day": day(10),
                "workflow": "purchase",
                "succeeded": 2,
                "outcomes": {"completed": 2},
                "failed": 1,
            },
            {
                "day": day(7),
                "workflow": "certificate",
                "succeeded": 2,
                "outcomes": {"issued": 1},
                "failed": 0,
            },
        ],
    }


def expected_free_course_completion() -> list[dict[str, Any]]:
    return [{"enrolled": 1, "completed": 1, "completion_rate": 1.0, "median_days_to_complete": 1.0}]


def as_dates(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with their ``day`` as a date (for comparing with the stored JSON)."""
    return [{**row, "day": date.fromisoformat(row["day"])} if "day" in row else row for row in rows]
