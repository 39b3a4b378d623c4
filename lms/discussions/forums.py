"""Forums of a course, and who may take part in a course's discussions.

Every course gets a ``General`` forum when it is created (:func:`general_forum_item` is written in the
course's create transaction). The course's owner and admins add more, of type ``standard`` or
``qanda``. A forum (and each of its threads) carries its course's id and instructor, so the access
check needs only the caller's enrollment, never the course item.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import Field

from lms import keys
from lms.clock import isoformat, new_id, utcnow
from lms.entities import Course, Enrollment, Entity, Role, UtcDatetime
from lms.errors import ForbiddenError, NotFoundError
from lms.expressions import item_absent
from lms.table import Item, Table

if TYPE_CHECKING:
    from lms.identity import Principal  # annotations only: task packages carry no argon2 or jwt

GENERAL_FORUM_TITLE = "General"
_GENERAL_FORUMS = uuid.UUID("0d6f3c52-7a41-4e0b-9b8e-2f1c5a9d4e73")  # namespace of General forum ids


class ForumType(StrEnum):
    STANDARD = "standard"
    QANDA = "qanda"  # a student sees other students' replies only after posting one


class Forum(Entity):
    forum_id: str = Field(default_factory=new_id)
    course_id: str
    instructor_id: str
    title: str
    description: str = ""
    type: ForumType = ForumType.STANDARD
    thread_count: int = 0
    post_count: int = 0
    created_at: UtcDatetime = Field(default_factory=utcnow)


def forum_item(forum: Forum) -> Item:
    return {
        **keys.forum(forum.forum_id).as_item(),
        keys.GSI1PK: keys.course_forums_index(forum.course_id),
        keys.GSI1SK: keys.forum_in_course_sort(isoformat(forum.created_at), forum.forum_id),
        **forum.attributes(),
    }


def general_forum_id(course_id: str) -> str:
    """Derived from the course: writing the General forum twice (a retried create, a re-seed) is one forum."""
    return uuid.uuid5(_GENERAL_FORUMS, course_id).hex


def general_forum_item(course: Course) -> Item:
    """The General forum every course starts with (written with the course, atomically)."""
    return forum_item(
        Forum(
            forum_id=general_forum_id(course.course_id),
            course_id=course.course_id,
            instructor_id=course.instructor_id,
            title=GENERAL_FORUM_TITLE,
            description="Anything about the course.",
            created_at=course.created_at,
        )
    )


# --- access ------------------------------------------------------------------------------------


def is_moderator(principal: Principal, instructor_id: str) -> bool:
    """The course's owner instructor or an admin: may lock, pin, edit and moderate anything."""
    return principal.has_role(Role.ADMIN) or (
        principal.has_role(Role.INSTRUCTOR) and principal.user_id == instructor_id
    )


def needs_enrollment(principal: Principal, instructor_id: str) -> bool:
    return not is_moderator(principal, instructor_id)


def enrollment_key(principal: Principal, course_id: str) -> keys.Key:
    return keys.enrollment(principal.user_id, course_id)


def require_participant(
    table: Table,
    principal: Principal,
    course_id: str,
    instructor_id: str,
    found: dict[keys.Key, Item] | None = None,
) -> None:
    """403 unless the caller is enrolled (an active enrollment: a refund ends access), the owner or an admin.

    ``found`` may already hold the enrollment (read in the caller's batch); else it is read here.
    """
    if not needs_enrollment(principal, instructor_id):
        return
    key = enrollment_key(principal, course_id)
    enrollment = found.get(key) if found is not None and key in found else table.get(key)
    if not Enrollment.is_active_item(enrollment):
        raise ForbiddenError("Only students enrolled in this course, its instructor and admins take part.")


def require_moderator(principal: Principal, instructor_id: str) -> None:
    if not is_moderator(principal, instructor_id):
        raise ForbiddenError("Only the course's instructor or an administrator may do this.")


# --- forums ------------------------------------------------------------------------------------


def get_forum(table: Table, forum_id: str) -> Forum:
    item = table.get(keys.forum(forum_id))
    if item is None:
        raise NotFoundError(f"No forum with id {forum_id}.")
    return Forum.from_item(item)


def _course_for_forums(table: Table, principal: Principal, course_id: str) -> Course:
    found = table.batch_get([keys.course(course_id), enrollment_key(principal, course_id)])
    if keys.course(course_id) not in found:
        raise NotFoundError(f"No course with id {course_id}.")
    course = Course.from_item(found[keys.course(course_id)])
    require_participant(table, principal, course_id, course.instructor_id, found)
    return course


def list_forums(table: Table, principal: Principal, course_id: str) -> list[Forum]:
    _course_for_forums(table, principal, course_id)
    items = table.query_all(partition=(keys.GSI1PK, keys.course_forums_index(course_id)), index=keys.GSI1)
    return [Forum.from_item(item) for item in items]


def create_forum(
    table: Table, principal: Principal, course_id: str, *, title: str, description: str, type: ForumType
) -> Forum:
    course = _course_for_forums(table, principal, course_id)
    require_moderator(principal, course.instructor_id)
    forum = Forum(
        course_id=course_id,
        instructor_id=course.instructor_id,
        title=title,
        description=description,
        type=type,
    )
    table.put(forum_item(forum), when=item_absent())
    return forum
