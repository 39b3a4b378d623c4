"""The analytics reports workflow on the local cloud, end to end through the real parts.

The known event set (tests/analytics.py) is published on the product's bus, twice (at-least-once
delivery); the local event routing sends each matched event to the local Firehose, which writes
Parquet under lake/events/dt=... in the local S3. A run of the real ASL then plans the queries, runs
each through ``athena:startQueryExecution.sync`` (the engine's Athena integration; the local Athena
runs the SQL on DuckDB over the lake) and stores every scope's results with asOf, which
``results.latest`` reads back: the course's figures are exactly those worked out by hand.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lms import aws, keys
from lms.analytics import results
from lms.events import EVENTS
from lms.settings import get_settings
from tests import analytics as known
from workflows import executions
from workflows.analytics_reports import ANALYTICS_REPORTS, RATE_SECONDS

TYPED = {event.name for event in EVENTS}


def _tagged(event: dict[str, Any], tag: str) -> dict[str, Any]:
    """The event with this run's own course, user and transaction ids (the session's lake is shared)."""
    text = json.dumps(event["detail"])
    for name in ("c1course", "c2course", "u1", "u2", "u3", "u4", "u5", "t1", "t2", "t3", "t4", "t5", "t6"):
        text = text.replace(f'"{name}"', f'"{name}-{tag}"')
    detail = json.loads(text)
    detail["eventId"] = uuid.uuid5(uuid.NAMESPACE_OID, f"{tag}/{detail['eventId']}").hex
    return {**event, "detail": detail}


def _publish(delivered: list[dict[str, Any]]) -> None:
    client = aws.client("events")
    bus = get_settings().event_bus_name
    for start in range(0, len(delivered), 10):
        entries = [
            {
                "EventBusName": bus,
                "Source": e["source"],
                "DetailType": e["detail-type"],
                "Detail": json.dumps(e["detail"]),
            }
            for e in delivered[start : start + 10]
        ]
        assert client.put_events(Entries=entries)["FailedEntryCount"] == 0


def _failure(arn: str) -> list[Any]:
    history = aws.client("stepfunctions").get_execution_history(executionArn=arn)["events"]
    return [
        {k: v for k, v in e.items() if k.endswith("FailedEventDetails")}
        for e in history
        if any(k.endswith("FailedEventDetails") for k in e)
    ]


def _run(name: str) -> dict[str, Any]:
    started = executions.start(ANALYTICS_REPORTS, name, {"time": "2030-01-01T00:00:00Z"})
    sfn = aws.client("stepfunctions")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=started.arn)
        if described["status"] != "RUNNING":
            return described  # type: ignore[no-any-return]
        time.sleep(0.5)
    raise AssertionError(f"{started.name} still running")


@pytest.fixture(scope="module")
def refreshed(local_cloud: Any) -> tuple[str, dict[str, Any]]:
    tag = uuid.uuid4().hex[:8]
    typed = [_tagged(event, tag) for event in known.known_events() if event["detail-type"] in TYPED]
    _publish(typed + typed)  # every event delivered twice
    local_cloud.lake_firehose.flush()
    return tag, _run(f"test-{tag}")


def test_a_run_ends_refreshed_with_the_stored_counts(refreshed: tuple[str, dict[str, Any]]) -> None:
    _, described = refreshed
    assert described["status"] == "SUCCEEDED", _failure(described["executionArn"])
    output = json.loads(described["output"])
    assert output["scopes"]["platform"] == 1 and output["scopes"]["course"] >= 2


def test_the_lake_is_parquet_partitioned_by_day_in_the_local_s3(
    refreshed: tuple[str, dict[str, Any]],
) -> None:
    listed = aws.client("s3").list_objects_v2(
        Bucket=get_settings().bucket_name, Prefix=keys.LAKE_EVENTS_PREFIX
    )
    lake_keys = [o["Key"] for o in listed.get("Contents", [])]
    assert lake_keys and all(k.endswith(".parquet") and "/dt=" in k for k in lake_keys)
    assert {k.split("/")[2] for k in lake_keys} >= {f"dt={known.day(30)}", f"dt={known.day(4)}"}


@pytest.mark.parametrize("name", ["enrollments_per_day", "revenue_per_day", "completion", "at_risk"])
def test_the_course_figures_are_those_computed_by_hand(
    refreshed: tuple[str, dict[str, Any]], name: str
) -> None:
    tag, _ = refreshed
    stored = results.latest(keys.course_scope(f"c1course-{tag}"))
    assert stored is not None
    expected = known.expected_course()[name]
    if name == "at_risk":
        expected = [{**row, "user_id": f"{row['user_id']}-{tag}"} for row in expected]
    assert stored.results[name] == expected


def test_the_funnel_counts_each_lesson_once_per_student(refreshed: tuple[str, dict[str, Any]]) -> None:
    tag, _ = refreshed
    stored = results.latest(keys.course_scope(f"c1course-{tag}"))
    assert stored is not None
    # The course is not in the table (events only): its lessons come in id order, untitled.
    assert stored.results["funnel"] == [{**row, "title": None} for row in known.expected_course()["funnel"]]


def test_the_results_carry_the_runs_as_of(refreshed: tuple[str, dict[str, Any]]) -> None:
    tag, described = refreshed
    stored = results.latest(keys.course_scope(f"c1course-{tag}"))
    assert stored is not None
    assert abs((stored.as_of - described["startDate"]).total_seconds()) < 2


def test_the_platform_counts_the_courses_revenue(refreshed: tuple[str, dict[str, Any]]) -> None:
    tag, _ = refreshed
    stored = results.latest(keys.PLATFORM_SCOPE)
    assert stored is not None
    assert {"course_id": f"c1course-{tag}", "currency": "usd", "amount_cents": 5000} in stored.results[
        "revenue_per_course"
    ]


def _wait(arn: str) -> dict[str, Any]:
    sfn = aws.client("stepfunctions")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return described  # type: ignore[no-any-return]
        time.sleep(0.5)
    raise AssertionError(f"{arn} still running")


def test_a_store_fault_after_the_queries_ends_in_reports_faulted_and_keeps_the_served_results(
    local_cloud: Any, refreshed: tuple[str, dict[str, Any]]
) -> None:
    tag, _ = refreshed
    scope = keys.course_scope(f"c1course-{tag}")
    before = results.latest(scope)
    name = f"fault-{uuid.uuid4().hex[:8]}"
    local_cloud.runtime.inject_fault(
        "lms-analytics-reports-store-results",
        "RuntimeError",
        "the store broke",
        count=1,
        match={"executionName": ANALYTICS_REPORTS.execution_name(name)},
    )
    described = _run(name)
    assert described["status"] == "FAILED" and described["error"] == "ReportsFaulted"
    after = results.latest(scope)
    assert before is not None and after is not None
    assert after.as_of == before.as_of and after.results == before.results  # the last good figures


def test_a_schedule_tick_refreshes_the_results(
    local_cloud: Any, refreshed: tuple[str, dict[str, Any]]
) -> None:
    tag, _ = refreshed
    at = datetime(2031, 1, 1, tzinfo=UTC) + timedelta(seconds=RATE_SECONDS * random.randrange(10**6))
    local_cloud.fire_schedule(ANALYTICS_REPORTS.name, at)
    start = datetime.fromtimestamp(int(at.timestamp()) // RATE_SECONDS * RATE_SECONDS, tz=UTC)
    name = ANALYTICS_REPORTS.execution_name(start.strftime("%Y%m%dT%H%M"))
    deadline = time.monotonic() + 30
    while True:
        try:
            described = _wait(executions.execution_arn(ANALYTICS_REPORTS, name))
            break
        except aws.client("stepfunctions").exceptions.ExecutionDoesNotExist:
            assert time.monotonic() < deadline, f"{name} never started"
            time.sleep(0.5)
    assert described["status"] == "SUCCEEDED", _failure(described["executionArn"])
    stored = results.latest(keys.course_scope(f"c1course-{tag}"))
    assert stored is not None and abs((stored.as_of - described["startDate"]).total_seconds()) < 2
