"""Pydantic entities of the seed model. Field names are camelCase on the wire and in DynamoDB.

Money is always integer minor units with a currency; datetimes are timezone-aware UTC.
"""

from __future__ import annotations

import math
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic.alias_generators import to_camel

from lms.clock import new_id, utcnow

# camelCase on the wire and in DynamoDB, snake_case in Python: the one spelling of that rule.
CAMEL_CASE = ConfigDict(alias_generator=to_camel)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("datetimes must carry a timezone")
    return moment


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]


def _email(value: str) -> str:
    # pydantic's EmailStr imports email-validator when a model using it is defined, i.e. in every
    # function that imports the entities; this loads it on the first address actually checked.
    from pydantic.networks import validate_email

    return validate_email(value)[1]


# What EmailStr is (the same check, normalisation and JSON schema), with email-validator loaded lazily.
Email = Annotated[str, AfterValidator(_email), WithJsonSchema({"type": "string", "format": "email"})]
Currency = Annotated[str, Field(pattern=r"^[a-z]{3}$", examples=["usd"])]
Cents = Annotated[int, Field(ge=0, le=100_000_000, description="integer minor units")]


class Entity(BaseModel):
    """Base of every stored entity: camelCase aliases, validated on assignment."""

    model_config = ConfigDict(**CAMEL_CASE, populate_by_name=True, validate_assignment=True, extra="ignore")

    def attributes(self) -> dict[str, Any]:
        """The entity as DynamoDB attributes (without keys)."""
        return self.model_dump(by_alias=True, mode="json", exclude_none=True)

    def changed(self, changes: dict[str, Any]) -> Self:
        """A copy with ``changes`` applied; a ``None`` resets the field to its default (clears it)."""
        fields = type(self).model_fields
        applied = {
            name: fields[name].get_default(call_default_factory=True) if value is None else value
            for name, value in changes.items()
        }
        return self.model_validate({**self.model_dump(), **applied, "updated_at": utcnow()})

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Self:
        return cls.model_validate(item)


class Role(StrEnum):
    STUDENT = "student"
    INSTRUCTOR = "instructor"
    ADMIN = "admin"


class User(Entity):
    user_id: str = Field(default_factory=new_id)
    email: Email
    first_name: str
    last_name: str
    role: Role = Role.STUDENT
    is_active: bool = True
    password_hash: str = Field(repr=False)
    created_at: UtcDatetime = Field(default_factory=utcnow)
    updated_at: UtcDatetime = Field(default_factory=utcnow)
    # Access tokens issued before this moment are refused (set by a password change or reactivation).
    tokens_valid_after: UtcDatetime | None = Field(default=None, repr=False)


class Category(Entity):
    category_id: str = Field(default_factory=new_id)
    name: str
    description: str = ""
    parent_category_id: str | None = None
    created_at: UtcDatetime = Field(default_factory=utcnow)


class CourseStatus(StrEnum):
    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"
    ARCHIVED = "ARCHIVED"


class Difficulty(StrEnum):
    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


class Course(Entity):
    course_id: str = Field(default_factory=new_id)
    title: str
    description: str = ""
    instructor_id: str
    category_id: str
    difficulty: Difficulty = Difficulty.BEGINNER
    duration: int | None = Field(default=None, ge=0, description="minutes, as set by the owner")
    lesson_seconds: int = Field(default=0, ge=0, description="sum of the lessons' durations")
    price_cents: Cents
    currency: Currency = "usd"
    status: CourseStatus = CourseStatus.DRAFT
    enrollment_count: int = 0
    revenue_cents: int = 0
    created_at: UtcDatetime = Field(default_factory=utcnow)
    updated_at: UtcDatetime = Field(default_factory=utcnow)
    published_at: UtcDatetime | None = None
    # Set on a published version (the course as students read it), None on the draft.
    published_version: int | None = None

    @property
    def total_minutes(self) -> int | None:
        """Derived from the lessons when they have durations, else what the owner set."""
        return math.ceil(self.lesson_seconds / 60) if self.lesson_seconds else self.duration


class LessonType(StrEnum):
    VIDEO = "video"
    TEXT = "text"
    QUIZ = "quiz"
    ASSIGNMENT = "assignment"


class VideoStatus(StrEnum):
    """A video lesson's media as video processing drives it: UPLOADING -> PROCESSING -> READY or FAILED."""

    UPLOADING = "UPLOADING"
    PROCESSING = "PROCESSING"
    READY = "READY"
    FAILED = "FAILED"


class Lesson(Entity):
    lesson_id: str = Field(default_factory=new_id)
    course_id: str
    title: str
    type: LessonType
    content: str | None = None
    order_index: int = Field(default=0, ge=0)
    duration: int | None = Field(default=None, ge=0, description="seconds")
    # Never stored: the API fills it per request with a short-lived signed link (lms.video.playback).
    video_url: str | None = None
    # None until a video is uploaded; publishing requires READY for every video lesson.
    video_status: VideoStatus | None = None
    video_error: str | None = None
    created_at: UtcDatetime = Field(default_factory=utcnow)
    updated_at: UtcDatetime = Field(default_factory=utcnow)


class Money(BaseModel):
    amount: Cents
    currency: Currency = "usd"


class TransactionStatus(StrEnum):
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"
    REFUNDED = "REFUNDED"
    # A fault left money in an unknown state (a refund or a cancel that could not be done): an
    # operator must look. The alarm on the execution's NeedsReconciliation error says so too.
    NEEDS_RECONCILIATION = "NEEDS_RECONCILIATION"
    # An admin refund recorded before Stripe is asked: a retry of the request or the sweeper finishes it.
    REFUND_PENDING = "REFUND_PENDING"


class PaymentMethod(StrEnum):
    CARD = "card"
    FREE = "free"


class Transaction(Entity):
    transaction_id: str = Field(default_factory=new_id)
    user_id: str
    course_id: str
    amount: Money | None = None  # None only when the order was rejected before it was priced
    status: TransactionStatus = TransactionStatus.PENDING
    reason: str | None = None
    execution_name: str | None = None
    execution_arn: str | None = None
    payment_method: PaymentMethod | None = None
    payment_intent_id: str | None = None
    # Held only while PENDING: the browser needs the client secret to pay, the webhook the task token.
    client_secret: str | None = Field(default=None, repr=False)
    task_token: str | None = Field(default=None, repr=False)
    refund_id: str | None = None
    refund_key: str | None = None  # the Stripe idempotency key of the refund, recorded before it is made
    created_at: UtcDatetime = Field(default_factory=utcnow)
    updated_at: UtcDatetime = Field(default_factory=utcnow)
    completed_at: UtcDatetime | None = None
    # Set with the refund that revoked the enrollment, cleared once EnrollmentRevoked is on the bus.
    revocation_event_pending: bool = False


class EnrollmentStatus(StrEnum):
    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"


class Enrollment(Entity):
    user_id: str
    course_id: str
    transaction_id: str | None = None
    status: EnrollmentStatus = EnrollmentStatus.ACTIVE
    progress_percentage: int = Field(default=0, ge=0, le=100)
    enrolled_at: UtcDatetime = Field(default_factory=utcnow)
    last_accessed: UtcDatetime | None = None  # set to enrolled_at when the enrollment is made
    is_completed: bool = False
    completed_at: UtcDatetime | None = None

    @classmethod
    def new(cls, *, user_id: str, course_id: str, transaction_id: str | None) -> Enrollment:
        enrolled_at = utcnow()
        return cls(
            user_id=user_id,
            course_id=course_id,
            transaction_id=transaction_id,
            enrolled_at=enrolled_at,
            last_accessed=enrolled_at,
        )

    @staticmethod
    def is_active_item(item: dict[str, Any] | None) -> bool:
        """The one "enrollment is active" check, on a raw item (API batch reads, workflow steps)."""
        return item is not None and item.get("status") == EnrollmentStatus.ACTIVE.value


class LessonProgress(Entity):
    user_id: str
    course_id: str
    lesson_id: str
    is_completed: bool = False
    time_spent_seconds: int = Field(default=0, ge=0)
    updated_at: UtcDatetime = Field(default_factory=utcnow)


# --- certificates (issue 10) -----------------------------------------------------------------------


class CertificateStatus(StrEnum):
    VALID = "VALID"
    REVOKED = "REVOKED"


class Certificate(Entity):
    certificate_id: str
    user_id: str
    course_id: str
    holder_name: str
    course_title: str
    instructor_name: str
    issued_at: UtcDatetime
    verification_code: str = Field(repr=False)
    status: CertificateStatus = CertificateStatus.VALID
    pdf_key: str
    pdf_bytes: int = Field(default=0, ge=0)
    execution_name: str
    execution_arn: str
    revoked_at: UtcDatetime | None = None
    revoked_reason: str | None = None
    # The verifiable credential (issue 20): the course's description (the achievement's), the holder
    # as a salted hash of their email (never the email), and the signed VC-JWT once issued.
    course_description: str = ""
    holder_identity_hash: str = ""
    holder_identity_salt: str = ""
    credential: str | None = Field(default=None, repr=False)
