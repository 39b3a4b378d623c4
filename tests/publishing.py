"""Helpers shared by the publishing tests and the benchmark: build a course over HTTP, publish, decide."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest

from lms import aws
from lms.courses.courses import course_item, read_course
from lms.courses.lessons import lesson_item
from lms.entities import Course, Lesson, LessonType
from lms.publishing import snapshots, steps
from lms.table import Table
from tests.conftest import ApiClient, api_client

GOOD_TEXT = "<h2>Welcome</h2><p>The full text of this lesson.</p>"


def create_course(
    client: ApiClient,
    category_id: str,
    *,
    lessons: list[dict[str, Any]] | None = None,
    title: str | None = None,
    price_cents: int = 0,
    description: str = "A course built by a test.",
) -> str:
    """A draft course with ``lessons`` (default: two good text lessons); returns its id."""
    response = client.post(
        "/courses",
        json={
            "title": title or f"Course {uuid.uuid4().hex[:8]}",
            "description": description,
            "categoryId": category_id,
            "priceCents": price_cents,
        },
    )
    assert response.status_code == 201, response.text
    course_id = str(response.json()["courseId"])
    for lesson in lessons if lessons is not None else [text_lesson("One"), text_lesson("Two")]:
        added = client.post("/lessons", json={"courseId": course_id, **lesson})
        assert added.status_code == 201, added.text
    return course_id


def text_lesson(title: str, content: str = GOOD_TEXT, **fields: Any) -> dict[str, Any]:
    return {"title": title, "type": "text", "content": content, **fields}


def publish(client: ApiClient, course_id: str) -> dict[str, Any]:
    response = client.post(f"/courses/{course_id}/publish")
    assert response.status_code == 202, response.text
    return dict(response.json())


def publication_until(
    client: ApiClient, course_id: str, *statuses: str, timeout: float = 60
) -> dict[str, Any]:
    """Poll GET /publication until the run reaches one of ``statuses`` (a positive signal)."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/courses/{course_id}/publication")
        assert response.status_code in (200, 404), response.text
        current = response.json()
        if response.status_code == 200 and current["status"] in statuses:
            return dict(current)
        assert time.monotonic() < deadline, f"publication is {current}, not {statuses}"
        time.sleep(0.1)


def decide(admin: ApiClient, approval_id: str, decision: str, reason: str | None = None) -> Any:
    body: dict[str, Any] = {"decision": decision}
    if reason is not None:
        body["reason"] = reason
    return admin.post(f"/admin/approvals/{approval_id}", json=body)


def publish_with_approval(instructor: ApiClient, admin: ApiClient, course_id: str) -> dict[str, Any]:
    """Publish, wait for the approval, approve, wait for PUBLISHED."""
    publish(instructor, course_id)
    waiting = publication_until(instructor, course_id, "AWAITING_APPROVAL")
    approved = decide(admin, waiting["approvalId"], "approve")
    assert approved.status_code == 200, approved.text
    return publication_until(instructor, course_id, "PUBLISHED")


def transitions_outside_map(history: list[dict[str, Any]]) -> int:
    """States entered by the execution itself, not by the Map's iterations (the issue's budget)."""
    depth, count = 0, 0
    for event in history:
        kind = event["type"]
        if kind == "MapStateStarted":
            depth += 1
        elif kind in ("MapStateSucceeded", "MapStateFailed", "MapStateAborted"):
            depth -= 1
        elif kind.endswith("StateEntered") and depth == 0:
            count += 1
    return count


def draft_with_lessons(demo: Any, count: int) -> tuple[Course, list[Lesson]]:
    from lms.table import Table

    table = Table()
    course = Course(
        title="Big course",
        description="Many lessons.",
        instructor_id=demo.data.users["instructor"].user_id,
        category_id=demo.data.categories["Python"].category_id,
        price_cents=0,
    )
    table.put(course_item(course))
    lessons = [
        Lesson(
            course_id=course.course_id, title=f"Lesson {i}", type=LessonType.TEXT, content="x", order_index=i
        )
        for i in range(count)
    ]
    for lesson in lessons:
        table.put(lesson_item(lesson))
    return course, lessons


def publish_directly(course_id: str, version: int = 1) -> None:
    """Publish the draft as it is now as ``version``, without the workflow (tests about other things)."""
    table = Table()
    course, lessons = read_course(table, course_id)
    assert course is not None
    snapshots.capture(table, course, lessons, version)
    steps.publish(table, course_id, version, execution_name=None)


def stop_execution(execution_arn: str, token: str, *, timeout: float = 30) -> dict[str, Any]:
    """StopExecution, as an operator would; returns the execution once it is no longer RUNNING.

    The execution is ABORTED at once, as in AWS (infra/local/engine_limits.py), and the token it
    waited on is dead: an answer to it is refused.
    """
    sfn = aws.client("stepfunctions")
    sfn.stop_execution(executionArn=execution_arn, error="Operator", cause="stopped by an operator")
    with pytest.raises(sfn.exceptions.TaskTimedOut):
        sfn.send_task_failure(taskToken=token, error="Stopped", cause="stopped by an operator")
    deadline = time.monotonic() + timeout
    while (described := sfn.describe_execution(executionArn=execution_arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, f"{execution_arn} still RUNNING after StopExecution"
        time.sleep(0.2)
    return dict(described)


@contextmanager
def throttled_sends(times: int = 1) -> Iterator[list[str]]:
    """SendTaskSuccess answers ThrottlingException ``times`` times (botocore raises it as from AWS),
    whether the API (its own role's client) or a test's domain call (the harness's client) sends it."""
    clients = [aws.client("stepfunctions"), api_client("stepfunctions")]
    refused: list[str] = []

    def refuse(**_: Any) -> Any:
        if len(refused) >= times:
            return None
        refused.append("ThrottlingException")
        error = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}
        return SimpleNamespace(status_code=400, headers={}), {
            **error,
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }

    for client in clients:
        client.meta.events.register("before-call.sfn.SendTaskSuccess", refuse)
    try:
        yield refused
    finally:
        for client in clients:
            client.meta.events.unregister("before-call.sfn.SendTaskSuccess", refuse)
