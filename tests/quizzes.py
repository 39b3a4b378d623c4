"""Helpers shared by the quiz tests and the attempt benchmark: a published quiz, an enrolled student."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from tests.conftest import ApiClient
from tests.publishing import create_course, publish_directly, text_lesson
from tests.purchases import buy, pay, wait_for

TRUE_FALSE = {
    "type": "true_false",
    "text": "The sky is blue.",
    "points": 1,
    "correct": True,
    "category": "sky",
}
SINGLE = {
    "type": "single_choice",
    "text": "2 + 2?",
    "points": 2,
    "options": [{"optionId": "a", "text": "3"}, {"optionId": "b", "text": "4"}],
    "correct": ["b"],
    "feedback": "Count on your fingers.",
}
ESSAY = {"type": "essay", "text": "Why is the sky blue?", "points": 10}


@dataclass
class Quiz:
    course_id: str
    lesson_id: str
    question_ids: list[str]


def add_question(instructor: ApiClient, course_id: str, body: dict[str, Any]) -> str:
    response = instructor.post(f"/courses/{course_id}/questions", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["questionId"])


def published_quiz(
    instructor: ApiClient,
    category_id: str,
    *,
    questions: list[dict[str, Any]] | None = None,
    price_cents: int = 0,
    **settings: Any,
) -> Quiz:
    """A course with a text lesson and a quiz of ``questions`` (fixed items), published as version 1."""
    course_id = create_course(
        instructor,
        category_id,
        lessons=[text_lesson("Intro", orderIndex=0), {"title": "Check", "type": "quiz", "orderIndex": 1}],
        price_cents=price_cents,
    )
    lessons = instructor.get(f"/lessons/{course_id}").json()
    lesson_id = next(lesson["lessonId"] for lesson in lessons["items"] if lesson["type"] == "quiz")
    ids = [add_question(instructor, course_id, q) for q in questions or [TRUE_FALSE, SINGLE]]
    body = {
        "items": [{"questionId": i} for i in ids],
        "passPercentage": 50,
        "gradingMethod": "highest",
        **settings,
    }
    response = instructor.put(f"/lessons/{lesson_id}/quiz", json=body)
    assert response.status_code == 200, response.text
    publish_directly(course_id)
    return Quiz(course_id, lesson_id, ids)


def enroll(student: ApiClient, course_id: str, *, paid: bool = False) -> str:
    """Enrol the student (free course, or paid with a good card); returns the transaction id."""
    started = buy(student, course_id)
    transaction_id = str(started["transactionId"])
    if paid:
        pay(transaction_id)
    from lms.entities import TransactionStatus

    wait_for(transaction_id, TransactionStatus.COMPLETED)
    return transaction_id


def start(student: ApiClient, lesson_id: str) -> dict[str, Any]:
    response = student.post(f"/lessons/{lesson_id}/attempts")
    assert response.status_code == 201, response.text
    return dict(response.json())


def attempt_until(client: ApiClient, attempt_id: str, *statuses: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        current = client.get(f"/attempts/{attempt_id}").json()
        if current.get("status") in statuses:
            return dict(current)
        assert time.monotonic() < deadline, f"attempt is {current}, not {statuses}; run: {run_tail(current)}"
        time.sleep(0.2)


def run_tail(attempt: dict[str, Any]) -> list[Any]:
    """The last events of the attempt's run (what a failing test shows)."""
    from lms import aws
    from workflows import executions
    from workflows.attempt import ATTEMPT

    if not attempt.get("executionName"):
        return []
    arn = executions.execution_arn(ATTEMPT, attempt["executionName"])
    events = aws.client("stepfunctions").get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return [{k: v for k, v in e.items() if k not in ("timestamp",)} for e in events[-4:]]
