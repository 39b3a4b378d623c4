"""Assignment grading: the API over HTTP, the real submission ASL on the local engine with the real
task handlers, the file through a presigned PUT to the local S3, the grade through the grading queue.

Every test uses its own freshly published course and fresh students.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
import requests

from lms import human_tasks, keys
from lms.clock import isoformat, utcnow
from lms.courses.courses import course_item
from lms.courses.lessons import lesson_item
from lms.entities import Course, CourseStatus, Lesson, LessonType
from lms.events import HumanTaskReminder
from lms.settings import reset_settings
from lms.table import Table
from tests.conftest import ApiClient
from tests.events import subscribe
from tests.publishing import publish_directly
from tests.purchases import execution, states_entered
from tests.workflow.test_certificate import enroll
from tests.workflow.test_purchase import until
from workflows.executions import execution_arn
from workflows.submission import SUBMISSION


def assignment_course(demo: Any, *, text_lessons: int = 0) -> tuple[Course, Lesson]:
    """A published course of the demo instructor with one assignment lesson (and text lessons)."""
    course = Course(
        title=f"Graded course {uuid.uuid4().hex[:6]}",
        instructor_id=demo.data.users["instructor"].user_id,
        category_id=demo.data.categories["Python"].category_id,
        price_cents=0,
        status=CourseStatus.PUBLISHED,
        published_at=utcnow(),
    )
    table = Table()
    table.put(course_item(course))
    assignment = Lesson(
        course_id=course.course_id, title="Essay on sorting", type=LessonType.ASSIGNMENT, order_index=0
    )
    table.put(lesson_item(assignment))
    for index in range(text_lessons):
        table.put(
            lesson_item(
                Lesson(
                    course_id=course.course_id,
                    title=f"Text {index}",
                    type=LessonType.TEXT,
                    order_index=index + 1,
                )
            )
        )
    publish_directly(course.course_id)
    return course, assignment


def configure(instructor: ApiClient, lesson: Lesson, **fields: Any) -> dict[str, Any]:
    body = {"instructions": "Write 500 words.", "maxPoints": 10, "passPoints": 6, **fields}
    response = instructor.put(f"/lessons/{lesson.lesson_id}/assignment", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def submit(client: ApiClient, lesson: Lesson, **body: Any) -> requests.Response:
    return client.post(f"/lessons/{lesson.lesson_id}/submissions", json=body or {"text": "My essay."})


def queued(instructor: ApiClient, course: Course, submission_id: str) -> dict[str, Any] | None:
    response = instructor.get(f"/courses/{course.course_id}/grading")
    assert response.status_code == 200, response.text
    items = [i for i in response.json()["items"] if i["details"].get("submissionId") == submission_id]
    return items[0] if items else None


def wait_queued(instructor: ApiClient, course: Course, submission_id: str) -> dict[str, Any]:
    return until(lambda: queued(instructor, course, submission_id), timeout=30)


def run_arn(submission_id: str) -> str:
    return execution_arn(SUBMISSION, SUBMISSION.execution_name(submission_id))


def grade(
    instructor: ApiClient, grading_id: str, points: float, feedback: str | None = None
) -> requests.Response:
    return instructor.post(f"/grading/{grading_id}", json={"points": points, "feedback": feedback})


def test_text_submission_graded_from_the_queue_completes_the_course_and_starts_the_certificate(
    demo: Any, instructor: ApiClient, new_user: Any
) -> None:
    course, lesson = assignment_course(demo)
    configure(instructor, lesson)
    student = new_user()
    enroll(student, course)

    made = submit(student.client, lesson, text="Quicksort partitions around a pivot.")
    assert made.status_code == 201, made.text
    submission_id = made.json()["submissionId"]
    waiting = wait_queued(instructor, course, submission_id)
    assert waiting["kind"] == "grade-submission" and waiting["userId"] == student.user_id
    assert waiting["lessonId"] == lesson.lesson_id and waiting["details"]["maxPoints"] == 10

    decided = grade(instructor, waiting["gradingId"], 8, "Clear and correct.")
    assert decided.status_code == 200, decided.text
    described, history = execution(run_arn(submission_id))
    assert described["status"] == "SUCCEEDED"
    assert states_entered(history)[-1] == "Graded"

    seen = student.client.get(f"/submissions/{submission_id}").json()
    assert (seen["status"], seen["points"], seen["feedback"], seen["passed"]) == (
        "GRADED",
        8,
        "Clear and correct.",
        True,
    )
    # The only lesson is graded at or above passPoints: the course is complete, the certificate run started.
    enrollment = Table().get(keys.enrollment(student.user_id, course.course_id), consistent=True)
    assert enrollment is not None and enrollment["isCompleted"] is True
    assert enrollment.get("certificateExecutionName") or until(
        lambda: (Table().get(keys.enrollment(student.user_id, course.course_id), consistent=True) or {}).get(
            "certificateExecutionName"
        )
    )
    # A second decision of the same work is refused and changes nothing.
    again = grade(instructor, waiting["gradingId"], 2)
    assert again.status_code == 409 and again.json()["error"]["code"] == "ALREADY_GRADED"
    assert student.client.get(f"/submissions/{submission_id}").json()["points"] == 8

    book = instructor.get(f"/courses/{course.course_id}/gradebook").json()["rows"]
    assert [(r["userId"], r["status"], r["points"], r["passed"]) for r in book] == [
        (student.user_id, "GRADED", 8, True)
    ]
    csv_text = instructor.get(f"/courses/{course.course_id}/gradebook?format=csv").text
    assert csv_text.splitlines()[1].startswith(f"{student.user_id},ACTIVE,{lesson.lesson_id},")


def test_a_failing_grade_leaves_the_lesson_and_the_course_incomplete(
    demo: Any, instructor: ApiClient, new_user: Any
) -> None:
    course, lesson = assignment_course(demo)
    configure(instructor, lesson)
    student = new_user()
    enroll(student, course)
    submission_id = submit(student.client, lesson).json()["submissionId"]
    waiting = wait_queued(instructor, course, submission_id)
    assert grade(instructor, waiting["gradingId"], 3).status_code == 200
    execution(run_arn(submission_id))
    seen = student.client.get(f"/submissions/{submission_id}").json()
    assert (seen["status"], seen["passed"]) == ("GRADED", False)
    enrollment = Table().get(keys.enrollment(student.user_id, course.course_id), consistent=True) or {}
    assert not enrollment.get("isCompleted") and not enrollment.get("certificateExecutionName")


def test_late_work_is_refused_under_the_refusing_policy(
    demo: Any, instructor: ApiClient, new_user: Any
) -> None:
    course, lesson = assignment_course(demo)
    configure(instructor, lesson, dueAt=isoformat(utcnow() - timedelta(hours=1)), allowLate=False)
    student = new_user()
    enroll(student, course)
    refused = submit(student.client, lesson)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "PAST_DUE"
    assert Table().get(keys.student_submission(lesson.lesson_id, student.user_id)) is None


def test_late_work_is_accepted_with_the_penalty_per_day(
    demo: Any, instructor: ApiClient, new_user: Any
) -> None:
    course, lesson = assignment_course(demo)
    # Due 30 hours ago: two days late (a part day counts), 10 % a day.
    configure(
        instructor,
        lesson,
        dueAt=isoformat(utcnow() - timedelta(hours=30)),
        allowLate=True,
        latePenaltyPercentPerDay=10,
    )
    student = new_user()
    enroll(student, course)
    made = submit(student.client, lesson)
    assert made.status_code == 201, made.text
    assert (made.json()["late"], made.json()["penaltyPercent"]) == (True, 20)
    waiting = wait_queued(instructor, course, made.json()["submissionId"])
    assert grade(instructor, waiting["gradingId"], 10).status_code == 200
    execution(run_arn(made.json()["submissionId"]))
    seen = student.client.get(f"/submissions/{made.json()['submissionId']}").json()
    assert (seen["rawPoints"], seen["points"], seen["daysLate"]) == (10, 8, 2)


def test_a_file_submission_waits_for_its_upload_and_the_grader_downloads_it(
    demo: Any, instructor: ApiClient, new_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LMS_SUBMISSION_UPLOAD_CHECK_SECONDS", "1")
    reset_settings()
    course, lesson = assignment_course(demo)
    configure(instructor, lesson, contentTypes=["application/pdf"], maxBytes=1000)
    student = new_user()
    enroll(student, course)
    too_big = submit(student.client, lesson, contentType="application/pdf", contentLength=2000)
    assert too_big.status_code == 400
    wrong_type = submit(student.client, lesson, contentType="image/gif", contentLength=10)
    assert wrong_type.status_code == 400
    work = b"%PDF-1.4 my essay"
    made = submit(student.client, lesson, contentType="application/pdf", contentLength=len(work))
    assert made.status_code == 201, made.text
    ticket = made.json()
    assert ticket["status"] == "UPLOADING" and ticket["uploadUrl"]
    # S3 itself refuses a body of another size than the one signed.
    assert (
        requests.put(
            ticket["uploadUrl"], data=work + b"!", headers={"Content-Type": "application/pdf"}
        ).status_code
        >= 400
    )
    assert queued(instructor, course, ticket["submissionId"]) is None  # nothing to grade yet
    uploaded = requests.put(ticket["uploadUrl"], data=work, headers={"Content-Type": "application/pdf"})
    assert uploaded.status_code == 200, uploaded.text
    wait_queued(instructor, course, ticket["submissionId"])
    seen = instructor.get(f"/submissions/{ticket['submissionId']}").json()
    assert seen["status"] == "SUBMITTED" and seen["expiresIn"] <= 300
    assert requests.get(seen["downloadUrl"], timeout=10).content == work


def test_a_resubmission_before_grading_replaces_the_previous_work(
    demo: Any, instructor: ApiClient, new_user: Any
) -> None:
    course, lesson = assignment_course(demo)
    configure(instructor, lesson)
    student = new_user()
    enroll(student, course)
    first = submit(student.client, lesson, text="Draft.").json()["submissionId"]
    wait_queued(instructor, course, first)
    second = submit(student.client, lesson, text="Final.").json()
    assert second["replacedSubmissionId"] == first
    described, history = execution(run_arn(first))
    assert described["status"] == "SUCCEEDED" and states_entered(history)[-1] == "Replaced"
    assert student.client.get(f"/submissions/{first}").json()["status"] == "REPLACED"
    assert queued(instructor, course, first) is None
    waiting = wait_queued(instructor, course, second["submissionId"])
    assert grade(instructor, waiting["gradingId"], 7).status_code == 200
    execution(run_arn(second["submissionId"]))
    after = submit(student.client, lesson, text="One more.")
    assert after.status_code == 409 and after.json()["error"]["code"] == "ALREADY_GRADED"


def test_a_decision_after_the_grading_run_closed_is_refused_and_changes_nothing(
    demo: Any, instructor: ApiClient, new_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LMS_GRADING_TIMEOUT_SECONDS", "3")
    reset_settings()
    course, lesson = assignment_course(demo)
    configure(instructor, lesson)
    student = new_user()
    enroll(student, course)
    submission_id = submit(student.client, lesson).json()["submissionId"]
    waiting = wait_queued(instructor, course, submission_id)
    described, history = execution(run_arn(submission_id), timeout=30)
    assert described["status"] == "SUCCEEDED" and states_entered(history)[-1] == "GradingTimedOut"
    late = grade(instructor, waiting["gradingId"], 9)
    assert late.status_code == 409 and late.json()["error"]["code"] == "GRADING_CLOSED"
    seen = student.client.get(f"/submissions/{submission_id}").json()
    assert seen["status"] == "GRADING_EXPIRED" and seen["points"] is None and seen["reason"]
    assert queued(instructor, course, submission_id) is None


def test_work_waiting_past_the_reminder_time_reminds_the_instructor_once(
    demo: Any, instructor: ApiClient, new_user: Any
) -> None:
    course, lesson = assignment_course(demo)
    configure(instructor, lesson)
    student = new_user()
    enroll(student, course)
    received = subscribe(HumanTaskReminder)
    submission_id = submit(student.client, lesson).json()["submissionId"]
    wait_queued(instructor, course, submission_id)
    table = Table()
    later = utcnow() + timedelta(days=30)
    first = human_tasks.remind_due(table, "grade-submission", "instructor", now=later)
    assert submission_id in {task.task_id for task in first}
    again = human_tasks.remind_due(table, "grade-submission", "instructor", now=later)
    assert submission_id not in {task.task_id for task in again}
    reminder = received(kind="grade-submission", taskId=submission_id)
    assert reminder and reminder[0]["courseId"] == course.course_id
    assert queued(instructor, course, submission_id)["remindedAt"]


def test_grading_is_for_the_course_owner_and_progress_posts_cannot_complete_the_lesson(
    demo: Any, instructor: ApiClient, new_user: Any
) -> None:
    course, lesson = assignment_course(demo)
    configure(instructor, lesson)
    student = new_user()
    enroll(student, course)
    other_instructor = new_user("instructor")
    submission_id = submit(student.client, lesson).json()["submissionId"]
    waiting = wait_queued(instructor, course, submission_id)
    assert other_instructor.client.get(f"/courses/{course.course_id}/grading").status_code == 403
    assert grade(other_instructor.client, waiting["gradingId"], 5).status_code == 403
    assert other_instructor.client.get(f"/submissions/{submission_id}").status_code == 404
    assert grade(instructor, waiting["gradingId"], 11).status_code == 400  # above maxPoints
    assert queued(instructor, course, submission_id)  # still waiting: nothing changed
    posted = student.client.post(f"/lessons/{lesson.lesson_id}/progress", json={"isCompleted": True})
    assert posted.status_code == 422 and posted.json()["error"]["code"] == "COMPLETED_BY_GRADING"
    stranger = new_user()
    assert submit(stranger.client, lesson).status_code == 403
