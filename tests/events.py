"""Listening on the product's bus in tests: an SQS queue behind a rule built from an event definition."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from lms import aws
from lms.events import Event
from lms.settings import get_settings


def _queue_for(event: type[Event]) -> Callable[[], list[dict[str, Any]]]:
    """A rule on ``event.pattern()`` delivering to a fresh queue; returns a poll for the events
    delivered since the last poll (whole envelopes, waiting at most a second)."""
    sqs, bus, bus_name = aws.client("sqs"), aws.client("events"), get_settings().event_bus_name
    name = f"{event.name.lower()}-{time.time_ns()}"
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    bus.put_rule(Name=name, EventBusName=bus_name, EventPattern=json.dumps(event.pattern()))
    bus.put_targets(Rule=name, EventBusName=bus_name, Targets=[{"Id": "queue", "Arn": queue_arn}])

    def poll() -> list[dict[str, Any]]:
        answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        return [json.loads(m["Body"]) for m in answer.get("Messages", [])]

    return poll


def _matching(events: list[dict[str, Any]], match: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in events if all(e["detail"].get(k) == v for k, v in match.items())]


def subscribe(event: type[Event]) -> Callable[..., list[dict[str, Any]]]:
    """Listens for ``event``; returns ``received(timeout, **match)``: the details delivered whose
    fields equal ``match``, as soon as there is one (waiting up to ``timeout`` for the first)."""
    poll, seen = _queue_for(event), []

    def received(timeout: float = 15, **match: Any) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            seen.extend(poll())
            found = [e["detail"] for e in _matching(seen, match)]
            if found or time.monotonic() > deadline:
                return found

    return received


def collect(event: type[Event]) -> Callable[..., list[dict[str, Any]]]:
    """Listens for ``event``; returns ``received(wait, **match)``: every whole event delivered within
    ``wait`` seconds whose detail fields equal ``match``, for tests that count deliveries (a
    duplicate would arrive after the first)."""
    poll, seen = _queue_for(event), []

    def received(wait: float = 5, **match: Any) -> list[dict[str, Any]]:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            seen.extend(poll())
        return _matching(seen, match)

    return received
