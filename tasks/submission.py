"""Task handlers of assignment grading (``state-machines/submission.asl.json``).

Thin: parse the input, call :mod:`lms.assessments.submissions`, return a small result.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from lms.snapstart import preload
from tasks.runtime import metrics, task_handler

logger = Logger(service="lms-submission")
preload("lms.assessments.submissions", "lms.blobs", "lms.settings", "lms.table", "workflows.submission")


@task_handler(logger)
def check_work(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.assessments import submissions
    from lms.blobs import S3BlobStore
    from lms.settings import get_settings
    from lms.table import Table
    from workflows.submission import TaskInput

    request = TaskInput.model_validate(event)
    state = submissions.check_work(Table(), S3BlobStore(get_settings().bucket_name), request.submission_id)
    return {"work": state.value}


@task_handler(logger)
def await_grade(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.assessments import submissions
    from lms.table import Table
    from workflows.callbacks import callbacks
    from workflows.submission import GRADE_SUBMISSION, AwaitInput

    request = AwaitInput.model_validate(event)
    opened = submissions.open_grading(
        Table(),
        callbacks(),
        request.submission_id,
        request.task_token,
        execution_arn=request.execution_arn,
        timeout_seconds=request.timeout_seconds,
        remind_after_seconds=GRADE_SUBMISSION.remind_after_seconds,
    )
    logger.info("awaiting a grade", extra={"opened": opened is not None})
    return {"opened": opened is not None}


@task_handler(logger)
def record_grade(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.assessments import submissions
    from lms.table import Table
    from workflows.certificate import start_issuance_run
    from workflows.submission import GradeInput

    request = GradeInput.model_validate(event)
    graded = submissions.record_graded(
        Table(),
        request.submission_id,
        points=request.points,
        feedback=request.feedback,
        start_certificate=start_issuance_run,
    )
    outcome = "Graded" if graded.status == submissions.SubmissionStatus.GRADED else "Replaced"
    metrics.add_metric(name=f"Submission{outcome}", unit=MetricUnit.Count, value=1)
    return {"outcome": outcome, "points": graded.points, "passed": graded.passed}


@task_handler(logger)
def expire_grading(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.assessments import submissions
    from lms.table import Table
    from workflows.submission import TaskInput

    request = TaskInput.model_validate(event)
    submission = submissions.expire_grading(Table(), request.submission_id)
    metrics.add_metric(name="SubmissionGradingTimedOut", unit=MetricUnit.Count, value=1)
    logger.warning("grading timed out", extra={"submission_id": request.submission_id})
    return {"outcome": "GradingTimedOut", "status": submission.status.value}


@task_handler(logger)
def record_fault(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.assessments import submissions
    from lms.table import Table
    from workflows.submission import FaultInput

    request = FaultInput.model_validate(event)
    submissions.record_fault(Table(), request.submission_id, request.error)
    return {"recorded": True}
