"""Human tasks: a workflow step that waits for a person (an approval, a grade, a moderation verdict).

One mechanism for every kind (docs/architecture.md, "Human tasks"):

* :func:`open_task` records a pending task with the waiting run's task token, who decides it (a role,
  optionally a course), its business key (``kind`` + ``task_id``), when it is due and when to remind;
* :func:`list_pending` lists the pending tasks of a kind for a role or in a course, oldest first (an
  index query: a task is in the pending index only while it waits);
* :func:`decide` decides it exactly once: *claim* (PENDING -> DECIDING, one conditional write), *send*
  the decision to the waiting run, then *settle* (DECIDED, off the pending index). A send that fails
  for any reason but "the run no longer waits" is *undone* (back to PENDING): the person can retry.
  A send the run refuses because it stopped waiting (timed out, stopped) settles EXPIRED;
* :func:`expire` closes a task the run gave up on (its timeout), :func:`settle_from_run` records the
  decision the run went on with (the decider's own settle may have been lost after a delivered send);
* :func:`remind_due` is the reminder sweeper: it reads each (kind, role) pending partition oldest
  first, and for each task past its reminder time claims the reminder once and publishes
  ``HumanTaskReminder`` (undoing the claim when the event cannot be published).

The orchestrator stays behind :class:`lms.callbacks.WorkflowCallbacks`; this module never names it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import Field

from lms import callbacks, keys
from lms.clock import isoformat, utcnow
from lms.entities import Entity, UtcDatetime
from lms.errors import BusinessRuleError, ConflictError, LmsError, NotFoundError, ValidationError
from lms.expressions import Condition, Update, absent, eq, exists, item_absent, item_exists, lt, one_of
from lms.table import Table, decode_cursor

if TYPE_CHECKING:
    from lms.events import HumanTaskReminder

# A decider that died between its claim and its settle holds the task this long at most; after it,
# the task can be claimed (and the decision sent) again.
DECIDING_LEASE = timedelta(seconds=60)


class HumanTaskStatus(StrEnum):
    PENDING = "PENDING"
    DECIDING = "DECIDING"  # a decision is being sent to the run (held for DECIDING_LEASE at most)
    DECIDED = "DECIDED"
    EXPIRED = "EXPIRED"


class HumanTask(Entity):
    """A pending (or closed) piece of work for a person; ``task_token`` resumes the waiting run."""

    kind: str
    task_id: str
    role: str = Field(description="who decides: any user with this role (e.g. admin)")
    course_id: str | None = None
    owner_id: str | None = None  # whose work it is about (the instructor, the student)
    status: HumanTaskStatus = HumanTaskStatus.PENDING
    requested_at: UtcDatetime = Field(default_factory=utcnow)
    due_at: UtcDatetime | None = None
    remind_at: UtcDatetime | None = None
    reminded_at: UtcDatetime | None = None
    outcome: str | None = None  # the decider's verdict ("approve", "reject", ...) or why it expired
    reason: str | None = None
    decided_by: str | None = None
    decided_at: UtcDatetime | None = None
    execution_name: str
    execution_arn: str = ""
    details: dict[str, Any] = Field(default_factory=dict)  # what a lister shows (course title, ...)
    task_token: str | None = Field(default=None, repr=False)


class DecisionNotDeliveredError(LmsError):
    """The decision could not be handed to the waiting run (throttled, network); nothing changed."""

    status, code = 503, "DECISION_NOT_DELIVERED"


class TaskNotPendingError(BusinessRuleError):
    """The task left PENDING (expired, decided) before the run could wait on it."""


def task_item(task: HumanTask) -> dict[str, Any]:
    """The stored item; while PENDING it carries the index keys of its pending listings."""
    item: dict[str, Any] = {**keys.human_task(task.kind, task.task_id).as_item(), **task.attributes()}
    if task.status == HumanTaskStatus.PENDING:
        sort = keys.human_task_sort(isoformat(task.requested_at), task.task_id)
        item.update({keys.GSI2PK: keys.pending_tasks_for_role(task.kind, task.role), keys.GSI2SK: sort})
        if task.course_id:
            item.update(
                {keys.GSI1PK: keys.pending_tasks_in_course(task.kind, task.course_id), keys.GSI1SK: sort}
            )
    return item


def get_task(table: Table, kind: str, task_id: str) -> HumanTask | None:
    item = table.get(keys.human_task(kind, task_id), consistent=True)
    return HumanTask.from_item(item) if item else None


# --- the workflow's side ------------------------------------------------------------------------


def open_task(table: Table, task: HumanTask, token: str) -> HumanTask:
    """Record ``task`` (once: a retried step finds the first) holding the run's current ``token``.

    Raises :class:`TaskNotPendingError` when the task already left PENDING (a late invocation).
    """
    table.put_if(task_item(task), when=item_absent())
    stored = callbacks.store_token(
        table, keys.human_task(task.kind, task.task_id), token, when=eq("status", HumanTaskStatus.PENDING)
    )
    if not stored:
        raise TaskNotPendingError(f"{task.kind} {task.task_id} is no longer pending.")
    current = get_task(table, task.kind, task.task_id)
    return current or task


def expire(table: Table, kind: str, task_id: str, *, reason: str) -> bool:
    """The run stopped waiting (timeout, or its record was closed): off the pending list, once."""
    changes = _closing(HumanTaskStatus.EXPIRED).set(outcome="expired", reason=reason)
    return table.update_if(keys.human_task(kind, task_id), changes, when=_claimable(utcnow())) is not None


def settle_from_run(table: Table, kind: str, task_id: str, *, outcome: str, reason: str | None) -> bool:
    """The run went on with ``outcome``: record it unless a decider already settled it (idempotent).

    Covers a decider whose settle was lost after its send was delivered (the task would otherwise sit
    in DECIDING until its lease ends). A kind without a task for this run changes nothing.
    """
    changes = _closing(HumanTaskStatus.DECIDED).set(outcome=outcome, reason=reason)
    when = item_exists() & one_of("status", (HumanTaskStatus.PENDING, HumanTaskStatus.DECIDING))
    return table.update_if(keys.human_task(kind, task_id), changes, when=when) is not None


# --- the deciders' side -------------------------------------------------------------------------


def list_pending(
    table: Table,
    kind: str,
    *,
    role: str | None = None,
    course_id: str | None = None,
    limit: int,
    cursor: str | None,
) -> tuple[list[HumanTask], str | None]:
    """Pending tasks of ``kind`` for ``role`` or in ``course_id`` (exactly one), oldest first."""
    if (role is None) == (course_id is None):
        raise ValueError("list pending tasks for a role or in a course")
    if cursor and not decode_cursor(cursor):
        raise ValidationError("The cursor does not belong to this list.")
    if role is not None:
        partition, index = (keys.GSI2PK, keys.pending_tasks_for_role(kind, role)), keys.GSI2
    else:
        partition, index = (keys.GSI1PK, keys.pending_tasks_in_course(kind, str(course_id))), keys.GSI1
    page = table.query(partition=partition, index=index, limit=limit, cursor=cursor)
    return [HumanTask.from_item(item) for item in page.items], page.next_cursor


def decide(
    table: Table,
    port: callbacks.WorkflowCallbacks,
    kind: str,
    task_id: str,
    *,
    decided_by: str,
    outcome: str,
    output: dict[str, Any],
    reason: str | None = None,
) -> HumanTask:
    """Decide once: claim, send ``output`` to the waiting run, settle; undo the claim if the send fails.

    Raises NotFoundError (no such task), ConflictError (already decided or expired, being decided,
    or the run stopped waiting: then the task is EXPIRED), DecisionNotDeliveredError (the send failed
    for another reason: the task is PENDING again and the decision can be retried).
    """
    key = keys.human_task(kind, task_id)
    current = get_task(table, kind, task_id)
    if current is None:
        raise NotFoundError(f"No {kind} with id {task_id}.")
    claim_id = uuid.uuid4().hex
    now = utcnow()
    claimed = table.update_if(
        key,
        Update().set(status=HumanTaskStatus.DECIDING, claimId=claim_id, claimedAt=isoformat(now)),
        when=_claimable(now) & exists(callbacks.TASK_TOKEN_ATTRIBUTE),
    )
    if claimed is None:
        raise _not_decidable(get_task(table, kind, task_id) or current)
    task = HumanTask.from_item(claimed)
    ours = eq("claimId", claim_id) & eq("status", HumanTaskStatus.DECIDING)
    try:
        sent = port.succeed(str(task.task_token), output)
    except Exception as error:
        # Anything but "the run is gone" (throttling, a network error): nothing was decided.
        table.update_if(
            key, Update().set(status=HumanTaskStatus.PENDING).remove("claimId", "claimedAt"), when=ours
        )
        raise DecisionNotDeliveredError(
            f"The decision could not be delivered to the waiting run ({type(error).__name__}); retry."
        ) from error
    if not sent.delivered:
        why = "the run no longer waits for this decision"
        table.update_if(key, _closing(HumanTaskStatus.EXPIRED).set(outcome="expired", reason=why), when=ours)
        raise ConflictError(f"This {kind} expired before the decision: {why} ({sent.dead_reason}).")
    settled = _closing(HumanTaskStatus.DECIDED).set(
        outcome=outcome, reason=reason, decidedBy=decided_by, decidedAt=isoformat(utcnow())
    )
    # Delivered is the truth: it overrides an EXPIRED written by a decider that took over a lapsed lease.
    stored = table.update_if(key, settled, when=~eq("status", HumanTaskStatus.DECIDED))
    return HumanTask.from_item(stored) if stored else (get_task(table, kind, task_id) or task)


def _claimable(now: datetime) -> Condition:
    """PENDING, or DECIDING by a decider whose lease lapsed (it died mid-decision)."""
    lapsed = eq("status", HumanTaskStatus.DECIDING) & lt("claimedAt", isoformat(now - DECIDING_LEASE))
    return eq("status", HumanTaskStatus.PENDING) | lapsed


def _closing(status: HumanTaskStatus) -> Update:
    """Leave the pending listings for good: no index keys, no token, no claim."""
    return (
        Update()
        .set(status=status, updatedAt=isoformat(utcnow()))
        .remove(
            keys.GSI1PK,
            keys.GSI1SK,
            keys.GSI2PK,
            keys.GSI2SK,
            callbacks.TASK_TOKEN_ATTRIBUTE,
            "claimId",
            "claimedAt",
        )
    )


def _not_decidable(task: HumanTask) -> ConflictError:
    if task.status == HumanTaskStatus.DECIDING:
        return ConflictError(f"This {task.kind} is being decided right now.")
    if task.status == HumanTaskStatus.PENDING:
        return ConflictError(f"This {task.kind} is not waiting for a decision yet; retry shortly.")
    return ConflictError(f"This {task.kind} is already {_said(task)}.")


def _said(task: HumanTask) -> str:
    return (
        task.status.value.lower() if task.status == HumanTaskStatus.EXPIRED else f"decided ({task.outcome})"
    )


# --- reminders ------------------------------------------------------------------------------------


def remind_due(
    table: Table,
    kind: str,
    role: str,
    *,
    now: datetime | None = None,
    notify: Callable[[HumanTask], None] | None = None,
) -> list[HumanTask]:
    """Remind once for every pending task of ``kind`` for ``role`` whose reminder time has come.

    Oldest first, stopping at the first task not yet due (reminder times follow request times within
    a kind). Each reminder is claimed with a conditional write before it is sent, and the claim is
    undone when sending fails, so concurrent sweepers send one reminder and a failure loses none.
    """
    now = now or utcnow()
    send = notify or publish_reminder
    reminded: list[HumanTask] = []
    for task in _pending_oldest_first(table, kind, role):
        if task.remind_at is None or task.remind_at > now:
            break
        if task.reminded_at is not None:
            continue
        key = keys.human_task(kind, task.task_id)
        claimed = table.update_if(
            key,
            Update().set(remindedAt=isoformat(now)),
            when=eq("status", HumanTaskStatus.PENDING) & absent("remindedAt"),
        )
        if claimed is None:
            continue
        try:
            send(HumanTask.from_item(claimed))
        except Exception:
            table.update_if(key, Update().remove("remindedAt"), when=eq("remindedAt", isoformat(now)))
            raise
        reminded.append(HumanTask.from_item(claimed))
    return reminded


def _pending_oldest_first(table: Table, kind: str, role: str) -> Iterator[HumanTask]:
    cursor = None
    while True:
        page = table.query(
            partition=(keys.GSI2PK, keys.pending_tasks_for_role(kind, role)),
            index=keys.GSI2,
            limit=100,
            cursor=cursor,
        )
        yield from (HumanTask.from_item(item) for item in page.items)
        if not page.next_cursor:
            return
        cursor = page.next_cursor


def reminder(task: HumanTask) -> HumanTaskReminder:
    """The reminder event; its id is stable per task, so consumers drop a duplicate delivery."""
    from lms.events import Actor, HumanTaskReminder  # only the sweeper publishes

    return HumanTaskReminder(
        event_id=HumanTaskReminder.id_for(task.kind, task.task_id),
        actor=Actor.system("human-task-reminders"),
        course_id=task.course_id,
        kind=task.kind,
        task_id=task.task_id,
        role=task.role,
        owner_id=task.owner_id,
        requested_at=task.requested_at,
        due_at=task.due_at,
        execution_name=task.execution_name,
        details=task.details,
    )


def publish_reminder(task: HumanTask) -> None:
    """The one place the reminder event is published."""
    from lms import events

    events.publish(reminder(task))


def new_task(
    *,
    kind: str,
    task_id: str,
    role: str,
    execution_name: str,
    execution_arn: str = "",
    course_id: str | None = None,
    owner_id: str | None = None,
    due_in_seconds: int | None = None,
    remind_after_seconds: int | None = None,
    details: dict[str, Any] | None = None,
) -> HumanTask:
    """A pending task requested now, due and reminded after the given delays."""
    now = utcnow()
    return HumanTask(
        kind=kind,
        task_id=task_id,
        role=role,
        course_id=course_id,
        owner_id=owner_id,
        requested_at=now,
        due_at=now + timedelta(seconds=due_in_seconds) if due_in_seconds else None,
        remind_at=now + timedelta(seconds=remind_after_seconds) if remind_after_seconds else None,
        execution_name=execution_name,
        execution_arn=execution_arn,
        details=details or {},
    )
