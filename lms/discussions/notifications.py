"""Each-post notification: after the edit window, mail the post as it is then to the forum's
``each_post`` subscribers (never its author), one page of subscribers per step.

Called by the ``post-notification`` workflow once its Wait state has passed the edit window
(``notifyAt`` on ``PostCreated``). A post deleted or hidden meanwhile sends nothing. Each mail's
idempotency key is the post and the recipient, so a retried step never mails anyone twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from lms import keys, mail
from lms.discussions import posts
from lms.discussions.subscriptions import FORUM_SCOPE, Mode
from lms.errors import NotFoundError
from lms.table import Table

SUBSCRIBERS_PER_STEP = 100  # a page of the forum's subscriber partition per task invocation


@dataclass(frozen=True)
class PageSent:
    outcome: str  # "Mailed" (this page done) or "PostGone" (deleted or hidden: nothing sent)
    sent: int
    next_cursor: str | None


def mail_subscribers(table: Table, post_id: str, cursor: str | None) -> PageSent:
    try:
        located = posts.locate(table, post_id)
        post = posts.read_post(table, located)
    except NotFoundError:
        return PageSent("PostGone", 0, None)
    if post.deleted or post.hidden:
        return PageSent("PostGone", 0, None)
    thread = table.get(keys.thread(post.thread_id)) or {}
    title = str(thread.get("title", "a discussion"))
    page = table.query(
        partition=(keys.PK, keys.forum_subscribers_partition(post.forum_id)),
        limit=SUBSCRIBERS_PER_STEP,
        cursor=cursor,
    )
    sent = 0
    for subscriber in page.items:
        user_id = str(subscriber["userId"])
        if subscriber.get("mode") != Mode.EACH_POST.value or user_id == post.author_id:
            continue
        sent += mail.send(
            table,
            to_user_id=user_id,
            subject=f"New post in {title}",
            text=f"{post.body}\n",
            html=post.html,
            unsubscribe=mail.Unsubscribe(FORUM_SCOPE, post.forum_id),
            idempotency_key=f"post-{post.post_id}-{user_id}",
        )
    return PageSent("Mailed", sent, page.next_cursor)
