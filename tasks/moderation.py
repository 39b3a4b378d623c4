"""Task handlers of the moderation workflow (``state-machines/moderation.asl.json``).

The wait and its expiry are the shared human-task handlers; applying the verdict calls
:mod:`lms.discussions.moderation`.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from lms.snapstart import preload
from tasks.human_tasks import expire_task_handler, open_task_handler
from tasks.runtime import task_handler
from workflows.moderation import DECISION

logger = Logger(service="lms-moderation")
preload("lms.discussions.moderation", "lms.table")

await_decision = open_task_handler(DECISION)
expire_decision = expire_task_handler(DECISION)


@task_handler(logger)
def apply_decision(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.discussions import moderation
    from lms.table import Table
    from workflows.moderation import ApplyInput

    request = ApplyInput.model_validate(event)
    result = moderation.apply_decision(
        Table(),
        post_id=request.post_id,
        decision=request.decision,
        decided_by=request.decided_by,
        note=request.note,
    )
    logger.info("moderation applied", extra={"post_id": request.post_id, **result})
    return result
