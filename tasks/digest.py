"""Task handlers of the daily digest workflow (``state-machines/digest.asl.json``)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from lms.snapstart import preload
from tasks.runtime import task_handler

logger = Logger(service="lms-digest")
preload("lms.discussions.digest", "lms.mail", "lms.table")


@task_handler(logger)
def plan_digest(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms import keys
    from lms.discussions import digest
    from workflows.digest import PlanInput

    request = PlanInput.model_validate(event)
    return {"day": digest.day_before(request.time), "shards": list(range(keys.DIGEST_SHARDS))}


@task_handler(logger)
def mail_shard(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.discussions import digest
    from lms.table import Table
    from workflows.digest import ShardInput

    request = ShardInput.model_validate(event)
    sent, next_cursor = digest.mail_shard(Table(), request.day, request.shard, request.cursor)
    logger.info("digest page mailed", extra={"day": request.day, "shard": request.shard, "sent": sent})
    return {"sent": sent, "cursor": next_cursor}
