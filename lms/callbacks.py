"""The ``WorkflowCallbacks`` port: a paused workflow step waits on a task token kept with a business
record; whoever completes the business step later resumes it (success with output) or fails it.

Generic on purpose: purchase payments use it, and so does every human task (:mod:`lms.human_tasks`).
A token the orchestrator no longer accepts (the step timed out, the execution ended, the token is
garbage) is a *result* (:attr:`CallbackResult.delivered` is False), not an exception: the caller
decides what a late completion means for its record (a purchase refunds a late payment, an
approval is discarded).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from lms import keys
from lms.clock import isoformat, utcnow
from lms.expressions import Condition, Update
from lms.table import Table

TASK_TOKEN_ATTRIBUTE = "taskToken"


@dataclass(frozen=True)
class CallbackResult:
    delivered: bool
    # Why the orchestrator refused the token, in its own words (the adapter's error code).
    dead_reason: str | None = None

    @classmethod
    def dead(cls, reason: str) -> CallbackResult:
        return cls(delivered=False, dead_reason=reason)


DELIVERED = CallbackResult(delivered=True)


class WorkflowCallbacks(Protocol):
    def succeed(self, token: str, output: dict[str, Any]) -> CallbackResult: ...

    def fail(self, token: str, *, error: str, cause: str) -> CallbackResult: ...


def store_token(
    table: Table,
    record: keys.Key,
    token: str,
    *,
    when: Condition | None = None,
) -> bool:
    """Keep ``token`` on ``record`` if ``when`` holds (the record still awaits this step).

    Returns False when the condition failed, so the caller can say which business rule refused it.
    """
    changes = Update().set({TASK_TOKEN_ATTRIBUTE: token, "updatedAt": isoformat(utcnow())})
    return table.update_if(record, changes, when=when) is not None


@dataclass
class FakeCallbacks:
    """In-memory callbacks for unit tests: records what was sent; ``kill(token)`` makes it dead."""

    succeeded: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: dict[str, tuple[str, str]] = field(default_factory=dict)
    dead: dict[str, str] = field(default_factory=dict)

    def kill(self, token: str, reason: str = "expired") -> None:
        self.dead[token] = reason

    def _deliver(self, token: str) -> CallbackResult:
        if token in self.dead:
            return CallbackResult.dead(self.dead[token])
        if token in self.succeeded or token in self.failed:
            return CallbackResult.dead("already answered")  # a token is good for one answer only
        return DELIVERED

    def succeed(self, token: str, output: dict[str, Any]) -> CallbackResult:
        result = self._deliver(token)
        if result.delivered:
            self.succeeded[token] = output
        return result

    def fail(self, token: str, *, error: str, cause: str) -> CallbackResult:
        result = self._deliver(token)
        if result.delivered:
            self.failed[token] = (error, cause)
        return result
