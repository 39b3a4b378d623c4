"""Quizzes (docs/api.md, "Assessments"): the question bank, quiz settings, overrides and attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import ConfigDict, Field

from api import security
from api.models import Page, RequestBody, View
from api.params import Cursor, Limit, PathId
from api.responses import accepted, created, no_content, page_limit
from lms.assessments import attempts, overrides, questions, quizzes
from lms.assessments.questions import Option, Pair, QuestionContent, QuestionType
from lms.entities import CAMEL_CASE, Role
from lms.table import Table
from workflows import callbacks as workflow_callbacks

router = APIGatewayRouter()
MANAGERS = (Role.INSTRUCTOR, Role.ADMIN)
MAX_ANSWERS_PER_SAVE = 200


# --- models ---------------------------------------------------------------------------------------


class QuestionBody(QuestionContent):
    """A question as an author writes it; the fields its type does not take are refused (400)."""

    model_config = ConfigDict(**CAMEL_CASE, populate_by_name=False, extra="forbid")


class QuestionView(View):
    question_id: str
    course_id: str
    type: QuestionType
    text: str
    points: float
    category: str | None = None
    feedback: str | None = None
    options: list[Option] | None = None
    correct: list[str] | bool | None = None
    accepted_answers: list[str] | None = None
    answer: float | None = None
    tolerance: float | None = None
    pairs: list[Pair] | None = None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, question: questions.Question) -> QuestionView:
        return cls.model_validate(question.model_dump())


class QuestionPage(Page[QuestionView]):
    pass


class QuizSettingsBody(quizzes.QuizSettings):
    model_config = ConfigDict(**CAMEL_CASE, populate_by_name=False, extra="forbid")


class QuizView(View):
    lesson_id: str
    settings: quizzes.QuizSettings


class OverrideBody(RequestBody):
    extra_time_seconds: Annotated[int, Field(ge=0, le=7 * 24 * 3600)] = 0
    extra_attempts: Annotated[int, Field(ge=0, le=100)] = 0
    closes_at: datetime | None = None
    due_at: datetime | None = None


class OverrideView(View):
    lesson_id: str
    user_id: str
    extra_time_seconds: int
    extra_attempts: int
    closes_at: datetime | None = None
    due_at: datetime | None = None
    attempt_deadline: datetime | None = Field(
        default=None, description="the new deadline of the student's attempt in progress, if any"
    )


class StudentQuestion(View):
    question_id: str
    type: QuestionType
    text: str
    points: float
    options: list[Option] | None = None
    prompts: list[str] | None = Field(default=None, description="matching: the left sides, in order")
    choices: list[str] | None = Field(default=None, description="matching: the right sides, shuffled")


class AttemptStarted(View):
    attempt_id: str
    execution_name: str
    status: attempts.AttemptStatus
    started_at: datetime
    deadline: datetime
    questions: list[StudentQuestion]


class AttemptView(View):
    """What the caller may see: the student per the quiz's review setting, managers everything."""

    model_config = ConfigDict(**CAMEL_CASE, populate_by_name=True, serialize_by_alias=True, extra="allow")

    attempt_id: str
    lesson_id: str
    course_id: str
    user_id: str
    number: int
    status: attempts.AttemptStatus
    started_at: datetime
    deadline: datetime
    submitted_at: datetime | None = None
    auto_submitted: bool
    execution_name: str
    outcome: str | None = None
    score: float | None = None
    max_score: float | None = None
    percentage: float | None = None
    passed: bool | None = None
    questions: list[dict[str, Any]] | None = None
    answers: dict[str, Any] | None = None


class AttemptPage(Page[AttemptView]):
    pass


class AnswersBody(RequestBody):
    answers: Annotated[dict[str, Any], Field(max_length=MAX_ANSWERS_PER_SAVE)]


class AnswersSaved(View):
    attempt_id: str
    status: attempts.AttemptStatus
    deadline: datetime
    answers: dict[str, Any]


def _attempt_view(attempt: attempts.Attempt, *, manager: bool) -> AttemptView:
    return AttemptView.model_validate(attempts.attempt_view(attempt, manager=manager))


# --- the question bank --------------------------------------------------------------------------


@router.get(
    "/courses/<courseId>/questions",
    tags=["assessments"],
    summary="The course's question bank, answer keys included (owner or admin); ?category= narrows it",
)
@security.allow(*MANAGERS)
def list_questions(
    courseId: PathId,  # noqa: N803
    category: Annotated[str | None, Query(max_length=100)] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> QuestionPage:
    table = Table()
    principal = security.authenticated(router, table).principal
    found, next_cursor = questions.list_questions(
        table, principal, courseId, category=category, limit=page_limit(limit), cursor=cursor
    )
    return QuestionPage(items=[QuestionView.of(q) for q in found], next_cursor=next_cursor)


@router.post("/courses/<courseId>/questions", tags=["assessments"], summary="Add a question to the bank")
@security.allow(*MANAGERS)
def create_question(courseId: PathId, body: QuestionBody) -> Response[QuestionView]:  # noqa: N803
    table = Table()
    principal = security.authenticated(router, table).principal
    return created(QuestionView.of(questions.create_question(table, principal, courseId, body)))


@router.put(
    "/questions/<questionId>",
    tags=["assessments"],
    summary="Replace a question; published versions keep the copy they were published with",
)
@security.allow(*MANAGERS)
def replace_question(questionId: PathId, body: QuestionBody) -> QuestionView:  # noqa: N803
    table = Table()
    principal = security.authenticated(router, table).principal
    return QuestionView.of(questions.replace_question(table, principal, questionId, body))


@router.delete(
    "/questions/<questionId>",
    tags=["assessments"],
    summary="Delete a question from the bank; published versions and attempts keep their copy",
)
@security.allow(*MANAGERS)
def delete_question(questionId: PathId) -> Response[None]:  # noqa: N803
    table = Table()
    principal = security.authenticated(router, table).principal
    questions.delete_question(table, principal, questionId)
    return no_content()


# --- quiz settings and overrides --------------------------------------------------------------------


@router.put(
    "/lessons/<lessonId>/quiz",
    tags=["assessments"],
    summary="A quiz lesson's settings on the draft; students get them with the next published version",
)
@security.allow(*MANAGERS)
def put_quiz(lessonId: PathId, body: QuizSettingsBody) -> QuizView:  # noqa: N803
    table = Table()
    principal = security.authenticated(router, table).principal
    settings = quizzes.put_settings(table, principal, lessonId, body)
    return QuizView(lesson_id=lessonId, settings=settings)


@router.get(
    "/lessons/<lessonId>/quiz",
    tags=["assessments"],
    summary="A quiz's settings: the published version for enrolled students, the draft for managers",
)
@security.signed_in
def get_quiz(lessonId: PathId) -> QuizView:  # noqa: N803
    table = Table()
    principal = security.authenticated(router, table).principal
    settings, _ = quizzes.quiz_for(table, principal, lessonId)
    return QuizView(lesson_id=lessonId, settings=settings)


@router.put(
    "/lessons/<lessonId>/overrides/<userId>",
    tags=["assessments"],
    summary="One student's extra time, extra attempts, later close or due time (owner or admin)",
)
@security.allow(*MANAGERS)
def put_override(lessonId: PathId, userId: PathId, body: OverrideBody) -> OverrideView:  # noqa: N803
    table = Table()
    principal = security.authenticated(router, table).principal
    override = overrides.Override(lesson_id=lessonId, user_id=userId, **body.model_dump())
    stored = overrides.put_override(table, principal, lessonId, override)
    moved = attempts.apply_override(table, lessonId, stored)
    return OverrideView(
        **stored.model_dump(exclude={"updated_at"}), attempt_deadline=moved.deadline if moved else None
    )


# --- attempts -------------------------------------------------------------------------------------


@router.post(
    "/lessons/<lessonId>/attempts",
    tags=["assessments"],
    summary="Start an attempt (enrolled student): questions drawn and shuffled once, deadline set",
)
@security.allow(Role.STUDENT)
def start_attempt(lessonId: PathId) -> Response[AttemptStarted]:  # noqa: N803
    from workflows import attempt as workflow  # starts executions: only this route needs it

    table = Table()
    principal = security.authenticated(router, table).principal
    attempt = workflow.begin_attempt(table, principal, lessonId).attempt
    return created(
        AttemptStarted(
            attempt_id=attempt.attempt_id,
            execution_name=attempt.execution_name,
            status=attempt.status,
            started_at=attempt.started_at,
            deadline=attempt.deadline,
            questions=[
                StudentQuestion.model_validate(attempts.student_question(q)) for q in attempt.questions
            ],
        )
    )


@router.get(
    "/attempts/<attemptId>",
    tags=["assessments"],
    summary="An attempt: its student sees what the review setting allows; owner and admins everything",
)
@security.signed_in
def get_attempt(attemptId: PathId) -> AttemptView:  # noqa: N803
    table = Table()
    principal = security.authenticated(router, table).principal
    attempt, manager = attempts.readable_attempt(table, principal, attemptId)
    return _attempt_view(attempt, manager=manager)


@router.put(
    "/attempts/<attemptId>/answers",
    tags=["assessments"],
    summary="Save answers while the attempt is in progress; after submit or the deadline: 409 ATTEMPT_CLOSED",
)
@security.allow(Role.STUDENT)
def save_answers(attemptId: PathId, body: AnswersBody) -> AnswersSaved:  # noqa: N803
    table = Table()
    principal = security.authenticated(router, table).principal
    attempt = attempts.save_answers(table, principal, attemptId, body.answers)
    return AnswersSaved(
        attempt_id=attempt.attempt_id,
        status=attempt.status,
        deadline=attempt.deadline,
        answers=attempt.answers,
    )


@router.post(
    "/attempts/<attemptId>/submit",
    tags=["assessments"],
    summary="Submit the attempt for grading (202); a second submit answers the attempt as it is",
)
@security.allow(Role.STUDENT)
def submit_attempt(attemptId: PathId) -> Response[AttemptView]:  # noqa: N803
    table = Table()
    principal = security.authenticated(router, table).principal
    attempt, resumed = attempts.submit(table, workflow_callbacks.callbacks(), principal, attemptId)
    if not resumed:
        from workflows import attempt as workflow  # starts executions: only this route needs it

        workflow.ensure_run(attempt.attempt_id)
    return accepted(_attempt_view(attempt, manager=False))


@router.get(
    "/lessons/<lessonId>/attempts",
    tags=["assessments"],
    summary="Attempts at a quiz: a student's own; the owner's and admins' everyone's (?userId=)",
)
@security.signed_in
def list_attempts(
    lessonId: PathId,  # noqa: N803
    userId: Annotated[str | None, Query(max_length=64)] = None,  # noqa: N803
    limit: Limit = 20,
    cursor: Cursor = None,
) -> AttemptPage:
    table = Table()
    principal = security.authenticated(router, table).principal
    found, manager, next_cursor = attempts.list_attempts(
        table, principal, lessonId, user_id=userId, limit=page_limit(limit), cursor=cursor
    )
    views = [_attempt_view(a, manager=manager) for a in found]
    for view in views:
        view.questions = None if not manager else view.questions
    return AttemptPage(items=views, next_cursor=next_cursor)
