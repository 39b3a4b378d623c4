"""Human tasks, one mechanism: a throwaway workflow declares its task and gets it listed, decided
(exactly once, under failing sends), expired and reminded with no other wiring.

``throwaway-review`` (tests/throwaway/review.py) is its ASL file, its task module (the shared
handlers bound to its declaration) and its catalog entry. Its runs are real executions on the local
engine; decisions go through the real Step Functions adapter, and the failures of a send are real:
a stopped execution, and the client answering ThrottlingException.
"""

from __future__ import annotations

import concurrent.futures
import json
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest

from lms import aws, human_tasks
from lms.clock import utcnow
from lms.errors import ConflictError
from lms.events import HumanTaskReminder
from lms.human_tasks import DecisionNotDeliveredError, HumanTaskStatus
from lms.table import Table
from tests.events import collect
from tests.publishing import stop_execution, throttled_sends
from tests.purchases import execution
from tests.throwaway.review import REVIEW, REVIEW_TASK
from workflows import executions
from workflows.callbacks import StepFunctionsCallbacks

KIND, ROLE = REVIEW_TASK.kind, REVIEW_TASK.role


@pytest.fixture(scope="module")
def deployed(local_cloud: Any) -> Any:
    if REVIEW.name not in local_cloud.state_machine_arns:
        local_cloud.deploy(REVIEW)
    return local_cloud


def start_review(*, timeout_seconds: int = 120) -> tuple[str, str, str]:
    """A run waiting for a review: (reviewId, courseId, executionArn), once its task is open."""
    review_id, course_id = uuid.uuid4().hex[:12], f"course-{uuid.uuid4().hex[:8]}"
    started = executions.start(
        REVIEW,
        review_id,
        {
            "reviewId": review_id,
            "courseId": course_id,
            "authorId": "author-1",
            "title": "Essay on sorting",
            "timeoutSeconds": timeout_seconds,
        },
    )
    until(lambda: (task := human_tasks.get_task(Table(), KIND, review_id)) is not None and task.task_token)
    return review_id, course_id, started.arn


def until(condition: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.1)
    return value


def pending_ids(**scope: str) -> set[str]:
    tasks, _ = human_tasks.list_pending(Table(), KIND, limit=100, cursor=None, **scope)
    return {task.task_id for task in tasks}


def decide(review_id: str, verdict: str = "accept") -> human_tasks.HumanTask:
    return human_tasks.decide(
        Table(),
        StepFunctionsCallbacks(),
        KIND,
        review_id,
        decided_by="admin-1",
        outcome=verdict,
        output={"verdict": verdict},
    )


def test_a_declared_human_task_is_listed_oldest_first_and_decided_once(deployed) -> None:
    first, course_id, first_arn = start_review()
    second, _, _ = start_review()

    tasks, _ = human_tasks.list_pending(Table(), KIND, role=ROLE, limit=100, cursor=None)
    order = [task.task_id for task in tasks]
    assert order.index(first) < order.index(second)  # oldest first
    assert pending_ids(course_id=course_id) == {first}
    opened = next(task for task in tasks if task.task_id == first)
    assert (opened.owner_id, opened.details, opened.execution_arn) == (
        "author-1",
        {"title": "Essay on sorting"},
        first_arn,
    )

    decided = decide(first, "accept")

    assert decided.status == HumanTaskStatus.DECIDED and decided.outcome == "accept"
    described, _ = execution(first_arn)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["review"] == {"verdict": "accept"}
    assert first not in pending_ids(role=ROLE) and pending_ids(course_id=course_id) == set()
    with pytest.raises(ConflictError):
        decide(first, "reject")  # decided once
    assert human_tasks.get_task(Table(), KIND, first).outcome == "accept"  # type: ignore[union-attr]


def test_concurrent_decisions_resume_the_run_once(deployed) -> None:
    review_id, _, arn = start_review()

    def attempt(verdict: str) -> str:
        try:
            return decide(review_id, verdict).outcome or ""
        except ConflictError:
            return "refused"

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(attempt, ["accept", "reject", "accept", "reject"]))

    assert sorted(a for a in answers if a != "refused") in (["accept"], ["reject"])
    winner = next(a for a in answers if a != "refused")
    described, _ = execution(arn)
    assert json.loads(described["output"])["review"] == {"verdict": winner}


def test_a_throttled_send_leaves_the_task_pending_and_a_retry_decides_it(deployed) -> None:
    review_id, _, arn = start_review()

    with throttled_sends(times=1) as refused, pytest.raises(DecisionNotDeliveredError):
        decide(review_id)

    assert refused == ["ThrottlingException"]
    task = human_tasks.get_task(Table(), KIND, review_id)
    assert task is not None and task.status == HumanTaskStatus.PENDING and task.task_token  # undone
    assert review_id in pending_ids(role=ROLE)
    assert aws.client("stepfunctions").describe_execution(executionArn=arn)["status"] == "RUNNING"

    assert decide(review_id).status == HumanTaskStatus.DECIDED  # the retry works
    assert execution(arn)[0]["status"] == "SUCCEEDED"


def test_a_decision_for_a_stopped_run_expires_the_task(deployed) -> None:
    review_id, _, arn = start_review()
    task = human_tasks.get_task(Table(), KIND, review_id)
    assert task is not None and task.task_token
    assert stop_execution(arn, task.task_token)["status"] != "SUCCEEDED"

    with pytest.raises(ConflictError, match="expired"):
        decide(review_id)

    task = human_tasks.get_task(Table(), KIND, review_id)
    assert task is not None and task.status == HumanTaskStatus.EXPIRED and task.task_token is None
    assert review_id not in pending_ids(role=ROLE)


def test_a_review_nobody_decides_times_out_and_leaves_the_list(deployed) -> None:
    review_id, _, arn = start_review(timeout_seconds=3)

    described, history = execution(arn, timeout=60)

    assert described["status"] == "SUCCEEDED"
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    assert entered[-2:] == ["ExpireReview", "ReviewTimedOut"]
    task = human_tasks.get_task(Table(), KIND, review_id)
    assert task is not None and task.status == HumanTaskStatus.EXPIRED and task.reason == "review timed out"
    assert review_id not in pending_ids(role=ROLE)
    with pytest.raises(ConflictError):
        decide(review_id)


@pytest.fixture
def reminders(local_cloud: Any) -> Any:
    """HumanTaskReminder events on the product's bus: ``reminders(task_id)``, all those sent within
    the wait."""
    received = collect(HumanTaskReminder)
    return lambda task_id, wait=5: received(wait, taskId=task_id)


def test_a_task_waiting_past_its_reminder_time_is_reminded_once(deployed, reminders) -> None:
    review_id, course_id, _ = start_review()
    table = Table()

    # Not due yet: the declaration says a minute; the sweeper stops at the first task not yet due.
    assert review_id not in {t.task_id for t in human_tasks.remind_due(table, KIND, ROLE)}

    later = utcnow() + timedelta(seconds=REVIEW_TASK.remind_after_seconds + 1)

    def down(_: human_tasks.HumanTask) -> None:
        raise RuntimeError("event bus unavailable")

    with pytest.raises(RuntimeError):
        human_tasks.remind_due(table, KIND, ROLE, now=later, notify=down)
    assert human_tasks.get_task(table, KIND, review_id).reminded_at is None  # type: ignore[union-attr]

    swept = human_tasks.remind_due(table, KIND, ROLE, now=later)
    again = human_tasks.remind_due(table, KIND, ROLE, now=later + timedelta(minutes=5))

    assert review_id in {t.task_id for t in swept} and review_id not in {t.task_id for t in again}
    (event,) = reminders(review_id)
    assert event["source"] == "lms.human-tasks" and event["detail-type"] == "HumanTaskReminder"
    detail = event["detail"]
    assert (detail["kind"], detail["role"], detail["courseId"], detail["ownerId"]) == (
        KIND,
        ROLE,
        course_id,
        "author-1",
    )
    assert detail["eventId"] == HumanTaskReminder.id_for(KIND, review_id)  # stable: one per task
    assert (detail["verb"], detail["object"], detail["result"]) == (
        "reminded",
        {"type": "human-task", "id": review_id},
        "waiting",
    )
    assert review_id in pending_ids(role=ROLE)  # a reminder decides nothing
