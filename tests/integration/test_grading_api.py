"""The grading routes' bad input and access rules, over HTTP against the local API (the workflow
paths are in tests/workflow/test_submission.py): clear errors, the right status, nothing changed."""

from __future__ import annotations

import uuid
from typing import Any

from lms import keys
from lms.assessments import grades
from lms.courses.lessons import lesson_item
from lms.entities import EnrollmentStatus, Lesson, LessonType
from lms.expressions import Update
from lms.table import Table
from tests.conftest import ApiClient
from tests.workflow.test_certificate import enroll
from tests.workflow.test_submission import assignment_course, configure, submit
from workflows.certificate import start_issuance_run


def test_assignment_settings_refuse_bad_input_and_other_lessons(
    demo: Any, instructor: ApiClient, new_user: Any
) -> None:
    course, lesson = assignment_course(demo)
    path = f"/lessons/{lesson.lesson_id}/assignment"
    good = {"instructions": "Write.", "maxPoints": 10, "passPoints": 5}
    too_high = instructor.put(path, json={**good, "passPoints": 11})
    assert too_high.status_code == 400
    unknown = instructor.put(path, json={**good, "grade": "A"})
    assert unknown.status_code == 400
    penalty_without_late = instructor.put(path, json={**good, "latePenaltyPercentPerDay": 5})
    assert penalty_without_late.status_code == 400
    assert Table().get(keys.assignment_settings(lesson.lesson_id)) is None  # nothing was stored
    text = Lesson(course_id=course.course_id, title="Reading", type=LessonType.TEXT, order_index=3)
    Table().put(lesson_item(text))
    wrong = instructor.put(f"/lessons/{text.lesson_id}/assignment", json=good)
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "NOT_AN_ASSIGNMENT"
    stranger = new_user("instructor")
    assert stranger.client.put(path, json=good).status_code == 403
    assert instructor.put(f"/lessons/{uuid.uuid4().hex}/assignment", json=good).status_code == 404
    saved = configure(instructor, lesson, allowLate=True, latePenaltyPercentPerDay=5)
    assert (saved["maxPoints"], saved["latePenaltyPercentPerDay"]) == (10, 5)


def test_submissions_refuse_bad_input(demo: Any, instructor: ApiClient, new_user: Any) -> None:
    course, lesson = assignment_course(demo)
    student = new_user()
    enroll(student, course)
    unconfigured = submit(student.client, lesson)
    assert unconfigured.status_code == 422
    assert unconfigured.json()["error"]["code"] == "ASSIGNMENT_NOT_CONFIGURED"
    configure(instructor, lesson)
    both = submit(student.client, lesson, text="x", contentType="application/pdf", contentLength=3)
    assert both.status_code == 400
    neither = student.client.post(f"/lessons/{lesson.lesson_id}/submissions", json={})
    assert neither.status_code == 400
    no_length = submit(student.client, lesson, contentType="application/pdf")
    assert no_length.status_code == 400
    assert Table().get(keys.student_submission(lesson.lesson_id, student.user_id)) is None
    assert student.client.get(f"/submissions/{uuid.uuid4().hex}").status_code == 404


def test_grading_ids_that_name_nothing_are_404_and_students_see_no_queue(
    demo: Any, instructor: ApiClient, student: ApiClient
) -> None:
    course, _ = assignment_course(demo)
    for grading_id in ("nothing", "grade-submission~" + uuid.uuid4().hex, "publish-approval~x"):
        answer = instructor.post(f"/grading/{grading_id}", json={"points": 1})
        assert answer.status_code == 404, grading_id
    assert student.get(f"/courses/{course.course_id}/grading").status_code == 403
    assert student.get(f"/courses/{course.course_id}/gradebook").status_code == 403
    negative = instructor.post("/grading/grade-submission~x", json={"points": -1})
    assert negative.status_code == 400


def test_a_grade_recorded_after_a_refund_stays_and_changes_no_enrollment(
    demo: Any, instructor: ApiClient, new_user: Any
) -> None:
    course, lesson = assignment_course(demo)
    student = new_user()
    enroll(student, course)
    table = Table()
    enrollment = keys.enrollment(student.user_id, course.course_id)
    table.update(enrollment, Update().set(status=EnrollmentStatus.REVOKED.value))  # as a refund leaves it
    started = grades.record_grade(
        table,
        course_id=course.course_id,
        lesson_id=lesson.lesson_id,
        user_id=student.user_id,
        kind="assignment",
        source_id="submission-1",
        percentage=90,
        points=9,
        max_points=10,
        passed=True,
        attempts_used=1,
        start_certificate=start_issuance_run,
    )
    assert started is None
    revoked = table.get(enrollment, consistent=True) or {}
    assert revoked["status"] == "REVOKED" and not revoked.get("isCompleted")
    book = instructor.get(f"/courses/{course.course_id}/gradebook")
    assert book.status_code == 200
    rows = [r for r in book.json()["rows"] if r["userId"] == student.user_id]
    assert [(r["enrollmentStatus"], r["status"], r["points"]) for r in rows] == [("REVOKED", "GRADED", 9)]
    exported = instructor.get(f"/courses/{course.course_id}/gradebook?format=csv")
    assert exported.headers["Content-Type"].startswith("text/csv")
    assert exported.text.splitlines()[0] == ",".join(
        ("userId", "enrollmentStatus", "lessonId", "lessonTitle", "kind", "status")
        + ("percentage", "points", "maxPoints", "passed", "attemptsUsed")
    )
    assert (
        f"{student.user_id},REVOKED,{lesson.lesson_id},Essay on sorting,assignment,GRADED,90,9,10,true,1"
        in (exported.text)
    )
