"""Published versions: immutable snapshots of a course and its lessons, and the pointer to the current one.

A version's snapshot is captured into its own partition before anything is checked, so what is
checked, approved and published is the same thing whatever the instructor edits meanwhile. The
pointer (``keys.published_pointer``) is written last, in the publish transaction: a reader that
follows it only ever finds a complete version. :func:`published_course` and
:func:`published_lessons` are the only way anyone but the owner or an admin reads a course.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lms import keys
from lms.entities import Course, CourseStatus, Lesson
from lms.table import TRANSACTION_LIMIT, Item, Put, Table

# Counters live on their own item; a snapshot never freezes them.
COUNTER_FIELDS = ("enrollmentCount", "revenueCents")
# TransactWriteItems takes at most 100 operations: a bigger snapshot is written in several.


def snapshot_course_item(course: Course, version: int, lesson_count: int) -> Item:
    attributes = {k: v for k, v in course.attributes().items() if k not in COUNTER_FIELDS}
    return {
        **keys.snapshot_course(course.course_id, version).as_item(),
        **attributes,
        "publishedVersion": version,
        "lessonCount": lesson_count,
    }


def snapshot_lesson_item(lesson: Lesson, version: int, position: int) -> Item:
    return {
        **keys.snapshot_lesson(lesson.course_id, version, position, lesson.lesson_id).as_item(),
        **lesson.attributes(),
    }


def capture(table: Table, course: Course, lessons: list[Lesson], version: int) -> Course:
    """Write version ``version``'s snapshot once; a retry finds the first capture and keeps it.

    Lessons first, the course item (the version marker) last, in chunks of at most 100 writes.
    """
    existing = table.get(keys.snapshot_course(course.course_id, version), consistent=True)
    if existing is not None:
        return Course.from_item(existing)
    writes = [Put(snapshot_lesson_item(lesson, version, i)) for i, lesson in enumerate(lessons)]
    writes.append(Put(snapshot_course_item(course, version, len(lessons))))
    # Quizzes first, with a copy of the questions each can draw: the version never follows the bank.
    from lms.assessments import quizzes  # the assessments package builds on this one

    quizzes.capture(table, course.course_id, lessons, version)
    for start in range(0, len(writes), TRANSACTION_LIMIT):
        table.transact(writes[start : start + TRANSACTION_LIMIT])
    return course


def snapshot_lesson(
    table: Table, course_id: str, version: int, position: int, lesson_id: str
) -> Lesson | None:
    item = table.get(keys.snapshot_lesson(course_id, version, position, lesson_id), consistent=True)
    return Lesson.from_item(item) if item else None


def snapshot_course(table: Table, course_id: str, version: int) -> Item | None:
    return table.get(keys.snapshot_course(course_id, version), consistent=True)


# Keys and index keys are the pointer's own (an unlisted pointer has no index keys at all).
_NOT_COPIED = frozenset({keys.PK, keys.SK, keys.GSI1PK, keys.GSI1SK, keys.GSI2PK, keys.GSI2SK, "lessonCount"})


def pointer_item(snapshot: Item, published_at: datetime, *, listed: bool) -> Item:
    """The current version as students read it; while ``listed`` it is what the catalog lists."""
    course_id = str(snapshot["courseId"])
    moment = published_at.isoformat()
    body: dict[str, Any] = {
        k: v for k, v in snapshot.items() if k not in _NOT_COPIED and k not in COUNTER_FIELDS
    }
    body.update(
        {
            **keys.published_pointer(course_id).as_item(),
            "status": (CourseStatus.PUBLISHED if listed else CourseStatus.DRAFT).value,
            "publishedAt": moment,
        }
    )
    if listed:
        body.update(
            {
                keys.GSI1PK: keys.category_index(str(snapshot["categoryId"])),
                keys.GSI1SK: keys.published_in_category_sort(moment, course_id),
                keys.GSI2PK: keys.course_status_index(CourseStatus.PUBLISHED.value),
                keys.GSI2SK: f"{moment}#{course_id}",
            }
        )
    return body


def published_course(pointer: Item | None, counters: Item | None, *, enrolled: bool) -> Course | None:
    """The course a student sees: the listed version, or the last one for students enrolled in it."""
    if pointer is None or not (enrolled or pointer.get("status") == CourseStatus.PUBLISHED.value):
        return None
    values = {name: counters[name] for name in COUNTER_FIELDS if counters and name in counters}
    return Course.from_item({**pointer, **values})


def published_lessons(table: Table, course: Course) -> list[Lesson]:
    """The lessons of the course's published version, in their published order (one Query)."""
    if course.published_version is None:
        return []
    items = table.query_all(
        partition=(keys.PK, keys.snapshot_partition(course.course_id, course.published_version)),
        sort_prefix=(keys.SK, keys.LESSON_PREFIX),
    )
    return [Lesson.from_item(item) for item in items]
