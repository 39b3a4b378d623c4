from __future__ import annotations

import pytest

from lms.courses.categories import category_tree
from lms.courses.courses import can_manage, visible_course
from lms.courses.pricing import PriceBelowMinimumError, UnsupportedCurrencyError, check_price
from lms.entities import Category, Course, CourseStatus, Role, User
from lms.errors import NotFoundError
from lms.identity import Principal
from lms.tokens import TokenClaims


def principal(role: Role, user_id: str = "u1") -> Principal:
    user = User(
        user_id=user_id, email="a@example.org", first_name="A", last_name="B", role=role, password_hash="h"
    )
    return Principal(user=user, token=TokenClaims(user_id=user_id, role=role, jti="j", expires_at=0))


def course(status: CourseStatus, owner: str = "owner") -> Course:
    return Course(title="T", instructor_id=owner, category_id="c", price_cents=100, status=status)


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        (principal(Role.ADMIN), True),
        (principal(Role.INSTRUCTOR, "owner"), True),
        (principal(Role.INSTRUCTOR, "someone-else"), False),
        (principal(Role.STUDENT, "owner"), False),  # a demoted owner loses control
        (None, False),
    ],
)
def test_only_the_owner_instructor_or_an_admin_manages_a_course(who, expected: bool) -> None:
    assert can_manage(who, course(CourseStatus.DRAFT)) is expected


def test_drafts_are_hidden_as_not_found_from_everyone_else() -> None:
    draft = course(CourseStatus.DRAFT)
    with pytest.raises(NotFoundError):
        visible_course(principal(Role.STUDENT), draft, draft.course_id)
    with pytest.raises(NotFoundError):
        visible_course(None, None, "missing")
    assert visible_course(principal(Role.INSTRUCTOR, "owner"), draft, draft.course_id) is draft
    published = course(CourseStatus.PUBLISHED)
    assert visible_course(None, published, published.course_id) is published


def test_category_tree_nests_subcategories_under_their_parent() -> None:
    parent = Category(category_id="p", name="Programming")
    child = Category(category_id="c", name="Python", parent_category_id="p")
    other = Category(category_id="o", name="Design")
    tree = category_tree([other, parent, child])
    assert [(c.category_id, [s.category_id for s in subs]) for c, subs in tree] == [("o", []), ("p", ["c"])]


@pytest.mark.parametrize(
    ("price", "currency", "error"),
    [
        (0, "usd", None),  # free is never charged
        (50, "usd", None),
        (49, "usd", PriceBelowMinimumError),
        (1, "eur", PriceBelowMinimumError),
        (30, "gbp", None),
        (5000, "jpy", UnsupportedCurrencyError),
    ],
)
def test_a_price_is_one_stripe_can_charge(price: int, currency: str, error: type[Exception] | None) -> None:
    if error is None:
        check_price(price, currency)
    else:
        with pytest.raises(error):
            check_price(price, currency)


def test_a_course_duration_comes_from_its_lessons_when_they_have_durations() -> None:
    set_by_owner = course(CourseStatus.DRAFT).model_copy(update={"duration": 45})
    assert set_by_owner.total_minutes == 45
    assert set_by_owner.model_copy(update={"lesson_seconds": 61}).total_minutes == 2  # whole minutes, up
    assert course(CourseStatus.DRAFT).total_minutes is None


def test_a_change_to_null_resets_the_field_and_absent_fields_stay() -> None:
    original = course(CourseStatus.DRAFT).model_copy(update={"duration": 45, "description": "long"})
    changed = original.changed({"duration": None, "title": "New"})
    assert changed.duration is None and changed.title == "New" and changed.description == "long"
    assert original.changed({"description": None}).description == ""
