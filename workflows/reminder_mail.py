"""Reminder mail: a ``HumanTaskReminder`` emails the people who can decide the waiting task.

See docs/workflows/reminder-mail.md. One execution per reminder event (the starter names it after
the event id), one mail per decider per reminder (``lms.mail``'s idempotency key).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from lms.events import HumanTaskReminder
from workflows.definition import Access, EventTrigger, Needs, TaskFunction, Workflow

REMINDER_MAIL = Workflow(
    name="reminder-mail",  # execution reminder-mail-<eventId>
    trigger=EventTrigger(event=HumanTaskReminder),
    functions=(TaskFunction("MailDeciders", Needs(table=Access.READ_WRITE, mail=True), timeout_seconds=120),),
    timeout_seconds=900,
    error_alarms=("ReminderMailFailed",),
)


class MailDecidersInput(BaseModel):
    """The ASL's Parameters of MailDeciders: the reminder's detail as delivered."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    reminder: dict[str, object]
    execution_name: str = ""
