"""Categories, courses and lessons: the catalog's rules and its persistence."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from lms import keys
from lms.entities import Category, Course, CourseStatus, Lesson, LessonType, Role
from lms.errors import BusinessRuleError, ConflictError, ForbiddenError, NotFoundError, ValidationError
from lms.publishing import snapshots
from lms.table import (
    Item,
    Table,
    decode_cursor,
    deserialize,
    encode_cursor,
    is_conditional_failure,
    serialize,
    serialize_key,
)

if TYPE_CHECKING:
    from lms.identity import Principal  # only annotations: tasks must not import argon2 and jwt

MAX_LESSONS_PER_COURSE = 200
_TRANSACTION_LIMIT = 100
# Stripe's minimum charge per currency we sell in (minor units); a free course (0) is never charged.
MINIMUM_CHARGE = {"usd": 50, "eur": 50, "gbp": 30}
SUPPORTED_CURRENCIES = tuple(MINIMUM_CHARGE)


class UnsupportedCurrencyError(BusinessRuleError):
    code = "UNSUPPORTED_CURRENCY"


class PriceBelowMinimumError(BusinessRuleError):
    code = "PRICE_BELOW_MINIMUM"


def check_price(price_cents: int, currency: str) -> None:
    """A price Stripe can charge: a supported currency, and free or at least the minimum charge."""
    minimum = MINIMUM_CHARGE.get(currency)
    if minimum is None:
        raise UnsupportedCurrencyError(
            f"Courses are sold in {', '.join(SUPPORTED_CURRENCIES)}, not {currency!r}."
        )
    if 0 < price_cents < minimum:
        raise PriceBelowMinimumError(
            f"A paid course costs at least {minimum} minor units of {currency} (Stripe's minimum charge); "
            "0 makes it free."
        )


# --- categories --------------------------------------------------------------------------------


def category_item(category: Category) -> Item:
    return {**keys.category(category.category_id).as_item(), **category.attributes()}


def list_categories(table: Table) -> list[Category]:
    items = table.query_all(partition=(keys.PK, keys.CATALOG), sort_prefix=(keys.SK, keys.CATEGORY_PREFIX))
    return sorted((Category.from_item(i) for i in items), key=lambda c: c.name.lower())


def category_tree(categories: list[Category]) -> list[tuple[Category, list[Category]]]:
    """Top-level categories, each with its subcategories, both sorted by name."""
    children: dict[str, list[Category]] = {}
    for category in categories:
        if category.parent_category_id:
            children.setdefault(category.parent_category_id, []).append(category)
    return [(c, children.get(c.category_id, [])) for c in categories if not c.parent_category_id]


def category_tree_page(
    table: Table, *, limit: int, cursor: str | None
) -> tuple[list[tuple[Category, list[Category]]], str | None]:
    """A page of the tree, by top-level category name. Categories are few (admins create them), so the
    page is cut from the whole tree read in one Query; the cursor names the last category given."""
    start = decode_cursor(cursor)
    after = deserialize(start).get("afterCategory") if start else None
    if start and not isinstance(after, str):
        raise ValidationError("The cursor does not belong to this list.")
    tree = category_tree(list_categories(table))
    ids = [parent.category_id for parent, _ in tree]
    if after is not None and after not in ids:
        raise ValidationError("The cursor does not belong to this list (or its category was removed).")
    first = ids.index(after) + 1 if after is not None else 0
    page = tree[first : first + limit]
    more = first + limit < len(tree)
    return page, encode_cursor(serialize({"afterCategory": page[-1][0].category_id})) if more else None


def get_category(table: Table, category_id: str) -> Category:
    item = table.get(keys.category(category_id))
    if item is None:
        raise NotFoundError(f"No category with id {category_id}.")
    return Category.from_item(item)


def create_category(table: Table, *, name: str, description: str, parent_category_id: str | None) -> Category:
    existing = list_categories(table)
    if parent_category_id:
        parent = next((c for c in existing if c.category_id == parent_category_id), None)
        if parent is None:
            raise NotFoundError(f"No parent category with id {parent_category_id}.")
        if parent.parent_category_id:
            raise BusinessRuleError("Subcategories cannot have subcategories of their own.")
    siblings = (c for c in existing if c.parent_category_id == parent_category_id)
    if any(c.name.strip().lower() == name.strip().lower() for c in siblings):
        raise ConflictError(f"A category named {name!r} already exists here.")
    category = Category(name=name.strip(), description=description, parent_category_id=parent_category_id)
    table.put(category_item(category), condition="attribute_not_exists(PK)")
    return category


# --- courses -----------------------------------------------------------------------------------


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


def lesson_item(lesson: Lesson) -> Item:
    return {
        **keys.lesson(lesson.course_id, lesson.lesson_id).as_item(),
        keys.GSI1PK: keys.lesson_index(lesson.lesson_id),
        keys.GSI1SK: keys.lesson_index(lesson.lesson_id),
        **lesson.attributes(),
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


def _require_manager(principal: Principal, course: Course) -> None:
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


def create_course(table: Table, principal: Principal, fields: dict[str, Any]) -> Course:
    if not principal.has_role(Role.INSTRUCTOR, Role.ADMIN):
        raise ForbiddenError("Only instructors and administrators create courses.")
    check_price(fields["price_cents"], fields["currency"])
    get_category(table, fields["category_id"])
    course = Course(instructor_id=principal.user_id, status=CourseStatus.DRAFT, **fields)
    table.put(course_item(course), condition="attribute_not_exists(PK)")
    return course


def update_course(table: Table, principal: Principal, course_id: str, changes: dict[str, Any]) -> Course:
    course = get_course(table, course_id)
    _require_manager(principal, course)
    if changes.get("category_id") and changes["category_id"] != course.category_id:
        get_category(table, changes["category_id"])
    updated = course.changed(changes)
    if changes.keys() & {"price_cents", "currency"}:
        check_price(updated.price_cents, updated.currency)
    if changes.get("duration") is not None and course.lesson_seconds:
        raise BusinessRuleError("This course's duration is derived from its lessons' durations.")
    # The condition keeps fields others own (status, the lessons' total) from being overwritten by a
    # stale copy; the counters live on their own item, so a put cannot undo them.
    try:
        table.put(
            course_item(updated),
            condition="#status = :status AND lessonSeconds = :seconds",
            names={"#status": "status"},
            values={
                ":status": course.status.value,
                ":seconds": course.lesson_seconds,
            },
        )
    except ClientError as error:
        if is_conditional_failure(error):
            raise ConflictError("The course changed while it was being edited; retry.") from error
        raise
    return updated


def delete_course(table: Table, principal: Principal, course_id: str) -> None:
    """Delete a course and its lessons; refused once anyone is enrolled (checked atomically)."""
    course, lessons = _manageable_course_with_lessons(table, principal, course_id)
    if course.enrollment_count > 0:
        raise ConflictError("Students are enrolled in this course; it cannot be deleted.")
    # The published pointer and the publication go too, or the catalog would still list the course.
    lesson_keys = [
        *(keys.lesson(course_id, lesson.lesson_id) for lesson in lessons),
        keys.published_pointer(course_id),
        keys.publication(course_id),
        *(
            keys.lesson_video(course_id, lesson.lesson_id)
            for lesson in lessons
            if lesson.type == LessonType.VIDEO
        ),
    ]
    guard = [
        {
            "Delete": {
                "Key": serialize_key(keys.course(course_id)),
                "ConditionExpression": "attribute_exists(PK)",
            }
        },
        {
            "Delete": {
                "Key": serialize_key(keys.course_counters(course_id)),
                "ConditionExpression": "attribute_not_exists(PK) OR enrollmentCount = :zero",
                "ExpressionAttributeValues": serialize({":zero": 0}),
            }
        },
    ]
    first, rest = lesson_keys[: _TRANSACTION_LIMIT - 2], lesson_keys[_TRANSACTION_LIMIT - 2 :]
    try:
        table.transact_write([*guard, *({"Delete": {"Key": serialize_key(k)}} for k in first)])
    except ClientError as error:
        if is_conditional_failure(error):
            raise ConflictError("Students enrolled in this course meanwhile; it was not deleted.") from error
        raise
    for start in range(0, len(rest), _TRANSACTION_LIMIT):
        chunk = rest[start : start + _TRANSACTION_LIMIT]
        table.transact_write({"Delete": {"Key": serialize_key(k)}} for k in chunk)


# --- lessons -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CourseOutline:
    course: Course
    lessons: list[Lesson]
    full_content: bool
    # lessonId -> the lesson's video record (lms.video.records), only with full content.
    videos: dict[str, Item] = field(default_factory=dict)


def read_course_partition(table: Table, course_id: str) -> tuple[dict[keys.Key, Item], list[Lesson]]:
    """Everything in the course's partition (draft, counters, published pointer, publication) by key,
    and the draft's lessons in order: one Query."""
    items = table.query_all(partition=(keys.PK, keys.course_partition(course_id)))
    found = {keys.Key(i[keys.PK], i[keys.SK]): i for i in items}
    lessons = [Lesson.from_item(i) for i in items if i[keys.SK].startswith(keys.LESSON_PREFIX)]
    return found, sorted(lessons, key=lambda lesson: (lesson.order_index, lesson.created_at))


def read_course(table: Table, course_id: str) -> tuple[Course | None, list[Lesson]]:
    found, lessons = read_course_partition(table, course_id)
    return read_course_with_counters(found, course_id), lessons


def seen_course_keys(course_id: str) -> list[keys.Key]:
    """What :func:`course_as_seen` and :func:`course_outline` read (batched with the caller's)."""
    return [*course_keys(course_id), keys.published_pointer(course_id)]


def course_outline(
    table: Table, principal: Principal | None, course_id: str, found: dict[keys.Key, Item], *, enrolled: bool
) -> CourseOutline:
    """The lessons in order (the draft's for the owner and admins, the published version's for everybody
    else); full content for enrolled students, the owner and admins. ``found`` is a batch read of
    :func:`seen_course_keys`; the lessons take one more Query."""
    course = course_as_seen(principal, found, course_id, enrolled=enrolled)
    if can_manage(principal, course):
        partition, lessons = read_course_partition(table, course_id)
        return CourseOutline(course, lessons, full_content=True, videos=_videos(partition.values()))
    # Videos are per lesson, not per version: an enrolled student watches the lesson's live video.
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


def _manageable_course_with_lessons(
    table: Table, principal: Principal, course_id: str
) -> tuple[Course, list[Lesson]]:
    course, lessons = read_course(table, course_id)
    if course is None:
        raise NotFoundError(f"No course with id {course_id}.")
    _require_manager(principal, course)
    return course, lessons


def create_lesson(table: Table, principal: Principal, fields: dict[str, Any]) -> Lesson:
    course, lessons = _manageable_course_with_lessons(table, principal, fields["course_id"])
    if len(lessons) >= MAX_LESSONS_PER_COURSE:
        raise BusinessRuleError(f"A course has at most {MAX_LESSONS_PER_COURSE} lessons.")
    if fields.get("order_index") is None:
        fields = {**fields, "order_index": max((lesson.order_index for lesson in lessons), default=-1) + 1}
    lesson = Lesson(**fields)
    _write_lesson(table, lesson, {"Put": {"Item": serialize(lesson_item(lesson)), **_NEW}}, lesson.duration)
    return lesson


_NEW = {"ConditionExpression": "attribute_not_exists(PK)"}


def _write_lesson(table: Table, lesson: Lesson, write: dict[str, Any], seconds_delta: int | None) -> None:
    """The lesson write and the course's total of lesson seconds change together, or neither does."""
    total = {
        "Update": {
            "Key": serialize_key(keys.course(lesson.course_id)),
            "UpdateExpression": "ADD lessonSeconds :delta",
            "ConditionExpression": "attribute_exists(PK)",
            "ExpressionAttributeValues": serialize({":delta": seconds_delta or 0}),
        }
    }
    try:
        table.transact_write([write, total] if seconds_delta else [write])
    except ClientError as error:
        if is_conditional_failure(error):
            raise ConflictError("The lesson or its course changed meanwhile; retry.") from error
        raise


def find_lesson(table: Table, lesson_id: str) -> Lesson:
    """A lesson by id alone (video processing and progress know the lesson, not its course)."""
    page = table.query(partition=(keys.GSI1PK, keys.lesson_index(lesson_id)), index=keys.GSI1, limit=1)
    if not page.items:
        raise NotFoundError(f"No lesson with id {lesson_id}.")
    return Lesson.from_item(page.items[0])


def update_lesson(table: Table, principal: Principal, lesson_id: str, changes: dict[str, Any]) -> Lesson:
    lesson = find_lesson(table, lesson_id)
    _require_manager(principal, get_course(table, lesson.course_id))
    updated = lesson.changed(changes)
    unchanged = {
        "ConditionExpression": "updatedAt = :read",
        "ExpressionAttributeValues": serialize({":read": lesson.attributes()["updatedAt"]}),
    }
    put = {"Put": {"Item": serialize(lesson_item(updated)), **unchanged}}
    _write_lesson(table, updated, put, (updated.duration or 0) - (lesson.duration or 0))
    return updated


def delete_lesson(table: Table, principal: Principal, lesson_id: str) -> None:
    lesson = find_lesson(table, lesson_id)
    _require_manager(principal, get_course(table, lesson.course_id))
    delete = {
        "Delete": {
            "Key": serialize_key(keys.lesson(lesson.course_id, lesson.lesson_id)),
            "ConditionExpression": "attribute_exists(PK)",
        }
    }
    _write_lesson(table, lesson, delete, -(lesson.duration or 0))
    # Its video record goes too (a run still processing finds the lesson gone and removes its media).
    table.delete(keys.lesson_video(lesson.course_id, lesson.lesson_id))
