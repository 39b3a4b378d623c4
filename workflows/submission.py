"""Assignment grading: a submission waits for its file, then for a grade (docs/workflows/submission.md).

``submission-<submissionId>``, started by POST /lessons/{lessonId}/submissions. CheckWork looks for
the file (a text submission has arrived already) every ``uploadCheckSeconds`` until its upload URL
expired; AwaitGrade opens a ``grade-submission`` human task for the course's instructor (and admins)
and waits at most ``gradingTimeoutSeconds``; RecordGrade stores the points less the late penalty,
the gradebook item, and the completion (and maybe the certificate run). Business outcomes end in
Succeed (Graded, Replaced, UploadMissing, GradingTimedOut: each recorded on the submission); Fail
(SubmissionFailed) only for faults, recorded on the submission first.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from lms import keys
from lms.assessments import submissions
from lms.settings import get_settings
from workflows import executions
from workflows.definition import Access, BucketAccess, Needs, TaskFunction, Workflow
from workflows.executions import StartedExecution
from workflows.human_tasks import HumanTask

# Instructors grade (listed per course); a submission waiting longer than
# Settings.grading_reminder_seconds (3 days by default) earns a reminder from the human-task reminder sweep.
GRADE_SUBMISSION = HumanTask(
    kind=submissions.KIND,
    state="AwaitGrade",
    role=submissions.GRADER_ROLE,
    remind_after_seconds=get_settings().grading_reminder_seconds,
)

SUBMISSION = Workflow(
    name="submission",
    functions=(
        TaskFunction(
            "CheckWork",
            # Listing lets S3 answer 404 (not uploaded yet) rather than 403 for a missing file.
            Needs(
                table=Access.READ_WRITE,
                bucket=BucketAccess(Access.READ, keys.SUBMISSIONS_BLOB_PREFIX, list=True),
            ),
            timeout_seconds=15,
        ),
        # Opens the task with the run's token; resumes the run itself when the work was replaced.
        TaskFunction("AwaitGrade", Needs(table=Access.READ_WRITE, task_callbacks=True), timeout_seconds=15),
        # A passing grade may complete the course: it starts the certificate run, as a progress post does.
        TaskFunction(
            "RecordGrade",
            Needs(table=Access.READ_WRITE, event_bus_put=True, start_workflows=("certificate",)),
            timeout_seconds=30,
        ),
        GRADE_SUBMISSION.closing_function("ExpireGrading"),
        TaskFunction("RecordFault", Needs(table=Access.READ_WRITE), timeout_seconds=15),
    ),
    # The grading wait is at most Settings.grading_timeout_seconds (300 days at most); the rest is minutes.
    timeout_seconds=310 * 24 * 3600,
    error_alarms=("SubmissionFailed",),
    human_tasks=(GRADE_SUBMISSION,),
)


class TaskInput(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    submission_id: str


class AwaitInput(TaskInput):
    task_token: str
    execution_arn: str = ""
    timeout_seconds: int = Field(ge=1)


class GradeInput(TaskInput):
    points: float = Field(ge=0)
    feedback: str | None = None


class FaultInput(TaskInput):
    error: str = "States.TaskFailed"


class SubmissionInput(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)

    submission_id: str
    upload_check_seconds: int = Field(default_factory=lambda: get_settings().submission_upload_check_seconds)
    grading_timeout_seconds: int = Field(default_factory=lambda: get_settings().grading_timeout_seconds)


def execution_name(submission_id: str) -> str:
    return SUBMISSION.execution_name(submission_id)


def start_grading(submission_id: str) -> StartedExecution:
    """Start ``submission-<submissionId>`` (idempotent by name)."""
    payload = SubmissionInput(submission_id=submission_id)
    return executions.start(SUBMISSION, submission_id, payload.model_dump(by_alias=True))
