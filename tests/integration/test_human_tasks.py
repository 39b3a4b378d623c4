"""Human tasks on the local cloud's DynamoDB: what a decider that died half-way leaves, and who repairs it.

The waiting run is stood in for by :class:`lms.callbacks.FakeCallbacks` (it records what it was sent);
the workflow tests (tests/workflow/test_human_tasks.py) run the same code against real executions.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from lms import human_tasks, keys
from lms.callbacks import FakeCallbacks
from lms.clock import isoformat, utcnow
from lms.errors import ConflictError
from lms.expressions import Update
from lms.human_tasks import HumanTaskStatus
from lms.table import Table

KIND, ROLE = "test-grading", "instructor"


def opened(table: Table) -> tuple[str, str]:
    task_id, token = uuid.uuid4().hex[:12], f"token-{uuid.uuid4().hex}"
    task = human_tasks.new_task(kind=KIND, task_id=task_id, role=ROLE, execution_name=f"run-{task_id}")
    human_tasks.open_task(table, task, token)
    return task_id, token


def claimed_by_a_decider_that_died(table: Table, task_id: str, *, seconds_ago: float) -> None:
    """What a decider leaves when it dies after its claim: DECIDING, its claim time, the token kept."""
    when = isoformat(utcnow() - timedelta(seconds=seconds_ago))
    table.update(
        keys.human_task(KIND, task_id),
        Update().set(status=HumanTaskStatus.DECIDING.value, claimId="dead", claimedAt=when),
    )


def decide(table: Table, port: FakeCallbacks, task_id: str) -> human_tasks.HumanTask:
    return human_tasks.decide(
        table, port, KIND, task_id, decided_by="grader", outcome="graded", output={"points": 7}
    )


def test_a_task_being_decided_refuses_a_second_decider_until_the_first_ones_lease_lapses(local_cloud) -> None:
    table, port = Table(), FakeCallbacks()
    task_id, token = opened(table)
    claimed_by_a_decider_that_died(table, task_id, seconds_ago=1)

    with pytest.raises(ConflictError, match="being decided"):
        decide(table, port, task_id)
    assert port.succeeded == {}

    lapsed = human_tasks.DECIDING_LEASE.total_seconds() + 5
    claimed_by_a_decider_that_died(table, task_id, seconds_ago=lapsed)
    decided = decide(table, port, task_id)

    assert decided.status == HumanTaskStatus.DECIDED and port.succeeded == {token: {"points": 7}}
    pending, _ = human_tasks.list_pending(table, KIND, role=ROLE, limit=100, cursor=None)
    assert task_id not in {t.task_id for t in pending}


def test_the_run_records_the_decision_it_went_on_with_when_the_deciders_settle_was_lost(local_cloud) -> None:
    table = Table()
    task_id, _ = opened(table)
    claimed_by_a_decider_that_died(table, task_id, seconds_ago=1)  # sent, then died before settling

    assert human_tasks.settle_from_run(table, KIND, task_id, outcome="graded", reason=None)

    task = human_tasks.get_task(table, KIND, task_id)
    assert task is not None and (task.status, task.outcome, task.task_token) == (
        HumanTaskStatus.DECIDED,
        "graded",
        None,
    )
    # Idempotent, and it never overwrites a decider's settle.
    assert not human_tasks.settle_from_run(table, KIND, task_id, outcome="other", reason=None)
    assert human_tasks.get_task(table, KIND, task_id).outcome == "graded"  # type: ignore[union-attr]


def test_a_task_decided_by_a_person_is_not_expired_by_a_late_timeout(local_cloud) -> None:
    table, port = Table(), FakeCallbacks()
    task_id, _ = opened(table)
    decide(table, port, task_id)

    assert not human_tasks.expire(table, KIND, task_id, reason="timed out")
    assert human_tasks.get_task(table, KIND, task_id).status == HumanTaskStatus.DECIDED  # type: ignore[union-attr]
