"""Helpers of the discussion tests: enrolled students (real purchases), forums, threads, replies."""

from __future__ import annotations

import uuid
from typing import Any

from lms.entities import TransactionStatus
from tests.conftest import ApiClient, Demo, NewUser
from tests.purchases import buy, pay, wait_for

FREE = "HTML & CSS Foundations"
PAID = "Python for Beginners"


def enrolled(new_user: Any, demo: Demo, title: str = FREE) -> NewUser:
    """A fresh student enrolled through a real purchase (free: no payment step)."""
    student: NewUser = new_user()
    started = buy(student.client, demo.data.courses[title].course_id)
    if demo.data.courses[title].price_cents:
        pay(started["transactionId"])
    wait_for(started["transactionId"], TransactionStatus.COMPLETED)
    student.transaction_id = started["transactionId"]  # type: ignore[attr-defined]
    return student


def new_forum(instructor: ApiClient, demo: Demo, kind: str = "standard", title: str = FREE) -> str:
    course = demo.data.courses[title].course_id
    response = instructor.post(
        f"/courses/{course}/forums", json={"title": f"Forum {uuid.uuid4().hex[:6]}", "type": kind}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["forumId"])


def start(client: ApiClient, forum: str, title: str = "A question", body: str = "How?") -> dict[str, Any]:
    response = client.post(f"/forums/{forum}/threads", json={"title": title, "body": body})
    assert response.status_code == 201, response.text
    return dict(response.json())


def answer(client: ApiClient, thread: str, body: str, parent: str | None = None) -> dict[str, Any]:
    payload = {"body": body, **({"parentId": parent} if parent else {})}
    response = client.post(f"/threads/{thread}/replies", json=payload)
    assert response.status_code == 201, response.text
    return dict(response.json())


def read_all(client: ApiClient, thread: str, limit: int = 50) -> list[dict[str, Any]]:
    items, cursor = [], None
    while True:
        response = client.get(
            f"/threads/{thread}", params={"limit": limit, **({"cursor": cursor} if cursor else {})}
        )
        assert response.status_code == 200, response.text
        items.extend(response.json()["items"])
        cursor = response.json()["nextCursor"]
        if not cursor:
            return items
