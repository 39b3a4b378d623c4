"""Reminder emails: a human task that waited too long is mailed to the people who can decide it.

The reminder sweep publishes ``HumanTaskReminder`` once per task; the reminder-mail workflow
(docs/workflows/reminder-mail.md) calls :func:`mail_deciders` with it. Who can decide:

* a task for the ``admin`` role: every active administrator;
* any other role, for a task in a course: the course's owner (the instructor who owns it).

Each mail's idempotency key is the reminder's event id and the recipient, so a redelivered event, a
retried task or a re-run execution mails each decider once. A task decided (or expired) before the
mail goes out is mailed to nobody. Every reminder carries an unsubscribe link for reminders of
that kind; an unsubscribed decider is skipped (the task still waits in their pending list).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from lms import human_tasks, keys, mail
from lms.clock import isoformat, utcnow
from lms.entities import Role
from lms.table import Table

if TYPE_CHECKING:
    from lms.events import HumanTaskReminder

TASK_REMINDERS = "task-reminders"  # the unsubscribe scope; its scope id is the task kind


class ReminderMailOutcome(StrEnum):
    MAILED = "Mailed"  # at least one decider was mailed by this call
    NOTHING_SENT = "NothingSent"  # every decider unsubscribed, deactivated, or mailed already
    NO_DECIDERS = "NoDeciders"  # nobody can decide it (no active admin, no course owner)
    TASK_CLOSED = "TaskClosed"  # decided or expired before the reminder went out


@dataclass(frozen=True)
class ReminderMailResult:
    outcome: ReminderMailOutcome
    recipients: tuple[str, ...] = ()  # user ids mailed by this call
    skipped: tuple[str, ...] = ()  # deciders not mailed: unsubscribed, deactivated, or mailed before


def administrators(table: Table) -> list[str]:
    """Active administrators: each shard of the user list, read through the index, keeping admins
    (a Query per shard, never a Scan; the user list is read whole, which a reminder can afford)."""
    found: list[str] = []
    for shard in range(keys.USER_LIST_SHARDS):
        items = table.query_all(
            partition=(keys.GSI2PK, keys.user_list_index(shard)),
            index=keys.GSI2,
            filter_equals={"role": Role.ADMIN.value},
        )
        found.extend(str(item["userId"]) for item in items if item.get("isActive", True))
    return sorted(found)


def deciders(table: Table, reminder: HumanTaskReminder) -> list[str]:
    if reminder.role == Role.ADMIN.value:
        return administrators(table)
    if reminder.course_id:
        course = table.get(keys.course(reminder.course_id), consistent=True)
        if course and course.get("instructorId"):
            return [str(course["instructorId"])]
    return []


def opted_out(table: Table, user_ids: list[str], kind: str) -> set[str]:
    wanted = [keys.mail_opt_out(user_id, TASK_REMINDERS, kind) for user_id in user_ids]
    found: set[str] = set()
    for start in range(0, len(wanted), 100):
        found.update(str(item["userId"]) for item in table.batch_get(wanted[start : start + 100]).values())
    return found


def message(reminder: HumanTaskReminder) -> tuple[str, str]:
    """Subject and text of the reminder (plain text: no user-supplied HTML goes out)."""
    title = str(reminder.details.get("courseTitle") or reminder.details.get("title") or "")
    subject = f"Waiting for your decision: {reminder.kind}" + (f" ({title})" if title else "")
    lines = [
        f"A {reminder.kind} task has been waiting for a decision since {isoformat(reminder.requested_at)}.",
    ]
    if reminder.due_at:
        lines.append(f"It must be decided by {isoformat(reminder.due_at)}, or it expires.")
    lines.append("")
    lines.extend(f"{name}: {value}" for name, value in sorted(reminder.details.items()))
    lines += ["", f"Task: {reminder.task_id}", f"Run: {reminder.execution_name}"]
    return subject, "\n".join(lines)


def mail_deciders(table: Table, reminder: HumanTaskReminder) -> ReminderMailResult:
    task = human_tasks.get_task(table, reminder.kind, reminder.task_id)
    if task is None or task.status not in (
        human_tasks.HumanTaskStatus.PENDING,
        human_tasks.HumanTaskStatus.DECIDING,
    ):
        return ReminderMailResult(ReminderMailOutcome.TASK_CLOSED)
    people = deciders(table, reminder)
    if not people:
        return ReminderMailResult(ReminderMailOutcome.NO_DECIDERS)
    unsubscribed = opted_out(table, people, reminder.kind)
    subject, text = message(reminder)
    sent: list[str] = []
    for user_id in people:
        if user_id in unsubscribed:
            continue
        if mail.send(
            table,
            to_user_id=user_id,
            subject=subject,
            text=text,
            unsubscribe=mail.Unsubscribe(TASK_REMINDERS, reminder.kind),
            idempotency_key=f"{reminder.event_id}#{user_id}",
        ):
            sent.append(user_id)
    skipped = tuple(user_id for user_id in people if user_id not in sent)
    outcome = ReminderMailOutcome.MAILED if sent else ReminderMailOutcome.NOTHING_SENT
    return ReminderMailResult(outcome, tuple(sent), skipped)


def unsubscribe_from_reminders(table: Table, user_id: str, kind: str) -> None:
    """The ``task-reminders`` unsubscribe handler: no more reminder mail of this kind (idempotent)."""
    opt_out = keys.mail_opt_out(user_id, TASK_REMINDERS, kind)
    table.put({**opt_out.as_item(), "userId": user_id, "optedOutAt": isoformat(utcnow())})


mail.unsubscribe_handlers[TASK_REMINDERS] = unsubscribe_from_reminders
