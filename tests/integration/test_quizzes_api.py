"""Quizzes over HTTP: the bank's validation, settings, start rules, answer shapes, who sees what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.quizzes import SINGLE, TRUE_FALSE, add_question, enroll, published_quiz, start


def category(demo: Any) -> str:
    return str(demo.data.categories["Python"].category_id)


@pytest.fixture
def course(new_user, demo) -> Any:
    instructor = new_user("instructor")
    response = instructor.client.post(
        "/courses",
        json={"title": "Quiz bank", "description": "d", "categoryId": category(demo), "priceCents": 0},
    )
    assert response.status_code == 201, response.text
    return instructor, response.json()["courseId"]


@pytest.mark.parametrize(
    "body",
    [
        {"type": "single_choice", "text": "?", "options": [{"optionId": "a", "text": "A"}], "correct": ["a"]},
        {
            "type": "multiple_choice",
            "text": "?",
            "options": [{"optionId": "a", "text": "A"}, {"optionId": "b", "text": "B"}],
            "correct": ["c"],
        },
        {"type": "true_false", "text": "?", "correct": "yes"},
        {"type": "short_answer", "text": "?", "acceptedAnswers": []},
        {"type": "numeric", "text": "?", "tolerance": 1},
        {"type": "matching", "text": "?", "pairs": [{"left": "a", "right": "b"}]},
        {"type": "essay", "text": "?", "correct": True},
        {"type": "true_false", "text": "?", "correct": True, "points": -1},
        {"type": "true_false", "text": "?", "correct": True, "isCorrect": True},
    ],
)
def test_a_question_of_the_wrong_shape_is_a_400_and_the_bank_is_unchanged(
    course, body: dict[str, Any]
) -> None:
    instructor, course_id = course
    response = instructor.client.post(f"/courses/{course_id}/questions", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert instructor.client.get(f"/courses/{course_id}/questions").json()["items"] == []


def test_the_bank_is_the_owners_and_filters_by_category(course, new_user) -> None:
    instructor, course_id = course
    sky = add_question(instructor.client, course_id, TRUE_FALSE)
    add_question(instructor.client, course_id, SINGLE)
    listed = instructor.client.get(f"/courses/{course_id}/questions?category=sky").json()["items"]
    assert [q["questionId"] for q in listed] == [sky] and listed[0]["correct"] is True
    stranger = new_user("instructor").client
    assert stranger.get(f"/courses/{course_id}/questions").status_code == 403
    assert stranger.put(f"/questions/{sky}", json=TRUE_FALSE).status_code == 403
    replaced = instructor.client.put(f"/questions/{sky}", json={**TRUE_FALSE, "correct": False})
    assert replaced.status_code == 200 and replaced.json()["correct"] is False


def test_starting_is_refused_before_opening_after_closing_and_past_the_attempt_limit(new_user, demo) -> None:
    instructor, student = new_user("instructor"), new_user("student")
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    not_open = published_quiz(instructor.client, category(demo), opensAt=later)
    enroll(student.client, not_open.course_id)
    refused = student.client.post(f"/lessons/{not_open.lesson_id}/attempts")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "QUIZ_NOT_OPEN"

    earlier = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    closed = published_quiz(instructor.client, category(demo), closesAt=earlier)
    enroll(student.client, closed.course_id)
    refused = student.client.post(f"/lessons/{closed.lesson_id}/attempts")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "QUIZ_CLOSED"
    later_close = instructor.client.put(
        f"/lessons/{closed.lesson_id}/overrides/{student.user_id}", json={"closesAt": later}
    )
    assert later_close.status_code == 200, later_close.text
    assert start(student.client, closed.lesson_id)["status"] == "IN_PROGRESS", "an override's later close"

    once = published_quiz(instructor.client, category(demo), maxAttempts=1)
    enroll(student.client, once.course_id)
    first = start(student.client, once.lesson_id)
    busy = student.client.post(f"/lessons/{once.lesson_id}/attempts")
    assert busy.status_code == 409 and busy.json()["error"]["details"]["attemptId"] == first["attemptId"]
    assert student.client.post(f"/attempts/{first['attemptId']}/submit").status_code == 202
    spent = student.client.post(f"/lessons/{once.lesson_id}/attempts")
    assert spent.status_code == 422 and spent.json()["error"]["code"] == "NO_ATTEMPTS_LEFT"
    extra = instructor.client.put(
        f"/lessons/{once.lesson_id}/overrides/{student.user_id}", json={"extraAttempts": 1}
    )
    assert extra.status_code == 200
    assert start(student.client, once.lesson_id)["status"] == "IN_PROGRESS"


def test_answers_of_the_wrong_shape_are_a_400_and_change_nothing(new_user, demo) -> None:
    instructor, student, other = new_user("instructor"), new_user("student"), new_user("student")
    quiz = published_quiz(instructor.client, category(demo), timeLimitSeconds=600)
    enroll(student.client, quiz.course_id)
    attempt = start(student.client, quiz.lesson_id)
    true_false, single = quiz.question_ids
    path = f"/attempts/{attempt['attemptId']}/answers"
    assert student.client.put(path, json={"answers": {true_false: True}}).status_code == 200
    for wrong in ({true_false: "yes"}, {single: "b"}, {single: ["z"]}, {"not-a-question": True}):
        response = student.client.put(path, json={"answers": {true_false: False, **wrong}})
        assert response.status_code == 400, response.text
    assert student.client.get(f"/attempts/{attempt['attemptId']}").json()["answers"] == {true_false: True}
    assert other.client.put(path, json={"answers": {true_false: False}}).status_code == 404
    assert other.client.get(f"/attempts/{attempt['attemptId']}").status_code == 404
    assert other.client.post(f"/lessons/{quiz.lesson_id}/attempts").status_code == 403, "not enrolled"


def test_students_never_see_answer_keys_but_the_owner_does(new_user, demo) -> None:
    instructor, student = new_user("instructor"), new_user("student")
    quiz = published_quiz(
        instructor.client, category(demo), review={"afterSubmit": "none", "afterClose": "none"}
    )
    enroll(student.client, quiz.course_id)
    seen = student.client.get(f"/lessons/{quiz.lesson_id}/quiz")
    assert seen.status_code == 200 and "correct" not in seen.text
    attempt = start(student.client, quiz.lesson_id)
    assert "correct" not in str(attempt) and "feedback" not in str(attempt)
    student.client.post(f"/attempts/{attempt['attemptId']}/submit")
    mine = student.client.get(f"/attempts/{attempt['attemptId']}").json()
    assert "score" not in mine or mine["score"] is None
    owner = instructor.client.get(f"/attempts/{attempt['attemptId']}").json()
    assert owner["questions"] and all("key" in q for q in owner["questions"])


def test_starting_an_attempt_takes_at_most_three_dynamodb_calls(new_user, demo, dynamodb_calls) -> None:
    instructor, student = new_user("instructor"), new_user("student")
    quiz = published_quiz(instructor.client, category(demo))
    enroll(student.client, quiz.course_id)
    first = start(student.client, quiz.lesson_id)  # the first start after a publish copies the version
    student.client.post(f"/attempts/{first['attemptId']}/submit")
    other = new_user("student")
    enroll(other.client, quiz.course_id)

    dynamodb_calls.reset()
    start(other.client, quiz.lesson_id)

    assert len(dynamodb_calls.operations) <= 3, dynamodb_calls.operations
    assert "Scan" not in dynamodb_calls.operations
