"""A course's question bank: seven question types, each with its answer key, validated on write.

A question is stored once in its course's bank (``keys.question``) and found by id through GSI1.
Publishing copies the questions a quiz can draw into the version (:mod:`lms.assessments.quizzes`), so
editing or deleting a bank question never changes a published quiz or a graded attempt.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from lms import keys
from lms.clock import new_id, utcnow
from lms.courses.courses import get_course, require_manager
from lms.entities import CAMEL_CASE, Entity, UtcDatetime
from lms.errors import ConflictError, NotFoundError
from lms.expressions import eq, item_exists
from lms.table import Item, Table

if TYPE_CHECKING:
    from lms.identity import Principal

MAX_OPTIONS = 20
MAX_PAIRS = 20
MAX_ACCEPTED_ANSWERS = 20

ShortText = Annotated[str, Field(min_length=1, max_length=1000)]
Points = Annotated[float, Field(gt=0, le=1000)]


class QuestionType(StrEnum):
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    TRUE_FALSE = "true_false"
    SHORT_ANSWER = "short_answer"
    NUMERIC = "numeric"
    MATCHING = "matching"
    ESSAY = "essay"


CHOICE_TYPES = (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE)
# The answer-key fields; never sent to a student unless the review setting allows it.
KEY_FIELDS = ("correct", "acceptedAnswers", "answer", "tolerance", "pairs")


class Option(BaseModel):
    model_config = ConfigDict(**CAMEL_CASE, populate_by_name=True, extra="forbid")

    option_id: Annotated[str, Field(min_length=1, max_length=64)]
    text: ShortText


class Pair(BaseModel):
    model_config = ConfigDict(extra="forbid")

    left: ShortText
    right: ShortText


class QuestionContent(Entity):
    """What an author writes: the question, its options and its answer key (shape checked per type)."""

    type: QuestionType
    text: Annotated[str, Field(min_length=1, max_length=10_000)]
    points: Points = 1.0
    category: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    feedback: Annotated[str, Field(max_length=5000)] | None = None
    options: list[Option] | None = None
    correct: list[str] | StrictBool | None = None
    accepted_answers: list[ShortText] | None = None
    answer: float | None = None
    tolerance: Annotated[float, Field(ge=0)] | None = None
    pairs: list[Pair] | None = None

    @model_validator(mode="after")
    def _shape_of_its_type(self) -> Self:
        problem = shape_problem(self)
        if problem:
            raise ValueError(problem)
        return self


def shape_problem(q: QuestionContent) -> str | None:
    """Why the question's fields do not fit its type, or None (also the publishing checklist's rule)."""
    allowed: dict[QuestionType, set[str]] = {
        QuestionType.SINGLE_CHOICE: {"options", "correct"},
        QuestionType.MULTIPLE_CHOICE: {"options", "correct"},
        QuestionType.TRUE_FALSE: {"correct"},
        QuestionType.SHORT_ANSWER: {"accepted_answers"},
        QuestionType.NUMERIC: {"answer", "tolerance"},
        QuestionType.MATCHING: {"pairs"},
        QuestionType.ESSAY: set(),
    }
    given = {
        f
        for f in ("options", "correct", "accepted_answers", "answer", "tolerance", "pairs")
        if getattr(q, f) is not None
    }
    stray = given - allowed[q.type]
    if stray:
        return f"a {q.type} question has no {', '.join(sorted(stray))}"
    if q.type in CHOICE_TYPES:
        options = q.options or []
        ids = [o.option_id for o in options]
        if not 2 <= len(options) <= MAX_OPTIONS:
            return f"a {q.type} question needs 2 to {MAX_OPTIONS} options"
        if len(set(ids)) != len(ids):
            return "option ids must be distinct"
        if not isinstance(q.correct, list) or not q.correct:
            return f"a {q.type} question needs 'correct': the right optionIds"
        if len(set(q.correct)) != len(q.correct) or not set(q.correct) <= set(ids):
            return "'correct' must list distinct optionIds of the question's options"
        if q.type == QuestionType.SINGLE_CHOICE and len(q.correct) != 1:
            return "a single_choice question has exactly one correct option"
    elif q.type == QuestionType.TRUE_FALSE:
        if not isinstance(q.correct, bool):
            return "a true_false question needs 'correct': true or false"
    elif q.type == QuestionType.SHORT_ANSWER:
        if not q.accepted_answers or len(q.accepted_answers) > MAX_ACCEPTED_ANSWERS:
            return f"a short_answer question needs 1 to {MAX_ACCEPTED_ANSWERS} acceptedAnswers"
    elif q.type == QuestionType.NUMERIC:
        if q.answer is None:
            return "a numeric question needs 'answer' (and optionally 'tolerance')"
    elif q.type == QuestionType.MATCHING:
        pairs = q.pairs or []
        if not 2 <= len(pairs) <= MAX_PAIRS:
            return f"a matching question needs 2 to {MAX_PAIRS} pairs"
        if len({p.left for p in pairs}) != len(pairs) or len({p.right for p in pairs}) != len(pairs):
            return "a matching question's left sides, and its right sides, must be distinct"
    return None


class Question(QuestionContent):
    question_id: str = Field(default_factory=new_id)
    course_id: str
    created_at: UtcDatetime = Field(default_factory=utcnow)
    updated_at: UtcDatetime = Field(default_factory=utcnow)

    def student_view(
        self, *, option_order: list[str] | None = None, right_order: list[str] | None = None
    ) -> dict[str, Any]:
        """What a student sees while answering: never the answer key."""
        view: dict[str, Any] = {
            "questionId": self.question_id,
            "type": self.type.value,
            "text": self.text,
            "points": self.points,
        }
        if self.options:
            by_id = {o.option_id: o for o in self.options}
            order = option_order or list(by_id)
            view["options"] = [by_id[i].model_dump(by_alias=True) for i in order if i in by_id]
        if self.pairs:
            rights = right_order or [p.right for p in self.pairs]
            view["prompts"] = [p.left for p in self.pairs]
            view["choices"] = rights
        return view


def question_item(question: Question) -> Item:
    return {
        **keys.question(question.course_id, question.question_id).as_item(),
        keys.GSI1PK: keys.question_index(question.question_id),
        keys.GSI1SK: keys.question_index(question.question_id),
        **question.attributes(),
    }


def _find(table: Table, question_id: str) -> Question:
    page = table.query(partition=(keys.GSI1PK, keys.question_index(question_id)), index=keys.GSI1, limit=1)
    if not page.items:
        raise NotFoundError(f"No question with id {question_id}.")
    return Question.from_item(page.items[0])


def create_question(table: Table, principal: Principal, course_id: str, content: QuestionContent) -> Question:
    require_manager(principal, get_course(table, course_id))
    question = Question(course_id=course_id, **content.model_dump())
    table.put(question_item(question))
    return question


def get_question(table: Table, principal: Principal, question_id: str) -> Question:
    question = _find(table, question_id)
    require_manager(principal, get_course(table, question.course_id))
    return question


def replace_question(
    table: Table, principal: Principal, question_id: str, content: QuestionContent
) -> Question:
    current = get_question(table, principal, question_id)
    replaced = current.changed(content.model_dump())
    table.put(
        question_item(replaced),
        when=eq("updatedAt", current.attributes()["updatedAt"]),
        otherwise=ConflictError("The question changed meanwhile; read it again and retry."),
    )
    return replaced


def delete_question(table: Table, principal: Principal, question_id: str) -> None:
    """Gone from the bank; published versions and attempts keep the copy they were made with."""
    current = get_question(table, principal, question_id)
    table.delete(keys.question(current.course_id, question_id), when=item_exists())


def list_questions(
    table: Table,
    principal: Principal,
    course_id: str,
    *,
    category: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Question], str | None]:
    require_manager(principal, get_course(table, course_id))
    page = table.query(
        partition=(keys.PK, keys.question_bank(course_id)),
        sort_prefix=(keys.SK, keys.QUESTION_PREFIX),
        limit=limit,
        cursor=cursor,
        filter_equals={"category": category} if category else None,
    )
    return [Question.from_item(item) for item in page.items], page.next_cursor


def bank(table: Table, course_id: str) -> list[Question]:
    """Every question of the course's bank (the publish capture; not a request path)."""
    items = table.query_all(
        partition=(keys.PK, keys.question_bank(course_id)), sort_prefix=(keys.SK, keys.QUESTION_PREFIX)
    )
    return [Question.from_item(item) for item in items]
