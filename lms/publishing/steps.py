"""The steps the publishing workflow drives: capture and check a version, review the checklist, publish.

The checklist's problems are kept in the table, next to the version they are about
(``keys.checklist_problems``), never carried through the run's state: each check answers how many
problems it found, and the run's record holds the count and the first few. However many problems
a course has, the state stays far below the orchestrator's payload limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lms import keys
from lms.clock import isoformat, utcnow
from lms.courses.courses import read_course_partition, read_course_with_counters
from lms.entities import CourseStatus
from lms.errors import BusinessRuleError, NotFoundError
from lms.events import Actor, CoursePublished
from lms.expressions import Update, item_absent, item_exists, lt
from lms.publishing import approvals, snapshots
from lms.publishing.checklist import ChecklistFailure, check_course, check_lesson
from lms.publishing.publications import PublicationStatus, record, this_run
from lms.table import Change, Item, Put, Table

COURSE_POSITION = -1  # where the course's own problems are kept, before every lesson's
RECORDED_PROBLEMS = 20  # on the run's record; the API reads the rest from the table
REASON_PROBLEMS = 5  # named in the record's reason


@dataclass(frozen=True)
class Review:
    passed: bool
    needs_review: bool
    first_problems: list[ChecklistFailure]


def capture_snapshot(table: Table, course_id: str, version: int) -> tuple[list[dict[str, Any]], int]:
    """Freeze version ``version`` (course + lessons as they are now) and check the course itself.

    Returns the lessons to check one by one (position and id) and how many problems the course has.
    """
    found, lessons = read_course_partition(table, course_id)
    course = read_course_with_counters(found, course_id)
    if course is None:
        raise NotFoundError(f"No course with id {course_id}.")
    category_exists = table.get(keys.category(course.category_id)) is not None
    snapshots.capture(table, course, lessons, version)
    items = [{"position": position, "lessonId": lesson.lesson_id} for position, lesson in enumerate(lessons)]
    problems = check_course(course, lessons, category_exists=category_exists)
    _keep(table, course_id, version, COURSE_POSITION, "", problems)
    return items, len(problems)


def check_snapshot_lesson(table: Table, course_id: str, version: int, position: int, lesson_id: str) -> int:
    """Check one lesson of the version; its problems are kept in the table. Returns how many."""
    lesson = snapshots.snapshot_lesson(table, course_id, version, position, lesson_id)
    if lesson is None:
        problems = [
            ChecklistFailure(code="LESSON_MISSING", message="The lesson is missing.", lesson_id=lesson_id)
        ]
    else:
        quiz = table.get(keys.quiz_version(lesson_id, version), consistent=True)
        problems = check_lesson(lesson, quiz=quiz)
    _keep(table, course_id, version, position, lesson_id, problems)
    return len(problems)


def _keep(
    table: Table,
    course_id: str,
    version: int,
    position: int,
    lesson_id: str,
    problems: list[ChecklistFailure],
) -> None:
    if problems:  # a retried check writes the same item again
        table.put(
            {
                **keys.checklist_problems(course_id, version, position, lesson_id).as_item(),
                "problems": [p.model_dump(by_alias=True, exclude_none=True) for p in problems],
            }
        )


def checklist_problems(
    table: Table, course_id: str, version: int, *, limit: int | None = None
) -> list[ChecklistFailure]:
    """The version's problems, the course's first, then the lessons' in order (``limit``: the first)."""
    found: list[ChecklistFailure] = []
    cursor = None
    while limit is None or len(found) < limit:
        page = table.query(
            partition=(keys.PK, keys.snapshot_partition(course_id, version)),
            sort_prefix=(keys.SK, keys.CHECKLIST_PREFIX),
            limit=25,
            cursor=cursor,
        )
        for item in page.items:
            found.extend(ChecklistFailure.model_validate(p) for p in item.get("problems", []))
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    return found if limit is None else found[:limit]


def review_checklist(
    table: Table, course_id: str, version: int, execution_name: str, problem_count: int
) -> Review:
    """Record the checklist's results on the run's record: passed, how many problems, the first ones."""
    passed = problem_count == 0
    first = [] if passed else checklist_problems(table, course_id, version, limit=RECORDED_PROBLEMS)
    now = isoformat(utcnow())
    changes = Update().set(
        checklistPassed=passed,
        checklistCount=problem_count,
        checklist=[p.model_dump(by_alias=True, exclude_none=True) for p in first],
        updatedAt=now,
    )
    if not passed:
        named = "; ".join(p.message for p in first[:REASON_PROBLEMS])
        changes.set(
            status=PublicationStatus.CHECKLIST_FAILED.value,
            reason=f"The launch checklist found {problem_count} problem(s): {named}",
            finishedAt=now,
        )
    if record(table, course_id, execution_name, changes) is None:
        raise BusinessRuleError(f"The publication of {course_id} is no longer run {execution_name}'s.")
    if not passed:
        return Review(passed=False, needs_review=False, first_problems=first[:REASON_PROBLEMS])
    course = table.get(keys.course(course_id)) or {}
    profile = table.get(keys.publisher(str(course.get("instructorId", ""))), consistent=True) or {}
    first_publication = int(profile.get("publishedCount", 0)) == 0
    return Review(
        passed=True, needs_review=first_publication or bool(profile.get("requiresReview")), first_problems=[]
    )


@dataclass(frozen=True)
class Published:
    published_at: datetime
    event: dict[str, Any]  # the CoursePublished event's detail (lms/events.py), for NotifyPublished


def publish(
    table: Table,
    course_id: str,
    version: int,
    execution_name: str | None,
    *,
    requested_by: str | None = None,
) -> Published:
    """One transaction: the pointer to version ``version`` (listed in its category), the course
    PUBLISHED, the instructor's count of publications, and the run's record. Idempotent.

    ``requested_by`` (who asked for the publication) is the announced event's actor; the course's
    instructor when not given (the seed)."""
    snapshot = snapshots.snapshot_course(table, course_id, version)
    if snapshot is None:
        raise NotFoundError(f"Version {version} of course {course_id} was never captured.")
    if execution_name is not None:
        approvals.record_approved(table, course_id, version)  # if this run waited for one
    current = table.get(keys.published_pointer(course_id), consistent=True)
    if current is not None and int(current["publishedVersion"]) >= version:
        # A retry of a publish that happened.
        return _published(
            snapshot, version, datetime.fromisoformat(str(current["publishedAt"])), requested_by
        )
    published_at = utcnow()
    now = isoformat(published_at)
    writes: list[Put | Change] = [
        Put(
            snapshots.pointer_item(snapshot, published_at, listed=True),
            when=item_absent() | lt("publishedVersion", version),
        ),
        Change(
            keys.course(course_id),
            Update().set(status=CourseStatus.PUBLISHED.value, publishedAt=now),
            when=item_exists(),
        ),
        Change(keys.publisher(str(snapshot["instructorId"])), Update().add(publishedCount=1)),
    ]
    if execution_name is not None:
        writes.append(
            Change(
                keys.publication(course_id),
                Update()
                .set(status=PublicationStatus.PUBLISHED.value, publishedAt=now, finishedAt=now)
                .remove("reason"),
                when=this_run(execution_name),
            )
        )
    table.transact(
        writes,
        otherwise=BusinessRuleError(
            f"Version {version} of {course_id} can no longer be published by this run "
            "(a later version was published, the course was deleted, or the run was closed)."
        ),
    )
    return _published(snapshot, version, published_at, requested_by)


def _published(snapshot: Item, version: int, published_at: datetime, requested_by: str | None) -> Published:
    course_id = str(snapshot["courseId"])
    event = CoursePublished(
        # One announcement per published version: a retried Publish, or a re-driven run, repeats it.
        event_id=CoursePublished.id_for(course_id, str(version)),
        occurred_at=published_at,
        actor=Actor.user(requested_by or str(snapshot["instructorId"])),
        course_id=course_id,
        version=version,
        title=str(snapshot["title"]),
        category_id=str(snapshot["categoryId"]),
        instructor_id=str(snapshot["instructorId"]),
        published_at=published_at,
    )
    return Published(published_at=published_at, event=event.detail())
