"""Discussions over HTTP (docs/discussions.md): forums, threads, tree-ordered replies, the Q&A rule,
edits, deletes, locks, pins, rate limits and access, against the local cloud."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from lms.clock import FakeClock, use_clock, utcnow
from lms.discussions import posts
from lms.entities import TransactionStatus
from tests.conftest import ApiClient, Demo
from tests.discussions import FREE, PAID, answer, enrolled, new_forum, read_all, start
from tests.purchases import wait_for

pytestmark = pytest.mark.integration

# --- forums and access ------------------------------------------------------------------------------


def test_every_new_course_starts_with_a_general_forum(instructor: ApiClient, demo: Demo) -> None:
    category = demo.data.categories["Python"].category_id
    draft = {"title": "Forums", "description": "d", "categoryId": category, "priceCents": 0}
    course = instructor.post("/courses", json=draft).json()["courseId"]

    forums = instructor.get(f"/courses/{course}/forums")

    assert forums.status_code == 200, forums.text
    assert [(f["title"], f["type"]) for f in forums.json()["items"]] == [("General", "standard")]


def test_participants_read_and_post_and_everyone_else_is_refused(
    new_user: Any, demo: Demo, instructor: ApiClient, admin: ApiClient
) -> None:
    student = enrolled(new_user, demo)
    outsider = new_user()
    other_instructor = new_user("instructor")
    course = demo.data.courses[FREE].course_id
    general = next(
        f for f in student.client.get(f"/courses/{course}/forums").json()["items"] if f["title"] == "General"
    )
    thread = start(student.client, general["forumId"])

    for client in (student.client, instructor, admin):
        assert client.get(f"/threads/{thread['threadId']}").status_code == 200
    for client in (outsider.client, other_instructor.client):
        assert client.get(f"/courses/{course}/forums").status_code == 403
        assert client.get(f"/forums/{general['forumId']}/threads").status_code == 403
        assert client.get(f"/threads/{thread['threadId']}").status_code == 403
        refused = client.post(f"/threads/{thread['threadId']}/replies", json={"body": "me too"})
        assert refused.status_code == 403, refused.text
        assert client.delete(f"/posts/{thread['postId']}").status_code == 403
    assert (
        other_instructor.client.post(f"/courses/{course}/forums", json={"title": "Mine"}).status_code == 403
    )
    assert student.client.post(f"/courses/{course}/forums", json={"title": "Mine"}).status_code == 403


def test_unknown_forum_thread_and_post_are_404(student: ApiClient) -> None:
    assert student.get("/courses/nope/forums").status_code == 404
    assert student.get("/forums/nope/threads").status_code == 404
    assert student.post("/forums/nope/threads", json={"title": "t", "body": "b"}).status_code == 404
    assert student.get("/threads/nope").status_code == 404
    assert student.post("/threads/nope/replies", json={"body": "b"}).status_code == 404
    assert student.patch("/posts/nope", json={"body": "b"}).status_code == 404
    assert student.delete("/posts/nope").status_code == 404


def test_a_refund_ends_access(new_user: Any, demo: Demo, instructor: ApiClient, admin: ApiClient) -> None:
    student = enrolled(new_user, demo, PAID)
    forum = new_forum(instructor, demo, title=PAID)
    thread = start(student.client, forum)

    refunded = admin.post(f"/transactions/{student.transaction_id}/refund")  # type: ignore[attr-defined]
    assert refunded.status_code == 200, refunded.text
    wait_for(student.transaction_id, TransactionStatus.REFUNDED)  # type: ignore[attr-defined]

    assert student.client.get(f"/threads/{thread['threadId']}").status_code == 403
    late = student.client.post(f"/threads/{thread['threadId']}/replies", json={"body": "still here?"})
    assert late.status_code == 403, late.text


# --- threads and replies ----------------------------------------------------------------------------


def test_threads_are_listed_pinned_first_then_by_latest_activity(
    new_user: Any, demo: Demo, instructor: ApiClient
) -> None:
    student = enrolled(new_user, demo)
    forum = new_forum(instructor, demo)
    first, second, third = (start(student.client, forum, title=t) for t in ("first", "second", "third"))
    answer(student.client, first["threadId"], "bump")
    assert instructor.patch(f"/threads/{second['threadId']}", json={"pinned": True}).status_code == 200

    listed = student.client.get(f"/forums/{forum}/threads").json()["items"]

    assert [t["title"] for t in listed] == ["second", "first", "third"]
    bumped = next(t for t in listed if t["title"] == "first")
    assert bumped["replyCount"] == 1 and bumped["lastPostAt"] > third["lastPostAt"]
    paged = student.client.get(f"/forums/{forum}/threads", params={"limit": 2}).json()
    rest = student.client.get(f"/forums/{forum}/threads", params={"cursor": paged["nextCursor"]}).json()
    assert [t["title"] for t in paged["items"] + rest["items"]] == ["second", "first", "third"]


def test_replies_come_in_tree_order_across_pages(new_user: Any, demo: Demo, instructor: ApiClient) -> None:
    student = enrolled(new_user, demo)
    forum = new_forum(instructor, demo)
    thread = start(student.client, forum, body="root")
    tid, root = thread["threadId"], thread["postId"]
    a = answer(student.client, tid, "a")
    b = answer(instructor, tid, "b")
    a1 = answer(student.client, tid, "a1", a["postId"])
    b1 = answer(student.client, tid, "b1", b["postId"])
    a2 = answer(instructor, tid, "a2", a["postId"])
    answer(student.client, tid, "a1x", a1["postId"])
    c = answer(student.client, tid, "c", root)

    walked = read_all(student.client, tid, limit=2)

    assert [p["body"] for p in walked] == ["root", "a", "a1", "a1x", "a2", "b", "b1", "c"]
    by_body = {p["body"]: p for p in walked}
    assert by_body["a1x"]["depth"] == 3 and by_body["a1x"]["parentId"] == a1["postId"]
    assert by_body["root"]["parentId"] is None and by_body["c"]["parentId"] == root
    assert {a2["postId"], b1["postId"], c["postId"]} <= {p["postId"] for p in walked}
    listed = student.client.get(f"/forums/{forum}/threads").json()["items"][0]
    assert listed["replyCount"] == 7


def test_a_reply_to_a_post_of_another_thread_is_404(new_user: Any, demo: Demo, instructor: ApiClient) -> None:
    student = enrolled(new_user, demo)
    forum = new_forum(instructor, demo)
    one, other = start(student.client, forum), start(student.client, forum)

    response = student.client.post(
        f"/threads/{one['threadId']}/replies", json={"body": "x", "parentId": other["postId"]}
    )

    assert response.status_code == 404, response.text


def test_qanda_students_see_other_answers_only_after_answering(
    new_user: Any, demo: Demo, instructor: ApiClient
) -> None:
    alice, bob = enrolled(new_user, demo), enrolled(new_user, demo)
    forum = new_forum(instructor, demo, kind="qanda")
    question = start(instructor, forum, title="Week 1", body="What is a box model?")
    answer(alice.client, question["threadId"], "Alice's answer")
    answer(instructor, question["threadId"], "A hint from the instructor")

    before = bob.client.get(f"/threads/{question['threadId']}").json()
    assert [p["body"] for p in before["items"]] == ["What is a box model?", "A hint from the instructor"]
    assert before["othersRepliesVisible"] is False

    answer(bob.client, question["threadId"], "Bob's answer")
    after = bob.client.get(f"/threads/{question['threadId']}").json()

    assert after["othersRepliesVisible"] is True
    assert {"Alice's answer", "Bob's answer"} <= {p["body"] for p in after["items"]}
    assert len(instructor.get(f"/threads/{question['threadId']}").json()["items"]) == 4


# --- edits, deletes, locks --------------------------------------------------------------------------


def test_the_author_edits_for_thirty_minutes_then_only_the_owner(
    new_user: Any, demo: Demo, instructor: ApiClient
) -> None:
    student = enrolled(new_user, demo)
    forum = new_forum(instructor, demo)
    with use_clock(FakeClock(utcnow())) as clock:
        thread = start(student.client, forum, body="frist")
        post = thread["postId"]

        edited = student.client.patch(f"/posts/{post}", json={"body": "first"})
        assert edited.status_code == 200, edited.text
        assert edited.json()["edited"] is True and edited.json()["html"] == "<p>first</p>\n"

        clock.advance(posts.EDIT_WINDOW.total_seconds() + 1)
        late = student.client.patch(f"/posts/{post}", json={"body": "first!"})
        assert late.status_code == 403 and late.json()["error"]["code"] == "EDIT_WINDOW_CLOSED", late.text
        assert instructor.patch(f"/posts/{post}", json={"body": "first (tidied)"}).status_code == 200

    shown = student.client.get(f"/threads/{thread['threadId']}").json()["items"][0]
    assert shown["body"] == "first (tidied)" and shown["edited"] is True


def test_someone_else_cannot_edit_or_delete_a_post(new_user: Any, demo: Demo, instructor: ApiClient) -> None:
    author, other = enrolled(new_user, demo), enrolled(new_user, demo)
    thread = start(author.client, new_forum(instructor, demo))

    assert other.client.patch(f"/posts/{thread['postId']}", json={"body": "mine now"}).status_code == 403
    assert other.client.delete(f"/posts/{thread['postId']}").status_code == 403


def test_a_deleted_post_keeps_its_place_and_its_replies(
    new_user: Any, demo: Demo, instructor: ApiClient
) -> None:
    student = enrolled(new_user, demo)
    thread = start(student.client, new_forum(instructor, demo))
    parent = answer(student.client, thread["threadId"], "regrettable")
    answer(instructor, thread["threadId"], "a reply to it", parent["postId"])

    deleted = student.client.delete(f"/posts/{parent['postId']}")

    assert deleted.status_code == 200, deleted.text
    items = student.client.get(f"/threads/{thread['threadId']}").json()["items"]
    gone = items[1]
    assert gone["postId"] == parent["postId"] and gone["deleted"] is True
    assert gone["body"] is None and gone["html"] is None
    assert items[2]["body"] == "a reply to it" and items[2]["parentId"] == parent["postId"]
    assert student.client.patch(f"/posts/{parent['postId']}", json={"body": "back"}).status_code == 409


def test_a_locked_thread_takes_no_replies(new_user: Any, demo: Demo, instructor: ApiClient) -> None:
    student = enrolled(new_user, demo)
    thread = start(student.client, new_forum(instructor, demo))

    assert student.client.patch(f"/threads/{thread['threadId']}", json={"locked": True}).status_code == 403
    locked = instructor.patch(f"/threads/{thread['threadId']}", json={"locked": True})
    assert locked.status_code == 200 and locked.json()["locked"] is True

    refused = student.client.post(f"/threads/{thread['threadId']}/replies", json={"body": "one more"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "THREAD_LOCKED", refused.text
    assert instructor.patch(f"/threads/{thread['threadId']}", json={"locked": False}).status_code == 200
    answer(student.client, thread["threadId"], "one more")


# --- bodies, rate, bad input -------------------------------------------------------------------------


def test_bodies_are_stored_as_written_and_returned_sanitised(
    new_user: Any, demo: Demo, instructor: ApiClient
) -> None:
    student = enrolled(new_user, demo)
    source = "**Hi** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>"

    thread = start(student.client, new_forum(instructor, demo), body=source)

    shown = student.client.get(f"/threads/{thread['threadId']}").json()["items"][0]
    assert shown["body"] == source
    assert "<strong>Hi</strong>" in shown["html"]
    assert "<script" not in shown["html"] and "<img" not in shown["html"]
    assert "javascript:" not in shown["html"].split("href=")[-1] if "href=" in shown["html"] else True


@pytest.mark.parametrize(
    "body",
    [
        {"title": "t", "body": "x" * 10_001},
        {"title": "t", "body": "   "},
        {"title": "", "body": "b"},
        {"title": "t"},
        {"title": "t", "body": "b", "pinned": True},
    ],
)
def test_bad_thread_bodies_are_refused_and_nothing_is_written(
    body: dict[str, Any], new_user: Any, demo: Demo, instructor: ApiClient
) -> None:
    student = enrolled(new_user, demo)
    forum = new_forum(instructor, demo)

    response = student.client.post(f"/forums/{forum}/threads", json=body)

    assert response.status_code in (400, 422) and "error" in response.json(), response.text
    assert student.client.get(f"/forums/{forum}/threads").json()["items"] == []


def test_posting_is_rate_limited_per_user(new_user: Any, demo: Demo, instructor: ApiClient) -> None:
    student, other = enrolled(new_user, demo), enrolled(new_user, demo)
    thread = start(student.client, new_forum(instructor, demo))
    with use_clock(FakeClock(utcnow().replace(second=0, microsecond=0) + timedelta(minutes=1))):
        for index in range(posts.POSTING_LIMIT):
            answer(student.client, thread["threadId"], f"reply {index}")

        refused = student.client.post(f"/threads/{thread['threadId']}/replies", json={"body": "spam"})

        assert refused.status_code == 429, refused.text
        assert 1 <= int(refused.headers["Retry-After"]) <= posts.POSTING_WINDOW_SECONDS
        answer(other.client, thread["threadId"], "someone else still posts")
    items = student.client.get(f"/threads/{thread['threadId']}").json()["items"]
    assert "spam" not in [p["body"] for p in items]


# --- budgets ----------------------------------------------------------------------------------------


def test_posting_makes_at_most_three_dynamodb_calls(
    new_user: Any, demo: Demo, instructor: ApiClient, dynamodb_calls: Any
) -> None:
    student = enrolled(new_user, demo)
    thread = start(student.client, new_forum(instructor, demo))
    parent = answer(student.client, thread["threadId"], "first")

    dynamodb_calls.reset()
    answer(student.client, thread["threadId"], "second", parent["postId"])

    assert len(dynamodb_calls.operations) <= 3, dynamodb_calls.operations


def test_a_page_of_fifty_replies_is_one_query(
    new_user: Any, demo: Demo, instructor: ApiClient, dynamodb_calls: Any
) -> None:
    from lms import keys
    from lms.discussions.posts import Post, new_segment, post_item
    from lms.table import Table

    thread = start(instructor, new_forum(instructor, demo))
    student = enrolled(new_user, demo)
    table = Table()
    root = table.get(keys.post_locator(thread["postId"]))
    assert root is not None
    # 55 replies written straight to the table (the posting rate would refuse them over HTTP).
    for index in range(55):
        reply = Post(
            thread_id=root["threadId"],
            forum_id=root["forumId"],
            course_id=root["courseId"],
            instructor_id=root["instructorId"],
            path=f"{root['path']}.{new_segment(utcnow())}",
            parent_id=root["postId"],
            depth=1,
            author_id=student.user_id,
            body=f"reply {index}",
            html=f"<p>reply {index}</p>",
        )
        table.put(post_item(reply))

    dynamodb_calls.reset()
    page = student.client.get(f"/threads/{thread['threadId']}", params={"limit": 50})

    assert page.status_code == 200 and len(page.json()["items"]) == 50
    assert dynamodb_calls.operations.count("Query") == 1, dynamodb_calls.operations
    assert "Scan" not in dynamodb_calls.operations


def test_a_participant_chooses_how_a_forum_reaches_them(
    new_user: Any, demo: Demo, instructor: ApiClient
) -> None:
    from lms.discussions import subscriptions
    from lms.table import Table

    student, outsider = enrolled(new_user, demo), new_user()
    forum = new_forum(instructor, demo)

    chosen = student.client.put(f"/forums/{forum}/subscription", json={"mode": "daily_digest"})

    assert chosen.status_code == 200 and chosen.json() == {"forumId": forum, "mode": "daily_digest"}
    assert subscriptions.mode_of(Table(), forum, student.user_id) == subscriptions.Mode.DAILY_DIGEST
    assert student.client.put(f"/forums/{forum}/subscription", json={"mode": "off"}).status_code == 200
    assert subscriptions.mode_of(Table(), forum, student.user_id) == subscriptions.Mode.OFF
    assert outsider.client.put(f"/forums/{forum}/subscription", json={"mode": "each_post"}).status_code == 403
    assert student.client.put("/forums/nope/subscription", json={"mode": "each_post"}).status_code == 404
    assert student.client.put(f"/forums/{forum}/subscription", json={"mode": "hourly"}).status_code in (
        400,
        422,
    )
