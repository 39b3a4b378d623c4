"""Discussions (docs/api.md, "Discussions"): forums, threads, posts, reports, subscriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field, model_validator

from api import security
from api.models import Page, RequestBody, View
from api.params import Cursor, Limit, PathId
from api.responses import accepted, created, page_limit
from lms import human_tasks
from lms.discussions import markdown, moderation, subscriptions, threads
from lms.discussions import posts as discussion_posts
from lms.discussions.forums import Forum, ForumType, create_forum, list_forums
from lms.entities import Role
from lms.table import Table
from workflows import callbacks as workflow_callbacks

router = APIGatewayRouter()

Title = Annotated[str, Field(min_length=1, max_length=threads.MAX_TITLE_CHARS)]
Body = Annotated[str, Field(min_length=1, max_length=markdown.MAX_BODY_CHARS, description="Markdown")]


class ForumCreate(RequestBody):
    title: Title
    description: Annotated[str, Field(max_length=2000)] = ""
    type: ForumType = ForumType.STANDARD


class ForumView(View):
    forum_id: str
    course_id: str
    title: str
    description: str
    type: ForumType
    thread_count: int
    post_count: int
    created_at: datetime

    @classmethod
    def of(cls, forum: Forum) -> ForumView:
        return cls.model_validate(forum.model_dump())


class ForumList(View):
    items: list[ForumView]


class ThreadCreate(RequestBody):
    title: Title
    body: Body


class ThreadView(View):
    thread_id: str
    forum_id: str
    forum_type: ForumType
    course_id: str
    title: str
    author_id: str
    post_id: str = Field(description="the opening post")
    pinned: bool
    locked: bool
    reply_count: int
    last_post_at: datetime
    created_at: datetime

    @classmethod
    def of(cls, thread: threads.Thread) -> ThreadView:
        return cls.model_validate({**thread.model_dump(), "post_id": thread.root_post_id})


class ThreadPage(Page[ThreadView]):
    pass


class PostView(View):
    post_id: str
    thread_id: str
    parent_id: str | None
    depth: int
    author_id: str
    body: str | None = Field(description="the Markdown as written; null when deleted or hidden")
    html: str | None = Field(description="the sanitised HTML; null when deleted or hidden")
    created_at: datetime
    edited: bool
    edited_at: datetime | None
    deleted: bool
    hidden: bool

    @classmethod
    def of(cls, post: discussion_posts.Post, *, moderator: bool) -> PostView:
        concealed = post.deleted or (post.hidden and not moderator)
        return cls.model_validate(
            {
                **post.model_dump(),
                "edited": post.edited,
                "body": None if concealed else post.body,
                "html": None if concealed else post.html,
            }
        )


class ThreadWithPosts(Page[PostView]):
    thread: ThreadView
    others_replies_visible: bool = Field(
        description="false in a Q&A forum until this student has posted: other students' replies are left out"
    )


class ThreadStarted(ThreadView):
    post: PostView


class ReplyCreate(RequestBody):
    body: Body
    parent_id: Annotated[str | None, Field(max_length=64)] = None


class ThreadFlags(RequestBody):
    locked: bool | None = None
    pinned: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> ThreadFlags:
        if self.locked is None and self.pinned is None:
            raise ValueError("give locked, pinned or both")
        return self


class PostEdit(RequestBody):
    body: Body


@router.get("/courses/<courseId>/forums", tags=["discussions"], summary="A course's forums")
@security.signed_in
def get_forums(courseId: PathId) -> ForumList:  # noqa: N803
    table = Table()
    principal = security.authenticated(router, table).principal
    return ForumList(items=[ForumView.of(f) for f in list_forums(table, principal, courseId)])


@router.post("/courses/<courseId>/forums", tags=["discussions"], summary="Add a forum (owner or admin)")
@security.allow(Role.INSTRUCTOR, Role.ADMIN)
def add_forum(courseId: PathId, body: ForumCreate) -> Response[ForumView]:  # noqa: N803
    table = Table()
    principal = security.authenticated(router, table).principal
    forum = create_forum(
        table, principal, courseId, title=body.title, description=body.description, type=body.type
    )
    return created(ForumView.of(forum))


@router.get(
    "/forums/<forumId>/threads",
    tags=["discussions"],
    summary="A forum's threads: pinned first, then latest activity",
)
@security.signed_in
def get_threads(forumId: PathId, limit: Limit = 20, cursor: Cursor = None) -> ThreadPage:  # noqa: N803
    table = Table()
    principal = security.authenticated(router, table).principal
    _, found, next_cursor = threads.list_threads(
        table, principal, forumId, limit=page_limit(limit), cursor=cursor
    )
    return ThreadPage(items=[ThreadView.of(t) for t in found], next_cursor=next_cursor)


@router.post(
    "/forums/<forumId>/threads", tags=["discussions"], summary="Start a thread with its opening post"
)
@security.signed_in
def start_thread(forumId: PathId, body: ThreadCreate) -> Response[ThreadStarted]:  # noqa: N803
    table = Table()
    principal = security.authenticated(router, table).principal
    thread, root = threads.create_thread(table, principal, forumId, title=body.title, body=body.body)
    view = ThreadView.of(thread)
    return created(ThreadStarted(**view.model_dump(), post=PostView.of(root, moderator=True)))


@router.get(
    "/threads/<threadId>",
    tags=["discussions"],
    summary="A thread and a page of its posts in tree order (parentId, depth)",
)
@security.signed_in
def get_thread(threadId: PathId, limit: Limit = 50, cursor: Cursor = None) -> ThreadWithPosts:  # noqa: N803
    table = Table()
    principal = security.authenticated(router, table).principal
    page = threads.read_thread(table, principal, threadId, limit=page_limit(limit), cursor=cursor)
    return ThreadWithPosts(
        thread=ThreadView.of(page.thread),
        items=[PostView.of(post, moderator=page.moderator) for post in page.posts],
        next_cursor=page.next_cursor,
        others_replies_visible=page.others_replies_visible,
    )


@router.post(
    "/threads/<threadId>/replies", tags=["discussions"], summary="Reply in a thread (409 when locked)"
)
@security.signed_in
def post_reply(threadId: PathId, body: ReplyCreate) -> Response[PostView]:  # noqa: N803
    table = Table()
    principal = security.authenticated(router, table).principal
    post = threads.reply(table, principal, threadId, body=body.body, parent_id=body.parent_id)
    return created(PostView.of(post, moderator=True))


@router.patch("/threads/<threadId>", tags=["discussions"], summary="Lock or pin a thread (owner or admin)")
@security.allow(Role.INSTRUCTOR, Role.ADMIN)
def change_thread(threadId: PathId, body: ThreadFlags) -> ThreadView:  # noqa: N803
    table = Table()
    principal = security.authenticated(router, table).principal
    return ThreadView.of(
        threads.set_flags(table, principal, threadId, locked=body.locked, pinned=body.pinned)
    )


@router.patch(
    "/posts/<postId>", tags=["discussions"], summary="Edit a post (author for 30 minutes; owner, admin)"
)
@security.signed_in
def edit_post(postId: PathId, body: PostEdit) -> PostView:  # noqa: N803
    table = Table()
    principal = security.authenticated(router, table).principal
    return PostView.of(discussion_posts.edit_post(table, principal, postId, body.body), moderator=True)


@router.delete(
    "/posts/<postId>", tags=["discussions"], summary="Delete a post; it keeps its place in the tree"
)
@security.signed_in
def delete_post(postId: PathId) -> PostView:  # noqa: N803
    table = Table()
    principal = security.authenticated(router, table).principal
    return PostView.of(discussion_posts.delete_post(table, principal, postId), moderator=True)


# --- reports and moderation --------------------------------------------------------------------------


class ReportCreate(RequestBody):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class ReportFiled(View):
    report_id: str = Field(description="the post's moderation case (one per post, whoever reports)")
    post_id: str
    report_count: int
    hidden: bool = Field(description="hidden from students until a moderator decides (3 reporters)")
    execution_name: str


class ReportView(View):
    report_id: str
    post_id: str
    thread_id: str | None
    course_id: str | None
    author_id: str | None
    requested_at: datetime
    execution_name: str

    @classmethod
    def of(cls, task: human_tasks.HumanTask) -> ReportView:
        return cls(
            report_id=task.task_id,
            post_id=task.task_id,
            thread_id=task.details.get("threadId"),
            course_id=task.course_id,
            author_id=task.owner_id,
            requested_at=task.requested_at,
            execution_name=task.execution_name,
        )


class ReportPage(Page[ReportView]):
    pass


class ReportDecision(RequestBody):
    decision: moderation.Decision
    note: Annotated[str, Field(max_length=2000)] | None = None


class ReportDecided(View):
    report_id: str
    status: str
    decision: str | None
    note: str | None
    decided_by: str | None
    decided_at: datetime | None


@router.post("/posts/<postId>/reports", tags=["discussions"], summary="Report a post to the moderators")
@security.allow(Role.STUDENT, Role.INSTRUCTOR)
def report_post(postId: PathId, body: ReportCreate) -> Response[ReportFiled]:  # noqa: N803
    from workflows import moderation as workflow  # starts executions: only this route needs it

    table = Table()
    principal = security.authenticated(router, table).principal
    reported = moderation.report_post(table, principal, postId, body.reason)
    started = workflow.start_moderation(reported)
    return accepted(
        ReportFiled(
            report_id=postId,
            post_id=postId,
            report_count=reported["reportCount"],
            hidden=reported["hidden"],
            execution_name=started.name,
        )
    )


@router.get("/moderation/reports", tags=["discussions"], summary="Open reports, oldest first")
@security.allow(Role.INSTRUCTOR, Role.ADMIN)
def list_reports(
    courseId: Annotated[str | None, Query(max_length=64)] = None,  # noqa: N803
    limit: Limit = 20,
    cursor: Cursor = None,
) -> ReportPage:
    table = Table()
    principal = security.authenticated(router, table).principal
    found, next_cursor = moderation.list_reports(
        table, principal, course_id=courseId, limit=page_limit(limit), cursor=cursor
    )
    return ReportPage(items=[ReportView.of(task) for task in found], next_cursor=next_cursor)


@router.post(
    "/moderation/reports/<reportId>",
    tags=["discussions"],
    summary="Decide a report: keep or hide the post, once",
)
@security.allow(Role.INSTRUCTOR, Role.ADMIN)
def decide_report(reportId: PathId, body: ReportDecision) -> ReportDecided:  # noqa: N803
    table = Table()
    principal = security.authenticated(router, table).principal
    task = moderation.decide_report(
        table, workflow_callbacks.callbacks(), principal, reportId, body.decision, body.note
    )
    return ReportDecided(
        report_id=task.task_id,
        status=task.status.value,
        decision=task.outcome,
        note=task.reason,
        decided_by=task.decided_by,
        decided_at=task.decided_at,
    )


# --- subscriptions -------------------------------------------------------------------------------


class SubscriptionChoice(RequestBody):
    mode: subscriptions.Mode


class SubscriptionView(View):
    forum_id: str
    mode: subscriptions.Mode


@router.put(
    "/forums/<forumId>/subscription", tags=["discussions"], summary="Choose how a forum's posts reach you"
)
@security.signed_in
def subscribe(forumId: PathId, body: SubscriptionChoice) -> SubscriptionView:  # noqa: N803
    table = Table()
    principal = security.authenticated(router, table).principal
    forum = subscriptions.set_mode(table, principal, forumId, body.mode)
    return SubscriptionView(forum_id=forum.forum_id, mode=body.mode)
