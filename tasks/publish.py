"""Task handlers of the course publishing workflow (``state-machines/publish.asl.json``).

Thin: parse the input, call :mod:`lms.publishing.runs`, return a small result.

Cold start: importing this module loads only Powertools, :mod:`tasks.runtime` and
:mod:`lms.snapstart`; each handler imports the domain inside its body, and
:func:`lms.snapstart.preload` loads it before a SnapStart snapshot (see :mod:`tasks.purchase`).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from lms.snapstart import preload
from tasks.runtime import metrics, task_handler

logger = Logger(service="lms-publish")
preload("lms.publishing.runs", "lms.table", "workflows.publish")


def _dump(failures: list[Any]) -> list[dict[str, Any]]:
    return [f.model_dump(mode="json", by_alias=True, exclude_none=True) for f in failures]


@task_handler(logger)
def capture_snapshot(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.publishing import runs
    from lms.table import Table
    from workflows.publish import TaskInput

    request = TaskInput.model_validate(event)
    lessons, failures = runs.capture_snapshot(Table(), request.course_id, request.version)
    return {"lessons": lessons, "courseFailures": _dump(failures)}


@task_handler(logger)
def check_lesson(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.publishing import runs
    from lms.table import Table
    from workflows.publish import LessonInput

    request = LessonInput.model_validate(event)
    failures = runs.check_snapshot_lesson(
        Table(), request.course_id, request.version, request.position, request.lesson_id
    )
    return {"failures": _dump(failures)}


@task_handler(logger)
def review_checklist(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.publishing import runs
    from lms.table import Table
    from workflows.publish import ReviewInput

    request = ReviewInput.model_validate(event)
    failures = runs.failure_list([*request.course_failures, *request.lesson_failures])
    passed, needs_review = runs.review_checklist(Table(), request.course_id, request.execution_name, failures)
    if not passed:
        metrics.add_metric(name="PublicationChecklistFailed", unit=MetricUnit.Count, value=1)
    logger.info("checklist reviewed", extra={"passed": passed, "failures": len(failures)})
    return {"outcome": "ChecklistPassed" if passed else "ChecklistFailed", "needsReview": needs_review}


@task_handler(logger)
def await_approval(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.publishing import runs
    from lms.table import Table
    from workflows.publish import AwaitInput

    request = AwaitInput.model_validate(event)
    approval = runs.await_approval(
        Table(),
        request.course_id,
        request.version,
        request.execution_name,
        request.task_token,
        execution_arn=request.execution_arn,
    )
    logger.info("awaiting approval", extra={"approval_id": approval.approval_id})
    return {"approvalId": approval.approval_id}


@task_handler(logger)
def close_unapproved(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.publishing import runs
    from lms.table import Table
    from workflows.publish import CloseInput

    request = CloseInput.model_validate(event)
    publication = runs.close_unapproved(
        Table(),
        request.course_id,
        request.version,
        request.execution_name,
        rejected=request.rejected,
        reason=request.reason,
    )
    outcome = "Rejected" if request.rejected else "ApprovalTimedOut"
    metrics.add_metric(name=f"Publication{outcome}", unit=MetricUnit.Count, value=1)
    return {"outcome": outcome, "reason": publication.reason}


@task_handler(logger)
def publish(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.clock import isoformat
    from lms.publishing import runs
    from lms.table import Table
    from workflows.publish import TaskInput

    request = TaskInput.model_validate(event)
    published = runs.publish(Table(), request.course_id, request.version, request.execution_name)
    metrics.add_metric(name="CoursesPublished", unit=MetricUnit.Count, value=1)
    return {"publishedAt": isoformat(published.published_at), "event": published.event}
