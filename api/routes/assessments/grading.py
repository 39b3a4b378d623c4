"""Assignments, submissions, the grading queue and the gradebook (docs/api.md, "Assessments")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from api import security
from api.models import RequestBody, View
from api.params import PathId
from api.responses import created
from api.routes.learning import verify_url_base
from lms import human_tasks, keys
from lms.assessments import assignments, gradebook, submissions
from lms.blobs import S3BlobStore
from lms.clock import utcnow
from lms.courses import courses
from lms.entities import Role
from lms.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from lms.settings import get_settings
from lms.table import Table
from workflows import callbacks as workflow_callbacks

router = APIGatewayRouter()

ESSAY_KIND = "grade-essay"  # opened by the quiz-attempt workflow (an essay answer)
GRADING_KINDS = (ESSAY_KIND, submissions.KIND)
QUEUE_LIMIT = 100  # per kind: a queue longer than this is worked from its oldest end


class GradingClosedError(ConflictError):
    code = "GRADING_CLOSED"


class AlreadyDecidedError(ConflictError):
    code = "ALREADY_GRADED"


# --- models ---------------------------------------------------------------------------------------


class AssignmentRequest(RequestBody):
    instructions: str = Field(min_length=1, max_length=20_000)
    due_at: datetime | None = Field(default=None, description="UTC; absent: no due time")
    max_points: float = Field(gt=0, le=10_000)
    pass_points: float = Field(ge=0, le=10_000)
    allow_late: bool = False
    late_penalty_percent_per_day: float | None = Field(default=None, ge=0, le=100)
    content_types: list[Annotated[str, Field(min_length=3, max_length=100)]] | None = Field(
        default=None,
        max_length=20,
        description="what a file submission may be (default: pdf, text, images, zip)",
    )
    max_bytes: int | None = Field(default=None, ge=1, le=assignments.LARGEST_MAX_BYTES)


class AssignmentView(View):
    lesson_id: str
    course_id: str
    instructions: str
    due_at: datetime | None = None
    max_points: float
    pass_points: float
    allow_late: bool
    late_penalty_percent_per_day: float
    content_types: list[str]
    max_bytes: int
    updated_at: datetime


class SubmissionRequest(RequestBody):
    text: str | None = Field(default=None, min_length=1, max_length=50_000, description="the work as text")
    content_type: str | None = Field(default=None, min_length=3, max_length=100, description="a file's type")
    content_length: int | None = Field(
        default=None, ge=1, le=assignments.LARGEST_MAX_BYTES, description="the file's size in bytes (signed)"
    )


class SubmissionCreated(View):
    submission_id: str
    status: str
    late: bool
    penalty_percent: float
    execution_name: str
    replaced_submission_id: str | None = None
    upload_url: str | None = Field(default=None, description="presigned PUT: send the file with this type")
    expires_in: int | None = Field(default=None, description="seconds the upload URL stays valid")


class SubmissionView(View):
    submission_id: str
    course_id: str
    lesson_id: str
    user_id: str
    status: str = Field(
        description="UPLOADING, SUBMITTED, GRADED, REPLACED, UPLOAD_MISSING, GRADING_EXPIRED, FAILED"
    )
    number: int
    text: str | None = None
    content_type: str | None = None
    content_length: int | None = None
    submitted_at: datetime
    late: bool
    days_late: int
    penalty_percent: float
    max_points: float
    points: float | None = Field(default=None, description="after the late penalty")
    raw_points: float | None = Field(default=None, description="what the grader gave")
    passed: bool | None = None
    feedback: str | None = None
    graded_at: datetime | None = None
    reason: str | None = None
    execution_name: str
    download_url: str | None = Field(default=None, description="short-lived presigned GET of the file")
    expires_in: int | None = None


class GradingItem(View):
    grading_id: str
    kind: str
    course_id: str | None
    lesson_id: str | None = None
    user_id: str | None = None
    submitted_at: datetime | None = None
    requested_at: datetime
    reminded_at: datetime | None = None
    details: dict[str, Any]


class GradingQueue(View):
    items: list[GradingItem]
    next_cursor: str | None = None


class GradingDecision(RequestBody):
    points: float = Field(ge=0, le=10_000)
    feedback: str | None = Field(default=None, max_length=10_000)


class GradingDecided(View):
    grading_id: str
    kind: str
    status: str
    decided_by: str | None = None
    decided_at: datetime | None = None
    points: float


class GradebookEntry(View):
    user_id: str
    enrollment_status: str
    lesson_id: str
    lesson_title: str
    kind: str
    status: str = Field(description="GRADED or NOT_GRADED")
    percentage: float | None = None
    points: float | None = None
    max_points: float | None = None
    passed: bool | None = None
    attempts_used: int


class Gradebook(View):
    course_id: str
    rows: list[GradebookEntry]


# --- routes ---------------------------------------------------------------------------------------


@router.put(
    "/lessons/<lessonId>/assignment",
    tags=["assessments"],
    summary="An assignment's settings: instructions, due time, points, late policy, files (owner, admin)",
)
@security.allow(Role.INSTRUCTOR, Role.ADMIN)
def put_assignment(lessonId: PathId, body: AssignmentRequest) -> AssignmentView:  # noqa: N803
    table = Table()
    principal = security.authenticated(router, table).principal
    settings = assignments.put_settings(
        table,
        principal,
        lessonId,
        instructions=body.instructions,
        due_at=body.due_at,
        max_points=body.max_points,
        pass_points=body.pass_points,
        allow_late=body.allow_late,
        late_penalty_percent_per_day=body.late_penalty_percent_per_day,
        content_types=body.content_types,
        max_bytes=body.max_bytes,
        now=utcnow(),
    )
    return AssignmentView.model_validate(settings.model_dump())


@router.post(
    "/lessons/<lessonId>/submissions",
    tags=["assessments"],
    summary="Submit assignment work, text or a file (presigned upload); resubmitting replaces ungraded work",
)
@security.signed_in
def submit(lessonId: PathId, body: SubmissionRequest) -> Response[SubmissionCreated]:  # noqa: N803
    from workflows import submission as workflow  # starts executions: only this route needs it

    table = Table()
    principal = security.authenticated(router, table).principal
    work, replaced = submissions.submit(
        table,
        workflow_callbacks.callbacks(),
        user_id=principal.user_id,
        lesson_id=lessonId,
        text=body.text,
        content_type=body.content_type,
        content_length=body.content_length,
        execution_name_for=workflow.execution_name,
        verify_url_base=verify_url_base(router),
    )
    workflow.start_grading(work.submission_id)
    upload_url, expires = None, None
    if work.blob_key and work.content_type:
        expires = get_settings().submission_upload_url_seconds
        upload_url = S3BlobStore(get_settings().bucket_name).presigned_put(
            work.blob_key, work.content_type, expires_in=expires, content_length=work.content_length
        )
    return created(
        SubmissionCreated(
            submission_id=work.submission_id,
            status=work.status.value,
            late=work.late,
            penalty_percent=work.penalty_percent,
            execution_name=work.execution_name,
            replaced_submission_id=replaced.submission_id if replaced else None,
            upload_url=upload_url,
            expires_in=expires,
        )
    )


@router.get(
    "/submissions/<submissionId>",
    tags=["assessments"],
    summary="A submission: status, lateness, grade, feedback, short-lived download URL (student, owner)",
)
@security.signed_in
def get_submission(submissionId: PathId) -> SubmissionView:  # noqa: N803
    table = Table()
    caller = security.authenticated(router, table, [keys.submission(submissionId)])
    item = caller.extras.get(keys.submission(submissionId))
    principal = caller.principal
    work = submissions.Submission.from_item(item) if item else None
    someone_elses = work is not None and work.user_id != principal.user_id
    if (
        work is not None
        and someone_elses
        and not courses.can_manage(principal, courses.get_course(table, work.course_id))
    ):
        work = None  # someone else's work: answered like a missing one, so ids cannot be probed
    if work is None:
        raise NotFoundError(f"No submission with id {submissionId}.")
    download_url, expires = None, None
    if work.blob_key and work.status not in (
        submissions.SubmissionStatus.UPLOADING,
        submissions.SubmissionStatus.UPLOAD_MISSING,
    ):
        expires = get_settings().submission_download_url_seconds
        download_url = S3BlobStore(get_settings().bucket_name).presigned_get(work.blob_key, expires)
    return SubmissionView.model_validate(
        {**work.model_dump(), "download_url": download_url, "expires_in": expires}
    )


@router.get(
    "/courses/<courseId>/grading",
    tags=["assessments"],
    summary="Work waiting for a grader (essay answers, assignment submissions), oldest first (owner, admin)",
)
@security.allow(Role.INSTRUCTOR, Role.ADMIN)
def grading_queue(courseId: PathId) -> GradingQueue:  # noqa: N803
    table = Table()
    principal = security.authenticated(router, table).principal
    if not courses.can_manage(principal, courses.get_course(table, courseId)):
        raise ForbiddenError("Only the course's instructor or an administrator grades its work.")
    pending: list[human_tasks.HumanTask] = []
    for kind in GRADING_KINDS:
        found, _ = human_tasks.list_pending(table, kind, course_id=courseId, limit=QUEUE_LIMIT, cursor=None)
        pending.extend(found)
    pending.sort(key=lambda task: (task.requested_at, task.task_id))
    return GradingQueue(items=[_queue_item(task) for task in pending])


@router.post(
    "/grading/<gradingId>",
    tags=["assessments"],
    summary="Grade waiting work once: points and feedback resume its workflow (owner, admin)",
)
@security.allow(Role.INSTRUCTOR, Role.ADMIN)
def decide_grading(gradingId: PathId, body: GradingDecision) -> GradingDecided:  # noqa: N803
    table = Table()
    principal = security.authenticated(router, table).principal
    kind, task_id = submissions.parse_grading_id(gradingId)
    task = human_tasks.get_task(table, kind, task_id) if kind in GRADING_KINDS else None
    if task is None or task.course_id is None:
        raise NotFoundError(f"No grading with id {gradingId}.")
    if not courses.can_manage(principal, courses.get_course(table, task.course_id)):
        raise ForbiddenError("Only the course's instructor or an administrator grades its work.")
    max_points = float(task.details.get("maxPoints", 0))
    if body.points > max_points:
        raise ValidationError(f"points cannot be more than this work's maxPoints ({max_points:g}).")
    if task.status != human_tasks.HumanTaskStatus.PENDING:
        raise _closed(task)
    try:
        decided = human_tasks.decide(
            table,
            workflow_callbacks.callbacks(),
            kind,
            task_id,
            decided_by=principal.user_id,
            outcome="graded",
            output={"points": body.points, "feedback": body.feedback},
        )
    except ConflictError as error:
        now = human_tasks.get_task(table, kind, task_id)
        if now is not None and now.status != human_tasks.HumanTaskStatus.DECIDING:
            raise _closed(now) from error
        raise
    return GradingDecided(
        grading_id=gradingId,
        kind=kind,
        status=decided.status.value,
        decided_by=decided.decided_by,
        decided_at=decided.decided_at,
        points=body.points,
    )


@router.get(
    "/courses/<courseId>/gradebook",
    tags=["assessments"],
    summary="Every enrolled student x assessment: grade, passed, attempts used; ?format=csv (owner, admin)",
)
@security.allow(Role.INSTRUCTOR, Role.ADMIN)
def get_gradebook(
    courseId: PathId,  # noqa: N803
    format: Annotated[Literal["json", "csv"], Query(description="csv: the same rows as CSV")] = "json",  # noqa: A002
) -> Response[Gradebook | str]:
    table = Table()
    principal = security.authenticated(router, table).principal
    if not courses.can_manage(principal, courses.get_course(table, courseId)):
        raise ForbiddenError("Only the course's instructor or an administrator sees its gradebook.")
    rows = gradebook.gradebook(table, courseId)
    if format == "csv":
        return Response(
            status_code=200,
            content_type="text/csv; charset=utf-8",
            body=gradebook.as_csv(rows),
            headers={"Content-Disposition": f'attachment; filename="gradebook-{courseId}.csv"'},
        )
    view = Gradebook(course_id=courseId, rows=[GradebookEntry.model_validate(row.__dict__) for row in rows])
    return Response(status_code=200, content_type="application/json", body=view)


def _queue_item(task: human_tasks.HumanTask) -> GradingItem:
    details = task.details
    return GradingItem(
        grading_id=submissions.grading_id(task.kind, task.task_id),
        kind=task.kind,
        course_id=task.course_id,
        lesson_id=details.get("lessonId"),
        user_id=details.get("userId") or task.owner_id,
        submitted_at=details.get("submittedAt"),
        requested_at=task.requested_at,
        reminded_at=task.reminded_at,
        details=details,
    )


def _closed(task: human_tasks.HumanTask) -> ConflictError:
    if task.status == human_tasks.HumanTaskStatus.DECIDED:
        return AlreadyDecidedError(f"This work is already graded ({task.outcome}).")
    if task.status == human_tasks.HumanTaskStatus.EXPIRED:
        return GradingClosedError(f"This work no longer waits for a grade ({task.reason or 'expired'}).")
    return ConflictError("This work is being graded right now; retry shortly.")
