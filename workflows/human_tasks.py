"""Human tasks, declared with their workflow: ``Workflow(..., human_tasks=(HumanTask(...),))``.

A declaration names the kind of work, the ASL state that waits on the task token, who decides (a
role) and when a waiting task earns a reminder. From it come the waiting state's task function
(:meth:`HumanTask.function`) and, for the scheduled reminder sweep (docs/architecture.md,
"Reminders"), the pending partitions to read. Listing and deciding go
through :mod:`lms.human_tasks` whatever the kind, so a new workflow with a person in the loop is its
ASL file, its task module and its entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflows.definition import Access, Needs, TaskFunction, Workflow

DEFAULT_REMINDER_SECONDS = 24 * 3600


@dataclass(frozen=True)
class HumanTask:
    kind: str  # the business name, e.g. "publish-approval", "essay-grading"
    state: str  # the ASL state (``.waitForTaskToken``) that opens the task and waits
    role: str  # who decides: any user with this role
    remind_after_seconds: int = DEFAULT_REMINDER_SECONDS
    timeout_seconds: int | None = None  # the wait's TimeoutSeconds, when the ASL does not pass its own

    def __post_init__(self) -> None:
        if not self.kind or "#" in self.kind:
            raise ValueError(f"human task kind {self.kind!r}: a name without '#'")
        if self.remind_after_seconds <= 0:
            raise ValueError("a reminder comes after a positive delay")

    def function(self, handler: str = "", timeout_seconds: int = 15) -> TaskFunction:
        """The waiting state's task function: it records the task with its token (table access only)."""
        return TaskFunction(
            self.state, Needs(table=Access.READ_WRITE), handler=handler, timeout_seconds=timeout_seconds
        )

    def closing_function(self, state: str, handler: str = "", timeout_seconds: int = 15) -> TaskFunction:
        """A state that expires the task after the wait timed out (``expire_task_handler``)."""
        return TaskFunction(
            state, Needs(table=Access.READ_WRITE), handler=handler, timeout_seconds=timeout_seconds
        )


def declared(workflows: tuple[Workflow, ...]) -> tuple[HumanTask, ...]:
    """Every human task the workflows declare (the reminder sweeper reads their pending lists)."""
    return tuple(task for workflow in workflows for task in workflow.human_tasks)
