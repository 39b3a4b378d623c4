"""The course publishing workflow: its definition, task functions and their inputs, start helper."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from lms import aws, keys
from lms.publishing import approvals, publications
from lms.settings import get_settings
from lms.table import Table, serialize_key
from workflows import executions, records
from workflows.definition import Access, BusinessRecord, Needs, TaskFunction, Workflow, settled_when
from workflows.human_tasks import HumanTask

if TYPE_CHECKING:
    from lms.identity import Principal  # only annotations: the task packages have no argon2 or jwt

# Admins approve a first publication (or a flagged instructor's); a day's wait earns a reminder.
APPROVAL = HumanTask(kind=approvals.KIND, state="AwaitApproval", role=approvals.APPROVER.value)

PUBLISH = Workflow(
    name="publish",
    functions=(
        TaskFunction("CaptureSnapshot", Needs(table=Access.READ_WRITE), timeout_seconds=60),
        TaskFunction("CheckLesson", Needs(table=Access.READ_WRITE), timeout_seconds=15),
        TaskFunction("ReviewChecklist", Needs(table=Access.READ_WRITE), timeout_seconds=15),
        APPROVAL.function(),
        TaskFunction("CloseUnapproved", Needs(table=Access.READ_WRITE), timeout_seconds=15),
        TaskFunction("Publish", Needs(table=Access.READ_WRITE), timeout_seconds=15),
    ),
    # The approval wait is at most 30 days (Settings.approval_timeout_seconds); the rest takes minutes.
    timeout_seconds=31 * 24 * 3600,
    error_alarms=("PublishFailed",),
    human_tasks=(APPROVAL,),
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


class PublishStepInput(TaskInput):
    requested_by: str = ""  # the actor of CoursePublished


class LessonInput(TaskInput):
    position: int
    lesson_id: str


class ReviewInput(TaskInput):
    course_problems: int = Field(ge=0)
    lesson_problems: list[int]  # one count per lesson (the Map's results)


class AwaitInput(TaskInput):
    task_token: str
    execution_arn: str = ""
    timeout_seconds: int | None = Field(default=None, ge=1)


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


class StepFunctionsRuns:
    """The :class:`~lms.publishing.publications.RunInspector` adapter: DescribeExecution."""

    def ended(self, execution_arn: str) -> publications.EndedRun | None:
        try:
            described = aws.client("stepfunctions").describe_execution(executionArn=execution_arn)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ExecutionDoesNotExist":
                return None  # claimed by a request that died before starting it: the start follows
            raise
        status = str(described["status"])
        if status in ("RUNNING", "PENDING_REDRIVE"):
            return None
        words = [str(described[field]) for field in ("error", "cause") if described.get(field)]
        return publications.EndedRun(status=status, cause=": ".join(words) or f"the run is {status}")


def begin_publication(table: Table, principal: Principal, course_id: str) -> publications.Publication:
    """Start ``publish-<courseId>-v<n>`` once; a request while a run is in flight answers that run.

    The start is repeated for a run already claimed: it is idempotent by name, and it starts a run
    whose first request claimed it but never got to start it. A record whose run ended without
    closing it is closed (FAILED, with the run's cause) and the next run starts.
    """

    def names(version: int) -> tuple[str, str]:
        name = PUBLISH.execution_name(f"{course_id}-v{version}")
        return name, executions.execution_arn(PUBLISH, name)

    publication, _ = publications.claim_run(
        table, principal, course_id, names=names, runs=StepFunctionsRuns()
    )
    payload = PublishInput(
        course_id=course_id,
        version=publication.version,
        requested_by=publication.requested_by,
        publication_key=serialize_key(keys.publication(course_id)),
    )
    executions.start(PUBLISH, f"{course_id}-v{publication.version}", payload.model_dump(by_alias=True))
    return publication
