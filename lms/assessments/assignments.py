"""Assignment settings (docs/assessments-grading.md): what a lesson of type ``assignment`` asks for.

One item per lesson (``keys.assignment_settings``): instructions, an optional due time, points and
the pass mark, the late policy (refused, or accepted with a penalty per day late) and what a file
submission may be (content types, size). Only the course's instructor or an admin sets them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import Field

from lms import keys
from lms.courses import courses, lessons
from lms.entities import Entity, LessonType, UtcDatetime
from lms.errors import BusinessRuleError, ForbiddenError, ValidationError
from lms.table import Table

if TYPE_CHECKING:
    from lms.identity import Principal  # annotations only: task packages have no argon2 or jwt

DEFAULT_CONTENT_TYPES = ("application/pdf", "text/plain", "image/png", "image/jpeg", "application/zip")
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
LARGEST_MAX_BYTES = 500 * 1024 * 1024
DAY = timedelta(days=1)


class NotAnAssignmentError(BusinessRuleError):
    code = "NOT_AN_ASSIGNMENT"


class AssignmentNotConfiguredError(BusinessRuleError):
    code = "ASSIGNMENT_NOT_CONFIGURED"


class AssignmentSettings(Entity):
    course_id: str
    lesson_id: str
    instructions: str
    due_at: UtcDatetime | None = None
    max_points: float = Field(gt=0)
    pass_points: float = Field(ge=0)
    allow_late: bool = False
    late_penalty_percent_per_day: float = Field(default=0, ge=0, le=100)
    content_types: list[str] = Field(default_factory=lambda: list(DEFAULT_CONTENT_TYPES))
    max_bytes: int = Field(default=DEFAULT_MAX_BYTES, ge=1, le=LARGEST_MAX_BYTES)
    updated_by: str
    updated_at: UtcDatetime


@dataclass(frozen=True)
class Lateness:
    late: bool
    days_late: int  # whole days or part days past the due time (0 when on time)
    penalty_percent: float  # taken off the grader's points (capped at 100)


def lateness(settings: AssignmentSettings, submitted_at: datetime, due_at: datetime | None) -> Lateness:
    """How late work submitted at ``submitted_at`` is against ``due_at`` (the student's or the lesson's)."""
    if due_at is None or submitted_at <= due_at:
        return Lateness(late=False, days_late=0, penalty_percent=0.0)
    days = math.ceil((submitted_at - due_at) / DAY)
    return Lateness(
        late=True, days_late=days, penalty_percent=min(100.0, days * settings.late_penalty_percent_per_day)
    )


def penalised_points(points: float, penalty_percent: float) -> float:
    """The grader's points less the late penalty, to two decimals."""
    return round(points * (100.0 - penalty_percent) / 100.0, 2)


def put_settings(
    table: Table,
    principal: Principal,
    lesson_id: str,
    *,
    instructions: str,
    due_at: datetime | None,
    max_points: float,
    pass_points: float,
    allow_late: bool,
    late_penalty_percent_per_day: float | None,
    content_types: list[str] | None,
    max_bytes: int | None,
    now: datetime,
) -> AssignmentSettings:
    lesson = lessons.find_lesson(table, lesson_id)
    if not courses.can_manage(principal, courses.get_course(table, lesson.course_id)):
        raise ForbiddenError("Only the course's instructor or an administrator may set its assignments.")
    if lesson.type != LessonType.ASSIGNMENT:
        raise NotAnAssignmentError(f"The lesson is a {lesson.type.value} lesson, not an assignment.")
    if pass_points > max_points:
        raise ValidationError("passPoints cannot be more than maxPoints.")
    if late_penalty_percent_per_day and not allow_late:
        raise ValidationError("latePenaltyPercentPerDay applies only when allowLate is true.")
    settings = AssignmentSettings(
        course_id=lesson.course_id,
        lesson_id=lesson_id,
        instructions=instructions,
        due_at=due_at,
        max_points=max_points,
        pass_points=pass_points,
        allow_late=allow_late,
        late_penalty_percent_per_day=late_penalty_percent_per_day or 0,
        content_types=sorted(set(content_types)) if content_types else list(DEFAULT_CONTENT_TYPES),
        max_bytes=max_bytes or DEFAULT_MAX_BYTES,
        updated_by=principal.user_id,
        updated_at=now,
    )
    table.put({**keys.assignment_settings(lesson_id).as_item(), **settings.attributes()})
    return settings


def get_settings(table: Table, lesson_id: str) -> AssignmentSettings | None:
    item = table.get(keys.assignment_settings(lesson_id))
    return AssignmentSettings.from_item(item) if item else None


def require_settings(table: Table, lesson_id: str) -> AssignmentSettings:
    found = get_settings(table, lesson_id)
    if found is None:
        raise AssignmentNotConfiguredError("This assignment has no settings yet; it takes no submissions.")
    return found
