"""The post-notification workflow: wait out a post's edit window, then mail it to the forum's
each-post subscribers as it is then (nothing for a post deleted or hidden meanwhile)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from lms.events import PostCreated
from workflows.definition import Access, EventTrigger, Needs, TaskFunction, Workflow
from workflows.moderation import POSTS_PACKAGE

POST_NOTIFICATION = Workflow(
    name="post-notification",  # execution post-notification-<eventId> (one id per post: PostCreated.id_for)
    trigger=EventTrigger(event=PostCreated),
    functions=(
        TaskFunction(
            "MailSubscribers",
            Needs(table=Access.READ_WRITE, mail=True),
            timeout_seconds=120,
            packaging=POSTS_PACKAGE,  # reads posts through lms.discussions (Markdown, nh3)
        ),
    ),
    timeout_seconds=2 * 3600,
    error_alarms=("PostNotificationFailed",),
)


class MailSubscribersInput(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    post_id: str
    cursor: str | None = None
    execution_name: str = ""
