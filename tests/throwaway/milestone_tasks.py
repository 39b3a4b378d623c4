"""The task module of ``throwaway-milestone`` (run by the local Lambda runtime in a worker process)."""

from __future__ import annotations

import os
from typing import Any


def celebrate(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from tests.throwaway.milestone import MilestoneReached

    reached = MilestoneReached.from_detail(event["detail"])
    return {
        "celebrated": reached.milestone_id,
        "eventId": reached.event_id,
        "actor": reached.actor.model_dump(mode="json"),
        "sentence": f"{reached.actor.id} {reached.verb} {reached.object.type} {reached.object.id}",
        "executionName": event["executionName"],
        "seesTable": "LMS_TABLE_NAME" in os.environ,  # declared nothing: gets nothing
    }
