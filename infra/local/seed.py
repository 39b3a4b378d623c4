"""Demo data for the local cloud: categories, one user per role, courses with lessons.

Ids are derived from names, so seeding again overwrites the demo records instead of duplicating them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from lms import keys, passwords
from lms.clock import utcnow
from lms.courses.categories import category_item
from lms.courses.courses import course_item
from lms.courses.lessons import lesson_item
from lms.discussions.forums import general_forum_item
from lms.entities import (
    Category,
    Course,
    CourseStatus,
    Difficulty,
    Enrollment,
    Lesson,
    LessonType,
    Role,
    User,
)
from lms.expressions import Update, item_absent
from lms.identity import user_item
from lms.publishing import publications, snapshots, steps
from lms.table import Change, Put, Table

_NAMESPACE = uuid.UUID("6f1c2a52-6b39-4d53-9a55-2d1b7b8c0f11")

DEMO_USERS = (
    ("admin@example.com", "Ada", "Admin", Role.ADMIN),
    ("instructor@example.com", "Ivan", "Instructor", Role.INSTRUCTOR),
    ("student@example.com", "Sam", "Student", Role.STUDENT),
)

# (category, subcategories)
DEMO_CATEGORIES = (
    ("Programming", ("Python", "Web Development")),
    ("Design", ("UX",)),
    ("Business", ()),
)

# (title, subcategory, price in cents, status, difficulty, duration in minutes when the lessons have
# none, lessons as (title, duration in seconds or None))
DEMO_COURSES: tuple[
    tuple[str, str, int, CourseStatus, Difficulty, int | None, tuple[tuple[str, int | None], ...]], ...
] = (
    (
        "Python for Beginners",
        "Python",
        4900,
        CourseStatus.PUBLISHED,
        Difficulty.BEGINNER,
        None,
        (("Installing Python", 420), ("Variables", 600), ("Functions", 900)),
    ),
    (
        "Async Python in Practice",
        "Python",
        7900,
        CourseStatus.PUBLISHED,
        Difficulty.ADVANCED,
        None,
        (("The event loop", 1200), ("Tasks and gather", 1500)),
    ),
    (
        "HTML & CSS Foundations",
        "Web Development",
        0,
        CourseStatus.PUBLISHED,
        Difficulty.BEGINNER,
        45,
        (("Your first page", None), ("Box model", None)),
    ),
    (
        "UX Research Basics",
        "UX",
        2900,
        CourseStatus.PUBLISHED,
        Difficulty.INTERMEDIATE,
        None,
        (("Interviews", 1800), ("Usability tests", 2400)),
    ),
    (
        "Django Deep Dive (draft)",
        "Web Development",
        9900,
        CourseStatus.DRAFT,
        Difficulty.INTERMEDIATE,
        None,
        (("Models", 1500), ("Views", 1500)),
    ),
)


def demo_id(*parts: str) -> str:
    return uuid.uuid5(_NAMESPACE, "/".join(parts)).hex


@dataclass(frozen=True)
class DemoData:
    users: dict[str, User]
    categories: dict[str, Category]
    courses: dict[str, Course]
    # The demo accounts whose password is ``password`` now (with keep_passwords, the ones created).
    new_logins: tuple[str, ...]


def seed_demo_data(table: Table, password: str, *, keep_passwords: bool = False) -> DemoData:
    """Write the demo records. ``keep_passwords``: a demo account that exists keeps its password
    (``lms seed`` on a running ``lms dev``: the logins it printed stay valid); only new accounts get
    ``password``."""
    password_hash = passwords.hash_password(password)
    now = utcnow()
    users: dict[str, User] = {}
    new_logins: list[str] = []
    for email, first, last, role in DEMO_USERS:
        user_id = demo_id("user", email)
        existing = table.get(keys.user(user_id), consistent=True) if keep_passwords else None
        kept_hash = existing.get("passwordHash") if existing else None
        if not kept_hash:
            new_logins.append(email)
        user = User(
            user_id=user_id,
            email=email,
            first_name=first,
            last_name=last,
            role=role,
            password_hash=kept_hash or password_hash,
            created_at=now,
            updated_at=now,
        )
        table.put(user_item(user))
        table.put({**keys.email_claim(email).as_item(), "userId": user.user_id})
        users[role.value] = user

    categories: dict[str, Category] = {}
    for name, children in DEMO_CATEGORIES:
        parent = Category(category_id=demo_id("category", name), name=name, description=f"{name} courses")
        table.put(category_item(parent))
        categories[name] = parent
        for child_name in children:
            child = Category(
                category_id=demo_id("category", name, child_name),
                name=child_name,
                description=f"{child_name} courses",
                parent_category_id=parent.category_id,
            )
            table.put(category_item(child))
            categories[child_name] = child

    instructor = users[Role.INSTRUCTOR.value]
    courses: dict[str, Course] = {}
    for title, category_name, price, status, difficulty, minutes, lessons in DEMO_COURSES:
        course = Course(
            course_id=demo_id("course", title),
            title=title,
            description=f"Learn {title.lower()} step by step.",
            instructor_id=instructor.user_id,
            category_id=categories[category_name].category_id,
            difficulty=difficulty,
            duration=minutes,
            lesson_seconds=sum(seconds or 0 for _, seconds in lessons),
            price_cents=price,
            currency="usd",
            status=status,
        )
        table.put(course_item(course))
        table.put(general_forum_item(course))  # as create_course does (issue 17)
        courses[title] = course
        written = []
        for index, (lesson_title, seconds) in enumerate(lessons):
            lesson = Lesson(
                lesson_id=demo_id("lesson", title, lesson_title),
                course_id=course.course_id,
                title=lesson_title,
                type=LessonType.TEXT,
                content=f"# {lesson_title}\n\nThe full text of this lesson.",
                order_index=index,
                duration=seconds,
            )
            table.put(lesson_item(lesson))
            written.append(lesson)
        if status == CourseStatus.PUBLISHED:
            # A real version 1, read by students exactly as a course published through the workflow.
            snapshots.capture(table, course, written, 1)
            steps.publish(table, course.course_id, 1, execution_name=None)
            courses[title] = course.model_copy(update={"published_version": 1})
    # Every publication of the demo instructor waits for an admin, so `make dev` shows the approval
    # step (an admin lifts it with PUT /admin/instructors/{userId}/review).
    publications.set_review_required(table, instructor.user_id, required=True)
    _enroll_demo_student(table, users[Role.STUDENT.value], courses[DEMO_ENROLLMENT])
    return DemoData(users=users, categories=categories, courses=courses, new_logins=tuple(new_logins))


# The demo student is enrolled in this course (without a purchase), so on `make dev` they can
# complete its lessons over HTTP and get a certificate (docs/workflows/certificate.md).
DEMO_ENROLLMENT = "UX Research Basics"


def _enroll_demo_student(table: Table, student: User, course: Course) -> None:
    """Once: a re-seed keeps the progress (and certificate) the demo student has made since."""
    enrollment = Enrollment.new(user_id=student.user_id, course_id=course.course_id, transaction_id=None)
    item = {**keys.enrollment(student.user_id, course.course_id).as_item(), **enrollment.attributes()}
    table.transact_if(
        [
            Put(item, when=item_absent()),
            Change(keys.course_counters(course.course_id), Update().add(enrollmentCount=1, revenueCents=0)),
        ]
    )
