"""Publishing approvals: the rules of one kind of human task (:mod:`lms.human_tasks`).

A run that needs an admin's approval opens the ``publish-approval`` task ``<courseId>-v<n>`` for the
``admin`` role, holding its task token; admins list and decide it through the shared mechanism
(decided once: claim, send, settle, undo on a failed send). What is specific to publishing lives
here: what an approval shows (course title, instructor, version), that a rejection needs a reason,
and how the run's record follows (AWAITING_APPROVAL, REJECTED, FAILED "approval timed out").
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import Field

from lms import callbacks, human_tasks
from lms.clock import isoformat, utcnow
from lms.entities import Entity, Role, UtcDatetime
from lms.errors import BusinessRuleError, NotFoundError
from lms.expressions import Update
from lms.human_tasks import HumanTask, HumanTaskStatus
from lms.publishing import snapshots
from lms.publishing.publications import Publication, PublicationStatus, record
from lms.table import Table

if TYPE_CHECKING:
    from lms.identity import Principal

KIND = "publish-approval"
APPROVER = Role.ADMIN
APPROVAL_TIMED_OUT = "approval timed out"


class ApprovalStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class Approval(Entity):
    """An approval as admins see it (``GET /admin/approvals``): a view of its human task."""

    approval_id: str
    course_id: str
    course_title: str
    instructor_id: str
    version: int
    status: ApprovalStatus = ApprovalStatus.PENDING
    requested_at: UtcDatetime = Field(default_factory=utcnow)
    decided_by: str | None = None
    decided_at: UtcDatetime | None = None
    reason: str | None = None
    execution_name: str
    execution_arn: str = ""

    @classmethod
    def of(cls, task: HumanTask) -> Approval:
        return cls(
            approval_id=task.task_id,
            course_id=str(task.course_id),
            course_title=str(task.details.get("courseTitle", "")),
            instructor_id=str(task.owner_id),
            version=int(task.details.get("version", 0)),
            status=_status(task),
            requested_at=task.requested_at,
            decided_by=task.decided_by,
            decided_at=task.decided_at,
            reason=task.reason or None,
            execution_name=task.execution_name,
            execution_arn=task.execution_arn,
        )


def _status(task: HumanTask) -> ApprovalStatus:
    if task.status == HumanTaskStatus.EXPIRED:
        return ApprovalStatus.EXPIRED
    if task.status == HumanTaskStatus.DECIDED:
        return ApprovalStatus.APPROVED if task.outcome == Decision.APPROVE else ApprovalStatus.REJECTED
    return ApprovalStatus.PENDING  # PENDING, or DECIDING while a decision is on its way


def approval_id_for(course_id: str, version: int) -> str:
    return f"{course_id}-v{version}"


# --- the admins' side ---------------------------------------------------------------------------


def list_pending_approvals(
    table: Table, *, limit: int, cursor: str | None
) -> tuple[list[Approval], str | None]:
    tasks, next_cursor = human_tasks.list_pending(table, KIND, role=APPROVER, limit=limit, cursor=cursor)
    return [Approval.of(task) for task in tasks], next_cursor


def decide(
    table: Table,
    port: callbacks.WorkflowCallbacks,
    principal: Principal,
    approval_id: str,
    *,
    decision: Decision,
    reason: str | None,
) -> Approval:
    """An admin's decision resumes the waiting run, once; a late one (the run stopped waiting) is 409."""
    if decision == Decision.REJECT and not (reason and reason.strip()):
        raise BusinessRuleError("A rejection needs a reason for the instructor.")
    task = human_tasks.decide(
        table,
        port,
        KIND,
        approval_id,
        decided_by=principal.user_id,
        outcome=decision.value,
        output={"decision": decision.value, "reason": reason or ""},
        reason=reason,
    )
    return Approval.of(task)


# --- the workflow's side ----------------------------------------------------------------------


def await_approval(
    table: Table,
    course_id: str,
    version: int,
    execution_name: str,
    token: str,
    *,
    execution_arn: str = "",
    timeout_seconds: int | None = None,
    remind_after_seconds: int | None = None,
) -> Approval:
    """Open (or, on a retry, reopen) the approval admins list, holding the run's task token."""
    snapshot = snapshots.snapshot_course(table, course_id, version)
    if snapshot is None:
        raise NotFoundError(f"Version {version} of course {course_id} was never captured.")
    approval_id = approval_id_for(course_id, version)
    task = human_tasks.new_task(
        kind=KIND,
        task_id=approval_id,
        role=APPROVER,
        course_id=course_id,
        owner_id=str(snapshot["instructorId"]),
        execution_name=execution_name,
        execution_arn=execution_arn,
        due_in_seconds=timeout_seconds,
        remind_after_seconds=remind_after_seconds,
        details={"courseTitle": str(snapshot["title"]), "version": version},
    )
    try:
        opened = human_tasks.open_task(table, task, token)
    except human_tasks.TaskNotPendingError as error:
        raise BusinessRuleError(f"Approval {approval_id} is no longer pending.") from error
    # The record moves last (AWAITING_APPROVAL means an admin can decide now) and only from RUNNING
    # (or is already there, on a retry): a late invocation, after the wait timed out and the run
    # was closed, must not reopen it, and takes its approval off the list again.
    moved = record(
        table,
        course_id,
        execution_name,
        Update().set(status=PublicationStatus.AWAITING_APPROVAL.value, approvalId=approval_id),
        only_from=(PublicationStatus.RUNNING, PublicationStatus.AWAITING_APPROVAL),
    )
    if moved is None:
        human_tasks.expire(table, KIND, approval_id, reason=APPROVAL_TIMED_OUT)
        raise BusinessRuleError(f"Run {execution_name} no longer awaits an approval.")
    return Approval.of(opened)


def close_unapproved(
    table: Table, course_id: str, version: int, execution_name: str, *, rejected: bool, reason: str
) -> Publication:
    """A rejection (with the admin's reason) or a timeout ends the run without publishing."""
    approval_id = approval_id_for(course_id, version)
    if rejected:
        human_tasks.settle_from_run(table, KIND, approval_id, outcome=Decision.REJECT.value, reason=reason)
    else:
        human_tasks.expire(table, KIND, approval_id, reason=reason)
    status = PublicationStatus.REJECTED if rejected else PublicationStatus.FAILED
    closed = record(
        table,
        course_id,
        execution_name,
        Update().set(status=status.value, reason=reason, finishedAt=isoformat(utcnow())),
    )
    if closed is None:
        raise BusinessRuleError(f"The publication of {course_id} is no longer run {execution_name}'s.")
    return closed


def record_approved(table: Table, course_id: str, version: int) -> None:
    """The run goes on to publish: its approval (if it had one) says approved, whoever settles first."""
    human_tasks.settle_from_run(
        table, KIND, approval_id_for(course_id, version), outcome=Decision.APPROVE.value, reason=None
    )


def expire(table: Table, course_id: str, version: int, *, reason: str) -> bool:
    """The run ended: its approval (if still pending) leaves the admins' list."""
    return human_tasks.expire(table, KIND, approval_id_for(course_id, version), reason=reason)
