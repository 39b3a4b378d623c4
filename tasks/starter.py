"""The starter of event- and schedule-triggered workflows (an EventBridge rule's target).

EventBridge cannot name a Step Functions execution, so a rule invokes this function, which names it
from the event's business keys (a typed event's unique ``detail.eventId`` unless the trigger names
others): a redelivered event finds the execution it started instead of starting a second one. A
scheduled tick is named after its scheduled time truncated to the period, so a duplicate delivery of
one tick is one execution. It reads its workflow from its environment (set from the catalog) so it
imports nothing else.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from tasks.runtime import task_handler
from workflows import executions
from workflows.definition import Workflow, period_key

logger = Logger(service="lms-starter")


class MissingBusinessKeyError(Exception):
    """The event lacks a business-key field: the rule's pattern and the catalog disagree."""


def business_key(event: dict[str, Any], paths: list[str], strip_prefix: str = "") -> str:
    values = []
    for path in paths:
        value: Any = event
        for part in path.split("."):
            if not isinstance(value, dict) or part not in value:
                raise MissingBusinessKeyError(f"the event has no {path}")
            value = value[part]
        values.append(str(value))
    return "-".join(values).removeprefix(strip_prefix)


@task_handler(logger)
def start_from_event(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    workflow = Workflow(name=os.environ["LMS_WORKFLOW"], execution_prefix=os.environ["LMS_EXECUTION_PREFIX"])
    key = business_key(
        event, os.environ["LMS_BUSINESS_KEY"].split(","), os.environ.get("LMS_BUSINESS_KEY_STRIP", "")
    )
    if rate := os.environ.get("LMS_SCHEDULE_RATE_SECONDS"):
        key = period_key(key, int(rate))  # a scheduled tick: its time truncated to the period
    started = executions.start(workflow, key, event)
    # A typed event's id (lms.events) is logged with the execution it started or found: a
    # redelivery shows up as the same id with again=True.
    event_id = event.get("detail", {}).get("eventId") if isinstance(event.get("detail"), dict) else None
    logger.info(
        "execution started",
        extra={"execution": started.name, "again": started.already_started, "event_id": event_id},
    )
    return {"executionName": started.name, "alreadyStarted": started.already_started}
