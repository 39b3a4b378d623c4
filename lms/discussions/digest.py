"""The daily digest: yesterday's posts of each forum, mailed once to its daily-digest subscribers.

The ``digest`` workflow runs once a day (``digest-<yyyymmddT0000>``: a tick is one run) and maps over
the :data:`~lms.keys.DIGEST_SHARDS` subscriber shards; each iteration mails one page of subscribers
per step and carries only a cursor, so the state stays a few hundred bytes whatever the audience.
A mail's idempotency key is the day, the forum and the subscriber: a retried step, or a re-run of
the day, never mails anyone twice, and the next day lists only its own posts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from lms import keys, mail
from lms.discussions.subscriptions import FORUM_SCOPE
from lms.table import Item, Table

SUBSCRIBERS_PER_STEP = 100


def day_before(scheduled_time: str) -> str:
    """The day a run at ``scheduled_time`` digests: the UTC day before it (``yyyy-mm-dd``)."""
    moment = datetime.fromisoformat(scheduled_time.replace("Z", "+00:00"))
    return (moment - timedelta(days=1)).date().isoformat()


def posts_of_day(table: Table, forum_id: str, day: str) -> list[Item]:
    items = table.query_all(partition=(keys.GSI1PK, keys.forum_posts_of_day(forum_id, day)), index=keys.GSI1)
    return [item for item in items if not item.get("deleted") and not item.get("hidden")]


def mail_shard(table: Table, day: str, shard: int, cursor: str | None) -> tuple[int, str | None]:
    """Mail one page of a shard's subscribers their forums' posts of ``day``: (mails sent, next cursor)."""
    page = table.query(
        partition=(keys.GSI2PK, keys.digest_subscribers_index(shard)),
        index=keys.GSI2,
        limit=SUBSCRIBERS_PER_STEP,
        cursor=cursor,
    )
    by_forum: dict[str, list[Item]] = {}
    sent = 0
    for subscription in page.items:
        forum_id, user_id = str(subscription["forumId"]), str(subscription["userId"])
        if forum_id not in by_forum:
            by_forum[forum_id] = posts_of_day(table, forum_id, day)
        found = [post for post in by_forum[forum_id] if post.get("authorId") != user_id]
        if not found:
            continue
        sent += mail.send(
            table,
            to_user_id=user_id,
            subject=f"Your forum digest for {day}: {len(found)} new post(s)",
            text="\n\n---\n\n".join(str(post.get("body", "")) for post in found) + "\n",
            html="<hr>".join(str(post.get("html", "")) for post in found),
            unsubscribe=mail.Unsubscribe(FORUM_SCOPE, forum_id),
            idempotency_key=f"digest-{day}-{forum_id}-{user_id}",
        )
    return sent, page.next_cursor
