"""Lessons: created, edited and deleted on the draft, each write together with the course's total of
lesson seconds (``lessonSeconds``, from which the course's duration is derived); and the outline a
caller reads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lms import keys
from lms.courses.courses import (
    can_manage,
    course_as_seen,
    get_course,
    manageable_course_with_lessons,
    read_course_partition,
    require_manager,
)
from lms.entities import Course, Lesson
from lms.errors import BusinessRuleError, ConflictError, NotFoundError
from lms.expressions import Update, eq, item_absent, item_exists
from lms.publishing import snapshots
from lms.table import Change, Delete, Item, Put, Table, Write

if TYPE_CHECKING:
    from lms.identity import Principal  # only annotations: tasks must not import argon2 and jwt

MAX_LESSONS_PER_COURSE = 200


def lesson_item(lesson: Lesson) -> Item:
    return {
        **keys.lesson(lesson.course_id, lesson.lesson_id).as_item(),
        keys.GSI1PK: keys.lesson_index(lesson.lesson_id),
        keys.GSI1SK: keys.lesson_index(lesson.lesson_id),
        **lesson.attributes(),
    }


def course_seconds(course_id: str, delta: int) -> Change:
    """The course's total of lesson seconds moved by ``delta`` (the course must exist)."""
    return Change(keys.course(course_id), Update().add(lessonSeconds=delta), when=item_exists())


@dataclass(frozen=True)
class CourseOutline:
    course: Course
    lessons: list[Lesson]
    full_content: bool
    # lessonId -> the lesson's video record (lms.video.records), only with full content.
    videos: dict[str, Item] = field(default_factory=dict)


def course_outline(
    table: Table, principal: Principal | None, course_id: str, found: dict[keys.Key, Item], *, enrolled: bool
) -> CourseOutline:
    """The lessons in order (the draft's for the owner and admins, the published version's for everybody
    else); full content for enrolled students, the owner and admins. ``found`` is a batch read of
    :func:`lms.courses.courses.seen_course_keys`; the lessons take one more Query."""
    course = course_as_seen(principal, found, course_id, enrolled=enrolled)
    if can_manage(principal, course):
        partition, lessons = read_course_partition(table, course_id)
        return CourseOutline(course, lessons, full_content=True, videos=_videos(partition.values()))
    # Videos are per lesson, not per version: an enrolled student watches the lesson's live video
    # (kept for a lesson deleted from the draft while the published version still has it).
    videos = (
        _videos(
            table.query_all(
                partition=(keys.PK, keys.course_partition(course_id)),
                sort_prefix=(keys.SK, keys.VIDEO_PREFIX),
            )
        )
        if enrolled
        else {}
    )
    return CourseOutline(
        course, snapshots.published_lessons(table, course), full_content=enrolled, videos=videos
    )


def _videos(items: Iterable[Item]) -> dict[str, Item]:
    """lessonId -> its video record, from the items of a course's partition."""
    return {str(i["lessonId"]): i for i in items if str(i[keys.SK]).startswith(keys.VIDEO_PREFIX)}


def create_lesson(table: Table, principal: Principal, fields: dict[str, Any]) -> Lesson:
    course, lessons = manageable_course_with_lessons(table, principal, fields["course_id"])
    if len(lessons) >= MAX_LESSONS_PER_COURSE:
        raise BusinessRuleError(f"A course has at most {MAX_LESSONS_PER_COURSE} lessons.")
    if fields.get("order_index") is None:
        fields = {**fields, "order_index": max((lesson.order_index for lesson in lessons), default=-1) + 1}
    lesson = Lesson(**fields)
    _write_lesson(table, lesson, Put(lesson_item(lesson), when=item_absent()), lesson.duration)
    return lesson


def _write_lesson(table: Table, lesson: Lesson, write: Write, seconds_delta: int | None) -> None:
    """The lesson write and the course's total of lesson seconds change together, or neither does."""
    writes = [write, course_seconds(lesson.course_id, seconds_delta)] if seconds_delta else [write]
    table.transact(writes, otherwise=ConflictError("The lesson or its course changed meanwhile; retry."))


def _find_lesson_item(table: Table, lesson_id: str) -> Item:
    page = table.query(partition=(keys.GSI1PK, keys.lesson_index(lesson_id)), index=keys.GSI1, limit=1)
    if not page.items:
        raise NotFoundError(f"No lesson with id {lesson_id}.")
    return page.items[0]


def find_lesson(table: Table, lesson_id: str) -> Lesson:
    """A lesson by id alone (video processing and progress know the lesson, not its course)."""
    return Lesson.from_item(_find_lesson_item(table, lesson_id))


def update_lesson(table: Table, principal: Principal, lesson_id: str, changes: dict[str, Any]) -> Lesson:
    item = _find_lesson_item(table, lesson_id)
    lesson = Lesson.from_item(item)
    require_manager(principal, get_course(table, lesson.course_id))
    updated = lesson.changed(changes)
    # Compared as stored: other writers (video processing) format the time their own way.
    put = Put(lesson_item(updated), when=eq("updatedAt", item["updatedAt"]))
    _write_lesson(table, updated, put, (updated.duration or 0) - (lesson.duration or 0))
    return updated


def is_published(table: Table, course_id: str, lesson_id: str) -> bool:
    """Whether the course's published version (the one students read) has this lesson."""
    pointer = table.get(keys.published_pointer(course_id), consistent=True)
    if pointer is None:
        return False
    published = Course.from_item(pointer)
    return any(lesson.lesson_id == lesson_id for lesson in snapshots.published_lessons(table, published))


def delete_lesson(table: Table, principal: Principal, lesson_id: str) -> None:
    lesson = find_lesson(table, lesson_id)
    require_manager(principal, get_course(table, lesson.course_id))
    writes: list[Write] = [Delete(keys.lesson(lesson.course_id, lesson.lesson_id), when=item_exists())]
    # Its video record goes too (a run still processing finds the lesson gone and removes its media),
    # unless the published version has the lesson: enrolled students keep watching its video until
    # a version without it is published.
    video = keys.lesson_video(lesson.course_id, lesson.lesson_id)
    if not is_published(table, lesson.course_id, lesson.lesson_id):
        writes.append(Delete(video))
    if lesson.duration:
        writes.append(course_seconds(lesson.course_id, -lesson.duration))
    table.transact(writes, otherwise=ConflictError("The lesson or its course changed meanwhile; retry."))
