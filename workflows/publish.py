"""The course publishing workflow: its definition, task functions and their inputs, start helper."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from lms import keys
from lms.publishing import runs
from lms.settings import get_settings
from lms.table import Table, serialize_key
from workflows import executions, records
from workflows.definition import Access, BusinessRecord, Needs, TaskFunction, Workflow, settled_when

if TYPE_CHECKING:
    from lms.identity import Principal  # only annotations: the task packages have no argon2 or jwt

PUBLISH = Workflow(
    name="publish",
    functions=(
        TaskFunction("CaptureSnapshot", Needs(table=Access.READ_WRITE), timeout_seconds=60),
        TaskFunction("CheckLesson", Needs(table=Access.READ), timeout_seconds=15),
        TaskFunction("ReviewChecklist", Needs(table=Access.READ_WRITE), timeout_seconds=15),
        TaskFunction("AwaitApproval", Needs(table=Access.READ_WRITE), timeout_seconds=15),
        TaskFunction("CloseUnapproved", Needs(table=Access.READ_WRITE), timeout_seconds=15),
        TaskFunction("Publish", Needs(table=Access.READ_WRITE), timeout_seconds=15),
    ),
    # The approval wait is at most 30 days (Settings.approval_timeout_seconds); the rest takes minutes.
    timeout_seconds=31 * 24 * 3600,
    error_alarms=("PublishFailed",),
    record=BusinessRecord(
        "publication",
        records.publication,
        settled=(records.newer_publication, settled_when("status", "PUBLISHED")),
    ),
)


# The inputs of its task functions (the ASL's Parameters), parsed by tasks.publish.
class TaskInput(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    course_id: str
    version: int
    execution_name: str = ""


class LessonInput(TaskInput):
    position: int
    lesson_id: str


class ReviewInput(TaskInput):
    course_failures: list[Any]
    lesson_failures: list[Any]


class AwaitInput(TaskInput):
    task_token: str
    execution_arn: str = ""


class CloseInput(TaskInput):
    rejected: bool
    reason: str


class PublishInput(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)

    course_id: str
    version: int
    requested_by: str
    # What RecordFault (a direct updateItem) writes, formatted by lms.keys, not the ASL.
    publication_key: dict[str, Any]
    approval_timeout_seconds: int = Field(default_factory=lambda: get_settings().approval_timeout_seconds)


def begin_publication(table: Table, principal: Principal, course_id: str) -> runs.Publication:
    """Start ``publish-<courseId>-v<n>`` once; a request while a run is in flight answers that run.

    The start is repeated for a run already claimed: it is idempotent by name, and it starts a run
    whose first request claimed it but never got to start it.
    """

    def names(version: int) -> tuple[str, str]:
        name = PUBLISH.execution_name(f"{course_id}-v{version}")
        return name, executions.execution_arn(PUBLISH, name)

    publication, _ = runs.claim_run(table, principal, course_id, names=names)
    payload = PublishInput(
        course_id=course_id,
        version=publication.version,
        requested_by=publication.requested_by,
        publication_key=serialize_key(keys.publication(course_id)),
    )
    executions.start(PUBLISH, f"{course_id}-v{publication.version}", payload.model_dump(by_alias=True))
    return publication
