"""Assignment submissions and their grading (docs/assessments-grading.md, docs/workflows/submission.md).

A submission is text, or a file the student PUTs to a presigned URL under ``submissions/`` signed
with its Content-Type and Content-Length (S3 refuses any other type or size). Each submission gets
a run ``submission-<submissionId>`` that waits for the file (if any), opens a ``grade-submission``
human task, and records the grade when a grader decides it.

A student has one live submission per assignment (``keys.student_submission``): resubmitting before
it is graded replaces it (the old one becomes REPLACED and its run ends ``Replaced``); after it is
graded, resubmitting is 409 ``ALREADY_GRADED``.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import Field

from lms import callbacks, human_tasks, keys, learning
from lms.assessments import assignments, grades
from lms.blobs import BlobStore
from lms.clock import isoformat, new_id, utcnow
from lms.courses import lessons
from lms.entities import Enrollment, Entity, LessonType, UtcDatetime
from lms.errors import BusinessRuleError, ConflictError, NotFoundError, ValidationError
from lms.expressions import Update, eq, item_absent, one_of
from lms.learning import NotEnrolledError
from lms.settings import get_settings
from lms.table import Put, Table

KIND = "grade-submission"
GRADER_ROLE = "instructor"  # listed per course: the owner instructor (and admins) grade
REPLACED_OUTPUT = {"replaced": True}


class SubmissionStatus(StrEnum):
    UPLOADING = "UPLOADING"  # a file submission whose file has not landed yet
    SUBMITTED = "SUBMITTED"  # waiting for a grader
    GRADED = "GRADED"
    REPLACED = "REPLACED"  # resubmitted before grading
    UPLOAD_MISSING = "UPLOAD_MISSING"  # the upload URL expired with no file
    GRADING_EXPIRED = "GRADING_EXPIRED"  # nobody graded it within the grading timeout
    FAILED = "FAILED"  # a fault stopped its run (an operator is alerted)


OPEN_STATUSES = (SubmissionStatus.UPLOADING, SubmissionStatus.SUBMITTED)


class PastDueError(BusinessRuleError):
    code = "PAST_DUE"


class AlreadyGradedError(ConflictError):
    code = "ALREADY_GRADED"


class Submission(Entity):
    submission_id: str
    course_id: str
    lesson_id: str
    user_id: str
    status: SubmissionStatus
    number: int = Field(ge=1, description="1 for the first submission of the assignment, then 2, ...")
    text: str | None = None
    content_type: str | None = None
    content_length: int | None = None
    blob_key: str | None = None
    upload_expires_at: UtcDatetime | None = None
    submitted_at: UtcDatetime
    late: bool = False
    days_late: int = 0
    penalty_percent: float = 0
    max_points: float
    pass_points: float
    raw_points: float | None = None  # what the grader gave
    points: float | None = None  # after the late penalty
    passed: bool | None = None
    feedback: str | None = None
    graded_at: UtcDatetime | None = None
    grading_id: str | None = None
    execution_name: str
    reason: str | None = None
    verify_url_base: str | None = None


def grading_id(kind: str, task_id: str) -> str:
    """The grading queue's id of a human task: ``<kind>~<taskId>`` (URL-safe: ids are hex)."""
    return f"{kind}~{task_id}"


def parse_grading_id(value: str) -> tuple[str, str]:
    kind, _, task_id = value.partition("~")
    if not kind or not task_id:
        raise NotFoundError(f"No grading with id {value}.")
    return kind, task_id


def get(table: Table, submission_id: str) -> Submission | None:
    item = table.get(keys.submission(submission_id), consistent=True)
    return Submission.from_item(item) if item else None


def require(table: Table, submission_id: str) -> Submission:
    found = get(table, submission_id)
    if found is None:
        raise NotFoundError(f"No submission with id {submission_id}.")
    return found


def submit(
    table: Table,
    port: callbacks.WorkflowCallbacks,
    *,
    user_id: str,
    lesson_id: str,
    text: str | None,
    content_type: str | None,
    content_length: int | None,
    execution_name_for: Any,
    verify_url_base: str,
    now: datetime | None = None,
) -> tuple[Submission, Submission | None]:
    """Record a student's work; returns it and the submission it replaced (if any).

    ``execution_name_for(submission_id)`` names the run the caller starts next.
    """
    now = now or utcnow()
    lesson = lessons.find_lesson(table, lesson_id)
    if lesson.type != LessonType.ASSIGNMENT:
        raise assignments.NotAnAssignmentError(
            f"The lesson is a {lesson.type.value} lesson, not an assignment."
        )
    if not Enrollment.is_active_item(table.get(keys.enrollment(user_id, lesson.course_id))):
        raise NotEnrolledError("Only students enrolled in this course submit its assignments.")
    settings = assignments.require_settings(table, lesson_id)
    if (text is None) == (content_type is None):
        raise ValidationError("Send either text or a file's contentType and contentLength.")
    if content_type is not None:
        if content_type not in settings.content_types:
            raise ValidationError(f"contentType must be one of {', '.join(settings.content_types)}.")
        if content_length is None:
            raise ValidationError("A file submission gives its contentLength.")
        if content_length > settings.max_bytes:
            raise ValidationError(f"This assignment takes files of at most {settings.max_bytes} bytes.")
    late = assignments.lateness(settings, now, settings.due_at)
    if late.late and settings.due_at and not settings.allow_late:
        raise PastDueError(f"The assignment was due at {isoformat(settings.due_at)}; it takes no late work.")
    pointer_key = keys.student_submission(lesson_id, user_id)
    pointer = table.get(pointer_key, consistent=True)
    previous = get(table, str(pointer["submissionId"])) if pointer else None
    if previous and previous.status == SubmissionStatus.GRADED:
        raise AlreadyGradedError("This assignment is already graded; it takes no resubmission.")
    submission_id = new_id()
    upload_seconds = get_settings().submission_upload_url_seconds
    submission = Submission(
        submission_id=submission_id,
        course_id=lesson.course_id,
        lesson_id=lesson_id,
        user_id=user_id,
        status=SubmissionStatus.UPLOADING if content_type else SubmissionStatus.SUBMITTED,
        number=(previous.number + 1) if previous else 1,
        text=text,
        content_type=content_type,
        content_length=content_length,
        blob_key=keys.submission_blob(lesson_id, submission_id) if content_type else None,
        upload_expires_at=now + timedelta(seconds=upload_seconds) if content_type else None,
        submitted_at=now,
        late=late.late,
        days_late=late.days_late,
        penalty_percent=late.penalty_percent,
        max_points=settings.max_points,
        pass_points=settings.pass_points,
        execution_name=execution_name_for(submission_id),
        verify_url_base=verify_url_base,
    )
    live = {"submissionId": submission_id, "status": submission.status.value, "updatedAt": isoformat(now)}
    # The pointer moves only from what was read: of two concurrent submissions one wins, the other 409s.
    expected = item_absent() if previous is None else eq("submissionId", previous.submission_id)
    written = table.transact_if(
        [
            Put({**keys.submission(submission_id).as_item(), **submission.attributes()}, when=item_absent()),
            Put({**pointer_key.as_item(), **live}, when=expected),
        ]
    )
    if not written:
        raise ConflictError("Another submission of this assignment was just made; reload and retry.")
    replaced = _replace(table, port, previous) if previous else None
    return submission, replaced


def _replace(table: Table, port: callbacks.WorkflowCallbacks, previous: Submission) -> Submission | None:
    """The previous submission is REPLACED; a run waiting for its grade is told so and ends."""
    moved = table.update_if(
        keys.submission(previous.submission_id),
        Update().set(status=SubmissionStatus.REPLACED.value, reason="replaced by a resubmission"),
        when=one_of("status", OPEN_STATUSES),
    )
    if moved is None:
        return None
    _release_waiting_run(table, port, previous.submission_id)
    return Submission.from_item(moved)


def _release_waiting_run(table: Table, port: callbacks.WorkflowCallbacks, submission_id: str) -> None:
    """Resume a run that waits on this submission's grading task with ``{"replaced": true}``.

    A run not waiting yet finds the submission REPLACED itself (CheckWork, AwaitGrade).
    """
    # NotFound: not open yet (the run sees REPLACED); Conflict: already closed.
    with contextlib.suppress(NotFoundError, ConflictError):
        human_tasks.decide(
            table,
            port,
            KIND,
            submission_id,
            decided_by="system",
            outcome="replaced",
            output=REPLACED_OUTPUT,
            reason="replaced by a resubmission",
        )


# --- the run's side ---------------------------------------------------------------------------


class WorkState(StrEnum):
    READY = "READY"
    WAITING = "WAITING"
    MISSING = "MISSING"
    REPLACED = "REPLACED"


def check_work(table: Table, store: BlobStore, submission_id: str, now: datetime | None = None) -> WorkState:
    """Has the work arrived? Text has; a file has once S3 holds it (its type and size were signed)."""
    now = now or utcnow()
    submission = require(table, submission_id)
    if submission.status not in OPEN_STATUSES:
        return WorkState.REPLACED if submission.status == SubmissionStatus.REPLACED else WorkState.READY
    if submission.status == SubmissionStatus.SUBMITTED:
        return WorkState.READY
    found = store.metadata(str(submission.blob_key))  # BlobAccessDeniedError: a missing grant
    if found is not None:
        moved = table.update_if(
            keys.submission(submission_id),
            Update().set(status=SubmissionStatus.SUBMITTED.value, uploadedAt=isoformat(found.last_modified)),
            when=eq("status", SubmissionStatus.UPLOADING.value),
        )
        if moved is None:
            return check_work(table, store, submission_id, now)
        _move_pointer_status(table, submission, SubmissionStatus.SUBMITTED)
        return WorkState.READY
    if submission.upload_expires_at and now < submission.upload_expires_at:
        return WorkState.WAITING
    closed = table.update_if(
        keys.submission(submission_id),
        Update().set(status=SubmissionStatus.UPLOAD_MISSING.value, reason="the file was never uploaded"),
        when=eq("status", SubmissionStatus.UPLOADING.value),
    )
    if closed is None:
        return check_work(table, store, submission_id, now)
    _move_pointer_status(table, submission, SubmissionStatus.UPLOAD_MISSING)
    return WorkState.MISSING


def open_grading(
    table: Table,
    port: callbacks.WorkflowCallbacks,
    submission_id: str,
    token: str,
    *,
    execution_arn: str,
    timeout_seconds: int,
    remind_after_seconds: int,
) -> human_tasks.HumanTask | None:
    """Open the grading task holding the run's token; None (and the run released) if it was replaced."""
    submission = require(table, submission_id)
    if submission.status == SubmissionStatus.REPLACED:
        port.succeed(token, REPLACED_OUTPUT)
        return None
    task = human_tasks.new_task(
        kind=KIND,
        task_id=submission_id,
        role=GRADER_ROLE,
        course_id=submission.course_id,
        owner_id=submission.user_id,
        execution_name=submission.execution_name,
        execution_arn=execution_arn,
        due_in_seconds=timeout_seconds,
        remind_after_seconds=remind_after_seconds,
        details={
            "lessonId": submission.lesson_id,
            "userId": submission.user_id,
            "submissionId": submission_id,
            "submittedAt": isoformat(submission.submitted_at),
            "maxPoints": submission.max_points,
            "late": submission.late,
            "penaltyPercent": submission.penalty_percent,
        },
    )
    opened = human_tasks.open_task(table, task, token)
    table.update_if(
        keys.submission(submission_id),
        Update().set(gradingId=grading_id(KIND, submission_id)),
        when=eq("status", SubmissionStatus.SUBMITTED.value),
    )
    if require(table, submission_id).status == SubmissionStatus.REPLACED:
        _release_waiting_run(table, port, submission_id)  # replaced while the task opened
    return opened


def record_graded(
    table: Table,
    submission_id: str,
    *,
    points: float,
    feedback: str | None,
    start_certificate: learning.CertificateStarter,
) -> Submission:
    """The grader's points, less the late penalty, on the submission and in the gradebook (once)."""
    submission = require(table, submission_id)
    final = assignments.penalised_points(min(points, submission.max_points), submission.penalty_percent)
    passed = final >= submission.pass_points
    now = utcnow()
    graded = table.update_if(
        keys.submission(submission_id),
        Update().set(
            status=SubmissionStatus.GRADED.value,
            rawPoints=points,
            points=final,
            passed=passed,
            feedback=feedback,
            gradedAt=isoformat(now),
        ),
        when=eq("status", SubmissionStatus.SUBMITTED.value),
    )
    if graded is None:
        current = require(table, submission_id)
        if current.status != SubmissionStatus.GRADED:
            return current  # replaced meanwhile: no grade
        graded_submission = current  # a retry of this step: record the same grade again
    else:
        graded_submission = Submission.from_item(graded)
        _move_pointer_status(table, graded_submission, SubmissionStatus.GRADED)
    grades.record_grade(
        table,
        course_id=graded_submission.course_id,
        lesson_id=graded_submission.lesson_id,
        user_id=graded_submission.user_id,
        kind=grades.GradeKind.ASSIGNMENT,
        source_id=submission_id,
        percentage=100.0 * float(graded_submission.points or 0) / graded_submission.max_points,
        points=float(graded_submission.points or 0),
        max_points=graded_submission.max_points,
        passed=bool(graded_submission.passed),
        attempts_used=graded_submission.number,
        start_certificate=start_certificate,
        verify_url_base=graded_submission.verify_url_base,
        graded_at=graded_submission.graded_at,
    )
    return graded_submission


def expire_grading(table: Table, submission_id: str) -> Submission:
    """Nobody graded in time: the task leaves the queue, the submission says GRADING_EXPIRED."""
    human_tasks.expire(table, KIND, submission_id, reason="grading timed out")
    moved = table.update_if(
        keys.submission(submission_id),
        Update().set(
            status=SubmissionStatus.GRADING_EXPIRED.value,
            reason="Not graded within the grading period; ask the instructor.",
        ),
        when=eq("status", SubmissionStatus.SUBMITTED.value),
    )
    submission = Submission.from_item(moved) if moved else require(table, submission_id)
    if moved:
        _move_pointer_status(table, submission, SubmissionStatus.GRADING_EXPIRED)
    return submission


def record_fault(table: Table, submission_id: str, error: str) -> None:
    human_tasks.expire(table, KIND, submission_id, reason="the grading run stopped on a fault")
    table.update_if(
        keys.submission(submission_id),
        Update().set(
            status=SubmissionStatus.FAILED.value,
            reason=f"Grading stopped on an internal fault ({error}); resubmit, or ask an administrator.",
        ),
        when=one_of("status", OPEN_STATUSES),
    )


def _move_pointer_status(table: Table, submission: Submission, status: SubmissionStatus) -> None:
    """The student's live-submission pointer shows its status (only if it still points at it)."""
    table.update_if(
        keys.student_submission(submission.lesson_id, submission.user_id),
        Update().set(status=status.value),
        when=eq("submissionId", submission.submission_id),
    )


def live_submission(table: Table, lesson_id: str, user_id: str) -> Submission | None:
    pointer = table.get(keys.student_submission(lesson_id, user_id), consistent=True)
    return get(table, str(pointer["submissionId"])) if pointer else None
