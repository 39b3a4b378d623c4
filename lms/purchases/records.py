"""Transaction records: their items and index keys, reads, listings and the shared write operations.

A transaction's GSI2 entry is keyed by its status (``keys.transaction_status_index``), so every write
that changes the status also moves the index key; :func:`finish_operation` is that one write.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import json
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from lms import keys
from lms.clock import isoformat, utcnow
from lms.entities import Transaction, TransactionStatus
from lms.errors import ConflictError, NotFoundError, ValidationError
from lms.table import Item, Table, encode_cursor, serialize, serialize_key


class AlreadyEnrolledError(ConflictError):
    code = "ALREADY_ENROLLED"


def transaction_item(transaction: Transaction) -> Item:
    created = transaction.created_at.isoformat()
    return {
        **keys.transaction(transaction.transaction_id).as_item(),
        keys.GSI1PK: keys.user_index(transaction.user_id),
        keys.GSI1SK: keys.transaction_in_user_sort(created, transaction.transaction_id),
        keys.GSI2PK: keys.transaction_status_index(transaction.status, transaction.transaction_id),
        keys.GSI2SK: keys.transaction_status_sort(created, transaction.transaction_id),
        **transaction.attributes(),
    }


def get_transaction(table: Table, transaction_id: str, *, consistent: bool = True) -> Transaction | None:
    item = table.get(keys.transaction(transaction_id), consistent=consistent)
    return Transaction.from_item(item) if item else None


def require_transaction(table: Table, transaction_id: str) -> Transaction:
    transaction = get_transaction(table, transaction_id)
    if transaction is None:
        raise NotFoundError(f"No transaction with id {transaction_id}.")
    return transaction


def list_user_transactions(
    table: Table, user_id: str, *, limit: int, cursor: str | None
) -> tuple[list[Transaction], str | None]:
    page = table.query(
        partition=(keys.GSI1PK, keys.user_index(user_id)),
        sort_prefix=(keys.GSI1SK, keys.TRANSACTION_PREFIX),
        index=keys.GSI1,
        limit=limit,
        cursor=cursor,
        newest_first=True,
    )
    return [Transaction.from_item(i) for i in page.items], page.next_cursor


def list_all_transactions(
    table: Table, *, status: TransactionStatus | None, limit: int, cursor: str | None
) -> tuple[list[Transaction], str | None]:
    """Newest first, merged over the status partitions; a page is short only at the very end."""
    statuses = [status] if status else list(TransactionStatus)
    partitions = [p for s in statuses for p in keys.transaction_status_partitions(s.value)]
    positions = _decode_merge_cursor(cursor, partitions)

    def fetch(partition: str) -> tuple[str, list[Item], str | None]:
        page = table.query(
            partition=(keys.GSI2PK, partition),
            index=keys.GSI2,
            limit=limit,
            cursor=_start_key(partition, positions[partition]) if positions[partition] else None,
            newest_first=True,
        )
        return partition, page.items, page.next_cursor

    live = [p for p in partitions if positions[p] is not _DONE]
    with ThreadPoolExecutor(max_workers=min(8, max(1, len(live)))) as pool:
        fetched = list(pool.map(fetch, live))
    merged = heapq.merge(
        *([(item[keys.GSI2SK], partition, item) for item in items] for partition, items, _ in fetched),
        key=lambda entry: entry[0],
        reverse=True,
    )
    taken = [entry for _, entry in zip(range(limit), merged, strict=False)]
    last_taken: dict[str, str] = {partition: sort_key for sort_key, partition, _ in taken}
    next_positions: dict[str, Any] = {p: _DONE for p in partitions}
    for partition, items, next_cursor in fetched:
        if partition in last_taken:
            used_all = last_taken[partition] == items[-1][keys.GSI2SK]
            next_positions[partition] = _DONE if used_all and not next_cursor else last_taken[partition]
        else:
            next_positions[partition] = positions[partition] if items else _DONE
    more = any(position is not _DONE for position in next_positions.values())
    return [Transaction.from_item(item) for _, _, item in taken], (
        _encode_merge_cursor([next_positions[p] for p in partitions]) if more else None
    )


# A merge cursor holds, per partition in order, the GSI2SK of the last item given (null: from the
# top, 0: exhausted). Compressed, because 24 partitions must fit the API's 2 KB cursor.
_DONE: Any = object()


def _start_key(partition: str, sort_key: str) -> str:
    """The table cursor just after ``sort_key`` in ``partition`` (GSI2SK ends with the transaction id)."""
    transaction_id = sort_key.rpartition("#")[2]
    start = {**keys.transaction(transaction_id).as_item(), keys.GSI2PK: partition, keys.GSI2SK: sort_key}
    return str(encode_cursor(serialize(start)))


def _encode_merge_cursor(positions: list[Any]) -> str:
    state = [0 if position is _DONE else position for position in positions]
    packed = zlib.compress(json.dumps(state, separators=(",", ":")).encode(), 9)
    return base64.urlsafe_b64encode(packed).decode()


def _decode_merge_cursor(cursor: str | None, partitions: list[str]) -> dict[str, Any]:
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


# --- write operations shared by the steps, refunds and webhooks ---------------------------------


def finish_operation(
    transaction_id: str,
    status: TransactionStatus,
    *,
    expected: TransactionStatus | tuple[TransactionStatus, ...],
    extra_set: dict[str, Any],
) -> dict[str, Any]:
    """A TransactWriteItems entry: the transaction leaves ``expected`` for ``status``.

    Its GSI2 key moves to the new status, and the client secret and task token go: they are only
    ever served while PENDING.
    """
    expected_statuses = expected if isinstance(expected, tuple) else (expected,)
    sets = ", ".join(f"#{name} = :{name}" for name in extra_set)
    values: dict[str, Any] = {
        ":status": status.value,
        ":now": isoformat(utcnow()),
        ":gsi2pk": keys.transaction_status_index(status.value, transaction_id),
    }
    values.update({f":expected{i}": s.value for i, s in enumerate(expected_statuses)})
    values.update({f":{name}": value for name, value in extra_set.items()})
    names = {"#status": "status", "#gsi2pk": keys.GSI2PK, **{f"#{name}": name for name in extra_set}}
    condition = " OR ".join(f"#status = :expected{i}" for i in range(len(expected_statuses)))
    return {
        "Update": {
            "Key": serialize_key(keys.transaction(transaction_id)),
            "UpdateExpression": f"SET #status = :status, #gsi2pk = :gsi2pk, updatedAt = :now"
            f"{', ' + sets if sets else ''} REMOVE clientSecret, taskToken",
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": serialize(values),
        }
    }


def release_lock_operation(user_id: str, course_id: str, transaction_id: str) -> dict[str, Any]:
    return {
        "Delete": {
            "Key": serialize_key(keys.purchase_lock(user_id, course_id)),
            "ConditionExpression": "attribute_not_exists(PK) OR transactionId = :tid",
            "ExpressionAttributeValues": serialize({":tid": transaction_id}),
        }
    }


def counters_operation(course_id: str, *, enrollments: int, revenue_cents: int) -> dict[str, Any]:
    """Move the course's counters (their own item, so the course item and its indexes stay still)."""
    return {
        "Update": {
            "Key": serialize_key(keys.course_counters(course_id)),
            "UpdateExpression": "ADD enrollmentCount :enrollments, revenueCents :revenue",
            "ExpressionAttributeValues": serialize({":enrollments": enrollments, ":revenue": revenue_cents}),
        }
    }
