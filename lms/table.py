"""A thin layer over the DynamoDB client for the single table: (de)serialisation and pagination.

Repositories build items with :mod:`lms.keys`; this module only moves them. It uses the low-level
client (not the resource API) so every request is one visible API call.
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import heapq
import json
import random
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from lms import aws, keys
from lms.errors import ConditionFailedError, LmsError, ValidationError
from lms.expressions import Condition, Placeholders, Update
from lms.settings import get_settings

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

Item = dict[str, Any]


def _to_plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _to_plain(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return [_to_plain(v) for v in value]
    return value


def _to_number(value: Any) -> Any:
    # boto3 refuses floats (binary rounding); their shortest decimal text is the number meant.
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _to_number(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_number(v) for v in value]
    return value


def serialize(item: Item) -> dict[str, Any]:
    return {k: _serializer.serialize(_to_number(v)) for k, v in item.items() if v is not None}


def deserialize(raw: dict[str, Any]) -> Item:
    return {k: _to_plain(_deserializer.deserialize(v)) for k, v in raw.items()}


def serialize_key(key: keys.Key) -> dict[str, Any]:
    return serialize(key.as_item())


@dataclass(frozen=True)
class Page:
    items: list[Item]
    next_cursor: str | None


def encode_cursor(last_evaluated_key: dict[str, Any] | None) -> str | None:
    if not last_evaluated_key:
        return None
    plain = deserialize(last_evaluated_key)
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        plain = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(plain, dict) or not all(isinstance(v, str) for v in plain.values()):
            raise ValueError("cursor is not a key")
        return serialize(plain)
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise ValidationError("The cursor is not one this API issued.") from error


# --- writes with conditions ---------------------------------------------------------------------
# What to raise when a condition does not hold: an error, or a function of the failed operations'
# positions (for a transaction) that builds one.
Otherwise = LmsError | Callable[[tuple[int, ...]], LmsError] | None


@dataclass(frozen=True)
class Put:
    """Write a whole item (``when``: only if the condition holds on the item stored there now)."""

    item: Item
    when: Condition | None = None


@dataclass(frozen=True)
class Change:
    """Apply ``changes`` to the item at ``key`` (created if absent, unless ``when`` says otherwise)."""

    key: keys.Key
    changes: Update
    when: Condition | None = None


@dataclass(frozen=True)
class Delete:
    key: keys.Key
    when: Condition | None = None


@dataclass(frozen=True)
class Check:
    """A transaction's guard: ``when`` must hold on ``key``; nothing is written there."""

    key: keys.Key
    when: Condition


Write = Put | Change | Delete | Check
TRANSACTION_LIMIT = 100  # DynamoDB's TransactWriteItems cap
_TRANSACTION_ATTEMPTS = 4  # TransactionConflict: another transaction held an item; nothing was applied


def _request(write: Write) -> tuple[str, dict[str, Any]]:
    """The TransactWriteItems entry (without TableName) for one write."""
    placeholders = Placeholders()
    body: dict[str, Any]
    if isinstance(write, Put):
        kind, body = "Put", {"Item": serialize(write.item)}
    elif isinstance(write, Change):
        kind = "Update"
        body = {"Key": serialize_key(write.key), "UpdateExpression": write.changes.render(placeholders)}
    elif isinstance(write, Delete):
        kind, body = "Delete", {"Key": serialize_key(write.key)}
    else:
        kind, body = "ConditionCheck", {"Key": serialize_key(write.key)}
    if write.when is not None:
        body["ConditionExpression"] = write.when.render(placeholders)
    if placeholders.names:
        body["ExpressionAttributeNames"] = placeholders.names
    if placeholders.values:
        body["ExpressionAttributeValues"] = serialize(placeholders.values)
    return kind, body


def _failed_positions(error: ClientError) -> tuple[int, ...]:
    reasons = error.response.get("CancellationReasons", [])
    return tuple(i for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed")


def _refuse(otherwise: Otherwise, failed: tuple[int, ...]) -> LmsError:
    if otherwise is None:
        return ConditionFailedError("The record changed meanwhile; read it again and retry.")
    return otherwise(failed) if callable(otherwise) else otherwise


def _is_transaction_conflict(error: ClientError) -> bool:
    if error.response["Error"]["Code"] != "TransactionCanceledException":
        return False
    reasons = error.response.get("CancellationReasons", [])
    return any(r.get("Code") == "TransactionConflict" for r in reasons) and not _failed_positions(error)


class Table:
    """The product's one table."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name or get_settings().table_name

    @property
    def _client(self) -> Any:
        return aws.dynamodb()

    def get(self, key: keys.Key, *, consistent: bool = False) -> Item | None:
        response = self._client.get_item(
            TableName=self.name, Key=serialize_key(key), ConsistentRead=consistent
        )
        return deserialize(response["Item"]) if "Item" in response else None

    def batch_get(self, wanted: Sequence[keys.Key]) -> dict[keys.Key, Item]:
        """Fetch up to 100 distinct keys in one request; missing keys are absent from the result."""
        unique = list(dict.fromkeys(wanted))
        if not unique:
            return {}
        request = {self.name: {"Keys": [serialize_key(k) for k in unique], "ConsistentRead": True}}
        found: dict[keys.Key, Item] = {}
        while request:
            response = self._client.batch_get_item(RequestItems=request)
            for raw in response["Responses"].get(self.name, []):
                item = deserialize(raw)
                found[keys.Key(item[keys.PK], item[keys.SK])] = item
            request = response.get("UnprocessedKeys") or {}
        return found

    def query(
        self,
        *,
        partition: tuple[str, str],
        sort_prefix: tuple[str, str] | None = None,
        index: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        newest_first: bool = False,
        filter_equals: dict[str, str] | None = None,
    ) -> Page:
        """One Query page: ``partition=(attribute, value)``, optional ``begins_with`` on the sort key.

        ``filter_equals`` narrows the page after the key condition (pages may then be short; the
        cursor still walks the whole partition).
        """
        condition = "#pk = :pk"
        names = {"#pk": partition[0]}
        values: dict[str, Any] = {":pk": {"S": partition[1]}}
        if sort_prefix:
            condition += " AND begins_with(#sk, :prefix)"
            names["#sk"] = sort_prefix[0]
            values[":prefix"] = {"S": sort_prefix[1]}
        request: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": not newest_first,
        }
        if filter_equals:
            clauses = []
            for position, (attribute, value) in enumerate(filter_equals.items()):
                names[f"#f{position}"] = attribute
                values[f":f{position}"] = {"S": value}
                clauses.append(f"#f{position} = :f{position}")
            request["FilterExpression"] = " AND ".join(clauses)
        if index:
            request["IndexName"] = index
        if limit:
            request["Limit"] = limit
        start = decode_cursor(cursor)
        if start:
            request["ExclusiveStartKey"] = start
        try:
            response = self._client.query(**request)
        except ClientError as error:
            if start and error.response["Error"]["Code"] == "ValidationException":
                raise ValidationError("The cursor does not belong to this list.") from error
            raise
        return Page(
            items=[deserialize(raw) for raw in response.get("Items", [])],
            next_cursor=encode_cursor(response.get("LastEvaluatedKey")),
        )

    def query_all(self, **kwargs: Any) -> list[Item]:
        items: list[Item] = []
        cursor = None
        while True:
            page = self.query(cursor=cursor, **kwargs)
            items.extend(page.items)
            if not page.next_cursor:
                return items
            cursor = page.next_cursor

    def put(self, item: Item, *, when: Condition | None = None, otherwise: Otherwise = None) -> None:
        """Write ``item``; when ``when`` does not hold, raise ``otherwise`` (default: a 409)."""
        if not self._write(Put(item, when)):
            raise _refuse(otherwise, (0,))

    def put_if(self, item: Item, *, when: Condition) -> bool:
        """Write ``item`` if ``when`` holds; False (nothing written) when it does not."""
        return self._write(Put(item, when))

    def update(
        self, key: keys.Key, changes: Update, *, when: Condition | None = None, otherwise: Otherwise = None
    ) -> Item:
        """Apply ``changes`` and return the whole item as it is now; ``when`` failing raises ``otherwise``."""
        updated = self.update_if(key, changes, when=when)
        if updated is None:
            raise _refuse(otherwise, (0,))
        return updated

    def update_if(self, key: keys.Key, changes: Update, *, when: Condition | None) -> Item | None:
        """Apply ``changes`` if ``when`` holds: the item as it is now, or None (nothing changed)."""
        kind, body = _request(Change(key, changes, when))
        try:
            response = self._client.update_item(TableName=self.name, ReturnValues="ALL_NEW", **body)
        except ClientError as error:
            if is_conditional_failure(error):
                return None
            raise
        return deserialize(response["Attributes"])

    def delete(self, key: keys.Key, *, when: Condition | None = None, otherwise: Otherwise = None) -> None:
        """Delete the item at ``key`` (absent is fine); ``when`` failing raises ``otherwise``."""
        if not self._write(Delete(key, when)):
            raise _refuse(otherwise, (0,))

    def delete_if(self, key: keys.Key, *, when: Condition) -> bool:
        """Delete the item if ``when`` holds; False (nothing deleted) when it does not."""
        return self._write(Delete(key, when))

    def _write(self, write: Put | Delete) -> bool:
        kind, body = _request(write)
        call = self._client.put_item if kind == "Put" else self._client.delete_item
        try:
            call(TableName=self.name, **body)
        except ClientError as error:
            if is_conditional_failure(error):
                return False
            raise
        return True

    def transact(self, writes: Iterable[Write], *, otherwise: Otherwise = None) -> None:
        """Apply ``writes`` atomically (at most 100). A failed condition raises ``otherwise``, which
        may be a function of the failed writes' positions; a conflict with another transaction
        (nothing applied) is retried."""
        failed = self._transact(list(writes))
        if failed:
            raise _refuse(otherwise, failed)

    def transact_if(self, writes: Iterable[Write]) -> bool:
        """Apply ``writes`` atomically if every condition holds; False (nothing written) otherwise."""
        return not self._transact(list(writes))

    def _transact(self, writes: list[Write]) -> tuple[int, ...]:
        if len(writes) > TRANSACTION_LIMIT:
            raise ValueError(f"a transaction holds at most {TRANSACTION_LIMIT} writes, not {len(writes)}")
        items = []
        for write in writes:
            kind, body = _request(write)
            items.append({kind: {"TableName": self.name, **body}})
        for attempt in range(_TRANSACTION_ATTEMPTS):
            try:
                self._client.transact_write_items(TransactItems=items)
                return ()
            except ClientError as error:
                if is_conditional_failure(error):
                    return _failed_positions(error) or (0,)
                if not _is_transaction_conflict(error) or attempt == _TRANSACTION_ATTEMPTS - 1:
                    raise
            time.sleep(random.uniform(0, 0.05 * 2**attempt))  # noqa: S311 - jitter, not a secret
        raise AssertionError("unreachable")


# --- one list over several partitions (write-sharded index keys) --------------------------------

_DONE: Any = object()  # a partition's position once it has nothing left


def query_merged(
    table: Table,
    *,
    index: str,
    partition_attribute: str,
    sort_attribute: str,
    partitions: Sequence[str],
    start_key: Callable[[str, str], Item],
    limit: int,
    cursor: str | None,
    newest_first: bool = False,
    accepts: Callable[[str, str], bool] = lambda _partition, _sort: True,
) -> Page:
    """One page of a list spread over ``partitions`` of an index, in sort-key order.

    Every partition still open is read in parallel (at most ``limit`` items each) and the reads are
    merged, so a page is short only at the very end. The cursor holds, per partition, the sort key
    of the last item handed out (or that the partition is done), so nothing repeats or is skipped.
    ``start_key(partition, sort)`` builds the index key to resume after; ``accepts`` vets a sort key
    read back from an (untrusted) cursor.
    """
    positions = decode_merge_cursor(cursor, partitions)
    for partition, position in positions.items():
        if isinstance(position, str) and not accepts(partition, position):
            raise ValidationError("The cursor does not belong to this list.")

    def fetch(partition: str) -> tuple[str, list[Item], str | None]:
        position = positions[partition]
        page = table.query(
            partition=(partition_attribute, partition),
            index=index,
            limit=limit,
            cursor=encode_cursor(serialize(start_key(partition, position))) if position else None,
            newest_first=newest_first,
        )
        return partition, page.items, page.next_cursor

    live = [p for p in partitions if positions[p] is not _DONE]
    # Each worker thread runs in a copy of this context, so it calls AWS as the caller does
    # (lms.aws.acting_as: the local API signs with the API role's credentials).
    caller = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=min(8, max(1, len(live)))) as pool:
        fetched = list(pool.map(lambda partition: caller.copy().run(fetch, partition), live))
    merged = heapq.merge(
        *([(item[sort_attribute], partition, item) for item in items] for partition, items, _ in fetched),
        key=lambda entry: entry[0],
        reverse=newest_first,
    )
    taken = [entry for _, entry in zip(range(limit), merged, strict=False)]
    last_taken: dict[str, str] = {partition: sort_key for sort_key, partition, _ in taken}
    next_positions: dict[str, Any] = {p: _DONE for p in partitions}
    for partition, items, next_cursor in fetched:
        if partition in last_taken:
            used_all = last_taken[partition] == items[-1][sort_attribute]
            next_positions[partition] = _DONE if used_all and not next_cursor else last_taken[partition]
        else:
            next_positions[partition] = positions[partition] if items else _DONE
    more = any(position is not _DONE for position in next_positions.values())
    return Page(
        items=[item for _, _, item in taken],
        next_cursor=encode_merge_cursor([next_positions[p] for p in partitions]) if more else None,
    )


def encode_merge_cursor(positions: Sequence[Any]) -> str:
    """Per partition in order: the last sort key given (null: from the top, 0: done). Compressed,
    because two dozen partitions must fit the API's 2 KB cursor."""
    state = [0 if position is _DONE else position for position in positions]
    packed = zlib.compress(json.dumps(state, separators=(",", ":")).encode(), 9)
    return base64.urlsafe_b64encode(packed).decode()


def decode_merge_cursor(cursor: str | None, partitions: Sequence[str]) -> dict[str, Any]:
    if not cursor:
        return dict.fromkeys(partitions)
    try:
        state = json.loads(zlib.decompress(base64.urlsafe_b64decode(cursor.encode())))
        if not isinstance(state, list) or len(state) != len(partitions):
            raise ValueError("not a cursor of this list")
        if not all(v is None or v == 0 or isinstance(v, str) for v in state):
            raise ValueError("not a cursor of this list")
    except (binascii.Error, zlib.error, ValueError, UnicodeDecodeError) as error:
        raise ValidationError("The cursor does not belong to this list.") from error
    return {
        partition: _DONE if sort_key == 0 else sort_key
        for partition, sort_key in zip(partitions, state, strict=True)
    }


def is_conditional_failure(error: ClientError) -> bool:
    code = error.response["Error"]["Code"]
    if code == "ConditionalCheckFailedException":
        return True
    if code == "TransactionCanceledException":
        reasons = error.response.get("CancellationReasons", [])
        return any(r.get("Code") == "ConditionalCheckFailed" for r in reasons)
    return False
