"""Grading of every question type (partial credit, tolerance, case), answer shapes, grading methods."""

from __future__ import annotations

import random
from typing import Any

import pytest
from pydantic import ValidationError as ModelError

from lms.assessments.questions import Question, QuestionContent
from lms.assessments.quizzes import PublishedQuiz, QuizSettings
from lms.assessments.scoring import GradingMethod, check_answer, grade_by_method, points_for, score_attempt
from lms.errors import ValidationError


def question(**fields: Any) -> Question:
    return Question(course_id="c", **fields)


OPTIONS = [{"optionId": o, "text": o.upper()} for o in ("a", "b", "c", "d")]
SINGLE = question(question_id="s", type="single_choice", text="?", points=2, options=OPTIONS, correct=["b"])
MULTI = question(
    question_id="m", type="multiple_choice", text="?", points=4, options=OPTIONS, correct=["a", "b"]
)
TRUE_FALSE = question(question_id="t", type="true_false", text="?", points=1, correct=False)
SHORT = question(
    question_id="sa", type="short_answer", text="?", points=1, accepted_answers=["New  York", "NYC"]
)
NUMERIC = question(question_id="n", type="numeric", text="?", points=3, answer=3.14, tolerance=0.01)
MATCHING = question(
    question_id="mt",
    type="matching",
    text="?",
    points=3,
    pairs=[
        {"left": "fr", "right": "Paris"},
        {"left": "de", "right": "Berlin"},
        {"left": "it", "right": "Rome"},
    ],
)
ESSAY = question(question_id="e", type="essay", text="Discuss.", points=10)


def test_single_choice_is_all_or_nothing() -> None:
    assert points_for(SINGLE, ["b"]) == 2
    assert points_for(SINGLE, ["a"]) == 0
    assert points_for(SINGLE, []) == 0
    assert points_for(SINGLE, None) == 0


@pytest.mark.parametrize(
    ("picked", "earned"),
    [(["a", "b"], 4), (["a"], 2), (["a", "c"], 0), (["a", "b", "c"], 2), (["c", "d"], 0), ([], 0)],
)
def test_multiple_choice_gives_partial_credit_and_wrong_picks_subtract(
    picked: list[str], earned: float
) -> None:
    assert points_for(MULTI, picked) == earned


def test_true_false_compares_booleans() -> None:
    assert points_for(TRUE_FALSE, False) == 1 and points_for(TRUE_FALSE, True) == 0


@pytest.mark.parametrize("answer", ["new york", "  NEW   york ", "nyc"])
def test_short_answer_ignores_case_and_spacing(answer: str) -> None:
    assert points_for(SHORT, answer) == 1


def test_short_answer_needs_an_accepted_answer() -> None:
    assert points_for(SHORT, "Newark") == 0


@pytest.mark.parametrize(("answer", "earned"), [(3.14, 3), (3.15, 3), (3.13, 3), (3.16, 0), (3, 0)])
def test_numeric_accepts_the_value_within_its_tolerance(answer: float, earned: float) -> None:
    assert points_for(NUMERIC, answer) == earned


def test_numeric_without_tolerance_still_forgives_float_rounding() -> None:
    exact = question(type="numeric", text="0.1 + 0.2", points=1, answer=0.3)
    assert points_for(exact, 0.1 + 0.2) == 1


def test_matching_earns_a_share_per_right_pair() -> None:
    right = [
        {"left": "fr", "right": "Paris"},
        {"left": "de", "right": "Berlin"},
        {"left": "it", "right": "Rome"},
    ]
    assert points_for(MATCHING, right) == 3
    assert points_for(MATCHING, [{"left": "fr", "right": "Paris"}, {"left": "de", "right": "Rome"}]) == 1


def test_an_essay_waits_for_a_person_then_counts_what_they_gave_capped_at_its_points() -> None:
    assert points_for(ESSAY, "My essay") is None
    score, per_question = score_attempt([SINGLE, ESSAY], {"s": ["b"], "e": "text"})
    assert score.pending_essays == ("e",) and per_question == {"s": 2, "e": None}
    score, _ = score_attempt([SINGLE, ESSAY], {"s": ["b"], "e": "text"}, {"e": 25})
    assert (score.score, score.max_score, score.pending_essays) == (12, 12, ())
    assert score.percentage == 100


@pytest.mark.parametrize(
    ("q", "answer"),
    [
        (SINGLE, "b"),
        (SINGLE, ["a", "b"]),
        (SINGLE, ["z"]),
        (MULTI, ["a", "a"]),
        (TRUE_FALSE, "false"),
        (SHORT, 42),
        (NUMERIC, "3.14"),
        (NUMERIC, True),
        (NUMERIC, float("nan")),
        (MATCHING, [{"left": "fr"}]),
        (MATCHING, [{"left": "xx", "right": "Paris"}]),
        (MATCHING, [{"left": "fr", "right": "Paris"}, {"left": "fr", "right": "Rome"}]),
        (ESSAY, ["not", "text"]),
    ],
)
def test_an_answer_of_the_wrong_shape_is_a_400(q: Question, answer: Any) -> None:
    with pytest.raises(ValidationError):
        check_answer(q, answer)


@pytest.mark.parametrize(
    "fields",
    [
        {"type": "single_choice", "options": OPTIONS, "correct": ["a", "b"]},
        {"type": "single_choice", "options": OPTIONS[:1], "correct": ["a"]},
        {"type": "multiple_choice", "options": OPTIONS, "correct": ["z"]},
        {"type": "multiple_choice", "options": OPTIONS},
        {"type": "true_false", "correct": ["a"]},
        {"type": "true_false", "correct": True, "options": OPTIONS},
        {"type": "short_answer"},
        {"type": "numeric"},
        {"type": "matching", "pairs": [{"left": "a", "right": "b"}]},
        {"type": "matching", "pairs": [{"left": "a", "right": "b"}, {"left": "a", "right": "c"}]},
        {"type": "essay", "correct": True},
        {"type": "riddle"},
    ],
)
def test_a_question_of_the_wrong_shape_for_its_type_is_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ModelError):
        QuestionContent.model_validate({"text": "?", **fields})


@pytest.mark.parametrize(
    ("method", "grade"),
    [
        (GradingMethod.HIGHEST, 90),
        (GradingMethod.AVERAGE, 60),
        (GradingMethod.FIRST, 40),
        (GradingMethod.LAST, 50),
    ],
)
def test_each_grading_method(method: GradingMethod, grade: float) -> None:
    assert grade_by_method(method, [40, 90, 50]) == grade
    assert grade_by_method(method, []) is None


def test_a_draw_takes_fixed_questions_and_n_per_category_shuffled_and_never_twice() -> None:
    from lms.assessments.attempts import draw

    bank = [
        question(question_id=f"q{i}", type="true_false", text="?", correct=True, category="c")
        for i in range(6)
    ]
    bank.append(SINGLE)
    settings = QuizSettings.model_validate(
        {
            "items": [{"questionId": "s"}, {"category": "c", "count": 3}],
            "passPercentage": 50,
            "shuffleQuestions": True,
            "shuffleOptions": True,
        }
    )
    quiz = PublishedQuiz(lesson_id="l", course_id="c", version=1, settings=settings, questions=bank)
    drawn = draw(quiz, random.Random(7))
    ids = [q["questionId"] for q in drawn]
    assert len(ids) == 4 == len(set(ids)) and "s" in ids
    assert sum(1 for i in ids if i.startswith("q")) == 3
    single = next(q for q in drawn if q["questionId"] == "s")
    assert sorted(o["optionId"] for o in single["options"]) == ["a", "b", "c", "d"]
