"""Per-student overrides of a quiz or assignment lesson: extra time, extra attempts, a later close or due.

One item per (student, lesson) (``keys.quiz_override``). An override given while the student's attempt
is in progress moves that attempt's deadline at once (:func:`lms.assessments.attempts.apply_override`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from lms import keys
from lms.clock import utcnow
from lms.courses.courses import get_course, require_manager
from lms.courses.lessons import find_lesson
from lms.entities import Entity, LessonType, UtcDatetime
from lms.errors import BusinessRuleError
from lms.table import Item, Table

if TYPE_CHECKING:
    from lms.identity import Principal


class Override(Entity):
    lesson_id: str
    user_id: str
    extra_time_seconds: Annotated[int, Field(ge=0, le=7 * 24 * 3600)] = 0
    extra_attempts: Annotated[int, Field(ge=0, le=100)] = 0
    closes_at: UtcDatetime | None = None
    due_at: UtcDatetime | None = None
    updated_at: UtcDatetime = Field(default_factory=utcnow)


def override_from(item: Item | None) -> Override | None:
    return Override.from_item(item) if item else None


def get_override(table: Table, lesson_id: str, user_id: str) -> Override | None:
    """The student's override of the lesson, or None (the ``grading`` side reads ``due_at``)."""
    return override_from(table.get(keys.quiz_override(user_id, lesson_id), consistent=True))


def put_override(table: Table, principal: Principal, lesson_id: str, override: Override) -> Override:
    """Replace the student's override (owner instructor or admin of the lesson's course)."""
    lesson = find_lesson(table, lesson_id)
    require_manager(principal, get_course(table, lesson.course_id))
    if lesson.type not in (LessonType.QUIZ, LessonType.ASSIGNMENT):
        raise BusinessRuleError(f"Lesson {lesson_id} is a {lesson.type.value} lesson: nothing to override.")
    table.put({**keys.quiz_override(override.user_id, lesson_id).as_item(), **override.attributes()})
    return override
