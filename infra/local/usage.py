"""What the local cloud served, counted as AWS bills it: the input of the cost model
(``benchmarks/cost.py``, docs/performance.md#cost-model).

* Lambda: invocations of each function and their measured duration (rounded up to the millisecond,
  as Lambda bills) with the function's configured memory; the API's requests and handler time (the
  local API gateway reports them);
* DynamoDB read and write units. moto's ``ReturnConsumedCapacity`` is a constant per call (1.0, 0.5
  for GetItem; none for UpdateItem), so the units are computed here from item sizes, by DynamoDB's
  published rules: a write costs one WCU per started KB of the larger of the item before and after,
  twice in a transaction, plus one write per GSI the item is (or was) in; a read one RCU per started
  4 KB (a Query: of all items returned together), half when eventually consistent, twice in a
  transaction. A Query's filtered-out items are not seen here (the product filters nothing away);
* S3 requests by price tier (PUT/POST/COPY/LIST; GET/HEAD) and bytes in and out;
* EventBridge custom events (PutEvents entries, per 64 KB chunk) and Step Functions executions
  started (state transitions come from execution histories, in the benchmark).

Calls signed by the local cloud's administrator (the bootstrap, the harness, a benchmark reading
histories) are not the product's and are not counted.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from typing import Any

KB = 1024
READ_UNIT_BYTES = 4 * KB
EVENT_CHUNK_BYTES = 64 * KB
S3_TIER1 = ("PUT", "POST", "COPY")


@dataclass
class Counts:
    """A snapshot of what was served; ``after - before`` is what happened in between."""

    lambda_invocations: dict[str, int] = field(default_factory=dict)
    lambda_gb_seconds: dict[str, float] = field(default_factory=dict)
    lambda_milliseconds: dict[str, float] = field(default_factory=dict)
    api_requests: int = 0
    api_milliseconds: float = 0.0
    dynamodb_read_units: float = 0.0
    dynamodb_write_units: float = 0.0
    dynamodb_calls: dict[str, int] = field(default_factory=dict)
    s3_tier1_requests: int = 0
    s3_tier2_requests: int = 0
    s3_bytes_in: int = 0
    s3_bytes_out: int = 0
    events: int = 0
    executions_started: int = 0
    unmeasured_calls: int = 0  # calls the meter failed to measure (a bug in it: see the log)

    def copy(self) -> Counts:
        return Counts(**{f.name: _copied(getattr(self, f.name)) for f in fields(self)})

    def scaled(self, factor: float) -> Counts:
        """Every figure times ``factor`` (per video minute, per read)."""
        return Counts(**{f.name: _times(getattr(self, f.name), factor) for f in fields(self)})

    def __sub__(self, before: Counts) -> Counts:
        return Counts(
            **{f.name: _minus(getattr(self, f.name), getattr(before, f.name)) for f in fields(self)}
        )


def _copied(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else value


def _times(value: Any, factor: float) -> Any:
    return {k: v * factor for k, v in value.items()} if isinstance(value, dict) else value * factor


def _minus(after: Any, before: Any) -> Any:
    if isinstance(after, dict):
        difference = {k: v - before.get(k, 0) for k, v in after.items()}
        return {k: v for k, v in difference.items() if v}
    return after - before


def _add(counter: dict[str, Any], key: str, amount: float) -> None:
    counter[key] = counter.get(key, 0) + amount


class Usage:
    """The local cloud's meter: thread-safe; read it with :meth:`snapshot`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = Counts()

    def snapshot(self) -> Counts:
        with self._lock:
            return self._counts.copy()

    def invoked(self, function: str, milliseconds: float, memory_mb: int) -> None:
        billed = math.ceil(milliseconds)
        with self._lock:
            counts = self._counts
            _add(counts.lambda_invocations, function, 1)
            _add(counts.lambda_milliseconds, function, billed)
            _add(counts.lambda_gb_seconds, function, billed / 1000 * memory_mb / 1024)

    def api_request(self, milliseconds: float) -> None:
        with self._lock:
            self._counts.api_requests += 1
            self._counts.api_milliseconds += math.ceil(milliseconds)

    def dynamodb(self, operation: str, read_units: float, write_units: float) -> None:
        with self._lock:
            _add(self._counts.dynamodb_calls, operation, 1)
            self._counts.dynamodb_read_units += read_units
            self._counts.dynamodb_write_units += write_units

    def s3(self, method: str, listing: bool, bytes_in: int, bytes_out: int) -> None:
        with self._lock:
            if method in S3_TIER1 or listing:
                self._counts.s3_tier1_requests += 1
            elif method in ("GET", "HEAD"):
                self._counts.s3_tier2_requests += 1
            self._counts.s3_bytes_in += bytes_in
            self._counts.s3_bytes_out += bytes_out

    def put_events(self, body: bytes) -> None:
        entries = json.loads(body or b"{}").get("Entries", [])
        chunks = sum(
            max(1, math.ceil(len(json.dumps(entry).encode()) / EVENT_CHUNK_BYTES)) for entry in entries
        )
        with self._lock:
            self._counts.events += chunks

    def unmeasured(self) -> None:
        with self._lock:
            self._counts.unmeasured_calls += 1

    def execution_started(self) -> None:
        with self._lock:
            self._counts.executions_started += 1


# The meter of this process's local cloud and local API (one of each per process: `lms dev`, a test
# worker, a benchmark), so that the API's requests and the cloud's calls land in the same counts.
METER = Usage()


# ----- DynamoDB capacity from item sizes ------------------------------------------------------------


def item_size(item: dict[str, Any] | None) -> int:
    """An item's size as DynamoDB counts it: names plus values, from its DynamoDB JSON."""
    if not item:
        return 0
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    ((kind, raw),) = value.items()
    if kind == "S":
        return len(str(raw).encode())
    if kind == "N":
        digits = len(str(raw).lstrip("-").replace(".", "").lstrip("0")) or 1
        return math.ceil(digits / 2) + 1
    if kind == "B":
        return len(raw) if isinstance(raw, bytes) else math.ceil(len(raw) * 3 / 4)  # base64 in JSON
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: member}) for member in raw)
    if kind == "L":
        return 3 + sum(1 + _value_size(member) for member in raw)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + _value_size(v) for k, v in raw.items())
    return len(json.dumps(raw))


def read_units(size: int, *, consistent: bool, transactional: bool = False) -> float:
    units = math.ceil(max(size, 1) / READ_UNIT_BYTES)
    return units * 2 if transactional else units if consistent else units / 2


@dataclass(frozen=True)
class _Write:
    table: str
    key: dict[str, Any]  # DynamoDB JSON of the key (or of the whole item, for a Put)
    transactional: bool


def _writes(operation: str, body: dict[str, Any]) -> list[_Write]:
    if operation == "PutItem":
        return [_Write(body["TableName"], body["Item"], False)]
    if operation in ("UpdateItem", "DeleteItem"):
        return [_Write(body["TableName"], body["Key"], False)]
    if operation == "TransactWriteItems":
        found = []
        for entry in body.get("TransactItems", []):
            for kind in ("Put", "Update", "Delete"):
                if kind in entry:
                    part = entry[kind]
                    found.append(_Write(part["TableName"], part.get("Item") or part["Key"], True))
        return found
    if operation == "BatchWriteItem":
        return [
            _Write(table, request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"], False)
            for table, requests in body.get("RequestItems", {}).items()
            for request in requests
        ]
    return []


class DynamoDbMeter:
    """Computes one call's units from the request, the items before and after, and the response.

    ``lookup(table, key)`` answers an item's DynamoDB JSON as stored (None when absent), and
    ``indexes(table)`` the key attributes of each GSI; the router calls :meth:`before` and
    :meth:`after` around the call while it holds the table lock, so nothing else writes between.
    """

    def __init__(
        self,
        lookup: Callable[[str, dict[str, Any]], dict[str, Any] | None],
        indexes: Callable[[str], Iterable[tuple[str, ...]]],
    ) -> None:
        self._lookup = lookup
        self._indexes = indexes

    def before(self, operation: str, body: dict[str, Any]) -> list[tuple[_Write, dict[str, Any] | None]]:
        return [(write, self._lookup(write.table, write.key)) for write in _writes(operation, body)]

    def after(
        self,
        operation: str,
        body: dict[str, Any],
        before: list[tuple[_Write, dict[str, Any] | None]],
        response: dict[str, Any],
    ) -> tuple[float, float]:
        """(read units, write units) of the call."""
        write_units = 0.0
        for write, old in before:
            new = self._lookup(write.table, write.key)
            size = math.ceil(max(item_size(old), item_size(new), 1) / KB)
            write_units += size * (2 if write.transactional else 1)
            if old != new:
                write_units += self._index_writes(write.table, old, new)
        return self._reads(operation, body, response), write_units

    def _index_writes(self, table: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> float:
        units = 0.0
        for key_attributes in self._indexes(table):
            in_old = bool(old) and all(a in old for a in key_attributes)  # type: ignore[operator]
            in_new = bool(new) and all(a in new for a in key_attributes)  # type: ignore[operator]
            if in_new:
                units += math.ceil(max(item_size(new), 1) / KB)
            if in_old and (not in_new or any(old.get(a) != new.get(a) for a in key_attributes)):  # type: ignore[union-attr]
                units += math.ceil(max(item_size(old), 1) / KB)
        return units

    def _reads(self, operation: str, body: dict[str, Any], response: dict[str, Any]) -> float:
        consistent = bool(body.get("ConsistentRead"))
        if operation == "GetItem":
            return read_units(item_size(response.get("Item")), consistent=consistent)
        if operation in ("Query", "Scan"):
            total = sum(item_size(item) for item in response.get("Items", []))
            return read_units(total, consistent=consistent and not body.get("IndexName"))
        if operation == "BatchGetItem":
            requested = body.get("RequestItems", {})
            return sum(
                read_units(item_size(item), consistent=bool(requested.get(table, {}).get("ConsistentRead")))
                for table, items in response.get("Responses", {}).items()
                for item in items
            )
        if operation == "TransactGetItems":
            return sum(
                read_units(item_size(entry.get("Item")), consistent=True, transactional=True)
                for entry in response.get("Responses", [])
            )
        if operation == "TransactWriteItems":  # a ConditionCheck reads its item transactionally
            return sum(
                read_units(
                    item_size(self._lookup(e["ConditionCheck"]["TableName"], e["ConditionCheck"]["Key"])),
                    consistent=True,
                    transactional=True,
                )
                for e in body.get("TransactItems", [])
                if "ConditionCheck" in e
            )
        return 0.0
