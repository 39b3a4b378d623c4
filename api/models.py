"""Request and response bodies of the HTTP API (camelCase on the wire, see API.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator
from pydantic.alias_generators import to_camel

from lms.catalog import CourseOutline
from lms.entities import (
    Category,
    Course,
    CourseLevel,
    CourseStatus,
    Lesson,
    LessonType,
    Role,
    Transaction,
    TransactionStatus,
    User,
)

Name = Annotated[str, Field(min_length=1, max_length=100)]
Password = Annotated[str, Field(min_length=10, max_length=128, description="10 to 128 characters")]
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
PriceCents = Annotated[int, Field(ge=0, le=1_000_000, description="integer minor units (cents)")]
Currency = Annotated[str, Field(pattern=r"^[a-z]{3}$", examples=["usd"])]
Title = Annotated[str, Field(min_length=3, max_length=200)]
Description = Annotated[str, Field(max_length=5000)]
LessonContent = Annotated[str, Field(max_length=50_000)]


class RequestBody(BaseModel):
    """Write models: camelCase only, and unknown fields are refused (OWASP API3)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=False, extra="forbid")


class View(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)


class AtLeastOneField(RequestBody):
    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        return self


# --- auth and users ----------------------------------------------------------------------------


class RegisterRequest(RequestBody):
    email: EmailStr
    password: Password
    first_name: Name
    last_name: Name


class LoginRequest(RequestBody):
    email: EmailStr
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


class UserPage(View):
    items: list[UserView]
    next_cursor: str | None


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


class CategoryList(View):
    items: list[CategoryView]


class CourseCreate(RequestBody):
    title: Title
    description: Description = ""
    category_id: Id
    level: CourseLevel = CourseLevel.BEGINNER
    price_cents: PriceCents
    currency: Currency = "usd"


class CourseUpdate(AtLeastOneField):
    title: Title | None = None
    description: Description | None = None
    category_id: Id | None = None
    level: CourseLevel | None = None
    price_cents: PriceCents | None = None
    currency: Currency | None = None


class CourseView(View):
    course_id: str
    title: str
    description: str
    instructor_id: str
    category_id: str
    level: CourseLevel
    price_cents: int
    currency: str
    status: CourseStatus
    enrollment_count: int
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None = None

    @classmethod
    def of(cls, course: Course) -> CourseView:
        return cls.model_validate(course.model_dump())


class CoursePage(View):
    items: list[CourseView]
    next_cursor: str | None


class LessonCreate(RequestBody):
    course_id: Id
    title: Title
    type: LessonType
    content: LessonContent | None = None
    order_index: Annotated[int, Field(ge=0, le=10_000)] | None = None
    duration_seconds: Annotated[int, Field(ge=0, le=24 * 3600)] | None = None


class LessonUpdate(AtLeastOneField):
    title: Title | None = None
    type: LessonType | None = None
    content: LessonContent | None = None
    order_index: Annotated[int, Field(ge=0, le=10_000)] | None = None
    duration_seconds: Annotated[int, Field(ge=0, le=24 * 3600)] | None = None


class LessonView(View):
    lesson_id: str
    course_id: str
    title: str
    type: LessonType
    order_index: int
    duration_seconds: int | None = None
    content: str | None = Field(default=None, description="only for enrolled students, the owner and admins")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, lesson: Lesson, *, full_content: bool = True) -> LessonView:
        view = cls.model_validate(lesson.model_dump())
        if not full_content:
            view.content = None
        return view


class CourseLessons(View):
    course_id: str
    full_content: bool
    items: list[LessonView]

    @classmethod
    def of(cls, outline: CourseOutline) -> CourseLessons:
        return cls(
            course_id=outline.course.course_id,
            full_content=outline.full_content,
            items=[LessonView.of(lesson, full_content=outline.full_content) for lesson in outline.lessons],
        )


# --- misc --------------------------------------------------------------------------------------


class Health(View):
    status: str
    version: str
    workflows: dict[str, str]


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
    payment_intent_id: str | None = None
    client_secret: str | None = Field(default=None, description="present while PENDING, for Stripe.js")
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None

    @classmethod
    def of(cls, transaction: Transaction) -> TransactionView:
        view = cls.model_validate(transaction.model_dump(exclude={"task_token"}))
        if transaction.status != TransactionStatus.PENDING:
            view.client_secret = None
        return view


class TransactionPage(View):
    items: list[TransactionView]
    next_cursor: str | None


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
