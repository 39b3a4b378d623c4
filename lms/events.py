"""The product's event bus (EventBridge ``lms``): domain events for consumers the publisher never calls.

A refund publishes ``EnrollmentRevoked``; the certificate revocation workflow's rule consumes it.
"""

from __future__ import annotations

import json
from typing import Any

from lms import aws
from lms.settings import get_settings


class EventNotPublishedError(Exception):
    """EventBridge refused the entry (it answers 200 with FailedEntryCount, so this must be checked)."""


def publish(source: str, detail_type: str, detail: dict[str, Any]) -> None:
    response = aws.client("events").put_events(
        Entries=[
            {
                "EventBusName": get_settings().event_bus_name,
                "Source": source,
                "DetailType": detail_type,
                "Detail": json.dumps(detail),
            }
        ]
    )
    if response.get("FailedEntryCount"):
        entry = response["Entries"][0]
        raise EventNotPublishedError(f"{detail_type}: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}")
