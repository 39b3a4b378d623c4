"""Forum subscriptions: how a forum's posts reach a participant by email (each post, a daily digest, off).

One item per (forum, subscriber) in the forum's subscriber partition, so the mail runs read a
forum's subscribers with one paged Query; ``off`` deletes the item.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from lms import events, keys, mail
from lms.clock import isoformat, utcnow
from lms.discussions.forums import Forum, get_forum, require_participant
from lms.errors import NotFoundError
from lms.table import Table

if TYPE_CHECKING:
    from lms.identity import Principal  # annotations only: task packages carry no argon2 or jwt


FORUM_SCOPE = "forum"  # the one-click unsubscribe scope of forum mail (lms.mail), scope id: the forum


class Mode(StrEnum):
    EACH_POST = "each_post"
    DAILY_DIGEST = "daily_digest"
    OFF = "off"


def set_mode(table: Table, principal: Principal, forum_id: str, mode: Mode) -> Forum:
    forum = get_forum(table, forum_id)
    require_participant(table, principal, forum.course_id, forum.instructor_id)
    change(table, forum, principal.user_id, mode, actor=principal.user_id)
    return forum


def change(table: Table, forum: Forum, user_id: str, mode: Mode, *, actor: str) -> None:
    """Record ``mode`` (``off`` removes the subscription) and announce SubscriptionChanged."""
    key = keys.forum_subscription(forum.forum_id, user_id)
    if mode == Mode.OFF:
        table.delete(key)
    else:
        table.put(
            {
                **key.as_item(),
                "forumId": forum.forum_id,
                "userId": user_id,
                "mode": mode.value,
                "updatedAt": isoformat(utcnow()),
                **(digest_listing(forum.forum_id, user_id) if mode == Mode.DAILY_DIGEST else {}),
            }
        )
    events.publish_for_analytics(
        events.SubscriptionChanged(
            actor=events.Actor.user(actor),
            forum_id=forum.forum_id,
            course_id=forum.course_id,
            user_id=user_id,
            mode=mode.value,
        )
    )


def digest_listing(forum_id: str, user_id: str) -> dict[str, str]:
    """The index keys that list a daily-digest subscription for the digest run (sharded by user)."""
    return {
        keys.GSI2PK: keys.digest_subscribers_index(keys.digest_shard(user_id)),
        keys.GSI2SK: keys.digest_subscriber_sort(user_id, forum_id),
    }


def mode_of(table: Table, forum_id: str, user_id: str) -> Mode:
    item = table.get(keys.forum_subscription(forum_id, user_id))
    return Mode(item["mode"]) if item else Mode.OFF


def unsubscribe_by_link(table: Table, user_id: str, forum_id: str) -> None:
    """The signed one-click link of a forum mail (lms.mail): turn this forum's mail off (idempotent)."""
    try:
        forum = get_forum(table, forum_id)
    except NotFoundError:
        return
    change(table, forum, user_id, Mode.OFF, actor=user_id)


mail.unsubscribe_handlers[FORUM_SCOPE] = unsubscribe_by_link
