"""Task handlers every human task shares: open a task (the waiting state's function) and remind.

A workflow whose waiting step needs nothing but the task itself binds the generic handler in its
task module (``await_review = open_task_handler(REVIEW)``); one with its own bookkeeping (publishing
moves its record to AWAITING_APPROVAL) calls :func:`lms.human_tasks.open_task` from its handler.
Reminders are sent by a scheduled sweep over every declared kind (docs/architecture.md, "Reminders").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from tasks.runtime import task_handler

if TYPE_CHECKING:
    from workflows.human_tasks import HumanTask

logger = Logger(service="lms-human-tasks")


class OpenTaskInput(BaseModel):
    """What the waiting state passes (its ``Parameters.Payload``)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    task_token: str
    task_id: str  # the business key, unique within the kind (e.g. "<courseId>-v<n>")
    execution_name: str
    execution_arn: str = ""
    course_id: str | None = None
    owner_id: str | None = None
    timeout_seconds: int | None = Field(default=None, ge=1)
    details: dict[str, Any] = Field(default_factory=dict)


def open_task_handler(declaration: HumanTask) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The handler of ``declaration``'s waiting state: record the pending task with its token."""

    @task_handler(logger)
    def open_task(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        from lms import human_tasks
        from lms.table import Table

        request = OpenTaskInput.model_validate(event)
        task = human_tasks.new_task(
            kind=declaration.kind,
            task_id=request.task_id,
            role=declaration.role,
            course_id=request.course_id,
            owner_id=request.owner_id,
            execution_name=request.execution_name,
            execution_arn=request.execution_arn,
            due_in_seconds=request.timeout_seconds or declaration.timeout_seconds,
            remind_after_seconds=declaration.remind_after_seconds,
            details=request.details,
        )
        opened = human_tasks.open_task(Table(), task, request.task_token)
        logger.info("human task opened", extra={"kind": opened.kind, "task_id": opened.task_id})
        return {"kind": opened.kind, "taskId": opened.task_id}

    return open_task


class ExpireTaskInput(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    task_id: str
    reason: str = "timed out"


def expire_task_handler(declaration: HumanTask) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The handler of a state after the wait timed out: the task leaves the pending lists (idempotent)."""

    @task_handler(logger)
    def expire_task(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        from lms import human_tasks
        from lms.table import Table

        request = ExpireTaskInput.model_validate(event)
        expired = human_tasks.expire(Table(), declaration.kind, request.task_id, reason=request.reason)
        return {"kind": declaration.kind, "taskId": request.task_id, "expired": expired}

    return expire_task
