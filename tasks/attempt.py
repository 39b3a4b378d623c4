"""Task handlers of the quiz-attempt workflow (``state-machines/attempt.asl.json``).

Thin: parse the input, call :mod:`lms.assessments.attempts`, answer a small result (ids and an
outcome; the answers and questions stay on the attempt item).

Cold start: importing this module loads only Powertools, :mod:`tasks.runtime` and
:mod:`lms.snapstart`; each handler imports the domain inside its body (see :mod:`tasks.purchase`).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from lms.snapstart import preload
from tasks.runtime import metrics, task_handler

logger = Logger(service="lms-attempt")
preload(
    "lms.assessments.attempts",
    "lms.assessments.grades",
    "lms.human_tasks",
    "lms.table",
    "workflows.attempt",
    "workflows.callbacks",
)


def _grading_step(step: Any) -> dict[str, Any]:
    metrics.add_metric(name=f"Attempt{step.outcome}", unit=MetricUnit.Count, value=1)
    return {"outcome": step.outcome, "essays": step.essays, "event": step.event}


@task_handler(logger)
def await_submit(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.assessments import attempts
    from lms.table import Table
    from workflows.attempt import AwaitInput
    from workflows.callbacks import callbacks

    request = AwaitInput.model_validate(event)
    waiting = attempts.hold_submit_token(Table(), callbacks(), request.attempt_id, request.task_token)
    logger.info(
        "awaiting the submit" if waiting else "submitted before the wait",
        extra={"attempt": request.attempt_id},
    )
    return {"waiting": waiting}


@task_handler(logger)
def check_deadline(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.assessments import attempts
    from lms.table import Table
    from workflows.attempt import AttemptInput

    request = AttemptInput.model_validate(event)
    check = attempts.close_at_deadline(Table(), request.attempt_id)
    if not check.wait_more:
        metrics.add_metric(name="AttemptsAutoSubmitted", unit=MetricUnit.Count, value=1)
    return {"waitMore": check.wait_more, "timeoutSeconds": check.timeout_seconds}


@task_handler(logger)
def grade(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.assessments import attempts
    from lms.table import Table
    from workflows.attempt import AttemptInput

    request = AttemptInput.model_validate(event)
    return _grading_step(attempts.grade(Table(), request.attempt_id, _record_grade))


@task_handler(logger)
def await_essay_grade(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms import human_tasks
    from lms.assessments import attempts
    from lms.table import Table
    from workflows.attempt import ESSAY_GRADING, EssayInput

    request = EssayInput.model_validate(event)
    table = Table()
    attempt = attempts.get_attempt(table, request.attempt_id)
    if attempt is None:
        raise human_tasks.TaskNotPendingError(f"Attempt {request.attempt_id} is gone.")
    task = human_tasks.new_task(
        kind=ESSAY_GRADING.kind,
        task_id=attempts.essay_task_id(request.attempt_id, request.question_id),
        role=ESSAY_GRADING.role,
        course_id=attempt.course_id,
        owner_id=attempt.user_id,
        execution_name=request.execution_name,
        execution_arn=request.execution_arn,
        due_in_seconds=request.timeout_seconds,
        remind_after_seconds=ESSAY_GRADING.remind_after_seconds,
        details=attempts.essay_details(attempt, request.question_id),
    )
    opened = human_tasks.open_task(table, task, request.task_token)
    logger.info("essay waits for a grader", extra={"task_id": opened.task_id})
    return {"kind": opened.kind, "taskId": opened.task_id}


@task_handler(logger)
def finish_grading(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms import human_tasks
    from lms.assessments import attempts
    from lms.table import Table
    from workflows.attempt import ESSAY_GRADING, FinishInput

    request = FinishInput.model_validate(event)
    table = Table()
    grades: dict[str, tuple[float, str | None]] = {}
    for essay in request.essay_grades:
        grades[essay.question_id] = (float(essay.grade.get("points", 0)), essay.grade.get("feedback"))
        # The decider's own settle may have been lost after its send was delivered.
        human_tasks.settle_from_run(
            table,
            ESSAY_GRADING.kind,
            attempts.essay_task_id(request.attempt_id, essay.question_id),
            outcome="graded",
            reason=None,
        )
    return _grading_step(attempts.finish_essays(table, request.attempt_id, grades, _record_grade))


@task_handler(logger)
def expire_essay_grading(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.assessments import attempts
    from lms.table import Table
    from workflows.attempt import ESSAY_GRADING, ExpireInput

    request = ExpireInput.model_validate(event)
    attempts.expire_essays(Table(), request.attempt_id, ESSAY_GRADING.kind)
    metrics.add_metric(name="AttemptGradingTimedOut", unit=MetricUnit.Count, value=1)
    return {"outcome": "GradingTimedOut"}


@task_handler(logger)
def end_attempts(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.assessments import attempts
    from lms.table import Table
    from workflows.attempt import RevokedInput
    from workflows.callbacks import callbacks

    request = RevokedInput.model_validate(event)
    ended = attempts.end_attempts_in_course(Table(), callbacks(), request.user_id, request.course_id)
    logger.info("attempts ended by a refund", extra={"attempts": ended})
    return {"ended": ended}


def _record_grade(table: Any, **grade: Any) -> str | None:
    """lms.assessments.grades.record_grade with the certificate run started through the catalog (a
    passing grade that completes the course starts it, as a progress post does)."""
    from lms.assessments.grades import record_grade
    from workflows.certificate import start_issuance_run

    return record_grade(table, start_certificate=start_issuance_run, **grade)
