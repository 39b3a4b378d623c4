"""The quiz-attempt workflow: the real ASL on the local engine, the real task handlers, driven over HTTP.

Every test builds its own course as a fresh instructor and takes the quiz as a fresh student.
"""

from __future__ import annotations

import concurrent.futures
import time
from typing import Any

import pytest

from lms import aws, human_tasks
from lms.assessments.attempts import essay_task_id
from lms.errors import ConflictError
from lms.events import AttemptGraded
from lms.human_tasks import HumanTaskStatus
from lms.table import Table
from tests.conftest import ApiClient
from tests.publishing import transitions_outside_map
from tests.purchases import execution
from tests.quizzes import ESSAY, SINGLE, TRUE_FALSE, attempt_until, enroll, published_quiz, start
from workflows import executions
from workflows.attempt import ATTEMPT, ESSAY_GRADING
from workflows.callbacks import callbacks


def category(demo: Any) -> str:
    return str(demo.data.categories["Python"].category_id)


def arn(attempt: dict[str, Any]) -> str:
    return executions.execution_arn(ATTEMPT, attempt["executionName"])


@pytest.fixture
def graded_events(local_cloud) -> Any:
    from tests.events import subscribe

    return subscribe(AttemptGraded)


def essay_task(
    course_id: str, attempt_id: str, question_id: str, timeout: float = 20
) -> human_tasks.HumanTask:
    """The grade-essay task once the run opened it (as the grading queue lists it)."""
    deadline = time.monotonic() + timeout
    while True:
        pending, _ = human_tasks.list_pending(
            Table(), ESSAY_GRADING.kind, course_id=course_id, limit=100, cursor=None
        )
        found = [t for t in pending if t.task_id == essay_task_id(attempt_id, question_id)]
        if found and found[0].task_token is not None:
            return found[0]
        assert time.monotonic() < deadline, "the essay never reached the grading queue"
        time.sleep(0.2)


def test_an_attempt_submitted_in_time_is_graded_and_announced(new_user, demo, graded_events) -> None:
    instructor, student = new_user("instructor"), new_user("student")
    quiz = published_quiz(instructor.client, category(demo), timeLimitSeconds=600)
    enroll(student.client, quiz.course_id)

    attempt = start(student.client, quiz.lesson_id)
    assert attempt["executionName"] == f"attempt-{attempt['attemptId']}"
    assert attempt["status"] == "IN_PROGRESS" and len(attempt["questions"]) == 2
    assert all("correct" not in q for q in attempt["questions"]), "answer keys never reach a student"
    reloaded = student.client.get(f"/attempts/{attempt['attemptId']}").json()
    assert [q["questionId"] for q in reloaded["questions"]] == [q["questionId"] for q in attempt["questions"]]

    true_false, single = quiz.question_ids
    saved = student.client.put(
        f"/attempts/{attempt['attemptId']}/answers", json={"answers": {true_false: True, single: ["b"]}}
    )
    assert saved.status_code == 200, saved.text
    submitted = student.client.post(f"/attempts/{attempt['attemptId']}/submit")
    assert submitted.status_code == 202, submitted.text

    graded = attempt_until(student.client, attempt["attemptId"], "GRADED")
    assert (graded["score"], graded["maxScore"], graded["percentage"], graded["passed"]) == (3, 3, 100, True)
    assert graded["autoSubmitted"] is False
    described, history = execution(arn(attempt))
    assert described["status"] == "SUCCEEDED"
    assert transitions_outside_map(history) <= 8, "the issue's budget for an auto-graded attempt"
    (event,) = graded_events(attemptId=attempt["attemptId"])
    assert event["passed"] is True and event["userId"] == student.user_id and event["result"] == "passed"
    late = student.client.put(
        f"/attempts/{attempt['attemptId']}/answers", json={"answers": {true_false: False}}
    )
    assert late.status_code == 409 and late.json()["error"]["code"] == "ATTEMPT_CLOSED"


def test_an_attempt_not_submitted_is_submitted_at_its_deadline_with_the_saved_answers(new_user, demo) -> None:
    instructor, student = new_user("instructor"), new_user("student")
    quiz = published_quiz(instructor.client, category(demo), timeLimitSeconds=3)
    enroll(student.client, quiz.course_id)
    attempt = start(student.client, quiz.lesson_id)
    true_false, _ = quiz.question_ids
    assert (
        student.client.put(
            f"/attempts/{attempt['attemptId']}/answers", json={"answers": {true_false: True}}
        ).status_code
        == 200
    )

    graded = attempt_until(student.client, attempt["attemptId"], "GRADED", timeout=40)

    assert graded["autoSubmitted"] is True and graded["score"] == 1 and graded["passed"] is False
    late = student.client.put(
        f"/attempts/{attempt['attemptId']}/answers", json={"answers": {true_false: False}}
    )
    assert late.status_code == 409 and late.json()["error"]["code"] == "ATTEMPT_CLOSED"
    _, history = execution(arn(attempt))
    assert transitions_outside_map(history) <= 8


def test_an_extension_given_during_the_attempt_moves_its_deadline(new_user, demo) -> None:
    instructor, student = new_user("instructor"), new_user("student")
    quiz = published_quiz(instructor.client, category(demo), timeLimitSeconds=3)
    enroll(student.client, quiz.course_id)
    attempt = start(student.client, quiz.lesson_id)

    extended = instructor.client.put(
        f"/lessons/{quiz.lesson_id}/overrides/{student.user_id}", json={"extraTimeSeconds": 6}
    )
    assert extended.status_code == 200, extended.text
    assert extended.json()["attemptDeadline"] > attempt["deadline"]

    time.sleep(5)  # past the quiz's own limit, within the extension
    true_false, _ = quiz.question_ids
    saved = student.client.put(
        f"/attempts/{attempt['attemptId']}/answers", json={"answers": {true_false: True}}
    )
    assert saved.status_code == 200, saved.text
    graded = attempt_until(student.client, attempt["attemptId"], "GRADED", timeout=40)
    assert graded["autoSubmitted"] is True and graded["score"] == 1
    _, history = execution(arn(attempt))
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if e["type"] == "TaskStateEntered"]
    assert entered.count("AwaitSubmit") == 2, "the run waited again for the extension"


def test_an_essay_is_graded_by_a_person_from_the_queue(new_user, demo, graded_events) -> None:
    instructor, student = new_user("instructor"), new_user("student")
    quiz = published_quiz(instructor.client, category(demo), questions=[TRUE_FALSE, ESSAY])
    enroll(student.client, quiz.course_id)
    attempt = start(student.client, quiz.lesson_id)
    true_false, essay = quiz.question_ids
    answers = {true_false: True, essay: "Rayleigh scattering."}
    assert (
        student.client.put(f"/attempts/{attempt['attemptId']}/answers", json={"answers": answers}).status_code
        == 200
    )
    assert student.client.post(f"/attempts/{attempt['attemptId']}/submit").status_code == 202

    task = essay_task(quiz.course_id, attempt["attemptId"], essay)
    assert attempt_until(student.client, attempt["attemptId"], "AWAITING_GRADING")
    assert task.details["answer"] == "Rayleigh scattering." and task.details["maxPoints"] == 10
    assert task.details["questionText"] == ESSAY["text"] and task.owner_id == student.user_id
    human_tasks.decide(
        Table(),
        callbacks(),
        ESSAY_GRADING.kind,
        task.task_id,
        decided_by=instructor.user_id,
        outcome="graded",
        output={"points": 7, "feedback": "Name the wavelength."},
    )

    graded = attempt_until(student.client, attempt["attemptId"], "GRADED")
    assert (graded["score"], graded["maxScore"], graded["passed"]) == (8, 11, True)
    feedback = instructor.client.get(f"/attempts/{attempt['attemptId']}").json()
    essay_view = next(q for q in feedback["questions"] if q["questionId"] == essay)
    assert essay_view["earned"] == 7 and essay_view["feedback"] == "Name the wavelength."
    assert graded_events(attemptId=attempt["attemptId"])
    again = pytest.raises(ConflictError)
    with again:
        human_tasks.decide(
            Table(),
            callbacks(),
            ESSAY_GRADING.kind,
            task.task_id,
            decided_by="x",
            outcome="graded",
            output={},
        )


def test_a_grade_arriving_after_the_run_was_stopped_is_refused(new_user, demo) -> None:
    instructor, student = new_user("instructor"), new_user("student")
    quiz = published_quiz(instructor.client, category(demo), questions=[ESSAY])
    enroll(student.client, quiz.course_id)
    attempt = start(student.client, quiz.lesson_id)
    (essay,) = quiz.question_ids
    student.client.put(f"/attempts/{attempt['attemptId']}/answers", json={"answers": {essay: "Short."}})
    student.client.post(f"/attempts/{attempt['attemptId']}/submit")
    task = essay_task(quiz.course_id, attempt["attemptId"], essay)
    aws.client("stepfunctions").stop_execution(executionArn=arn(attempt), error="Operator", cause="test")

    with pytest.raises(ConflictError):
        human_tasks.decide(
            Table(),
            callbacks(),
            ESSAY_GRADING.kind,
            task.task_id,
            decided_by=instructor.user_id,
            outcome="graded",
            output={"points": 5},
        )
    closed = human_tasks.get_task(Table(), ESSAY_GRADING.kind, task.task_id)
    assert closed is not None and closed.status == HumanTaskStatus.EXPIRED
    assert student.client.get(f"/attempts/{attempt['attemptId']}").json()["status"] == "AWAITING_GRADING"


def test_two_concurrent_submits_grade_the_attempt_once(new_user, demo, local_cloud) -> None:
    from tests.events import collect

    delivered = collect(AttemptGraded)
    instructor, student = new_user("instructor"), new_user("student")
    quiz = published_quiz(instructor.client, category(demo), questions=[SINGLE])
    enroll(student.client, quiz.course_id)
    attempt = start(student.client, quiz.lesson_id)
    (single,) = quiz.question_ids
    student.client.put(f"/attempts/{attempt['attemptId']}/answers", json={"answers": {single: ["b"]}})

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        answers = list(
            pool.map(lambda _: student.client.post(f"/attempts/{attempt['attemptId']}/submit"), range(2))
        )

    assert [a.status_code for a in answers] == [202, 202]
    attempt_until(student.client, attempt["attemptId"], "GRADED")
    assert len(delivered(8, attemptId=attempt["attemptId"])) == 1
    listed = student.client.get(f"/lessons/{quiz.lesson_id}/attempts").json()["items"]
    assert [(a["attemptId"], a["status"]) for a in listed] == [(attempt["attemptId"], "GRADED")]


def test_a_refund_during_an_attempt_ends_it_and_keeps_its_record(new_user, demo, admin: ApiClient) -> None:
    instructor, student = new_user("instructor"), new_user("student")
    quiz = published_quiz(instructor.client, category(demo), price_cents=1500, timeLimitSeconds=600)
    transaction_id = enroll(student.client, quiz.course_id, paid=True)
    attempt = start(student.client, quiz.lesson_id)
    true_false, _ = quiz.question_ids

    refunded = admin.post(f"/transactions/{transaction_id}/refund", json={"reason": "requested"})
    assert refunded.status_code in (200, 202), refunded.text

    ended = attempt_until(student.client, attempt["attemptId"], "ENDED")
    refused = student.client.put(
        f"/attempts/{attempt['attemptId']}/answers", json={"answers": {true_false: True}}
    )
    assert refused.status_code in (403, 409)
    assert ended["outcome"] == "Ended" and ended.get("score") is None
    described, history = execution(arn(attempt))
    assert described["status"] == "SUCCEEDED"
    assert history[-1]["type"] == "ExecutionSucceeded"
