"""Threads: listed pinned first then by latest activity; read as one Query of their posts in tree order.

A thread item carries its forum's type, course and instructor, and its counters (``replyCount``,
``lastPostAt``), which every reply moves atomically in the posting transaction, together with the
thread's place in its forum's listing (``GSI1SK``: pinned flag, then the last post's time).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import Field

from lms import events, keys
from lms.clock import isoformat, new_id, utcnow
from lms.discussions import posts
from lms.discussions.forums import (
    Forum,
    ForumType,
    get_forum,
    is_moderator,
    require_moderator,
    require_participant,
)
from lms.entities import Entity, UtcDatetime
from lms.errors import ConflictError, NotFoundError
from lms.expressions import Update, eq, item_absent, item_exists
from lms.table import Change, Item, Put, Table

if TYPE_CHECKING:
    from lms.identity import Principal  # annotations only: task packages carry no argon2 or jwt

MAX_TITLE_CHARS = 200


class Thread(Entity):
    thread_id: str = Field(default_factory=new_id)
    forum_id: str
    forum_type: ForumType
    course_id: str
    instructor_id: str
    title: str
    author_id: str
    root_post_id: str
    root_path: str
    pinned: bool = False
    locked: bool = False
    reply_count: int = 0
    last_post_at: UtcDatetime = Field(default_factory=utcnow)
    created_at: UtcDatetime = Field(default_factory=utcnow)


def thread_item(thread: Thread) -> Item:
    return {
        **keys.thread(thread.thread_id).as_item(),
        keys.GSI1PK: keys.forum_threads_index(thread.forum_id),
        keys.GSI1SK: keys.thread_in_forum_sort(
            thread.pinned, isoformat(thread.last_post_at), thread.thread_id
        ),
        **thread.attributes(),
        # One spelling of times (milliseconds, Z), as every reply writes lastPostAt: conditions compare it.
        "lastPostAt": isoformat(thread.last_post_at),
        "createdAt": isoformat(thread.created_at),
    }


def _read_thread(found: dict[keys.Key, Item], thread_id: str) -> Thread:
    item = found.get(keys.thread(thread_id))
    if item is None:
        raise NotFoundError(f"No thread with id {thread_id}.")
    return Thread.from_item(item)


def get_thread(table: Table, thread_id: str) -> Thread:
    return _read_thread(table.batch_get([keys.thread(thread_id)]), thread_id)


# --- writes ----------------------------------------------------------------------------------------


def create_thread(
    table: Table, principal: Principal, forum_id: str, *, title: str, body: str
) -> tuple[Thread, posts.Post]:
    forum = get_forum(table, forum_id)
    now = utcnow()
    thread_id = new_id()
    root = posts.new_post(
        principal,
        thread_id=thread_id,
        forum_id=forum.forum_id,
        course_id=forum.course_id,
        instructor_id=forum.instructor_id,
        body=body,
        parent=None,
        now=now,
    )
    thread = Thread(
        thread_id=thread_id,
        forum_id=forum.forum_id,
        forum_type=forum.type,
        course_id=forum.course_id,
        instructor_id=forum.instructor_id,
        title=title,
        author_id=principal.user_id,
        root_post_id=root.post_id,
        root_path=root.path,
        last_post_at=now,
        created_at=now,
    )
    posts.transact_post(
        table,
        [
            *posts.posting_guard(principal, forum.course_id, forum.instructor_id),
            ("new-thread", Put(thread_item(thread), when=item_absent())),
            *posts.post_writes(root),
            posts.forum_counter_change(forum.forum_id, threads=1, posts=1),
            ("replier", Put(_replier_item(thread_id, principal.user_id, isoformat(now)))),
        ],
    )
    _announce(root)
    return thread, root


def reply(
    table: Table, principal: Principal, thread_id: str, *, body: str, parent_id: str | None
) -> posts.Post:
    """A reply under ``parent_id`` (default: the opening post). ≤ 2 calls: one read, one transaction."""
    wanted = [keys.thread(thread_id), keys.thread_replier(thread_id, principal.user_id)]
    if parent_id:
        wanted.append(keys.post_locator(parent_id))
    found = table.batch_get(wanted)
    thread = _read_thread(found, thread_id)
    if thread.locked:
        raise posts.ThreadLockedError("This thread is locked: no new replies.")
    root = {"postId": thread.root_post_id, "path": thread.root_path, "depth": 0, "threadId": thread_id}
    parent = found.get(keys.post_locator(parent_id)) if parent_id else root
    if parent is None or parent["threadId"] != thread_id:
        raise NotFoundError(f"No post {parent_id} in this thread.")
    now = utcnow()
    post = posts.new_post(
        principal,
        thread_id=thread_id,
        forum_id=thread.forum_id,
        course_id=thread.course_id,
        instructor_id=thread.instructor_id,
        body=body,
        parent=parent,
        now=now,
    )
    last = isoformat(now)
    thread_changes = (
        Update()
        .add(replyCount=1)
        .set({"lastPostAt": last, keys.GSI1SK: keys.thread_in_forum_sort(thread.pinned, last, thread_id)})
    )
    entries = [
        *posts.posting_guard(principal, thread.course_id, thread.instructor_id),
        (
            "thread",
            Change(
                keys.thread(thread_id), thread_changes, when=eq("locked", False) & eq("pinned", thread.pinned)
            ),
        ),
        *posts.post_writes(post),
        posts.forum_counter_change(thread.forum_id, threads=0, posts=1),
    ]
    if keys.thread_replier(thread_id, principal.user_id) not in found:
        entries.append(("replier", Put(_replier_item(thread_id, principal.user_id, last))))
    posts.transact_post(table, entries)
    _announce(post)
    return post


def _announce(post: posts.Post) -> None:
    """PostCreated starts the post's notification run (after the edit window). The post stands even
    if the bus refuses the event: a lost notification is logged, never a failed post."""
    events.publish_for_analytics(
        events.PostCreated(
            event_id=events.PostCreated.id_for(post.post_id),
            occurred_at=post.created_at,
            actor=events.Actor.user(post.author_id),
            post_id=post.post_id,
            thread_id=post.thread_id,
            forum_id=post.forum_id,
            course_id=post.course_id,
            author_id=post.author_id,
            parent_id=post.parent_id,
            notify_at=posts.window_closes(post.created_at),
        )
    )


def _replier_item(thread_id: str, user_id: str, at: str) -> Item:
    """The Q&A rule's marker: this user has posted in this thread (its opening post or a reply)."""
    return {**keys.thread_replier(thread_id, user_id).as_item(), "userId": user_id, "firstPostAt": at}


def set_flags(
    table: Table, principal: Principal, thread_id: str, *, locked: bool | None, pinned: bool | None
) -> Thread:
    """Lock or pin (the owner and admins). Pinning moves the thread in its forum's listing."""
    thread = get_thread(table, thread_id)
    require_moderator(principal, thread.instructor_id)
    pinned_now = thread.pinned if pinned is None else pinned
    changes = Update().set(
        {
            keys.GSI1SK: keys.thread_in_forum_sort(pinned_now, isoformat(thread.last_post_at), thread_id),
            "pinned": pinned_now,
        }
    )
    if locked is not None:
        changes.set(locked=locked)
    updated = table.update(
        keys.thread(thread_id),
        changes,
        when=item_exists() & eq("lastPostAt", isoformat(thread.last_post_at)),
        otherwise=ConflictError("The thread changed meanwhile; retry."),
    )
    return Thread.from_item(updated)


# --- reads ------------------------------------------------------------------------------------


def list_threads(
    table: Table, principal: Principal, forum_id: str, *, limit: int, cursor: str | None
) -> tuple[Forum, list[Thread], str | None]:
    forum = get_forum(table, forum_id)
    require_participant(table, principal, forum.course_id, forum.instructor_id)
    page = table.query(
        partition=(keys.GSI1PK, keys.forum_threads_index(forum_id)),
        index=keys.GSI1,
        limit=limit,
        cursor=cursor,
        newest_first=True,
    )
    return forum, [Thread.from_item(item) for item in page.items], page.next_cursor


@dataclass(frozen=True)
class ThreadPage:
    thread: Thread
    posts: list[posts.Post]
    next_cursor: str | None
    others_replies_visible: bool  # False: a Q&A thread where this student has not replied yet
    moderator: bool


def read_thread(
    table: Table, principal: Principal, thread_id: str, *, limit: int, cursor: str | None
) -> ThreadPage:
    """The thread and one page of its posts in tree order: one Query for the posts."""
    found = table.batch_get([keys.thread(thread_id), keys.thread_replier(thread_id, principal.user_id)])
    thread = _read_thread(found, thread_id)
    require_participant(table, principal, thread.course_id, thread.instructor_id)
    moderator = is_moderator(principal, thread.instructor_id)
    page = table.query(
        partition=(keys.PK, keys.thread_partition(thread_id)),
        sort_prefix=(keys.SK, keys.POST_PREFIX),
        limit=limit,
        cursor=cursor,
    )
    everything = [posts.Post.from_item(item) for item in page.items]
    visible = (
        moderator
        or thread.forum_type != ForumType.QANDA
        or keys.thread_replier(thread_id, principal.user_id) in found
    )
    shown = [
        post
        for post in everything
        if visible or post.depth == 0 or post.author_is_staff or post.author_id == principal.user_id
    ]
    return ThreadPage(thread, shown, page.next_cursor, visible, moderator)
