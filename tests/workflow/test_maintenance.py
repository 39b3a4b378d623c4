"""The maintenance workflow on the local cloud: a schedule tick runs both sweeps, once per tick.

Ticks come from :meth:`LocalCloud.fire_schedule` (the test session's local cloud never fires schedules
on its own): it delivers the "Scheduled Event" to the schedule rule's target, the real starter, which
starts ``maintenance-<tick>``; the real ASL runs the real handlers under their declared grants. The
work is real: a publish run waiting for an admin's approval (requested, as given, a day ago) and an
admin refund left REFUND_PENDING by a write that kept conflicting after Stripe refunded.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lms import aws, keys, payments, purchases
from lms.clock import isoformat, utcnow
from lms.entities import TransactionStatus
from lms.events import HumanTaskReminder
from lms.expressions import Update
from lms.human_tasks import get_task
from lms.publishing import approvals
from lms.settings import get_settings
from lms.table import Table
from tests.events import collect
from tests.integration.test_purchases_api import ConflictingTable, completed_paid_purchase
from tests.publishing import create_course, publication_until, publish
from tests.purchases import execution, refunds_of, states_entered, transaction
from workflows import executions
from workflows.catalog import WORKFLOWS
from workflows.human_tasks import declared
from workflows.maintenance import MAINTENANCE, RATE_SECONDS


def a_tick() -> datetime:
    """A scheduled time in a period no other test fires (ticks of one period are one execution)."""
    return datetime(2030, 1, 1, tzinfo=UTC) + timedelta(seconds=RATE_SECONDS * random.randrange(10**6))


def tick_name(at: datetime) -> str:
    """The run a tick scheduled ``at`` starts: the period it falls in (``maintenance-20300101T0015``)."""
    start = datetime.fromtimestamp(int(at.timestamp()) // RATE_SECONDS * RATE_SECONDS, tz=UTC)
    return MAINTENANCE.execution_name(start.strftime("%Y%m%dT%H%M"))


def names_of_runs() -> list[str]:
    sfn = aws.client("stepfunctions")
    listed = sfn.list_executions(stateMachineArn=executions.state_machine_arn(MAINTENANCE), maxResults=1000)
    return [e["name"] for e in listed["executions"]]


@pytest.fixture
def reminders(local_cloud: Any) -> Any:
    """HumanTaskReminder events on the product's bus: ``reminders(task_id)``, all those sent within
    the wait."""
    received = collect(HumanTaskReminder)
    return lambda task_id, wait=5: received(wait, taskId=task_id)


def overdue_approval(new_user: Any, demo: Any) -> str:
    """A first publication waiting for an admin's approval, requested (as given) a day ago."""
    instructor = new_user("instructor")
    course = create_course(instructor.client, str(demo.data.categories["Python"].category_id))
    publish(instructor.client, course)
    approval_id = str(publication_until(instructor.client, course, "AWAITING_APPROVAL")["approvalId"])
    task = get_task(Table(), approvals.KIND, approval_id)
    assert task is not None and task.remind_at is not None and task.remind_at > utcnow()  # not due yet
    requested = utcnow() - timedelta(days=2)
    sort = keys.human_task_sort(isoformat(requested), approval_id)
    Table().update(
        keys.human_task(approvals.KIND, approval_id),
        Update().set(
            requestedAt=isoformat(requested),
            remindAt=isoformat(requested + timedelta(days=1)),
            **{keys.GSI1SK: sort, keys.GSI2SK: sort},
        ),
    )
    return approval_id


def stuck_refund(new_user: Any, demo: Any) -> str:
    """An admin refund Stripe made whose write kept conflicting: REFUND_PENDING, stopped minutes ago."""
    _, _, transaction_id = completed_paid_purchase(new_user, demo)
    ConflictingTable.conflicts = 100
    try:
        with pytest.raises(ClientError):
            purchases.admin_refund(ConflictingTable(), payments.gateway(), transaction_id, reason="Asked")
    finally:
        ConflictingTable.conflicts = 0
    stopped = transaction(transaction_id)
    assert stopped.status == TransactionStatus.REFUND_PENDING
    Table().update(
        keys.transaction(transaction_id), Update().set(updatedAt=isoformat(utcnow() - timedelta(minutes=10)))
    )
    return transaction_id


def test_a_tick_reminds_the_overdue_approval_and_finishes_the_stuck_refund(
    local_cloud, new_user, demo, reminders, local_stripe
) -> None:
    approval_id = overdue_approval(new_user, demo)
    transaction_id = stuck_refund(new_user, demo)
    at = a_tick()

    (answer,) = local_cloud.fire_schedule(MAINTENANCE.name, at)

    assert answer == {"executionName": tick_name(at), "alreadyStarted": False}
    described, history = execution(executions.execution_arn(MAINTENANCE, tick_name(at)), timeout=60)
    assert described["status"] == "SUCCEEDED", (described.get("error"), described.get("cause"))
    output = json.loads(described["output"])
    assert output["reminded"] >= 1 and output["remindedByKind"][approvals.KIND] >= 1
    assert output["refundsFinished"] >= 1 and output["refundsStillPending"] == 0
    assert "Swept" in states_entered(history)

    (event,) = reminders(approval_id)
    assert (event["detail"]["kind"], event["detail"]["role"]) == (approvals.KIND, approvals.APPROVER.value)
    finished = transaction(transaction_id)
    assert finished.status == TransactionStatus.REFUNDED and finished.reason == "Asked"
    assert [r.id for r in refunds_of(finished.payment_intent_id or "")] == [finished.refund_id]  # not twice


def test_the_reminder_sweep_covers_every_kind_the_catalog_declares() -> None:
    """The sweeper reads the catalog's declarations, so a new workflow's human task is reminded too."""
    assert approvals.KIND in {task.kind for task in declared(WORKFLOWS)}
    assert MAINTENANCE in WORKFLOWS


def test_a_duplicate_delivery_of_a_tick_is_one_execution(local_cloud, local_stripe) -> None:
    at = a_tick()

    first = local_cloud.fire_schedule(MAINTENANCE.name, at, event_id="tick-1")
    again = local_cloud.fire_schedule(MAINTENANCE.name, at, event_id="tick-1")  # at-least-once delivery
    # Another event for the same period (a late retry of the tick) lands on the same run too.
    later = local_cloud.fire_schedule(MAINTENANCE.name, at + timedelta(seconds=RATE_SECONDS - 1))
    following = local_cloud.fire_schedule(MAINTENANCE.name, at + timedelta(seconds=RATE_SECONDS))

    assert first == [{"executionName": tick_name(at), "alreadyStarted": False}]
    # The same delivery again is idempotent (StartExecution with the same name and input while it
    # runs, ExecutionAlreadyExists after); another event of the period is ExecutionAlreadyExists.
    assert [answer["executionName"] for answer in again] == [tick_name(at)]
    assert later == [{"executionName": tick_name(at), "alreadyStarted": True}]
    next_name = tick_name(at + timedelta(seconds=RATE_SECONDS))
    assert following == [{"executionName": next_name, "alreadyStarted": False}]
    assert names_of_runs().count(tick_name(at)) == 1
    for name in (tick_name(at), next_name):
        described, _ = execution(executions.execution_arn(MAINTENANCE, name), timeout=60)
        assert described["status"] == "SUCCEEDED", (described.get("error"), described.get("cause"))


def test_a_faulted_refund_sweep_ends_in_its_named_state_and_the_reminders_still_go_out(
    local_cloud, new_user, demo, reminders, local_stripe
) -> None:
    approval_id = overdue_approval(new_user, demo)
    at = a_tick()
    local_cloud.runtime.inject_fault(
        "lms-maintenance-finish-pending-refunds",
        "RuntimeError",
        "the sweep broke",
        count=1,
        match={"executionName": tick_name(at)},
    )

    local_cloud.fire_schedule(MAINTENANCE.name, at)

    described, history = execution(executions.execution_arn(MAINTENANCE, tick_name(at)), timeout=60)
    assert described["status"] == "FAILED" and described["error"] == "MaintenanceFaulted"
    entered = states_entered(history)
    assert "RefundsFaulted" in entered and "RemindersFaulted" not in entered
    faulted = next(
        e["stateExitedEventDetails"]
        for e in history
        if e["type"] == "PassStateExited" and e["stateExitedEventDetails"]["name"] == "RefundsFaulted"
    )
    assert json.loads(faulted["output"])["error"] == "RuntimeError"
    (event,) = reminders(approval_id)  # the other branch's work is done
    assert event["detail"]["taskId"] == approval_id


def test_a_transient_fault_is_retried_and_the_tick_succeeds(local_cloud, local_stripe) -> None:
    at = a_tick()
    local_cloud.runtime.inject_fault(
        "lms-maintenance-send-reminders",
        "StoreThrottledError",
        "throttled",
        count=2,
        match={"executionName": tick_name(at)},
    )

    local_cloud.fire_schedule(MAINTENANCE.name, at)

    described, history = execution(executions.execution_arn(MAINTENANCE, tick_name(at)), timeout=60)
    assert described["status"] == "SUCCEEDED", (described.get("error"), described.get("cause"))
    failures = [e["taskFailedEventDetails"]["error"] for e in history if e["type"] == "TaskFailed"]
    assert failures == ["StoreThrottledError", "StoreThrottledError"]


# --- the workflow is its three files (plus its catalog entry) ----------------------------------------

REPOSITORY = Path(__file__).resolve().parents[2]
MAINTENANCE_FILES = {
    "state-machines/maintenance.asl.json",
    "tasks/maintenance.py",
    "workflows/maintenance.py",
}


def test_nothing_outside_its_three_files_names_the_maintenance_workflow() -> None:
    """No construct, rule, route or list elsewhere knows it: CDK and the local cloud build its schedule
    from the declaration (the tests only fire and inspect it)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert set(listed) >= MAINTENANCE_FILES
    naming = {
        path
        for path in listed
        if path not in MAINTENANCE_FILES
        and not path.startswith(("docs-notes/", "docs/", "tests/"))
        and path != "README.md"
        and (REPOSITORY / path).is_file()
        and re.search(r"maintenance", (REPOSITORY / path).read_text(errors="ignore"), re.IGNORECASE)
    }
    assert naming == set()  # the catalog finds it from its ASL file and its module


def test_with_schedules_on_the_local_cloud_fires_the_tick_itself_until_stopped(
    local_cloud, local_stripe
) -> None:
    """``lms dev`` runs schedules (``LocalCloud(schedules=True)``); the test session's cloud does not
    until a test turns them on, as here, with the first tick brought forward."""
    before = utcnow()
    assert not local_cloud.schedules and local_cloud.schedule_rates()[MAINTENANCE.name] == RATE_SECONDS
    local_cloud.start_schedules(first_tick_after=0.2)
    try:
        candidates = {tick_name(moment) for moment in (before, utcnow() + timedelta(seconds=5))}
        deadline = time.monotonic() + 30
        while not (started := candidates & set(names_of_runs())):
            assert time.monotonic() < deadline, "the local cloud never fired the schedule"
            time.sleep(0.2)
    finally:
        local_cloud.stop_schedules()
    (name,) = started
    described, _ = execution(executions.execution_arn(MAINTENANCE, name), timeout=60)
    assert described["status"] == "SUCCEEDED", (described.get("error"), described.get("cause"))
    assert not local_cloud.schedules


def test_an_event_on_the_default_bus_does_not_reach_the_schedule_rule(local_cloud, monkeypatch) -> None:
    """A schedule rule has no pattern; in AWS it receives only its ticks. moto matches every event
    on the default bus (S3's "Object Created" included) against that empty pattern, so without the
    local routing's guard each upload would invoke the starter, which would start a run."""
    from moto.events.models import events_backends

    from infra.local import event_routing
    from infra.local.cloud import ACCOUNT_ID, schedule_rule_name

    delivered: list[str] = []
    monkeypatch.setattr(event_routing, "_deliver", lambda arn, body: delivered.append(arn))
    rules = events_backends[ACCOUNT_ID][local_cloud.region].event_buses["default"].rules
    schedule = rules[schedule_rule_name(MAINTENANCE)]
    assert schedule.scheduled_expression == f"rate({RATE_SECONDS // 60} minutes)"
    upload = {
        "source": "aws.s3",
        "detail-type": "Object Created",
        "time": "2026-11-29T15:31:00Z",
        "detail": {"bucket": {"name": get_settings().bucket_name}, "object": {"key": "uploads/l/u"}},
    }

    schedule.send_to_targets(upload)
    time.sleep(0.5)  # a matched Lambda target is invoked on its own thread

    assert delivered == []
