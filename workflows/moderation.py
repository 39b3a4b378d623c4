"""The moderation workflow: a reported post waits for a moderator's verdict, which is applied once."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from lms.discussions import moderation
from workflows import executions
from workflows.definition import Access, Needs, TaskFunction, Workflow, Zip
from workflows.human_tasks import HumanTask

# The functions that read posts through lms.discussions ship its Markdown renderer and sanitiser.
POSTS_PACKAGE = Zip(dependencies=(*Zip().dependencies, "markdown-it-py", "nh3"))

# The course's owner (listed per course) or an admin decides; a day's wait earns a reminder.
DECISION = HumanTask(kind=moderation.KIND, state="AwaitDecision", role=moderation.MODERATOR_ROLE.value)
DECISION_TIMEOUT_SECONDS = 14 * 24 * 3600

MODERATION = Workflow(
    name="moderation",
    functions=(
        DECISION.function(),
        DECISION.closing_function("ExpireDecision"),
        TaskFunction(
            "ApplyDecision",
            Needs(table=Access.READ_WRITE, event_bus_put=True),
            timeout_seconds=15,
            packaging=POSTS_PACKAGE,
        ),
        TaskFunction(
            "NotifyParticipants",
            Needs(table=Access.READ_WRITE, mail=True),
            timeout_seconds=120,
            packaging=POSTS_PACKAGE,  # reads posts through lms.discussions (Markdown, nh3)
        ),
    ),
    timeout_seconds=DECISION_TIMEOUT_SECONDS + 3600,
    error_alarms=("ModerationFailed",),
    human_tasks=(DECISION,),
)


class ModerationInput(BaseModel):
    """The run's input: the reported post and who decides (the course's instructor, or an admin)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)

    post_id: str
    thread_id: str
    course_id: str
    instructor_id: str
    author_id: str
    decision_timeout_seconds: int = Field(default=DECISION_TIMEOUT_SECONDS, ge=1)


class NotifyInput(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    post_id: str
    outcome: str


class ApplyInput(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    post_id: str
    decision: moderation.Decision
    decided_by: str
    note: str = ""
    execution_name: str = ""


def start_moderation(
    reported: dict[str, object], *, timeout_seconds: int | None = None
) -> executions.StartedExecution:
    """Start ``moderation-<postId>``, or join the run already there (the start is idempotent by name)."""
    payload = ModerationInput.model_validate(
        {**reported, **({"decisionTimeoutSeconds": timeout_seconds} if timeout_seconds else {})}
    )
    return executions.start(MODERATION, payload.post_id, payload.model_dump(by_alias=True))
