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
    Lesson,
    LessonType,
    PaymentMethod,
    Transaction,
    TransactionStatus,
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


# --- purchases ---------------------------------------------------------------------------------


class PurchaseRequest(RequestBody):
    course_id: Id


class RefundRequest(RequestBody):
    reason: Annotated[str, Field(min_length=1, max_length=500)] = "Refunded by an administrator."


class MoneyView(View):
    amount: int
    currency: str


class TransactionView(View):
    transaction_id: str
    user_id: str
    course_id: str
    amount: MoneyView | None = None
    status: TransactionStatus
    reason: str | None = None
    execution_name: str | None = None
    execution_arn: str | None = None
    payment_method: PaymentMethod | None = Field(default=None, description="card, or free for a free course")
    payment_intent_id: str | None = None
    stripe_payment_id: str | None = Field(default=None, description="the Stripe PaymentIntent id")
    client_secret: str | None = Field(default=None, description="present while PENDING, for Stripe.js")
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None

    @classmethod
    def of(cls, transaction: Transaction) -> TransactionView:
        view = cls.model_validate(
            {
                **transaction.model_dump(exclude={"task_token"}),
                "stripe_payment_id": transaction.payment_intent_id,
            }
        )
        if transaction.status != TransactionStatus.PENDING:
            view.client_secret = None
        return view


class TransactionPage(Page[TransactionView]):
    pass


class PurchaseStarted(View):
    transaction_id: str
    execution_name: str
    execution_arn: str
    status: TransactionStatus
    client_secret: str | None = None
    reason: str | None = None


class WebhookReceipt(View):
    received: bool
    outcome: str


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
