"""Task handler of the post-notification workflow (``state-machines/post-notification.asl.json``)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from lms.snapstart import preload
from tasks.runtime import task_handler

logger = Logger(service="lms-post-notification")
preload("lms.discussions.notifications", "lms.mail", "lms.table")


@task_handler(logger)
def mail_subscribers(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.discussions import notifications
    from lms.table import Table
    from workflows.post_notification import MailSubscribersInput

    request = MailSubscribersInput.model_validate(event)
    page = notifications.mail_subscribers(Table(), request.post_id, request.cursor)
    logger.info(
        "subscribers mailed", extra={"post_id": request.post_id, "outcome": page.outcome, "sent": page.sent}
    )
    return {"outcome": page.outcome, "sent": page.sent, "nextCursor": page.next_cursor}
