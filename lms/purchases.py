"""Purchases: the rules of the purchase-to-enrollment workflow that do not need Stripe."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from lms import keys
from lms.entities import Course, CourseStatus, EnrollmentStatus, Money, User
from lms.errors import BusinessRuleError, ConflictError, NotFoundError
from lms.table import Table


class OrderNotValidError(BusinessRuleError):
    """The order cannot go ahead: unknown or unpublished course, or an inactive user."""

    code = "ORDER_NOT_VALID"


class AlreadyEnrolledError(ConflictError):
    code = "ALREADY_ENROLLED"


class Order(BaseModel):
    """A validated order. The price always comes from the course record, never from the client."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)

    user_id: str
    course_id: str
    course_title: str
    price: Money
    is_free: bool


def validate_order(table: Table, *, user_id: str, course_id: str) -> Order:
    """Check that the course is published, the user active and not yet enrolled; price the order."""
    found = table.batch_get([keys.user(user_id), keys.course(course_id), keys.enrollment(user_id, course_id)])
    user_item = found.get(keys.user(user_id))
    if user_item is None:
        raise NotFoundError(f"No user with id {user_id}.")
    if not User.from_item(user_item).is_active:
        raise OrderNotValidError("The account is deactivated.")
    course_item = found.get(keys.course(course_id))
    if course_item is None:
        raise OrderNotValidError(f"No course with id {course_id}.")
    course = Course.from_item(course_item)
    if course.status != CourseStatus.PUBLISHED:
        raise OrderNotValidError("The course is not published.")
    enrollment = found.get(keys.enrollment(user_id, course_id))
    if enrollment is not None and enrollment.get("status") == EnrollmentStatus.ACTIVE.value:
        raise AlreadyEnrolledError("The student is already enrolled in this course.")
    price = Money(amount=course.price_cents, currency=course.currency)
    return Order(
        user_id=user_id,
        course_id=course_id,
        course_title=course.title,
        price=price,
        is_free=price.amount == 0,
    )
