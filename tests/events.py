"""Listening on the product's bus in tests: an SQS queue behind a rule built from an event definition."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from lms import aws
from lms.events import Event
from lms.settings import get_settings


def subscribe(event: type[Event]) -> Callable[..., list[dict[str, Any]]]:
    """A rule on ``event.pattern()`` delivering to a fresh queue; returns ``received(timeout, **match)``:
    the details delivered whose fields equal ``match`` (waiting up to ``timeout`` for the first)."""
    sqs, bus, bus_name = aws.client("sqs"), aws.client("events"), get_settings().event_bus_name
    name = f"{event.name.lower()}-{time.time_ns()}"
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    bus.put_rule(Name=name, EventBusName=bus_name, EventPattern=json.dumps(event.pattern()))
    bus.put_targets(Rule=name, EventBusName=bus_name, Targets=[{"Id": "queue", "Arn": queue_arn}])
    seen: list[dict[str, Any]] = []

    def received(timeout: float = 15, **match: Any) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            seen.extend(json.loads(m["Body"])["detail"] for m in answer.get("Messages", []))
            found = [d for d in seen if all(d.get(k) == v for k, v in match.items())]
            if found or time.monotonic() > deadline:
                return found

    return received
