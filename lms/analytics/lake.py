"""The event lake's record: one flat row per event, the same columns in AWS and locally.

In AWS an EventBridge rule sends every product event to Firehose through an input transformer built
from :data:`PRODUCT_EVENT_PATHS` (infra/analytics.py); Firehose converts the records to Parquet with
the Glue table of :data:`COLUMNS` and writes them under ``lake/events/dt=YYYY-MM-DD/`` (the event's
UTC date). Locally the event routing hands each matched event to the local Firehose
(infra/local/lake.py), which builds the same record with :func:`record_of` and writes the same
layout with pyarrow. Step Functions' own "Execution Status Change" events (how each workflow ended)
go the same way with :data:`EXECUTION_STATUS_PATHS`.

Privacy: a record holds ids, never a person's email or name. The detail is the event's own (the
product's events carry ids only); for an execution, only its state machine, name, status and output.
"""

from __future__ import annotations

import json
from typing import Any

from lms import keys

# The Glue table's columns (Athena types), in order. ``detail`` is the event's detail as JSON text
# (queried with json_extract_scalar); ``occurred_at`` is ISO 8601 UTC text (from_iso8601_timestamp).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("event_id", "string"),
    ("event_name", "string"),
    ("source", "string"),
    ("schema_version", "int"),
    ("occurred_at", "string"),
    ("actor_type", "string"),
    ("actor_id", "string"),
    ("verb", "string"),
    ("object_type", "string"),
    ("object_id", "string"),
    ("result", "string"),
    ("course_id", "string"),
    ("user_id", "string"),
    ("detail", "string"),
)
COLUMN_NAMES = tuple(name for name, _ in COLUMNS)
PARTITION_COLUMN = "dt"  # the event's UTC date, YYYY-MM-DD (a path segment, never in the file)
TABLE = "events"  # the Glue table (Athena) and the DuckDB view (locally)
LAKE_DATABASE = "lms_analytics"  # the Glue database
ANALYTICS_WORKGROUP = "lms-analytics"  # the Athena workgroup (result location, bytes-scanned limit)

# Column -> where its value is in a delivered product event (EventBridge's JSON).
PRODUCT_EVENT_PATHS: dict[str, str] = {
    "event_id": "$.detail.eventId",
    "event_name": "$.detail-type",
    "source": "$.source",
    "schema_version": "$.detail.schemaVersion",
    "occurred_at": "$.detail.occurredAt",
    "actor_type": "$.detail.actor.type",
    "actor_id": "$.detail.actor.id",
    "verb": "$.detail.verb",
    "object_type": "$.detail.object.type",
    "object_id": "$.detail.object.id",
    "result": "$.detail.result",
    "course_id": "$.detail.courseId",
    "user_id": "$.detail.userId",
    "detail": "$.detail",
}
# The same for Step Functions' "Execution Status Change" (source aws.states, on the default bus):
# the envelope's id and time, the status as the result, the execution as the object.
EXECUTION_STATUS_PATHS: dict[str, str] = {
    "event_id": "$.id",
    "event_name": "$.detail-type",
    "source": "$.source",
    "occurred_at": "$.time",
    "object_id": "$.detail.executionArn",
    "result": "$.detail.status",
}
EXECUTION_DETAIL_PATHS: dict[str, str] = {
    "stateMachineArn": "$.detail.stateMachineArn",
    "name": "$.detail.name",
    "status": "$.detail.status",
    "output": "$.detail.output",
}
EXECUTION_CONSTANTS: dict[str, Any] = {"verb": "ended", "object_type": "execution", "actor_type": "system"}
EXECUTION_STATUS_SOURCE = "aws.states"
EXECUTION_STATUS_CHANGE = "Step Functions Execution Status Change"
DELIVERY_STREAM = "lms-events"  # the Firehose delivery stream
PRODUCT_EVENTS_RULE = "lms-lake-events"  # on the product's bus
EXECUTIONS_RULE = "lms-lake-executions"  # on the default bus (where Step Functions publishes)


def product_events_pattern() -> dict[str, Any]:
    """Every typed event (lms.events.EVENTS), each once: the sources of the product's domains."""
    from lms.events import EVENTS

    return {"source": sorted({event.source for event in EVENTS})}


def execution_status_pattern() -> dict[str, Any]:
    """How each of the product's workflows ended (its state machines are named ``lms-<workflow>``)."""
    return {
        "source": [EXECUTION_STATUS_SOURCE],
        "detail-type": [EXECUTION_STATUS_CHANGE],
        "detail": {"status": ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]},
    }


def value_at(event: dict[str, Any], path: str) -> Any:
    """The value at an EventBridge path (``$.detail.actor.id``; ``$.detail-type`` is one key)."""
    value: Any = event
    for part in path.removeprefix("$.").split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def record_of(event: dict[str, Any]) -> dict[str, Any]:
    """The lake row of one delivered event (a product event or an execution status change)."""
    if event.get("source") == EXECUTION_STATUS_SOURCE:
        row: dict[str, Any] = dict.fromkeys(COLUMN_NAMES)
        row.update(EXECUTION_CONSTANTS)
        row.update({column: value_at(event, path) for column, path in EXECUTION_STATUS_PATHS.items()})
        row["actor_id"] = value_at(event, "$.detail.stateMachineArn")
        detail = {key: value_at(event, path) for key, path in EXECUTION_DETAIL_PATHS.items()}
        row["detail"] = _text(detail)
    else:
        row = {column: value_at(event, path) for column, path in PRODUCT_EVENT_PATHS.items()}
        row["detail"] = _text(row["detail"])
    for column, kind in COLUMNS:
        if kind == "string":
            row[column] = _text(row[column])
        elif row[column] is not None:
            row[column] = int(row[column])
    return row


def day_of(record: dict[str, Any]) -> str:
    """The record's partition: the UTC date of its ``occurred_at`` (ISO 8601, UTC)."""
    return str(record["occurred_at"])[:10]


def partition_of_key(key: str) -> str | None:
    """``lake/events/dt=2026-11-29/x.parquet`` -> ``2026-11-29`` (None outside the lake)."""
    if not key.startswith(keys.LAKE_EVENTS_PREFIX):
        return None
    segment = key.removeprefix(keys.LAKE_EVENTS_PREFIX).split("/", 1)[0]
    return (
        segment.removeprefix(f"{PARTITION_COLUMN}=") if segment.startswith(f"{PARTITION_COLUMN}=") else None
    )
