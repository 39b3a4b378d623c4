"""The each-post notification on the local engine: PostCreated starts the run, its Wait passes the
edit window, and subscribers get the post as it is then (the local SES's mailbox shows the mail)."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from infra.local import mailbox
from lms.clock import FakeClock, use_clock, utcnow
from lms.discussions import posts, subscriptions
from lms.events import PostCreated
from lms.table import Table
from tests.conftest import ApiClient, Demo
from tests.discussions import enrolled, new_forum, start
from tests.purchases import execution
from workflows import executions
from workflows.post_notification import POST_NOTIFICATION

pytestmark = pytest.mark.workflow
LEAD_SECONDS = 3  # the post is written this long before its edit window closes (real time)


def run_of(post_id: str) -> dict[str, Any]:
    name = POST_NOTIFICATION.execution_name(PostCreated.id_for(post_id))
    arn = executions.execution_arn(POST_NOTIFICATION, name)
    deadline = time.monotonic() + 30
    while True:
        try:
            described, _ = execution(arn, timeout=60)
            break
        except Exception:  # noqa: BLE001 - the starter has not started it yet
            assert time.monotonic() < deadline, f"{name} never started"
            time.sleep(0.5)
    assert described["status"] == "SUCCEEDED", described
    return dict(json.loads(described["output"]))


def inbox(local_cloud: Any, address: str) -> list[mailbox.SentMail]:
    return [m for m in mailbox.fetch(local_cloud.endpoint) if address in m.to]


def nearly_closed_window() -> FakeClock:
    """A clock for the API such that a post written now closes its window in LEAD_SECONDS."""
    return FakeClock(utcnow() - posts.EDIT_WINDOW + timedelta(seconds=LEAD_SECONDS))


def test_an_edit_inside_the_window_is_what_the_mail_carries(
    new_user: Any, demo: Demo, instructor: ApiClient, local_cloud: Any
) -> None:
    author, reader, quiet = (enrolled(new_user, demo) for _ in range(3))
    forum = new_forum(instructor, demo)
    for subscriber, mode in ((reader, "each_post"), (quiet, "daily_digest"), (author, "each_post")):
        chosen = subscriber.client.put(f"/forums/{forum}/subscription", json={"mode": mode})
        assert chosen.status_code == 200, chosen.text
    with use_clock(nearly_closed_window()):
        thread = start(author.client, forum, title="Box model", body="Draft with a tpyo")
        edited = author.client.patch(f"/posts/{thread['postId']}", json={"body": "Final **text**"})
        assert edited.status_code == 200, edited.text

    assert run_of(thread["postId"])["result"] == {"outcome": "Mailed"}
    [received] = inbox(local_cloud, reader.email)
    assert "Final text" in received.text or "Final **text**" in received.text
    assert "tpyo" not in received.text and "<strong>text</strong>" in (received.html or "")
    assert received.list_unsubscribe and received.list_unsubscribe_post == "List-Unsubscribe=One-Click"
    assert inbox(local_cloud, quiet.email) == [] and inbox(local_cloud, author.email) == []


def test_a_post_deleted_before_the_window_ends_sends_nothing(
    new_user: Any, demo: Demo, instructor: ApiClient, local_cloud: Any
) -> None:
    author, reader = enrolled(new_user, demo), enrolled(new_user, demo)
    forum = new_forum(instructor, demo)
    assert reader.client.put(f"/forums/{forum}/subscription", json={"mode": "each_post"}).status_code == 200
    with use_clock(nearly_closed_window()):
        thread = start(author.client, forum, body="oops, wrong course")
        assert author.client.delete(f"/posts/{thread['postId']}").status_code == 200

    assert run_of(thread["postId"])["result"] == {"outcome": "PostGone"}
    assert inbox(local_cloud, reader.email) == []


def test_unsubscribing_through_the_signed_link(
    new_user: Any, demo: Demo, instructor: ApiClient, anonymous: ApiClient, local_cloud: Any
) -> None:
    author, reader = enrolled(new_user, demo), enrolled(new_user, demo)
    forum = new_forum(instructor, demo)
    assert reader.client.put(f"/forums/{forum}/subscription", json={"mode": "each_post"}).status_code == 200
    with use_clock(nearly_closed_window()):
        thread = start(author.client, forum, body="hello")
    run_of(thread["postId"])
    [received] = inbox(local_cloud, reader.email)
    link = urlsplit((received.list_unsubscribe or "").strip("<>"))

    # What a mail client does (RFC 8058): POST the link with the one-click body, no login.
    response = anonymous.post(
        f"{link.path}?{link.query}",
        data="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 200, response.text
    assert subscriptions.mode_of(Table(), forum, reader.user_id) == subscriptions.Mode.OFF
