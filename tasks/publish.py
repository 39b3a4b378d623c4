"""Task handlers of the course publishing workflow (``state-machines/publish.asl.json``).

Thin: parse the input, call :mod:`lms.publishing.steps` or :mod:`lms.publishing.approvals`, return a
small result (counts and the first problems, never the whole checklist: it stays in the table).

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
preload("lms.publishing.steps", "lms.publishing.approvals", "lms.table", "workflows.publish")


@task_handler(logger)
def capture_snapshot(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.publishing import steps
    from lms.table import Table
    from workflows.publish import TaskInput

    request = TaskInput.model_validate(event)
    lessons, problems = steps.capture_snapshot(Table(), request.course_id, request.version)
    return {"lessons": lessons, "courseProblems": problems}


@task_handler(logger)
def check_lesson(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.publishing import steps
    from lms.table import Table
    from workflows.publish import LessonInput

    request = LessonInput.model_validate(event)
    problems = steps.check_snapshot_lesson(
        Table(), request.course_id, request.version, request.position, request.lesson_id
    )
    return {"problems": problems}


@task_handler(logger)
def review_checklist(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.publishing import steps
    from lms.table import Table
    from workflows.publish import ReviewInput

    request = ReviewInput.model_validate(event)
    count = request.course_problems + sum(request.lesson_problems)
    review = steps.review_checklist(
        Table(), request.course_id, request.version, request.execution_name, count
    )
    if not review.passed:
        metrics.add_metric(name="PublicationChecklistFailed", unit=MetricUnit.Count, value=1)
    logger.info("checklist reviewed", extra={"passed": review.passed, "problems": count})
    return {
        "outcome": "ChecklistPassed" if review.passed else "ChecklistFailed",
        "needsReview": review.needs_review,
        "problemCount": count,
        "firstProblems": [
            p.model_dump(mode="json", by_alias=True, exclude_none=True) for p in review.first_problems
        ],
    }


@task_handler(logger)
def await_approval(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.publishing import approvals
    from lms.table import Table
    from workflows.publish import APPROVAL, AwaitInput

    request = AwaitInput.model_validate(event)
    approval = approvals.await_approval(
        Table(),
        request.course_id,
        request.version,
        request.execution_name,
        request.task_token,
        execution_arn=request.execution_arn,
        timeout_seconds=request.timeout_seconds,
        remind_after_seconds=APPROVAL.remind_after_seconds,
    )
    logger.info("awaiting approval", extra={"approval_id": approval.approval_id})
    return {"approvalId": approval.approval_id}


@task_handler(logger)
def close_unapproved(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.publishing import approvals
    from lms.table import Table
    from workflows.publish import CloseInput

    request = CloseInput.model_validate(event)
    publication = approvals.close_unapproved(
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
    from lms.publishing import steps
    from lms.table import Table
    from workflows.publish import PublishStepInput

    request = PublishStepInput.model_validate(event)
    published = steps.publish(
        Table(),
        request.course_id,
        request.version,
        request.execution_name,
        requested_by=request.requested_by or None,
    )
    metrics.add_metric(name="CoursesPublished", unit=MetricUnit.Count, value=1)
    return {"publishedAt": isoformat(published.published_at), "event": published.event}
