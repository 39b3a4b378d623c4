"""Task handlers of the moderation workflow (``state-machines/moderation.asl.json``).

The wait and its expiry go through the shared human-task mechanism (:mod:`lms.human_tasks`), imported
inside the handlers so a cold start loads no pydantic; applying the verdict calls
:mod:`lms.discussions.moderation`.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from lms.snapstart import preload
from tasks.runtime import task_handler

logger = Logger(service="lms-moderation")
preload(
    "lms.discussions.moderation", "lms.human_tasks", "lms.table", "tasks.human_tasks", "workflows.moderation"
)


@task_handler(logger)
def await_decision(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Record the pending decision with the run's task token (the shared human-task mechanism)."""
    from lms import human_tasks
    from lms.table import Table
    from tasks.human_tasks import OpenTaskInput
    from workflows.moderation import DECISION

    request = OpenTaskInput.model_validate(event)
    task = human_tasks.new_task(
        kind=DECISION.kind,
        task_id=request.task_id,
        role=DECISION.role,
        course_id=request.course_id,
        owner_id=request.owner_id,
        execution_name=request.execution_name,
        execution_arn=request.execution_arn,
        due_in_seconds=request.timeout_seconds,
        remind_after_seconds=DECISION.remind_after_seconds,
        details=request.details,
    )
    opened = human_tasks.open_task(Table(), task, request.task_token)
    return {"kind": opened.kind, "taskId": opened.task_id}


@task_handler(logger)
def expire_decision(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The wait timed out: the report leaves the moderators' lists (idempotent)."""
    from lms import human_tasks
    from lms.table import Table
    from tasks.human_tasks import ExpireTaskInput
    from workflows.moderation import DECISION

    request = ExpireTaskInput.model_validate(event)
    expired = human_tasks.expire(Table(), DECISION.kind, request.task_id, reason=request.reason)
    return {"kind": DECISION.kind, "taskId": request.task_id, "expired": expired}


@task_handler(logger)
def apply_decision(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.discussions import moderation
    from lms.table import Table
    from workflows.moderation import ApplyInput

    request = ApplyInput.model_validate(event)
    result = moderation.apply_decision(
        Table(),
        post_id=request.post_id,
        decision=request.decision,
        decided_by=request.decided_by,
        note=request.note,
    )
    logger.info("moderation applied", extra={"post_id": request.post_id, **result})
    return result


@task_handler(logger)
def notify_participants(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.discussions import moderation
    from lms.table import Table
    from workflows.moderation import NotifyInput

    request = NotifyInput.model_validate(event)
    sent = moderation.notify_participants(Table(), post_id=request.post_id, outcome=request.outcome)
    return {"sent": sent}
