"""The daily digest on the local engine: a day's run mails each digest subscriber that day's posts,
once, and the next day's run only the next day's."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from infra.local import mailbox
from lms.clock import FakeClock, use_clock, utcnow
from tests.conftest import ApiClient, Demo
from tests.discussions import answer, enrolled, new_forum, start
from tests.purchases import execution
from workflows import executions
from workflows.definition import period_key
from workflows.digest import DAY_SECONDS, DIGEST

pytestmark = pytest.mark.workflow


def digest_run(day: datetime) -> dict[str, Any]:
    """Run the digest of ``day`` as the schedule would (its tick is the next midnight); wait for it."""
    tick = (datetime.combine(day.date(), time(), tzinfo=UTC) + timedelta(days=1)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    started = executions.start(DIGEST, period_key(tick, DAY_SECONDS), {"time": tick})
    described, _ = execution(started.arn, timeout=120)
    assert described["status"] == "SUCCEEDED", described
    return dict(json.loads(described["output"]))


def digests(local_cloud: Any, address: str) -> list[mailbox.SentMail]:
    return [m for m in mailbox.fetch(local_cloud.endpoint) if address in m.to and "digest" in m.subject]


def test_the_digest_across_two_days_has_no_duplicates(
    new_user: Any, demo: Demo, instructor: ApiClient, local_cloud: Any
) -> None:
    author, reader = enrolled(new_user, demo), enrolled(new_user, demo)
    forum = new_forum(instructor, demo)
    assert (
        reader.client.put(f"/forums/{forum}/subscription", json={"mode": "daily_digest"}).status_code == 200
    )
    first_day = utcnow() - timedelta(days=3)
    second_day = first_day + timedelta(days=1)
    with use_clock(FakeClock(first_day)):
        thread = start(author.client, forum, title="Day one", body="Posted on day **one**")
    with use_clock(FakeClock(second_day)):
        answer(author.client, thread["threadId"], "Posted on day **two**")

    assert digest_run(first_day)["result"]["day"] == first_day.date().isoformat()
    digest_run(first_day)  # the same tick again: the same execution, nothing new
    digest_run(second_day)

    received = digests(local_cloud, reader.email)
    assert len(received) == 2, [m.subject for m in received]
    one, two = sorted(received, key=lambda m: m.subject)
    assert first_day.date().isoformat() in one.subject and "day **one**" in one.text and "two" not in one.text
    assert (
        second_day.date().isoformat() in two.subject and "day **two**" in two.text and "one" not in two.text
    )
    assert one.list_unsubscribe and two.list_unsubscribe
    assert digests(local_cloud, author.email) == []
