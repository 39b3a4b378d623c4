"""Quiz settings: written on the draft, copied with the questions into each published version.

The owner writes a quiz lesson's settings on the draft (``keys.quiz_settings``, in the course
partition). Publishing captures version n of every quiz (``keys.quiz_version``): the settings and a
copy of every question the quiz can draw, answer keys included, so editing the bank never changes a
published quiz. Students read the version the course's pointer names (``keys.published_quiz``, a copy
refreshed on the first start after a publish: see :func:`published_quiz`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lms import keys
from lms.assessments.questions import Question, bank, shape_problem
from lms.assessments.scoring import GradingMethod
from lms.courses.courses import can_manage, get_course, require_manager
from lms.courses.lessons import find_lesson
from lms.entities import CAMEL_CASE, Course, EnrollmentStatus, Lesson, LessonType, UtcDatetime
from lms.errors import BusinessRuleError, ForbiddenError, NotFoundError
from lms.expressions import item_absent, lt
from lms.table import Item, Table

if TYPE_CHECKING:
    from lms.identity import Principal

MAX_ITEMS = 200
MAX_TIME_LIMIT_SECONDS = 7 * 24 * 3600


class ReviewLevel(StrEnum):
    """What a student sees of a submitted attempt, each setting including the previous ones."""

    NONE = "none"  # the status only
    SCORE = "score"  # score, percentage, passed
    FEEDBACK = "feedback"  # + each question's points and its feedback
    ANSWERS = "answers"  # + the answer keys


REVIEW_ORDER = list(ReviewLevel)


class _Model(BaseModel):
    model_config = ConfigDict(**CAMEL_CASE, populate_by_name=True, extra="forbid")


class FixedItem(_Model):
    question_id: Annotated[str, Field(min_length=1, max_length=64)]


class DrawnItem(_Model):
    category: Annotated[str, Field(min_length=1, max_length=100)]
    count: Annotated[int, Field(ge=1, le=MAX_ITEMS)]


class Review(_Model):
    after_submit: ReviewLevel = ReviewLevel.SCORE
    after_close: ReviewLevel = ReviewLevel.FEEDBACK


class QuizSettings(_Model):
    items: Annotated[list[FixedItem | DrawnItem], Field(min_length=1, max_length=MAX_ITEMS)]
    time_limit_seconds: Annotated[int, Field(ge=1, le=MAX_TIME_LIMIT_SECONDS)] | None = None
    opens_at: UtcDatetime | None = None
    closes_at: UtcDatetime | None = None
    max_attempts: Annotated[int, Field(ge=1, le=100)] | None = None
    grading_method: GradingMethod = GradingMethod.HIGHEST
    pass_percentage: Annotated[float, Field(ge=0, le=100)]
    shuffle_questions: bool = False
    shuffle_options: bool = False
    review: Review = Field(default_factory=Review)

    @model_validator(mode="after")
    def _opens_before_it_closes(self) -> QuizSettings:
        if self.opens_at and self.closes_at and self.opens_at >= self.closes_at:
            raise ValueError("opensAt must be before closesAt")
        return self

    def stored(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class PublishedQuiz(BaseModel):
    """A quiz as one published version has it: the settings and the questions it can draw."""

    model_config = ConfigDict(**CAMEL_CASE, populate_by_name=True, extra="ignore")

    lesson_id: str
    course_id: str
    version: int
    settings: QuizSettings
    questions: list[Question]
    missing_question_ids: list[str] = Field(default_factory=list)

    def item(self, key: keys.Key) -> Item:
        return {**key.as_item(), **self.model_dump(mode="json", by_alias=True, exclude_none=True)}


# --- the owner's side: the draft ------------------------------------------------------------------


def _quiz_lesson(table: Table, principal: Principal, lesson_id: str) -> tuple[Lesson, Course]:
    lesson = find_lesson(table, lesson_id)
    course = get_course(table, lesson.course_id)
    require_manager(principal, course)
    if lesson.type != LessonType.QUIZ:
        raise BusinessRuleError(f"Lesson {lesson_id} is a {lesson.type.value} lesson, not a quiz.")
    return lesson, course


def put_settings(table: Table, principal: Principal, lesson_id: str, settings: QuizSettings) -> QuizSettings:
    """The draft's settings; students get them with the next published version."""
    lesson, _ = _quiz_lesson(table, principal, lesson_id)
    table.put(
        {
            **keys.quiz_settings(lesson.course_id, lesson_id).as_item(),
            "lessonId": lesson_id,
            "courseId": lesson.course_id,
            "settings": settings.stored(),
        }
    )
    return settings


def draft_settings(table: Table, course_id: str, lesson_id: str) -> QuizSettings | None:
    item = table.get(keys.quiz_settings(course_id, lesson_id), consistent=True)
    return QuizSettings.model_validate(item["settings"]) if item else None


def quiz_for(table: Table, principal: Principal, lesson_id: str) -> tuple[QuizSettings, bool]:
    """The settings a caller may read, and whether the caller manages the course (sees answer keys).

    The owner and admins read the draft; an enrolled student reads the published version.
    """
    lesson = find_lesson(table, lesson_id)
    course = get_course(table, lesson.course_id)
    if can_manage(principal, course):
        settings = draft_settings(table, lesson.course_id, lesson_id)
        if settings is None:
            raise NotFoundError(f"Lesson {lesson_id} has no quiz settings yet.")
        return settings, True
    enrollment = table.get(keys.enrollment(principal.user_id, lesson.course_id))
    if not enrollment or enrollment.get("status") != EnrollmentStatus.ACTIVE.value:
        raise ForbiddenError("Only students enrolled in this course read its quizzes.")
    return published_quiz(table, lesson_id).settings, False


# --- publishing: the version's copy -----------------------------------------------------------------


def capture(table: Table, course_id: str, lessons: list[Lesson], version: int) -> None:
    """Copy every quiz of the version with the questions it can draw (once: a retry keeps the first)."""
    quizzes = [lesson for lesson in lessons if lesson.type == LessonType.QUIZ]
    if not quizzes:
        return
    questions = bank(table, course_id)
    for lesson in quizzes:
        settings = draft_settings(table, course_id, lesson.lesson_id)
        if settings is None:
            continue  # the checklist says so (QUIZ_NOT_SET_UP)
        table.put_if(
            build_version(course_id, lesson.lesson_id, version, settings, questions).item(
                keys.quiz_version(lesson.lesson_id, version)
            ),
            when=item_absent(),
        )


def build_version(
    course_id: str, lesson_id: str, version: int, settings: QuizSettings, questions: list[Question]
) -> PublishedQuiz:
    by_id = {q.question_id: q for q in questions}
    chosen: dict[str, Question] = {}
    missing: list[str] = []
    for entry in settings.items:
        if isinstance(entry, FixedItem):
            found = by_id.get(entry.question_id)
            if found is None:
                missing.append(entry.question_id)
            else:
                chosen[found.question_id] = found
        else:
            chosen.update({q.question_id: q for q in questions if q.category == entry.category})
    return PublishedQuiz(
        lesson_id=lesson_id,
        course_id=course_id,
        version=version,
        settings=settings,
        questions=list(chosen.values()),
        missing_question_ids=missing,
    )


def quiz_problems(item: Item | None) -> list[tuple[str, str]]:
    """The launch checklist's quiz rules: it can be taken (enough questions per drawn category, each
    fixed question still in the bank) and every question is complete. ``(code, message)`` pairs."""
    if item is None:
        return [("QUIZ_NOT_SET_UP", "The quiz has no settings: PUT /lessons/{lessonId}/quiz.")]
    quiz = PublishedQuiz.model_validate(item)
    problems = [
        ("QUIZ_QUESTION_MISSING", f"Question {question_id} is no longer in the bank.")
        for question_id in quiz.missing_question_ids
    ]
    fixed = {e.question_id for e in quiz.settings.items if isinstance(e, FixedItem)}
    for entry in quiz.settings.items:
        if isinstance(entry, DrawnItem):
            available = [
                q for q in quiz.questions if q.category == entry.category and q.question_id not in fixed
            ]
            if len(available) < entry.count:
                problems.append(
                    (
                        "QUIZ_CATEGORY_TOO_SMALL",
                        f"Category {entry.category!r} has {len(available)} question(s); "
                        f"the quiz draws {entry.count}.",
                    )
                )
    for question in quiz.questions:
        problem = shape_problem(question)
        if problem:
            problems.append(("QUIZ_QUESTION_INCOMPLETE", f"Question {question.question_id}: {problem}."))
    return problems


# --- the students' side: the published version ------------------------------------------------------


def published_quiz(table: Table, lesson_id: str, found: Item | None = None) -> PublishedQuiz:
    """The quiz of the course's published version (``found``: the copy a batch read already has)."""
    if found is not None:
        return PublishedQuiz.model_validate(found)
    item = table.get(keys.published_quiz(lesson_id))
    return PublishedQuiz.model_validate(item) if item else refresh_published(table, lesson_id)


def refresh_published(table: Table, lesson_id: str) -> PublishedQuiz:
    """Copy the version the course's pointer names to ``keys.published_quiz`` (never backwards)."""
    lesson = find_lesson(table, lesson_id)
    pointer = table.get(keys.published_pointer(lesson.course_id), consistent=True)
    if pointer is None or lesson.type != LessonType.QUIZ:
        raise NotFoundError(f"No published quiz with lesson id {lesson_id}.")
    version = int(pointer["publishedVersion"])
    item = table.get(keys.quiz_version(lesson_id, version), consistent=True)
    if item is None:
        raise NotFoundError(f"Version {version} of the course has no quiz {lesson_id}.")
    table.put_if(
        {**item, **keys.published_quiz(lesson_id).as_item()},
        when=item_absent() | lt("version", version),
    )
    return PublishedQuiz.model_validate(item)


def effective_window(
    settings: QuizSettings, closes_at_override: datetime | None
) -> tuple[datetime | None, datetime | None]:
    """(opens, closes) for one student: an override's later close replaces the quiz's."""
    return settings.opens_at, closes_at_override or settings.closes_at
