"""Posts: the opening post of a thread and the replies under it, in tree order.

A post lives in its thread's partition under ``POST#<path>`` (lms/keys.py): the path is its ancestors'
segments then its own, each segment fixed-width (the creation time in milliseconds and a random
tail), so one Query of the partition returns the tree depth first, siblings oldest first, and a page
boundary cuts the walk anywhere without losing the order. A small locator item (``POST#<id>``) finds
a post by id for edits, deletes and reports.

Writing a post is one transaction: the post, its locator, the thread's counters (refused when the
thread is locked), the forum's counters, the author's posting rate (refused past the limit) and, for
a student, a check that the enrollment is still active, so a refund ends posting at once.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import Field

from lms import keys, throttle
from lms.clock import isoformat, new_id, utcnow
from lms.discussions import markdown
from lms.discussions.forums import enrollment_key, is_moderator, needs_enrollment, require_participant
from lms.entities import EnrollmentStatus, Entity, UtcDatetime
from lms.errors import ConflictError, ForbiddenError, LmsError, NotFoundError, RateLimitedError
from lms.expressions import Update, absent, eq, item_absent, item_exists, lt
from lms.table import Change, Check, Item, Put, Table, Write

if TYPE_CHECKING:
    from lms.identity import Principal  # annotations only: task packages carry no argon2 or jwt

EDIT_WINDOW = timedelta(minutes=30)
MAX_DEPTH = 12  # deeper replies would make sort keys long for no reader's benefit
POSTING_LIMIT = 10  # posts per user per window
POSTING_WINDOW_SECONDS = 60
SEGMENT_WIDTH = 19  # 13 digits of epoch milliseconds + 6 hex digits


class ThreadLockedError(ConflictError):
    code = "THREAD_LOCKED"


class EditWindowClosedError(ForbiddenError):
    code = "EDIT_WINDOW_CLOSED"


class ReplyTooDeepError(LmsError):
    status, code = 422, "REPLY_TOO_DEEP"


class Post(Entity):
    post_id: str = Field(default_factory=new_id)
    thread_id: str
    forum_id: str
    course_id: str
    instructor_id: str
    path: str
    parent_id: str | None = None
    depth: int = 0
    author_id: str
    author_is_staff: bool = False  # the course's owner or an admin when posting (the Q&A rule)
    body: str | None = None
    html: str | None = None
    created_at: UtcDatetime = Field(default_factory=utcnow)
    edited_at: UtcDatetime | None = None
    deleted: bool = False
    hidden: bool = False  # hidden by moderation: students see the place, not the body

    @property
    def edited(self) -> bool:
        return self.edited_at is not None


def window_closes(created_at: datetime) -> str:
    """The first whole second after the edit window (ISO 8601, UTC): when the post's mail may go."""
    closes = (created_at + EDIT_WINDOW + timedelta(seconds=1)).astimezone(UTC).replace(microsecond=0)
    return closes.strftime("%Y-%m-%dT%H:%M:%SZ")


def new_segment(moment: datetime) -> str:
    return f"{int(moment.timestamp() * 1000):013d}{secrets.token_hex(3)}"


def post_item(post: Post) -> Item:
    created = isoformat(post.created_at)
    return {
        **keys.thread_post(post.thread_id, post.path).as_item(),
        # The day's posts of the forum, for the daily digest.
        keys.GSI1PK: keys.forum_posts_of_day(post.forum_id, created[:10]),
        keys.GSI1SK: f"{created}#{post.post_id}",
        **post.attributes(),
    }


def locator_item(post: Post) -> Item:
    """What finding a post by id needs: where it is, who wrote it, when, and its course."""
    located = {
        "postId": post.post_id,
        "threadId": post.thread_id,
        "forumId": post.forum_id,
        "courseId": post.course_id,
        "instructorId": post.instructor_id,
        "path": post.path,
        "depth": post.depth,
        "authorId": post.author_id,
        "createdAt": isoformat(post.created_at),
    }
    return {**keys.post_locator(post.post_id).as_item(), **located}


def posting_guard(principal: Principal, course_id: str, instructor_id: str) -> list[tuple[str, Write]]:
    """The transaction's entries every post carries: the posting rate and, for a student, the enrollment."""
    start, _ = throttle.window(POSTING_WINDOW_SECONDS)
    expires = start + 2 * POSTING_WINDOW_SECONDS
    rate = Change(
        keys.posting_attempts(principal.user_id, start),
        Update().add(failures=1).set({keys.TTL_ATTRIBUTE: expires}),
        when=absent("failures") | lt("failures", POSTING_LIMIT),
    )
    guard: list[tuple[str, Write]] = [("rate", rate)]
    if needs_enrollment(principal, instructor_id):
        enrolled = eq("status", EnrollmentStatus.ACTIVE.value)
        guard.append(("enrollment", Check(enrollment_key(principal, course_id), when=enrolled)))
    return guard


def refusal_for(names: Sequence[str]) -> Any:
    """Map a cancelled posting transaction's failed positions to the error the caller must see."""

    def refuse(failed: tuple[int, ...]) -> LmsError:
        failed_names = {names[position] for position in failed}
        if "enrollment" in failed_names:
            return ForbiddenError(
                "Only students enrolled in this course, its instructor and admins take part."
            )
        if "thread" in failed_names:
            return ThreadLockedError("This thread is locked: no new replies.")
        if "rate" in failed_names:
            _, retry_after = throttle.window(POSTING_WINDOW_SECONDS)
            return RateLimitedError("Too many posts; wait a moment.", retry_after_seconds=retry_after)
        return ConflictError("The discussion changed meanwhile; retry.")

    return refuse


def transact_post(table: Table, entries: list[tuple[str, Write]]) -> None:
    names = [name for name, _ in entries]
    table.transact([write for _, write in entries], otherwise=refusal_for(names))


def new_post(
    principal: Principal,
    *,
    thread_id: str,
    forum_id: str,
    course_id: str,
    instructor_id: str,
    body: str,
    parent: Item | None,
    now: datetime,
) -> Post:
    segment = new_segment(now)
    depth = 0 if parent is None else int(parent["depth"]) + 1
    if depth > MAX_DEPTH:
        raise ReplyTooDeepError(f"Replies nest at most {MAX_DEPTH} deep; answer a post higher up.")
    return Post(
        thread_id=thread_id,
        forum_id=forum_id,
        course_id=course_id,
        instructor_id=instructor_id,
        path=segment if parent is None else f"{parent['path']}.{segment}",
        parent_id=None if parent is None else parent["postId"],
        depth=depth,
        author_id=principal.user_id,
        author_is_staff=is_moderator(principal, instructor_id),
        body=body,
        html=markdown.render(body),
        created_at=now,
    )


def post_writes(post: Post) -> list[tuple[str, Write]]:
    return [
        ("post", Put(post_item(post), when=item_absent())),
        ("locator", Put(locator_item(post), when=item_absent())),
    ]


def forum_counter_change(forum_id: str, *, threads: int, posts: int) -> tuple[str, Write]:
    changes = Update().add(threadCount=threads, postCount=posts) if threads else Update().add(postCount=posts)
    return ("forum", Change(keys.forum(forum_id), changes, when=item_exists()))


# --- one post by id --------------------------------------------------------------------------------


def locate(table: Table, post_id: str) -> Item:
    located = table.get(keys.post_locator(post_id))
    if located is None:
        raise NotFoundError(f"No post with id {post_id}.")
    return located


def read_post(table: Table, located: Item) -> Post:
    item = table.get(keys.thread_post(located["threadId"], located["path"]), consistent=True)
    if item is None:
        raise NotFoundError(f"No post with id {located['postId']}.")
    return Post.from_item(item)


def _require_author_or_moderator(principal: Principal, located: Item) -> bool:
    """True for the course's owner or an admin; the author passes as themself; anyone else is refused."""
    if is_moderator(principal, located["instructorId"]):
        return True
    if principal.user_id != located["authorId"]:
        raise ForbiddenError(
            "Only the author, the course's instructor or an administrator may change a post."
        )
    return False


def edit_post(table: Table, principal: Principal, post_id: str, body: str) -> Post:
    """The author within 30 minutes of posting; the owner and admins at any time. Edits are marked."""
    located = locate(table, post_id)
    moderator = _require_author_or_moderator(principal, located)
    now = utcnow()
    if not moderator:
        require_participant(table, principal, located["courseId"], located["instructorId"])
        created_at = datetime.fromisoformat(located["createdAt"])
        if now - created_at > EDIT_WINDOW:
            raise EditWindowClosedError("Posts can be edited for 30 minutes after posting.")
    html = markdown.render(body)
    updated = table.update(
        keys.thread_post(located["threadId"], located["path"]),
        Update().set(body=body, html=html, editedAt=isoformat(now)),
        when=item_exists() & eq("deleted", False),
        otherwise=ConflictError("A deleted post cannot be edited."),
    )
    return Post.from_item(updated)


def delete_post(table: Table, principal: Principal, post_id: str) -> Post:
    """The post keeps its place in the tree (its replies stay) and loses its body."""
    located = locate(table, post_id)
    if not _require_author_or_moderator(principal, located):
        require_participant(table, principal, located["courseId"], located["instructorId"])
    updated = table.update(
        keys.thread_post(located["threadId"], located["path"]),
        Update().set(deleted=True, deletedAt=isoformat(utcnow())).remove("body", "html"),
        when=item_exists(),
        otherwise=NotFoundError(f"No post with id {post_id}."),
    )
    return Post.from_item(updated)
