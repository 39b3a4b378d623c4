"""Publishing runs: the record of the latest run per course, the steps the workflow drives, approvals.

Run ``n`` of a course is the execution ``publish-<courseId>-v<n>`` and, if it publishes, version ``n``
(a run that ends without publishing leaves a gap in the version numbers). At most one run per course
is in flight: :func:`claim_run` takes the next number with one conditional write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from pydantic import Field

from lms import callbacks, keys
from lms.clock import isoformat, utcnow
from lms.courses.courses import can_manage, read_course_partition, read_course_with_counters
from lms.entities import Course, CourseStatus, Entity, Role, UtcDatetime
from lms.errors import BusinessRuleError, ConflictError, ForbiddenError, NotFoundError, ValidationError
from lms.publishing import snapshots
from lms.publishing.checklist import ChecklistFailure, check_course, check_lesson
from lms.table import (
    Item,
    Table,
    decode_cursor,
    is_conditional_failure,
    serialize,
    serialize_key,
)

if TYPE_CHECKING:
    from lms.identity import Principal  # only annotations: tasks must not import argon2 and jwt


class PublicationStatus(StrEnum):
    RUNNING = "RUNNING"
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    PUBLISHED = "PUBLISHED"
    CHECKLIST_FAILED = "CHECKLIST_FAILED"
    REJECTED = "REJECTED"
    FAILED = "FAILED"


FINISHED = (
    PublicationStatus.PUBLISHED,
    PublicationStatus.CHECKLIST_FAILED,
    PublicationStatus.REJECTED,
    PublicationStatus.FAILED,
)
APPROVAL_TIMED_OUT = "approval timed out"


class Publication(Entity):
    """The latest publishing run of a course, as ``GET /courses/{id}/publication`` shows it."""

    course_id: str
    version: int
    status: PublicationStatus = PublicationStatus.RUNNING
    reason: str | None = None
    checklist_passed: bool | None = None
    checklist: list[ChecklistFailure] = Field(default_factory=list)
    approval_id: str | None = None
    execution_name: str
    execution_arn: str
    requested_by: str
    requested_at: UtcDatetime = Field(default_factory=utcnow)
    finished_at: UtcDatetime | None = None
    published_at: UtcDatetime | None = None


class ApprovalStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class Approval(Entity):
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
    task_token: str | None = Field(default=None, repr=False)


def approval_id_for(course_id: str, version: int) -> str:
    return f"{course_id}-v{version}"


def get_publication(table: Table, course_id: str) -> Publication | None:
    item = table.get(keys.publication(course_id), consistent=True)
    return Publication.from_item(item) if item else None


def publication_item(publication: Publication) -> Item:
    return {**keys.publication(publication.course_id).as_item(), **publication.attributes()}


# --- the API's side ---------------------------------------------------------------------------


def manageable_course(
    table: Table, principal: Principal, course_id: str
) -> tuple[Course, dict[keys.Key, Item]]:
    found, _ = read_course_partition(table, course_id)
    course = read_course_with_counters(found, course_id)
    if course is None:
        raise NotFoundError(f"No course with id {course_id}.")
    if not can_manage(principal, course):
        raise ForbiddenError("Only the course's instructor or an administrator may publish it.")
    return course, found


def claim_run(
    table: Table, principal: Principal, course_id: str, *, names: Callable[[int], tuple[str, str]]
) -> tuple[Publication, bool]:
    """The course's next run (``names(n)`` gives its execution name and ARN), or the one in flight.

    Returns ``(publication, claimed)``; concurrent requests race on one conditional put, so only
    one of them claims the number and the others answer with the run it started.
    """
    _, found = manageable_course(table, principal, course_id)
    current = found.get(keys.publication(course_id))
    previous = Publication.from_item(current) if current else None
    if previous is not None and previous.status not in FINISHED:
        return previous, False
    pointer = found.get(keys.published_pointer(course_id)) or {}
    version = max(previous.version if previous else 0, int(pointer.get("publishedVersion", 0))) + 1
    name, arn = names(version)
    publication = Publication(
        course_id=course_id,
        version=version,
        execution_name=name,
        execution_arn=arn,
        requested_by=principal.user_id,
    )
    try:
        table.put(
            publication_item(publication),
            condition="attribute_not_exists(PK) OR (version = :previous AND #status IN (:a, :b, :c, :d))",
            names={"#status": "status"},
            values={":previous": previous.version if previous else 0, **_finished_values()},
        )
    except ClientError as error:
        if not is_conditional_failure(error):
            raise
        winner = get_publication(table, course_id)
        if winner is not None and winner.status not in FINISHED:
            return winner, False
        # Our read was stale (a run finished in between): the caller may try again.
        raise ConflictError("The course's publication changed meanwhile; retry.") from error
    return publication, True


def _finished_values() -> dict[str, str]:
    return {f":{letter}": status.value for letter, status in zip("abcd", FINISHED, strict=True)}


def publication_for(table: Table, principal: Principal, course_id: str) -> Publication:
    _, found = manageable_course(table, principal, course_id)
    item = found.get(keys.publication(course_id))
    if item is None:
        raise NotFoundError("This course has never been submitted for publishing.")
    return Publication.from_item(item)


def unpublish(table: Table, principal: Principal, course_id: str) -> Course:
    """Off the catalog: the course stops being listed and sold; enrolled students keep reading it."""
    course, found = manageable_course(table, principal, course_id)
    pointer = found.get(keys.published_pointer(course_id))
    if pointer is None or course.status != CourseStatus.PUBLISHED:
        raise ConflictError("The course is not published.")
    delisted = snapshots.pointer_item(
        pointer, datetime.fromisoformat(str(pointer["publishedAt"])), listed=False
    )
    now = isoformat(utcnow())
    try:
        table.transact_write(
            [
                {
                    "Put": {
                        "Item": serialize(delisted),
                        "ConditionExpression": "publishedVersion = :version",
                        "ExpressionAttributeValues": serialize({":version": pointer["publishedVersion"]}),
                    }
                },
                {
                    "Update": {
                        "Key": serialize_key(keys.course(course_id)),
                        "UpdateExpression": "SET #status = :draft, updatedAt = :now",
                        "ConditionExpression": "#status = :published",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": serialize(
                            {
                                ":draft": CourseStatus.DRAFT.value,
                                ":published": CourseStatus.PUBLISHED.value,
                                ":now": now,
                            }
                        ),
                    }
                },
            ]
        )
    except ClientError as error:
        if is_conditional_failure(error):
            raise ConflictError(
                "The course changed meanwhile (published again or unpublished); retry."
            ) from error
        raise
    return course.changed({"status": CourseStatus.DRAFT})


def list_pending_approvals(
    table: Table, *, limit: int, cursor: str | None
) -> tuple[list[Approval], str | None]:
    if cursor and not decode_cursor(cursor):
        raise ValidationError("The cursor does not belong to this list.")
    page = table.query(
        partition=(keys.GSI2PK, keys.PENDING_APPROVALS), index=keys.GSI2, limit=limit, cursor=cursor
    )
    return [Approval.from_item(item) for item in page.items], page.next_cursor


def decide(
    table: Table,
    port: callbacks.WorkflowCallbacks,
    principal: Principal,
    approval_id: str,
    *,
    decision: Decision,
    reason: str | None,
) -> Approval:
    """An admin's decision resumes the waiting run; a late one (the wait timed out) is refused."""
    if decision == Decision.REJECT and not (reason and reason.strip()):
        raise BusinessRuleError("A rejection needs a reason for the instructor.")
    item = table.get(keys.approval(approval_id), consistent=True)
    if item is None:
        raise NotFoundError(f"No approval with id {approval_id}.")
    approval = Approval.from_item(item)
    if approval.status != ApprovalStatus.PENDING or not approval.task_token:
        raise ConflictError(f"This approval is already {approval.status.value.lower()}.")
    status = ApprovalStatus.APPROVED if decision == Decision.APPROVE else ApprovalStatus.REJECTED
    if not _settle(table, approval_id, status, decided_by=principal.user_id, reason=reason):
        raise ConflictError("This approval was decided or expired meanwhile.")
    delivered = port.succeed(approval.task_token, {"decision": decision.value, "reason": reason or ""})
    if not delivered.delivered:
        # The run stopped waiting (timed out): the decision changed nothing, so say so on the record.
        _settle(
            table, approval_id, ApprovalStatus.EXPIRED, decided_by=None, reason=APPROVAL_TIMED_OUT, force=True
        )
        raise ConflictError("The approval timed out before this decision; the instructor can publish again.")
    return approval.model_copy(
        update={"status": status, "decided_by": principal.user_id, "decided_at": utcnow(), "reason": reason}
    )


def _settle(
    table: Table,
    approval_id: str,
    status: ApprovalStatus,
    *,
    decided_by: str | None,
    reason: str | None,
    force: bool = False,
) -> bool:
    """Leave PENDING (and the pending list) once; False when it had already left."""
    values: dict[str, Any] = {":status": status.value, ":now": isoformat(utcnow()), ":reason": reason or ""}
    expression = "SET #status = :status, decidedAt = :now, reason = :reason"
    if decided_by:
        expression += ", decidedBy = :by"
        values[":by"] = decided_by
    condition = None if force else "#status = :pending"
    if not force:
        values[":pending"] = ApprovalStatus.PENDING.value
    try:
        table.update(
            keys.approval(approval_id),
            expression=f"{expression} REMOVE {keys.GSI2PK}, {keys.GSI2SK}, {callbacks.TASK_TOKEN_ATTRIBUTE}",
            names={"#status": "status"},
            values=values,
            condition=condition,
        )
    except ClientError as error:
        if is_conditional_failure(error):
            return False
        raise
    return True


def set_review_required(table: Table, user_id: str, *, required: bool) -> None:
    """An admin's flag: every publication of this instructor waits for an admin's approval."""
    user = table.get(keys.user(user_id))
    if user is None:
        raise NotFoundError(f"No user with id {user_id}.")
    if user.get("role") == Role.STUDENT.value:
        raise BusinessRuleError("Only instructors and administrators publish courses.")
    table.update(keys.publisher(user_id), expression="SET requiresReview = :flag", values={":flag": required})


# --- the workflow's side ----------------------------------------------------------------------


def _record(
    table: Table,
    course_id: str,
    execution_name: str,
    expression: str,
    values: dict[str, Any],
    *,
    only_from: PublicationStatus | None = None,
) -> Publication:
    """Update this run's record; a record taken over by a later run is never touched, nor one that
    has left ``only_from`` when that is given."""
    condition = "executionName = :execution"
    if only_from is not None:
        condition += " AND #status = :from"
        values = {**values, ":from": only_from.value}
    item = table.update(
        keys.publication(course_id),
        expression=expression,
        names={"#status": "status"} if "#status" in condition + expression else None,
        values={**values, ":execution": execution_name},
        condition=condition,
    )
    return Publication.from_item(item)


def capture_snapshot(
    table: Table, course_id: str, version: int
) -> tuple[list[dict[str, Any]], list[ChecklistFailure]]:
    """Freeze version ``version`` (course + lessons as they are now) and check the course itself.

    Returns the lessons to check one by one (position and id) and the course-level failures.
    """
    found, lessons = read_course_partition(table, course_id)
    course = read_course_with_counters(found, course_id)
    if course is None:
        raise NotFoundError(f"No course with id {course_id}.")
    category_exists = table.get(keys.category(course.category_id)) is not None
    snapshots.capture(table, course, lessons, version)
    items = [{"position": position, "lessonId": lesson.lesson_id} for position, lesson in enumerate(lessons)]
    return items, check_course(course, lessons, category_exists=category_exists)


def check_snapshot_lesson(
    table: Table, course_id: str, version: int, position: int, lesson_id: str
) -> list[ChecklistFailure]:
    lesson = snapshots.snapshot_lesson(table, course_id, version, position, lesson_id)
    if lesson is None:
        return [
            ChecklistFailure(code="LESSON_MISSING", message="The lesson is missing.", lesson_id=lesson_id)
        ]
    return check_lesson(lesson)


def review_checklist(
    table: Table, course_id: str, execution_name: str, failures: list[ChecklistFailure]
) -> tuple[bool, bool]:
    """Record the checklist's results; returns (passed, needs an admin's approval)."""
    passed = not failures
    expression = "SET checklistPassed = :passed, checklist = :checklist, updatedAt = :now"
    values: dict[str, Any] = {
        ":passed": passed,
        ":checklist": [f.model_dump(by_alias=True, exclude_none=True) for f in failures],
        ":now": isoformat(utcnow()),
    }
    if not passed:
        expression += ", #status = :failed, reason = :reason, finishedAt = :now"
        values[":failed"] = PublicationStatus.CHECKLIST_FAILED.value
        values[":reason"] = f"The launch checklist found {len(failures)} problem(s): " + "; ".join(
            f.message for f in failures[:5]
        )
    _record(table, course_id, execution_name, expression, values)
    if not passed:
        return False, False
    course = table.get(keys.course(course_id)) or {}
    profile = table.get(keys.publisher(str(course.get("instructorId", ""))), consistent=True) or {}
    first_publication = int(profile.get("publishedCount", 0)) == 0
    return True, first_publication or bool(profile.get("requiresReview"))


def await_approval(
    table: Table, course_id: str, version: int, execution_name: str, token: str, *, execution_arn: str = ""
) -> Approval:
    """Open (or, on a retry, reopen) the approval admins list, holding the run's task token."""
    snapshot = snapshots.snapshot_course(table, course_id, version)
    if snapshot is None:
        raise NotFoundError(f"Version {version} of course {course_id} was never captured.")
    approval = Approval(
        approval_id=approval_id_for(course_id, version),
        course_id=course_id,
        course_title=str(snapshot["title"]),
        instructor_id=str(snapshot["instructorId"]),
        version=version,
        execution_name=execution_name,
        execution_arn=execution_arn,
    )
    item = {
        **keys.approval(approval.approval_id).as_item(),
        keys.GSI2PK: keys.PENDING_APPROVALS,
        keys.GSI2SK: keys.approval_sort(isoformat(approval.requested_at), approval.approval_id),
        **approval.attributes(),
    }
    try:
        table.put(item, condition="attribute_not_exists(PK)")
    except ClientError as error:
        if not is_conditional_failure(error):
            raise
    stored = callbacks.store_token(
        table,
        keys.approval(approval.approval_id),
        token,
        condition="#status = :pending",
        names={"#status": "status"},
        values={":pending": ApprovalStatus.PENDING.value},
    )
    if not stored:
        raise BusinessRuleError(f"Approval {approval.approval_id} is no longer pending.")
    # The record moves last (AWAITING_APPROVAL means an admin can decide now) and only from RUNNING
    # (or is already there, on a retry): a late invocation, after the wait timed out and the run
    # was closed, must not reopen it, and takes its approval off the list again.
    try:
        _record(
            table,
            course_id,
            execution_name,
            "SET #status = :awaiting, approvalId = :approval",
            {":awaiting": PublicationStatus.AWAITING_APPROVAL.value, ":approval": approval.approval_id},
            only_from=PublicationStatus.RUNNING,
        )
    except ClientError as error:
        current = get_publication(table, course_id)
        if (
            is_conditional_failure(error)
            and current
            and current.status == PublicationStatus.AWAITING_APPROVAL
        ):
            return approval
        if not is_conditional_failure(error):
            raise
        _settle(
            table, approval.approval_id, ApprovalStatus.EXPIRED, decided_by=None, reason=APPROVAL_TIMED_OUT
        )
        raise BusinessRuleError(f"Run {execution_name} no longer awaits an approval.") from error
    return approval


def close_unapproved(
    table: Table, course_id: str, version: int, execution_name: str, *, rejected: bool, reason: str
) -> Publication:
    """A rejection (with the admin's reason) or a timeout ends the run without publishing."""
    if not rejected:
        _settle(
            table, approval_id_for(course_id, version), ApprovalStatus.EXPIRED, decided_by=None, reason=reason
        )
    status = PublicationStatus.REJECTED if rejected else PublicationStatus.FAILED
    return _record(
        table,
        course_id,
        execution_name,
        "SET #status = :status, reason = :reason, finishedAt = :now",
        {":status": status.value, ":reason": reason, ":now": isoformat(utcnow())},
    )


@dataclass(frozen=True)
class Published:
    published_at: datetime
    event: dict[str, Any]  # the CoursePublished event's detail


def publish(table: Table, course_id: str, version: int, execution_name: str | None) -> Published:
    """One TransactWriteItems: the pointer to version ``version`` (listed in its category), the course
    PUBLISHED, the instructor's count of publications, and the run's record. Idempotent."""
    snapshot = snapshots.snapshot_course(table, course_id, version)
    if snapshot is None:
        raise NotFoundError(f"Version {version} of course {course_id} was never captured.")
    current = table.get(keys.published_pointer(course_id), consistent=True)
    if current is not None and int(current["publishedVersion"]) >= version:
        # A retry of a publish that happened.
        return _published(snapshot, version, datetime.fromisoformat(str(current["publishedAt"])))
    published_at = utcnow()
    now = isoformat(published_at)
    writes: list[dict[str, Any]] = [
        {
            "Put": {
                "Item": serialize(snapshots.pointer_item(snapshot, published_at, listed=True)),
                "ConditionExpression": "attribute_not_exists(PK) OR publishedVersion < :version",
                "ExpressionAttributeValues": serialize({":version": version}),
            }
        },
        {
            "Update": {
                "Key": serialize_key(keys.course(course_id)),
                "UpdateExpression": "SET #status = :published, publishedAt = :now",
                "ConditionExpression": "attribute_exists(PK)",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": serialize(
                    {":published": CourseStatus.PUBLISHED.value, ":now": now}
                ),
            }
        },
        {
            "Update": {
                "Key": serialize_key(keys.publisher(str(snapshot["instructorId"]))),
                "UpdateExpression": "ADD publishedCount :one",
                "ExpressionAttributeValues": serialize({":one": 1}),
            }
        },
    ]
    if execution_name is not None:
        writes.append(
            {
                "Update": {
                    "Key": serialize_key(keys.publication(course_id)),
                    "UpdateExpression": (
                        "SET #status = :done, publishedAt = :now, finishedAt = :now REMOVE reason"
                    ),
                    "ConditionExpression": "executionName = :execution",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": serialize(
                        {
                            ":done": PublicationStatus.PUBLISHED.value,
                            ":now": now,
                            ":execution": execution_name,
                        }
                    ),
                }
            }
        )
    table.transact_write(writes)
    return _published(snapshot, version, published_at)


def _published(snapshot: Item, version: int, published_at: datetime) -> Published:
    event = {
        "courseId": snapshot["courseId"],
        "version": version,
        "title": snapshot["title"],
        "categoryId": snapshot["categoryId"],
        "instructorId": snapshot["instructorId"],
        "publishedAt": isoformat(published_at),
    }
    return Published(published_at=published_at, event=event)


def failure_list(raw: list[Any]) -> list[ChecklistFailure]:
    """The Map's results (one list per lesson) and the course's, flattened."""
    flat: list[ChecklistFailure] = []
    for entry in raw:
        for failure in entry if isinstance(entry, list) else [entry]:
            flat.append(ChecklistFailure.model_validate(failure))
    return flat
