"""Catalog: categories, courses and lessons (docs/api.md, "Catalog")."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from api import security
from api.models import CourseView
from api.params import Cursor, Limit, PathId
from api.responses import created, no_content, page_limit
from api.routes import video
from api.routes.catalog.models import (
    CategoryCreate,
    CategoryPage,
    CategoryView,
    CourseCreate,
    CourseLessons,
    CoursePage,
    CourseUpdate,
    LessonCreate,
    LessonUpdate,
    LessonView,
)
from lms import keys
from lms.blobs import S3BlobStore
from lms.courses import categories, courses, lessons
from lms.entities import Enrollment, Role
from lms.identity import Principal
from lms.settings import get_settings
from lms.table import Item, Table
from lms.video import playback

router = APIGatewayRouter()


@router.get("/categories", tags=["catalog"], summary="Top-level categories by name, with their subcategories")
@security.public
def list_categories(limit: Limit = 50, cursor: Cursor = None) -> CategoryPage:
    tree, next_cursor = categories.category_tree_page(Table(), limit=page_limit(limit), cursor=cursor)
    return CategoryPage(
        items=[CategoryView.of(parent, children) for parent, children in tree], next_cursor=next_cursor
    )


@router.post("/categories", tags=["catalog"], summary="Create a category or subcategory (admin)")
@security.allow(Role.ADMIN)
def create_category(body: CategoryCreate) -> Response[CategoryView]:
    category = categories.create_category(
        Table(), name=body.name, description=body.description, parent_category_id=body.parent_category_id
    )
    return created(CategoryView.of(category))


@router.get("/courses", tags=["catalog"], summary="Published courses, optionally of one category")
@security.public
def list_courses(
    categoryId: Annotated[str | None, Query(max_length=64)] = None,  # noqa: N803
    limit: Limit = 20,
    cursor: Cursor = None,
) -> CoursePage:
    table = Table()
    found, next_cursor = courses.list_published_courses(
        table, category_id=categoryId, limit=page_limit(limit), cursor=cursor
    )
    if categoryId and not found and not cursor:
        categories.get_category(table, categoryId)  # an unknown category is a 404, not an empty list
    return CoursePage(items=[CourseView.of(c) for c in found], next_cursor=next_cursor)


@router.post("/courses", tags=["catalog"], summary="Create a draft course owned by the caller")
@security.allow(Role.INSTRUCTOR, Role.ADMIN)
def create_course(body: CourseCreate) -> Response[CourseView]:
    table = Table()
    principal = security.authenticated(router, table).principal
    return created(CourseView.of(courses.create_course(table, principal, body.model_dump())))


def _seen_course(table: Table, course_id: str) -> tuple[Principal | None, dict[keys.Key, Item], bool]:
    """The caller, the course's items and the caller's enrollment, in one BatchGetItem."""
    wanted = courses.seen_course_keys(course_id)
    caller = security.optional(router, table, lambda user_id: [*wanted, keys.enrollment(user_id, course_id)])
    if caller is None:
        return None, table.batch_get(wanted), False
    enrollment = caller.extras.get(keys.enrollment(caller.principal.user_id, course_id))
    return caller.principal, caller.extras, Enrollment.is_active_item(enrollment)


@router.get("/courses/<courseId>", tags=["catalog"], summary="A course (drafts: owner and admins only)")
@security.public
def get_course(courseId: PathId) -> CourseView:  # noqa: N803
    table = Table()
    principal, found, enrolled = _seen_course(table, courseId)
    return CourseView.of(courses.course_as_seen(principal, found, courseId, enrolled=enrolled))


@router.put("/courses/<courseId>", tags=["catalog"], summary="Edit a course (owner or admin)")
@security.signed_in
def update_course(courseId: PathId, body: CourseUpdate) -> CourseView:  # noqa: N803
    table = Table()
    principal = security.authenticated(router, table).principal
    return CourseView.of(
        courses.update_course(table, principal, courseId, body.model_dump(exclude_unset=True))
    )


@router.delete("/courses/<courseId>", tags=["catalog"], summary="Delete a course with no enrollments")
@security.signed_in
def delete_course(courseId: PathId) -> Response[None]:  # noqa: N803
    table = Table()
    courses.delete_course(table, security.authenticated(router, table).principal, courseId)
    return no_content()


@router.get("/lessons/<courseId>", tags=["catalog"], summary="A course's lessons in order")
@security.public
def list_lessons(courseId: PathId) -> CourseLessons:  # noqa: N803
    table = Table()
    principal, found, enrolled = _seen_course(table, courseId)
    outline = lessons.course_outline(table, principal, courseId, found, enrolled=enrolled)
    store = S3BlobStore(get_settings().bucket_name)
    return CourseLessons.of(outline, playback.lesson_media(store, outline, video.api_base(router)))


@router.post("/lessons", tags=["catalog"], summary="Add a lesson to a course (owner or admin)")
@security.signed_in
def create_lesson(body: LessonCreate) -> Response[LessonView]:
    table = Table()
    principal = security.authenticated(router, table).principal
    return created(LessonView.of(lessons.create_lesson(table, principal, body.model_dump())))


@router.put("/lessons/<lessonId>", tags=["catalog"], summary="Edit a lesson (owner or admin)")
@security.signed_in
def update_lesson(lessonId: PathId, body: LessonUpdate) -> LessonView:  # noqa: N803
    table = Table()
    principal = security.authenticated(router, table).principal
    return LessonView.of(
        lessons.update_lesson(table, principal, lessonId, body.model_dump(exclude_unset=True))
    )


@router.delete("/lessons/<lessonId>", tags=["catalog"], summary="Delete a lesson (owner or admin)")
@security.signed_in
def delete_lesson(lessonId: PathId) -> Response[None]:  # noqa: N803
    table = Table()
    lessons.delete_lesson(table, security.authenticated(router, table).principal, lessonId)
    return no_content()
