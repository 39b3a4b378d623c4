"""Courses: drafts their owner edits, who may manage them, and what a caller sees of one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lms import keys
from lms.courses.categories import get_category
from lms.courses.pricing import check_price
from lms.discussions.forums import general_forum_item
from lms.entities import Course, CourseStatus, Lesson, LessonType, Role
from lms.errors import BusinessRuleError, ConflictError, ForbiddenError, NotFoundError
from lms.expressions import eq, item_absent, item_exists
from lms.publishing import snapshots
from lms.table import TRANSACTION_LIMIT, Delete, Item, Put, Table

if TYPE_CHECKING:
    from lms.identity import Principal  # only annotations: tasks must not import argon2 and jwt

COUNTER_FIELDS = ("enrollmentCount", "revenueCents")


def course_item(course: Course) -> Item:
    created = course.created_at.isoformat()
    attributes = {k: v for k, v in course.attributes().items() if k not in COUNTER_FIELDS}
    # The catalog lists published versions (their pointer items), never the draft being edited.
    indexed = CourseStatus.DRAFT if course.status == CourseStatus.PUBLISHED else course.status
    return {
        **keys.course(course.course_id).as_item(),
        keys.GSI1PK: keys.category_index(course.category_id),
        keys.GSI1SK: keys.course_in_category_sort(indexed, created, course.course_id),
        keys.GSI2PK: keys.course_status_index(indexed),
        keys.GSI2SK: f"{created}#{course.course_id}",
        **attributes,
    }


def can_manage(principal: Principal | None, course: Course) -> bool:
    """Owner instructor or admin."""
    if principal is None:
        return False
    return principal.role == Role.ADMIN or (
        principal.role == Role.INSTRUCTOR and course.instructor_id == principal.user_id
    )


def is_visible(principal: Principal | None, course: Course) -> bool:
    return course.status == CourseStatus.PUBLISHED or can_manage(principal, course)


def require_manager(principal: Principal, course: Course) -> None:
    if not can_manage(principal, course):
        raise ForbiddenError("Only the course's instructor or an administrator may change it.")


def with_counters(course_item: Item | None, counters_item: Item | None) -> Course | None:
    """A course as read, with its counters (their own item, kept off the course item and its indexes)."""
    if course_item is None:
        return None
    counters = {
        name: counters_item[name] for name in COUNTER_FIELDS if counters_item and name in counters_item
    }
    return Course.from_item({**course_item, **counters})


def read_course_with_counters(found: dict[keys.Key, Item], course_id: str) -> Course | None:
    """From a batch read of ``course_keys(course_id)``."""
    return with_counters(found.get(keys.course(course_id)), found.get(keys.course_counters(course_id)))


def course_keys(course_id: str) -> list[keys.Key]:
    return [keys.course(course_id), keys.course_counters(course_id)]


def seen_course_keys(course_id: str) -> list[keys.Key]:
    """What :func:`course_as_seen` reads (batched with the caller's)."""
    return [*course_keys(course_id), keys.published_pointer(course_id)]


def get_course(table: Table, course_id: str) -> Course:
    course = read_course_with_counters(table.batch_get(course_keys(course_id)), course_id)
    if course is None:
        raise NotFoundError(f"No course with id {course_id}.")
    return course


def course_as_seen(
    principal: Principal | None, found: dict[keys.Key, Item], course_id: str, *, enrolled: bool
) -> Course:
    """From a batch read of ``course_keys(course_id)`` plus the published pointer: the owner and admins
    see the draft, everybody else the published version (enrolled students also an unlisted one)."""
    draft = read_course_with_counters(found, course_id)
    if draft is not None and can_manage(principal, draft):
        return draft
    counters = found.get(keys.course_counters(course_id))
    published = snapshots.published_course(
        found.get(keys.published_pointer(course_id)), counters, enrolled=enrolled
    )
    if draft is None or published is None:
        raise NotFoundError(f"No course with id {course_id}.")
    return published


def visible_course(principal: Principal | None, course: Course | None, course_id: str) -> Course:
    """The course if the caller may see it; drafts of others answer 404 so they cannot be probed."""
    if course is None or not is_visible(principal, course):
        raise NotFoundError(f"No course with id {course_id}.")
    return course


def list_published_courses(
    table: Table, *, category_id: str | None, limit: int, cursor: str | None
) -> tuple[list[Course], str | None]:
    published = CourseStatus.PUBLISHED.value
    if category_id:
        page = table.query(
            partition=(keys.GSI1PK, keys.category_index(category_id)),
            sort_prefix=(keys.GSI1SK, f"{published}#"),
            index=keys.GSI1,
            limit=limit,
            cursor=cursor,
            newest_first=True,
        )
    else:
        page = table.query(
            partition=(keys.GSI2PK, keys.course_status_index(published)),
            index=keys.GSI2,
            limit=limit,
            cursor=cursor,
            newest_first=True,
        )
    counters = table.batch_get([keys.course_counters(i["courseId"]) for i in page.items])
    courses = [with_counters(i, counters.get(keys.course_counters(i["courseId"]))) for i in page.items]
    return [c for c in courses if c is not None], page.next_cursor


def read_course_partition(table: Table, course_id: str) -> tuple[dict[keys.Key, Item], list[Lesson]]:
    """Everything in the course's partition (draft, counters, published pointer, publication, video
    records) by key, and the draft's lessons in order: one Query."""
    items = table.query_all(partition=(keys.PK, keys.course_partition(course_id)))
    found = {keys.Key(i[keys.PK], i[keys.SK]): i for i in items}
    lessons = [Lesson.from_item(i) for i in items if i[keys.SK].startswith(keys.LESSON_PREFIX)]
    return found, sorted(lessons, key=lambda lesson: (lesson.order_index, lesson.created_at))


def read_course(table: Table, course_id: str) -> tuple[Course | None, list[Lesson]]:
    found, lessons = read_course_partition(table, course_id)
    return read_course_with_counters(found, course_id), lessons


def manageable_course_with_lessons(
    table: Table, principal: Principal, course_id: str
) -> tuple[Course, list[Lesson]]:
    course, lessons = read_course(table, course_id)
    if course is None:
        raise NotFoundError(f"No course with id {course_id}.")
    require_manager(principal, course)
    return course, lessons


def create_course(table: Table, principal: Principal, fields: dict[str, Any]) -> Course:
    if not principal.has_role(Role.INSTRUCTOR, Role.ADMIN):
        raise ForbiddenError("Only instructors and administrators create courses.")
    check_price(fields["price_cents"], fields["currency"])
    get_category(table, fields["category_id"])
    course = Course(instructor_id=principal.user_id, status=CourseStatus.DRAFT, **fields)
    # Every course starts with its General forum (issue 17), written in the same transaction.
    table.transact(
        [Put(course_item(course), when=item_absent()), Put(general_forum_item(course), when=item_absent())],
        otherwise=ConflictError("The course exists."),
    )
    return course


def update_course(table: Table, principal: Principal, course_id: str, changes: dict[str, Any]) -> Course:
    course = get_course(table, course_id)
    require_manager(principal, course)
    if changes.get("category_id") and changes["category_id"] != course.category_id:
        get_category(table, changes["category_id"])
    updated = course.changed(changes)
    if changes.keys() & {"price_cents", "currency"}:
        check_price(updated.price_cents, updated.currency)
    if changes.get("duration") is not None and course.lesson_seconds:
        raise BusinessRuleError("This course's duration is derived from its lessons' durations.")
    # The condition keeps fields others own (status, the lessons' total) from being overwritten by a
    # stale copy; the counters live on their own item, so a put cannot undo them.
    table.put(
        course_item(updated),
        when=eq("status", course.status.value) & eq("lessonSeconds", course.lesson_seconds),
        otherwise=ConflictError("The course changed while it was being edited; retry."),
    )
    return updated


def delete_course(table: Table, principal: Principal, course_id: str) -> None:
    """Delete a course and its lessons; refused once anyone is enrolled (checked atomically).

    Nobody is enrolled, so nobody can be watching its videos: their records go with the course, and
    runs still processing find the lesson gone and remove their own media.
    """
    course, lessons = manageable_course_with_lessons(table, principal, course_id)
    if course.enrollment_count > 0:
        raise ConflictError("Students are enrolled in this course; it cannot be deleted.")
    # The published pointer and the publication go too, or the catalog would still list the course.
    rest = [
        *(Delete(keys.lesson(course_id, lesson.lesson_id)) for lesson in lessons),
        Delete(keys.published_pointer(course_id)),
        Delete(keys.publication(course_id)),
        *(
            Delete(keys.lesson_video(course_id, lesson.lesson_id))
            for lesson in lessons
            if lesson.type == LessonType.VIDEO
        ),
    ]
    guard = [
        Delete(keys.course(course_id), when=item_exists()),
        Delete(keys.course_counters(course_id), when=item_absent() | eq("enrollmentCount", 0)),
    ]
    first, rest = rest[: TRANSACTION_LIMIT - len(guard)], rest[TRANSACTION_LIMIT - len(guard) :]
    table.transact(
        [*guard, *first],
        otherwise=ConflictError("Students enrolled in this course meanwhile; it was not deleted."),
    )
    for start in range(0, len(rest), TRANSACTION_LIMIT):
        table.transact(rest[start : start + TRANSACTION_LIMIT])
