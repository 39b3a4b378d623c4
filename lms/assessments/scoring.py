"""Grading, as pure functions: an answer's shape, its points for every question type, a quiz's grade.

Answers use the shapes of the answer keys (docs/api.md, "Assessments"): a list of optionIds for the
choice types, a boolean for ``true_false``, a string for ``short_answer`` and ``essay``, a number for
``numeric``, a list of ``{left, right}`` pairs for ``matching``. Nothing here reads the table.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from lms.assessments.questions import Question, QuestionType
from lms.errors import ValidationError

MAX_TEXT_ANSWER = 20_000  # characters of an essay or short answer


class GradingMethod(StrEnum):
    HIGHEST = "highest"
    AVERAGE = "average"
    FIRST = "first"
    LAST = "last"


def check_answer(question: Question, answer: Any) -> Any:
    """``answer`` if its shape fits the question's type; a 400 (ValidationError) otherwise."""
    kind = question.type

    def wrong(expected: str) -> ValidationError:
        return ValidationError(
            f"Question {question.question_id} ({kind.value}) takes {expected}.",
            details={"questionId": question.question_id},
        )

    if kind in (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE):
        options = {o.option_id for o in question.options or []}
        if not isinstance(answer, list) or not all(isinstance(a, str) for a in answer):
            raise wrong("a list of optionIds")
        if len(set(answer)) != len(answer) or not set(answer) <= options:
            raise wrong("distinct optionIds of its options")
        if kind == QuestionType.SINGLE_CHOICE and len(answer) > 1:
            raise wrong("one optionId")
    elif kind == QuestionType.TRUE_FALSE:
        if not isinstance(answer, bool):
            raise wrong("true or false")
    elif kind in (QuestionType.SHORT_ANSWER, QuestionType.ESSAY):
        if not isinstance(answer, str) or len(answer) > MAX_TEXT_ANSWER:
            raise wrong(f"a string of at most {MAX_TEXT_ANSWER:,} characters")
    elif kind == QuestionType.NUMERIC:
        if isinstance(answer, bool) or not isinstance(answer, int | float) or not math.isfinite(answer):
            raise wrong("a number")
    elif kind == QuestionType.MATCHING:
        lefts = {p.left for p in question.pairs or []}
        rights = {p.right for p in question.pairs or []}
        if not isinstance(answer, list) or not all(
            isinstance(p, dict)
            and set(p) == {"left", "right"}
            and p["left"] in lefts
            and p["right"] in rights
            for p in answer
        ):
            raise wrong("a list of {left, right} pairs from its prompts and choices")
        if len({p["left"] for p in answer}) != len(answer):
            raise wrong("each prompt at most once")
    return answer


def normalise_text(text: str) -> str:
    """Case- and space-insensitive: folded case, runs of whitespace as one space, trimmed."""
    return re.sub(r"\s+", " ", text).strip().casefold()


def points_for(question: Question, answer: Any) -> float | None:
    """The points ``answer`` earns (0 for no answer); None for an essay, which a person grades."""
    kind = question.type
    if kind == QuestionType.ESSAY:
        return None
    if answer is None:
        return 0.0
    full = question.points
    if kind == QuestionType.SINGLE_CHOICE:
        return full if answer and set(answer) == _correct_ids(question) else 0.0
    if kind == QuestionType.MULTIPLE_CHOICE:
        # Partial credit: each right pick earns its share, each wrong pick takes one share away.
        correct = _correct_ids(question)
        picked = set(answer)
        shares = len(picked & correct) - len(picked - correct)
        return round(full * max(0, shares) / len(correct), 4)
    if kind == QuestionType.TRUE_FALSE:
        return full if answer is question.correct else 0.0
    if kind == QuestionType.SHORT_ANSWER:
        accepted = {normalise_text(a) for a in question.accepted_answers or []}
        return full if normalise_text(answer) in accepted else 0.0
    if kind == QuestionType.NUMERIC:
        target, tolerance = float(question.answer or 0), float(question.tolerance or 0)
        # A hair of slack, so 0.1 + 0.2 counts as 0.3 with a zero tolerance.
        return full if abs(float(answer) - target) <= tolerance + 1e-9 * max(1.0, abs(target)) else 0.0
    pairs = {p.left: p.right for p in question.pairs or []}
    matched = sum(1 for p in answer if pairs.get(p["left"]) == p["right"])
    return round(full * matched / len(pairs), 4)


def _correct_ids(question: Question) -> set[str]:
    return set(question.correct) if isinstance(question.correct, list) else set()


@dataclass(frozen=True)
class AttemptScore:
    score: float  # points earned (essays counted once graded)
    max_score: float
    pending_essays: tuple[str, ...]  # questionIds a person has yet to grade

    @property
    def percentage(self) -> float:
        return round(100 * self.score / self.max_score, 2) if self.max_score else 0.0


def score_attempt(
    questions: Sequence[Question], answers: dict[str, Any], essay_points: dict[str, float] | None = None
) -> tuple[AttemptScore, dict[str, float | None]]:
    """The attempt's score and each question's points (None: an essay still waiting for a person)."""
    graded = essay_points or {}
    per_question: dict[str, float | None] = {}
    for question in questions:
        earned = points_for(question, answers.get(question.question_id))
        if earned is None and question.question_id in graded:
            earned = min(question.points, max(0.0, graded[question.question_id]))
        per_question[question.question_id] = earned
    pending = tuple(q for q, p in per_question.items() if p is None)
    score = round(sum(p for p in per_question.values() if p is not None), 4)
    return AttemptScore(score, sum(q.points for q in questions), pending), per_question


def grade_by_method(method: GradingMethod, percentages_in_order: Sequence[float]) -> float | None:
    """The quiz grade over the graded attempts, oldest first; None before any attempt is graded."""
    if not percentages_in_order:
        return None
    if method == GradingMethod.HIGHEST:
        return max(percentages_in_order)
    if method == GradingMethod.AVERAGE:
        return round(sum(percentages_in_order) / len(percentages_in_order), 2)
    if method == GradingMethod.FIRST:
        return percentages_in_order[0]
    return percentages_in_order[-1]
