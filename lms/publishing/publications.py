"""Publications: the record of the latest publishing run per course, claimed by the API, read by owners.

Run ``n`` of a course is the execution ``publish-<courseId>-v<n>`` and, if it publishes, version ``n``
(a run that ends without publishing leaves a gap in the version numbers). At most one run per course
is in flight: :func:`claim_run` takes the next number with one conditional write. A record left
unfinished by a run that ended outside its own error handling (stopped, timed out, a failed
RecordFault, a payload over the limit) is closed by the next publish request, which asks the
orchestrator (through :class:`RunInspector`) whether the run still exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from pydantic import Field

from lms import keys
from lms.clock import isoformat, utcnow
from lms.courses.courses import can_manage, read_course_partition, read_course_with_counters
from lms.entities import Course, CourseStatus, Entity, Role, UtcDatetime
from lms.errors import BusinessRuleError, ConflictError, ForbiddenError, NotFoundError
from lms.expressions import Condition, Update, eq, item_absent, one_of
from lms.publishing import snapshots
from lms.publishing.checklist import ChecklistFailure
from lms.table import Change, Item, Put, Table

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
UNFINISHED = (PublicationStatus.RUNNING, PublicationStatus.AWAITING_APPROVAL)


class Publication(Entity):
    """The latest publishing run of a course, as ``GET /courses/{id}/publication`` shows it.

    ``checklist`` holds the first problems only (the record stays small however many there are);
    ``checklist_count`` says how many there are, and :func:`publication_for` reads them all.
    """

    course_id: str
    version: int
    status: PublicationStatus = PublicationStatus.RUNNING
    reason: str | None = None
    checklist_passed: bool | None = None
    checklist: list[ChecklistFailure] = Field(default_factory=list)
    checklist_count: int | None = None
    approval_id: str | None = None
    execution_name: str
    execution_arn: str
    requested_by: str
    requested_at: UtcDatetime = Field(default_factory=utcnow)
    finished_at: UtcDatetime | None = None
    published_at: UtcDatetime | None = None


@dataclass(frozen=True)
class EndedRun:
    """A run the orchestrator reports as over: its final status and why, in the orchestrator's words."""

    status: str
    cause: str


class RunInspector(Protocol):
    """The orchestrator, asked about one run (the adapter lives in :mod:`workflows.publish`)."""

    def ended(self, execution_arn: str) -> EndedRun | None:
        """The run's end, or None while it runs or when it was never started."""
        ...


def get_publication(table: Table, course_id: str) -> Publication | None:
    item = table.get(keys.publication(course_id), consistent=True)
    return Publication.from_item(item) if item else None


def publication_item(publication: Publication) -> Item:
    return {**keys.publication(publication.course_id).as_item(), **publication.attributes()}


def this_run(execution_name: str) -> Condition:
    """The record is still this run's: a record taken over by a later run is never touched."""
    return eq("executionName", execution_name)


def record(
    table: Table,
    course_id: str,
    execution_name: str,
    changes: Update,
    *,
    only_from: tuple[PublicationStatus, ...] = (),
) -> Publication | None:
    """Update this run's record (only while its status is one of ``only_from``, when given).

    None when the record is another run's, or has left ``only_from``.
    """
    when = this_run(execution_name)
    if only_from:
        when = when & one_of("status", only_from)
    item = table.update_if(keys.publication(course_id), changes, when=when)
    return Publication.from_item(item) if item else None


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
    table: Table,
    principal: Principal,
    course_id: str,
    *,
    names: Callable[[int], tuple[str, str]],
    runs: RunInspector,
) -> tuple[Publication, bool]:
    """The course's next run (``names(n)`` gives its execution name and ARN), or the one in flight.

    Returns ``(publication, claimed)``; concurrent requests race on one conditional put, so only
    one of them claims the number and the others answer with the run it started. A record whose run
    has ended without closing it is closed first (FAILED, with the run's cause).
    """
    _, found = manageable_course(table, principal, course_id)
    current = found.get(keys.publication(course_id))
    previous = Publication.from_item(current) if current else None
    if previous is not None and previous.status not in FINISHED:
        ended = runs.ended(previous.execution_arn)
        if ended is None:
            return previous, False
        previous = close_ended_run(table, previous, ended)
        if previous.status not in FINISHED:
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
    free = item_absent()
    if previous is not None:
        free = free | (eq("version", previous.version) & one_of("status", FINISHED))
    if table.put_if(publication_item(publication), when=free):
        return publication, True
    winner = get_publication(table, course_id)
    if winner is not None and winner.status not in FINISHED:
        return winner, False
    # Our read was stale (a run finished in between): the caller may try again.
    raise ConflictError("The course's publication changed meanwhile; retry.")


def close_ended_run(table: Table, publication: Publication, ended: EndedRun) -> Publication:
    """Close the record of a run that is over but never said so: FAILED with the run's cause, and
    its approval (if any) off the admins' list. Returns the record as it is now."""
    from lms.publishing import approvals  # approvals build on this module

    reason = f"The publishing run ended ({ended.status}) without finishing: {ended.cause}"[:1000]
    closed = record(
        table,
        publication.course_id,
        publication.execution_name,
        Update().set(
            status=PublicationStatus.FAILED.value, reason=reason, fault=ended.status, finishedAt=_now()
        ),
        only_from=UNFINISHED,
    )
    if closed is None:  # it finished (or was taken over) meanwhile
        return get_publication(table, publication.course_id) or publication
    # The run may have opened its approval before it ended, whatever the record says.
    approvals.expire(table, publication.course_id, publication.version, reason=reason)
    return closed


def publication_for(table: Table, principal: Principal, course_id: str) -> Publication:
    """The latest run as its owner sees it, with every checklist problem (read from the version)."""
    _, found = manageable_course(table, principal, course_id)
    item = found.get(keys.publication(course_id))
    if item is None:
        raise NotFoundError("This course has never been submitted for publishing.")
    publication = Publication.from_item(item)
    if (publication.checklist_count or 0) > len(publication.checklist):
        from lms.publishing.steps import checklist_problems  # the steps write them

        publication = publication.model_copy(
            update={"checklist": checklist_problems(table, course_id, publication.version)}
        )
    return publication


def unpublish(table: Table, principal: Principal, course_id: str) -> Course:
    """Off the catalog: the course stops being listed and sold; enrolled students keep reading it."""
    course, found = manageable_course(table, principal, course_id)
    pointer = found.get(keys.published_pointer(course_id))
    if pointer is None or course.status != CourseStatus.PUBLISHED:
        raise ConflictError("The course is not published.")
    delisted = snapshots.pointer_item(
        pointer, datetime.fromisoformat(str(pointer["publishedAt"])), listed=False
    )
    table.transact(
        [
            Put(delisted, when=eq("publishedVersion", pointer["publishedVersion"])),
            Change(
                keys.course(course_id),
                Update().set(status=CourseStatus.DRAFT.value, updatedAt=_now()),
                when=eq("status", CourseStatus.PUBLISHED.value),
            ),
        ],
        otherwise=ConflictError("The course changed meanwhile (published again or unpublished); retry."),
    )
    return course.changed({"status": CourseStatus.DRAFT})


def set_review_required(table: Table, user_id: str, *, required: bool) -> None:
    """An admin's flag: every publication of this instructor waits for an admin's approval."""
    user = table.get(keys.user(user_id))
    if user is None:
        raise NotFoundError(f"No user with id {user_id}.")
    if user.get("role") == Role.STUDENT.value:
        raise BusinessRuleError("Only instructors and administrators publish courses.")
    table.update(keys.publisher(user_id), Update().set(requiresReview=required))


def _now() -> str:
    return isoformat(utcnow())
