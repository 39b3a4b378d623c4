"""Learning progress (docs/api.md, "Learning"): lesson progress, the enrollment's percentage, completion.

Which lessons count: those of the course's **current published version**, the lessons its
students see (a lesson added to the draft counts once it is published). The enrollment keeps a
**high-water mark**: its ``progressPercentage`` only ever rises, so a lesson deleted or added later
never takes away a percentage the student earned, and a completion, once reached (``isCompleted``
and ``completedAt``), stays. A lesson added after completion does not reopen the course; one added
before it does count (it lowers what the next post computes, but the stored percentage does not
fall).

No read-modify-write: every post is

1. one conditional ``UpdateItem`` of the enrollment (active only, else 403): ``lastAccessed``, and the
   lesson id ``ADD``-ed to the enrollment's set of completed lessons (a set union, so concurrent
   posts cannot lose each other's lessons);
2. one ``UpdateItem`` of the lesson's progress item (``ADD`` of the time spent);
3. one GetItem of the published pointer and one Query of that version's lessons, and the
   percentage written with ``SET ... IF progressPercentage < :new``: whichever post saw the most
   completed lessons stores the highest percentage, and a slower post with an older view cannot
   overwrite it.

A lesson, once completed, stays completed (``isCompleted: false`` only adds time).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from lms import events, keys
from lms.clock import isoformat, utcnow
from lms.entities import Enrollment, EnrollmentStatus, Lesson, LessonProgress, LessonType
from lms.errors import BusinessRuleError, ForbiddenError
from lms.expressions import Update, absent, eq, item_exists, lt
from lms.publishing import snapshots
from lms.table import Item, Table

COMPLETED_LESSONS = "completedLessons"


class NotEnrolledError(ForbiddenError):
    code = "NOT_ENROLLED"


class CompletedByGradingError(BusinessRuleError):
    code = "COMPLETED_BY_GRADING"


# Lessons completed by their grade (lms.assessments.grades), never by a progress post.
GRADED_LESSON_TYPES = frozenset({LessonType.QUIZ, LessonType.ASSIGNMENT})


def progress_percentage(completed: set[str], lesson_ids: set[str]) -> int:
    """Whole percent of the current lessons completed, rounded down: 100 only when all are done."""
    if not lesson_ids:
        return 0
    return len(completed & lesson_ids) * 100 // len(lesson_ids)


@dataclass(frozen=True)
class ProgressUpdate:
    lesson: LessonProgress
    enrollment: Enrollment
    # The certificate run the workflow wrote on the enrollment (None until one has started).
    certificate_execution_name: str | None


def course_lessons(table: Table, course_id: str) -> list[Lesson]:
    """The lessons progress counts: the course's published version, the one its students see."""
    pointer = table.get(keys.published_pointer(course_id))
    course = snapshots.published_course(pointer, None, enrolled=True)
    return snapshots.published_lessons(table, course) if course else []


def course_lesson_ids(table: Table, course_id: str) -> set[str]:
    return {lesson.lesson_id for lesson in course_lessons(table, course_id)}


def record_progress(
    table: Table, *, user_id: str, lesson: Lesson, is_completed: bool, time_spent: int
) -> ProgressUpdate:
    """Record a progress post of an enrolled student (see the module docstring for the rules).

    Quiz and assignment lessons complete through grading (:func:`complete_lesson_by_grading`),
    never through a progress post: 422 ``COMPLETED_BY_GRADING``.
    """
    if lesson.type in GRADED_LESSON_TYPES:
        raise CompletedByGradingError(
            f"A {lesson.type.value} lesson is completed by its grade, not by a progress post."
        )
    update = _record(
        table,
        user_id=user_id,
        course_id=lesson.course_id,
        lesson_id=lesson.lesson_id,
        is_completed=is_completed,
        time_spent=time_spent,
    )
    if update is None:
        raise NotEnrolledError("Only students enrolled in this course record progress in it.")
    return update


def complete_lesson_by_grading(
    table: Table, *, user_id: str, course_id: str, lesson_id: str
) -> ProgressUpdate | None:
    """A passing grade completes the lesson, with record_progress's atomic rules.

    None when the student is no longer enrolled (refunded): the grade stays on the record, the
    revoked enrollment is left as it is.
    """
    return _record(
        table, user_id=user_id, course_id=course_id, lesson_id=lesson_id, is_completed=True, time_spent=0
    )


class CertificateStarter(Protocol):
    """Starts certificate-<userId>-<courseId> (idempotent by name) and answers the run's name.

    The workflows layer provides it (``workflows.certificate.start_issuance_run``): the domain
    never imports the orchestrator.
    """

    def __call__(self, *, user_id: str, course_id: str, verify_url_base: str) -> str: ...


def start_certificate_if_completed(
    update: ProgressUpdate,
    *,
    user_id: str,
    course_id: str,
    verify_url_base: str,
    start: CertificateStarter,
) -> str | None:
    """Start issuance when the course is completed and no run is on the enrollment yet.

    Called on every progress post or passing grade that finds the course completed: the name
    certificate-<userId>-<courseId> makes repeats find the first run. Returns the run's name.
    """
    if not update.enrollment.is_completed or update.certificate_execution_name:
        return update.certificate_execution_name
    return start(user_id=user_id, course_id=course_id, verify_url_base=verify_url_base)


def _record(
    table: Table, *, user_id: str, course_id: str, lesson_id: str, is_completed: bool, time_spent: int
) -> ProgressUpdate | None:
    now = isoformat(utcnow())
    enrollment_key = keys.enrollment(user_id, course_id)
    visit = Update().set(lastAccessed=now)
    if is_completed:
        visit.add({COMPLETED_LESSONS: {lesson_id}})  # a set union: concurrent posts all count
    enrollment_item = table.update_if(enrollment_key, visit, when=eq("status", EnrollmentStatus.ACTIVE.value))
    if enrollment_item is None:
        return None
    progress = Update().set(userId=user_id, courseId=course_id, lessonId=lesson_id, updatedAt=now)
    if is_completed:
        progress.set(isCompleted=True)
    else:
        progress.set_if_absent(isCompleted=False)  # once completed, a lesson stays completed
    lesson_item = table.update(
        keys.lesson_progress(user_id, course_id, lesson_id),
        progress.add(timeSpentSeconds=time_spent),
    )
    completed = set(enrollment_item.get(COMPLETED_LESSONS) or [])
    earned = progress_percentage(completed, course_lesson_ids(table, course_id))
    enrollment_item = _raise_percentage(table, enrollment_key, enrollment_item, earned, now)
    update = ProgressUpdate(
        lesson=LessonProgress.from_item(lesson_item),
        enrollment=Enrollment.from_item(enrollment_item),
        certificate_execution_name=enrollment_item.get("certificateExecutionName"),
    )
    events.publish_for_analytics(
        events.LessonProgressRecorded(
            actor=events.Actor.user(user_id),
            user_id=user_id,
            course_id=course_id,
            lesson_id=lesson_id,
            is_completed=update.lesson.is_completed,
            time_spent_seconds=time_spent,
            progress_percentage=update.enrollment.progress_percentage,
        )
    )
    return update


def _raise_percentage(table: Table, key: keys.Key, current: Item, earned: int, now: str) -> Item:
    """Store ``earned`` if it beats the stored percentage (the high-water mark); 100 completes."""
    if earned <= int(current.get("progressPercentage", 0)):
        return current
    changes = Update().set(progressPercentage=earned)
    if earned == 100:
        changes.set(isCompleted=True).set_if_absent(completedAt=now)
    stored = table.update_if(
        key, changes, when=item_exists() & (absent("progressPercentage") | lt("progressPercentage", earned))
    )
    # None: a concurrent post stored a higher percentage first, and that one stands.
    return stored if stored is not None else table.get(key, consistent=True) or current


def list_enrollments(
    table: Table, user_id: str, *, limit: int, cursor: str | None
) -> tuple[list[Enrollment], str | None]:
    page = table.query(
        partition=(keys.PK, keys.user_index(user_id)),
        sort_prefix=(keys.SK, keys.ENROLLMENT_PREFIX),
        limit=limit,
        cursor=cursor,
    )
    return [Enrollment.from_item(item) for item in page.items], page.next_cursor


def lesson_progress(table: Table, user_id: str, course_id: str) -> dict[str, LessonProgress]:
    """The student's progress items of one course, by lesson id."""
    items = table.query_all(
        partition=(keys.PK, keys.user_index(user_id)),
        sort_prefix=(keys.SK, keys.course_progress_prefix(course_id)),
    )
    return {str(item["lessonId"]): LessonProgress.from_item(item) for item in items}
