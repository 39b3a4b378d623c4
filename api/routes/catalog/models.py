"""Request and response bodies of the catalog's routes (categories, courses, lessons; docs/api.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from api.models import (
    AtLeastOneField,
    CourseMinutes,
    CourseView,
    Currency,
    Description,
    Id,
    LessonContent,
    LessonSeconds,
    Name,
    OrderIndex,
    Page,
    PriceCents,
    RequestBody,
    Title,
    Unset,
    View,
)
from lms.courses.lessons import CourseOutline
from lms.entities import Category, Difficulty, Lesson, LessonType, VideoStatus


class CategoryCreate(RequestBody):
    name: Name
    description: Annotated[str, Field(max_length=1000)] = ""
    parent_category_id: Id | None = None


class CategoryView(View):
    category_id: str
    name: str
    description: str
    parent_category_id: str | None = None
    created_at: datetime
    subcategories: list[CategoryView] | None = None

    @classmethod
    def of(cls, category: Category, subcategories: list[Category] | None = None) -> CategoryView:
        view = cls.model_validate(category.model_dump())
        if subcategories is not None:
            view.subcategories = [cls.of(sub) for sub in subcategories]
        return view


class CategoryPage(Page[CategoryView]):
    pass


class CourseCreate(RequestBody):
    title: Title
    description: Description = ""
    category_id: Id
    difficulty: Difficulty = Difficulty.BEGINNER
    duration: CourseMinutes | None = None
    price_cents: PriceCents
    currency: Currency = "usd"


class CourseUpdate(AtLeastOneField):
    """``description`` and ``duration`` can be cleared with null; the other fields cannot."""

    clearable = frozenset({"description", "duration"})

    title: Title | Unset = None
    description: Description | None = None
    category_id: Id | Unset = None
    difficulty: Difficulty | Unset = None
    duration: CourseMinutes | None = None
    price_cents: PriceCents | Unset = None
    currency: Currency | Unset = None


class CoursePage(Page[CourseView]):
    pass


class LessonCreate(RequestBody):
    course_id: Id
    title: Title
    type: LessonType
    content: LessonContent | None = None
    order_index: OrderIndex | None = None
    duration: LessonSeconds | None = None


class LessonUpdate(AtLeastOneField):
    """``content`` and ``duration`` can be cleared with null; the other fields cannot."""

    clearable = frozenset({"content", "duration"})

    title: Title | Unset = None
    type: LessonType | Unset = None
    content: LessonContent | None = None
    order_index: OrderIndex | Unset = None
    duration: LessonSeconds | None = None


class LessonVideoView(View):
    video_url: str
    poster_url: str
    thumbnail_urls: list[str]
    duration: float = Field(description="seconds, as the source measured")
    renditions: list[str]
    expires_in: int = Field(description="seconds the URLs stay valid")


class LessonView(View):
    lesson_id: str
    course_id: str
    title: str
    type: LessonType
    order_index: int
    duration: int | None = Field(default=None, description="seconds")
    video_url: str | None = Field(
        default=None,
        description="a short-lived presigned URL of the HLS master playlist once a video is READY; only for "
        "enrolled students, the owner and admins, and only in the course's lesson list",
    )
    video_status: VideoStatus | None = Field(
        default=None, description="UPLOADING, PROCESSING, READY or FAILED"
    )
    video_error: str | None = Field(default=None, description="why the latest upload FAILED")
    video: LessonVideoView | None = Field(
        default=None, description="the playable video's details, as videoUrl"
    )
    content: str | None = Field(default=None, description="only for enrolled students, the owner and admins")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(
        cls, lesson: Lesson, *, full_content: bool = True, media: dict[str, Any] | None = None
    ) -> LessonView:
        view = cls.model_validate(lesson.model_dump())
        if not full_content:
            view.content = None
        if media:
            view.video_url = media["videoUrl"]
            view.video = LessonVideoView.model_validate(media)
        return view


class CourseLessons(View):
    course_id: str
    full_content: bool
    items: list[LessonView]

    @classmethod
    def of(cls, outline: CourseOutline, media: dict[str, dict[str, Any]] | None = None) -> CourseLessons:
        """``media``: lessonId -> presigned media (``lms.video.records.lesson_media``)."""
        media = media or {}
        return cls(
            course_id=outline.course.course_id,
            full_content=outline.full_content,
            items=[
                LessonView.of(lesson, full_content=outline.full_content, media=media.get(lesson.lesson_id))
                for lesson in outline.lessons
            ],
        )
