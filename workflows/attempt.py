"""The quiz-attempt workflow (``attempt-<attemptId>``): wait for the submit with the student's deadline
as the timeout, submit at the deadline, grade, send essays to a person, record the grade once.

Design (docs/workflows/attempt.md): ``AwaitSubmit`` is a ``.waitForTaskToken`` task whose timeout is
the time left until the deadline. The student's submit resumes it with the stored token; the timeout
goes to ``CheckDeadline``, which waits again when an override moved the deadline later, and otherwise
submits the saved answers itself (``autoSubmitted``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from lms import keys
from lms.events import EnrollmentRevoked
from lms.table import Table, serialize_key
from workflows import executions
from workflows.definition import (
    Access,
    BusinessRecord,
    EventTrigger,
    Needs,
    TaskFunction,
    Workflow,
    settled_when,
)
from workflows.human_tasks import HumanTask

if TYPE_CHECKING:
    from lms.assessments.attempts import StartPlan
    from lms.identity import Principal

# A person grades each essay answer; instructors of the course list them in the grading queue.
ESSAY_GRADING = HumanTask(kind="grade-essay", state="AwaitEssayGrade", role="instructor")
ESSAY_GRADING_TIMEOUT_SECONDS = 30 * 24 * 3600
# The longest attempt (lms.assessments.attempts.UNTIMED_ATTEMPT_SECONDS) plus the essays' wait.
RUN_TIMEOUT_SECONDS = 7 * 24 * 3600 + ESSAY_GRADING_TIMEOUT_SECONDS + 24 * 3600
# Grading records the lesson's grade, which completes the lesson and may start the certificate.
GRADES = Needs(table=Access.READ_WRITE, start_workflows=("certificate",), event_bus_put=True)


def _attempt_record(key: str) -> dict[str, Any] | None:
    from lms.assessments.attempts import get_attempt

    found = get_attempt(Table(), key)
    return found.model_dump(mode="json", by_alias=True, exclude={"questions", "answers"}) if found else None


ATTEMPT = Workflow(
    name="attempt",
    functions=(
        TaskFunction("AwaitSubmit", Needs(table=Access.READ_WRITE, task_callbacks=True), timeout_seconds=15),
        TaskFunction("CheckDeadline", Needs(table=Access.READ_WRITE), timeout_seconds=15),
        TaskFunction("Grade", GRADES, timeout_seconds=30),
        ESSAY_GRADING.function(),
        TaskFunction("FinishGrading", GRADES, timeout_seconds=30),
        ESSAY_GRADING.closing_function("ExpireEssayGrading"),
    ),
    timeout_seconds=RUN_TIMEOUT_SECONDS,
    error_alarms=("AttemptFailed",),
    human_tasks=(ESSAY_GRADING,),
    record=BusinessRecord(
        "quiz attempt", _attempt_record, settled=(settled_when("status", "GRADED", "ENDED"),)
    ),
)


# A refund ends the student's attempts in progress in the course at once (the runs end AttemptEnded).
ATTEMPT_REVOCATION = Workflow(
    name="attempt-revocation",  # execution end-attempts-<transactionId>
    trigger=EventTrigger(event=EnrollmentRevoked, business_key=("detail.transactionId",)),
    functions=(
        TaskFunction(
            "EndAttempts",
            Needs(table=Access.READ_WRITE, task_callbacks=True),
            handler="tasks.attempt.end_attempts",
            timeout_seconds=30,
        ),
    ),
    timeout_seconds=600,
    error_alarms=("EndAttemptsFailed",),
    execution_prefix="end-attempts",
)


class _Input(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class AttemptInput(_Input):
    attempt_id: str
    execution_name: str = ""


class AwaitInput(AttemptInput):
    task_token: str


class EssayInput(AwaitInput):
    question_id: str
    execution_arn: str = ""
    timeout_seconds: int | None = Field(default=None, ge=1)


class EssayGrade(_Input):
    question_id: str
    grade: dict[str, Any]


class FinishInput(AttemptInput):
    essay_grades: list[EssayGrade]


class RevokedInput(_Input):
    user_id: str
    course_id: str


class ExpireInput(AttemptInput):
    reason: str = "timed out"


class StartInput(BaseModel):
    """The execution's input."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)

    attempt_id: str
    attempt_key: dict[str, Any]  # what RecordFault (a direct updateItem) writes, formatted by lms.keys
    deadline: dict[str, Any]  # {"waitMore": true, "timeoutSeconds": n}: AwaitSubmit's timeout
    essay_timeout_seconds: int = ESSAY_GRADING_TIMEOUT_SECONDS


def begin_attempt(table: Table, principal: Principal, lesson_id: str) -> StartPlan:
    """Start an attempt and its run ``attempt-<attemptId>`` (idempotent by name)."""
    from lms.assessments import attempts

    def names(attempt_id: str) -> tuple[str, str]:
        name = ATTEMPT.execution_name(attempt_id)
        return name, executions.execution_arn(ATTEMPT, name)

    plan = attempts.start_attempt(table, principal, lesson_id, execution_name=names)
    ensure_run(plan.attempt.attempt_id, plan.timeout_seconds)
    return plan


def ensure_run(attempt_id: str, timeout_seconds: int = 1) -> None:
    """Start ``attempt-<attemptId>`` unless it exists (a start is idempotent by name). A submit that
    found no run waiting calls it, so an attempt whose start was lost is still graded."""
    payload = StartInput(
        attempt_id=attempt_id,
        attempt_key=serialize_key(keys.attempt(attempt_id)),
        deadline={"waitMore": True, "timeoutSeconds": max(1, timeout_seconds)},
    )
    executions.start(ATTEMPT, attempt_id, payload.model_dump(by_alias=True))
