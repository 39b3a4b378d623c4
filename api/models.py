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
