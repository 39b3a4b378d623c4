"""Published versions on the local cloud's DynamoDB: a snapshot too big for one transaction is
written in chunks, readers see it only once the publish has flipped the pointer, and the publish
itself is one TransactWriteItems."""

from __future__ import annotations

from lms import keys
from lms.entities import CourseStatus
from lms.publishing import snapshots, steps
from lms.table import Table
from tests.publishing import draft_with_lessons


def test_a_snapshot_bigger_than_a_transaction_is_only_read_once_complete(demo, dynamodb_calls) -> None:
    table = Table()
    course, lessons = draft_with_lessons(demo, 150)

    dynamodb_calls.reset()
    items, problems = steps.capture_snapshot(table, course.course_id, 1)
    assert dynamodb_calls.operations.count("TransactWriteItems") == 2  # 151 writes, at most 100 each
    assert problems == 0 and [i["lessonId"] for i in items] == [lesson.lesson_id for lesson in lessons]

    # Captured but not published: nobody but the owner sees anything.
    pointer = table.get(keys.published_pointer(course.course_id))
    assert snapshots.published_course(pointer, None, enrolled=True) is None

    dynamodb_calls.reset()
    steps.publish(table, course.course_id, 1, execution_name=None)
    assert dynamodb_calls.operations.count("TransactWriteItems") == 1

    published = snapshots.published_course(
        table.get(keys.published_pointer(course.course_id)), None, enrolled=False
    )
    assert published is not None and published.status == CourseStatus.PUBLISHED
    read = snapshots.published_lessons(table, published)
    assert [lesson.lesson_id for lesson in read] == [lesson.lesson_id for lesson in lessons]


def test_publishing_the_same_version_twice_changes_nothing(demo) -> None:
    table = Table()
    course, _ = draft_with_lessons(demo, 2)
    steps.capture_snapshot(table, course.course_id, 1)
    first = steps.publish(table, course.course_id, 1, execution_name=None)
    again = steps.publish(table, course.course_id, 1, execution_name=None)  # a retried task
    assert again.published_at == first.published_at


def test_seeded_courses_are_real_published_versions(anonymous, demo) -> None:
    course = demo.data.courses["Python for Beginners"].course_id
    seen = anonymous.get(f"/courses/{course}").json()
    assert (seen["status"], seen["publishedVersion"]) == ("PUBLISHED", 1)
    titles = [lesson["title"] for lesson in anonymous.get(f"/lessons/{course}").json()["items"]]
    assert titles == ["Installing Python", "Variables", "Functions"]
    draft = demo.data.courses["Django Deep Dive (draft)"].course_id
    assert anonymous.get(f"/courses/{draft}").status_code == 404
