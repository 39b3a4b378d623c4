"""Request and response bodies of the HTTP API (camelCase on the wire, see API.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from lms.catalog import SUPPORTED_CURRENCIES, CourseOutline
from lms.entities import (
    CAMEL_CASE,
    Category,
    Course,
    CourseStatus,
    Difficulty,
    Email,
    Lesson,
    LessonType,
    Role,
    User,
    VideoStatus,
)

Name = Annotated[str, Field(min_length=1, max_length=100)]
Password = Annotated[str, Field(min_length=10, max_length=128, description="10 to 128 characters")]
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
PriceCents = Annotated[
    int,
    Field(
        ge=0,
        le=1_000_000,
        description="integer minor units (cents); 0 is free, otherwise at least Stripe's minimum charge "
        "(50 for usd)",
    ),
]
Currency = Annotated[
    str,
    Field(pattern=r"^[a-z]{3}$", examples=["usd"], description=f"one of {', '.join(SUPPORTED_CURRENCIES)}"),
]
CourseMinutes = Annotated[
    int,
    Field(ge=0, le=100_000, description="whole minutes; derived from the lessons when they have durations"),
]
LessonSeconds = Annotated[int, Field(ge=0, le=24 * 3600, description="seconds")]
OrderIndex = Annotated[int, Field(ge=0, le=10_000)]
# An update field that may be left out but not sent as null (null would clear a required field).
Unset = SkipJsonSchema[None]
Title = Annotated[str, Field(min_length=3, max_length=200)]
Description = Annotated[str, Field(max_length=5000)]
LessonContent = Annotated[str, Field(max_length=50_000)]


class RequestBody(BaseModel):
    """Write models: camelCase only, and unknown fields are refused (OWASP API3)."""

    model_config = ConfigDict(**CAMEL_CASE, populate_by_name=False, extra="forbid")


class View(BaseModel):
    model_config = ConfigDict(**CAMEL_CASE, populate_by_name=True, serialize_by_alias=True)


Item = TypeVar("Item", bound=View)


class Page(View, Generic[Item]):
    """Every list answers ``{items, nextCursor}`` (``?limit=&cursor=``, see api.params)."""

    items: list[Item]
    next_cursor: str | None


class AtLeastOneField(RequestBody):
    """A partial update: an absent field is left alone; an explicit null clears a ``clearable`` field."""

    clearable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        for name in self.model_fields_set - self.clearable:
            if getattr(self, name) is None:
                raise ValueError(f"{type(self).model_fields[name].alias or name} cannot be null")
        return self


# --- auth and users ----------------------------------------------------------------------------


class RegisterRequest(RequestBody):
    email: Email
    password: Password
    first_name: Name
    last_name: Name


class LoginRequest(RequestBody):
    email: Email
    password: Annotated[str, Field(min_length=1, max_length=128)]


class ProfileUpdate(AtLeastOneField):
    first_name: Name | None = None
    last_name: Name | None = None
    password: Password | None = None


class AdminUserUpdate(AtLeastOneField):
    role: Role | None = None
    is_active: bool | None = None


class UserView(View):
    user_id: str
    email: str
    first_name: str
    last_name: str
    role: Role
    is_active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, user: User) -> UserView:
        return cls.model_validate(user.model_dump(exclude={"password_hash"}))


class LoginResponse(View):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    user: UserView


class ProfileUpdated(UserView):
    """The updated account; after a password change, also the token that replaces the caller's."""

    access_token: str | None = Field(
        default=None,
        description=(
            "Only when the password changed: every token issued before the change, the one that"
            " made this request included, is refused from now on; use this one instead."
        ),
    )
    token_type: str | None = None
    expires_in: int | None = None


class UserPage(Page[UserView]):
    pass


# --- catalog -----------------------------------------------------------------------------------


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


class CourseView(View):
    course_id: str
    title: str
    description: str
    instructor_id: str
    category_id: str
    difficulty: Difficulty
    duration: int | None = Field(
        default=None, description="whole minutes: the sum of the lessons' durations, or as set by the owner"
    )
    price_cents: int
    currency: str
    status: CourseStatus
    enrollment_count: int
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None = None
    published_version: int | None = Field(
        default=None, description="the published version a student reads; null on the owner's draft"
    )

    @classmethod
    def of(cls, course: Course) -> CourseView:
        return cls.model_validate({**course.model_dump(), "duration": course.total_minutes})


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


# --- misc --------------------------------------------------------------------------------------


class Health(View):
    status: str
    version: str
    workflows: dict[str, str]


# --- learning and certificates (issue 10) --------------------------------------------------------


class ProgressRequest(RequestBody):
    is_completed: bool = Field(default=False, description="marks the lesson completed (it stays completed)")
    time_spent: LessonSeconds = Field(default=0, description="seconds spent since the last post; they add up")


class EnrollmentView(View):
    course_id: str
    status: str = Field(description="ACTIVE, or REVOKED after a refund")
    enrolled_at: datetime
    last_accessed: datetime | None = None
    progress_percentage: int = Field(description="the highest percentage earned (never falls)")
    is_completed: bool
    completed_at: datetime | None = None


class EnrollmentPage(Page[EnrollmentView]):
    pass


class ProgressRecorded(View):
    course_id: str
    lesson_id: str
    lesson_completed: bool
    time_spent: int = Field(description="seconds on this lesson so far")
    progress_percentage: int
    is_completed: bool = Field(description="the course is completed")
    completed_at: datetime | None = None
    certificate_execution_name: str | None = Field(
        default=None, description="the course's certificate issuance run, once the course is completed"
    )


class LessonProgressView(View):
    lesson_id: str
    title: str
    order_index: int
    is_completed: bool
    time_spent: int


class CourseProgress(View):
    course_id: str
    progress_percentage: int
    is_completed: bool
    completed_at: datetime | None = None
    enrolled_at: datetime
    last_accessed: datetime | None = None
    lessons: list[LessonProgressView]


class CertificateSummary(View):
    certificate_id: str
    course_id: str
    course_title: str
    issued_at: datetime
    status: str = Field(description="VALID or REVOKED")


class CertificatePage(Page[CertificateSummary]):
    pass


class CertificateView(View):
    certificate_id: str
    user_id: str
    course_id: str
    holder_name: str
    course_title: str
    instructor_name: str
    issued_at: datetime
    status: str
    verification_code: str
    revoked_at: datetime | None = None
    revoked_reason: str | None = None
    execution_name: str
    download_url: str = Field(description="short-lived presigned GET of the PDF")
    expires_in: int = Field(description="seconds the download URL stays valid")


class CertificateVerification(View):
    """The public answer: nothing more personal than the name printed on the certificate."""

    certificate_id: str
    holder_name: str
    course_title: str
    issued_at: datetime
    status: str = Field(description="VALID or REVOKED")
    valid: bool


# --- video processing --------------------------------------------------------------------------


class VideoUploadRequest(RequestBody):
    content_type: str = Field(
        min_length=1, max_length=100, examples=["video/mp4"], description="the Content-Type the PUT must send"
    )
    content_length: int | None = Field(
        default=None,
        ge=1,
        le=100 * 1024**3,
        description="bytes; when given, the PUT must send exactly this many",
    )


class VideoUploadTicket(View):
    upload_url: str = Field(description="presigned PUT URL: send the file with the same Content-Type")
    key: str
    expires_in: int = Field(description="seconds the URL stays valid")
    upload_id: str


class LessonVideoView(View):
    video_url: str
    poster_url: str
    thumbnail_urls: list[str]
    duration: float = Field(description="seconds, as the source measured")
    renditions: list[str]
    expires_in: int = Field(description="seconds the URLs stay valid")
