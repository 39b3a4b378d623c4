"""Request and response bodies of the HTTP API (camelCase on the wire, see docs/api.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from lms.courses.pricing import SUPPORTED_CURRENCIES
from lms.entities import (
    CAMEL_CASE,
    Course,
    CourseStatus,
    Difficulty,
    Email,
    PaymentMethod,
    Role,
    Transaction,
    TransactionStatus,
    User,
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


# --- courses (the catalog's and publishing's answers) -------------------------------------------


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
