"""The moderation workflow on the local engine with its real handlers, driven over HTTP: reports
hide a post at three reporters, a moderator's verdict is applied once, late decisions are refused."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from infra.local import mailbox
from lms import human_tasks, keys
from lms.discussions import moderation
from lms.table import Table
from tests.conftest import ApiClient, Demo
from tests.discussions import answer, enrolled, new_forum, start
from tests.purchases import execution
from workflows import executions
from workflows.moderation import MODERATION, start_moderation

pytestmark = pytest.mark.workflow


def until(check: Callable[[], Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")


def finished(execution_arn: str, timeout: float = 30) -> dict[str, Any]:
    """The run's output once it ended, which must be a success (business outcomes end in Succeed)."""
    described, _ = execution(execution_arn, timeout=timeout)
    assert described["status"] == "SUCCEEDED", described
    return dict(json.loads(described["output"]))


def report(client: ApiClient, post_id: str, reason: str = "spam") -> Any:
    return client.post(f"/posts/{post_id}/reports", json={"reason": reason})


def seen_by(client: ApiClient, thread_id: str, post_id: str) -> dict[str, Any]:
    items = client.get(f"/threads/{thread_id}").json()["items"]
    return next(p for p in items if p["postId"] == post_id)


def test_three_reports_hide_a_post_and_a_moderator_keeps_it(
    new_user: Any, demo: Demo, instructor: ApiClient
) -> None:
    author, *reporters = (enrolled(new_user, demo) for _ in range(4))
    thread = start(author.client, new_forum(instructor, demo))
    post = answer(author.client, thread["threadId"], "buy cheap watches")["postId"]

    first = report(reporters[0].client, post)
    assert first.status_code == 202 and first.json()["hidden"] is False, first.text
    assert report(reporters[0].client, post).json()["error"]["code"] == "ALREADY_REPORTED"
    assert report(reporters[1].client, post).json()["hidden"] is False
    third = report(reporters[2].client, post)
    assert third.json() | {"executionName": None} == {
        "reportId": post,
        "postId": post,
        "reportCount": 3,
        "hidden": True,
        "executionName": None,
    }
    assert third.json()["executionName"] == first.json()["executionName"] == f"moderation-{post}"
    assert seen_by(reporters[0].client, thread["threadId"], post)["body"] is None
    assert seen_by(instructor, thread["threadId"], post)["body"] == "buy cheap watches"

    until(lambda: (task := human_tasks.get_task(Table(), moderation.KIND, post)) and task.task_token)
    listed = open_reports(instructor, demo)
    assert post in {r["reportId"] for r in listed}, listed
    decided = instructor.post(f"/moderation/reports/{post}", json={"decision": "keep", "note": "a joke"})
    assert decided.status_code == 200 and decided.json()["status"] == "DECIDED", decided.text

    arn = executions.execution_arn(MODERATION, f"moderation-{post}")
    output = finished(arn)
    assert output["result"]["outcome"] == "Kept"
    shown = seen_by(reporters[0].client, thread["threadId"], post)
    assert shown["hidden"] is False and shown["body"] == "buy cheap watches"
    again = instructor.post(f"/moderation/reports/{post}", json={"decision": "hide"})
    assert again.status_code == 409, again.text
    # A kept post stays kept: a fourth reporter does not hide it again.
    fourth = enrolled(new_user, demo)
    assert report(fourth.client, post).json()["hidden"] is False


def open_reports(client: ApiClient, demo: Demo) -> list[dict[str, Any]]:
    from tests.discussions import FREE

    course = demo.data.courses[FREE].course_id
    response = client.get("/moderation/reports", params={"courseId": course, "limit": 100})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_a_moderator_hides_a_post_once_and_the_reporter_and_author_are_told(
    new_user: Any, demo: Demo, instructor: ApiClient, admin: ApiClient, local_cloud: Any
) -> None:
    author, reporter = enrolled(new_user, demo), enrolled(new_user, demo)
    thread = start(author.client, new_forum(instructor, demo))
    post = answer(author.client, thread["threadId"], "rude words")["postId"]
    assert report(reporter.client, post).status_code == 202
    until(lambda: (task := human_tasks.get_task(Table(), moderation.KIND, post)) and task.task_token)

    assert post in {r["reportId"] for r in admin.get("/moderation/reports").json()["items"]}
    decided = admin.post(f"/moderation/reports/{post}", json={"decision": "hide", "note": "rude"})

    assert decided.status_code == 200, decided.text
    output = finished(executions.execution_arn(MODERATION, f"moderation-{post}"))
    assert output["result"] == {"outcome": "Hidden", "applied": True}
    assert seen_by(reporter.client, thread["threadId"], post)["hidden"] is True
    assert seen_by(reporter.client, thread["threadId"], post)["body"] is None
    told = {
        address: [m.subject for m in mailbox.fetch(local_cloud.endpoint) if address in m.to]
        for address in (reporter.email, author.email)
    }
    assert [s for s in told[reporter.email] if "report" in s] == [
        f"Your report in {thread['title']}: the post was hidden"
    ], told
    assert [s for s in told[author.email] if "reviewed" in s] == [
        f"Your post in {thread['title']} was reviewed: hidden"
    ], told


def test_a_decision_arriving_after_the_run_ended_is_refused(
    new_user: Any, demo: Demo, instructor: ApiClient
) -> None:
    author, reporter = enrolled(new_user, demo), enrolled(new_user, demo)
    thread = start(author.client, new_forum(instructor, demo))
    post = answer(author.client, thread["threadId"], "borderline")["postId"]
    # The run a report starts, with a 2-second wait for the moderator instead of 14 days.
    table = Table()
    located = table.get(keys.post_locator(post))
    assert located is not None
    started = start_moderation(
        {
            "postId": post,
            "threadId": located["threadId"],
            "courseId": located["courseId"],
            "instructorId": located["instructorId"],
            "authorId": located["authorId"],
        },
        timeout_seconds=2,
    )
    output = finished(started.arn, timeout=40)
    assert output["result"]["outcome"] == "Undecided"

    late = instructor.post(f"/moderation/reports/{post}", json={"decision": "hide"})

    assert late.status_code == 409, late.text
    assert seen_by(reporter.client, thread["threadId"], post)["hidden"] is False
