"""Transaction records: their items and index keys, reads, listings and the shared write operations.

A transaction's GSI2 entry is keyed by its status (``keys.transaction_status_index``), so every write
that changes the status also moves the index key; :func:`finish_operation` is that one write.
"""

from __future__ import annotations

from typing import Any

from lms import keys
from lms.clock import isoformat, utcnow
from lms.entities import Transaction, TransactionStatus
from lms.errors import ConflictError, NotFoundError
from lms.table import Item, Table, query_merged, serialize, serialize_key


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
    page = query_merged(
        table,
        index=keys.GSI2,
        partition_attribute=keys.GSI2PK,
        sort_attribute=keys.GSI2SK,
        partitions=[p for s in statuses for p in keys.transaction_status_partitions(s.value)],
        start_key=_start_key,
        limit=limit,
        cursor=cursor,
        newest_first=True,
    )
    return [Transaction.from_item(item) for item in page.items], page.next_cursor


def _start_key(partition: str, sort_key: str) -> Item:
    """The index key of the transaction at ``sort_key`` (GSI2SK ends with the transaction id)."""
    transaction_id = sort_key.rpartition("#")[2]
    return {**keys.transaction(transaction_id).as_item(), keys.GSI2PK: partition, keys.GSI2SK: sort_key}


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
