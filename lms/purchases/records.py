"""Transaction records: their items and index keys, reads, listings and the shared write operations.

A transaction's GSI2 entry is keyed by its status (``keys.transaction_status_index``), so every write
that changes the status also moves the index key; :func:`finish` is that one write.
"""

from __future__ import annotations

from typing import Any

from lms import keys
from lms.clock import isoformat, utcnow
from lms.entities import Transaction, TransactionStatus
from lms.errors import ConflictError, NotFoundError
from lms.expressions import Condition, Update, eq, item_absent, one_of
from lms.table import Change, Delete, Item, Table, query_merged


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


def owned_by(transaction: Transaction, execution_arn: str | None) -> bool:
    """Whether the execution ``execution_arn`` drives this transaction (None: not a run, e.g. a webhook).

    A re-run of a purchase, or an old run retrying a late step, must not cancel or refund on behalf
    of the run the transaction names now.
    """
    return not execution_arn or not transaction.execution_arn or transaction.execution_arn == execution_arn


def finish(
    transaction_id: str,
    status: TransactionStatus,
    *,
    expected: TransactionStatus | tuple[TransactionStatus, ...],
    extra_set: dict[str, Any],
    execution_arn: str | None = None,
    also: Condition | None = None,
) -> Change:
    """A transaction write: the transaction leaves ``expected`` for ``status`` (for ``execution_arn``
    only, when given).

    Its GSI2 key moves to the new status, and the client secret and task token go: they are only
    ever served while PENDING.
    """
    expected_statuses = expected if isinstance(expected, tuple) else (expected,)
    changes = (
        Update()
        .set(
            {
                "status": status.value,
                keys.GSI2PK: keys.transaction_status_index(status.value, transaction_id),
                "updatedAt": isoformat(utcnow()),
                **extra_set,
            }
        )
        .remove("clientSecret", "taskToken")
    )
    when = one_of("status", [s.value for s in expected_statuses])
    if execution_arn:
        when = when & eq("executionArn", execution_arn)
    if also is not None:
        when = when & also
    return Change(keys.transaction(transaction_id), changes, when=when)


def free_lock(user_id: str, course_id: str, transaction_id: str) -> Delete:
    """Free the (student, course) purchase lock if this transaction holds it (or nobody does)."""
    return Delete(
        keys.purchase_lock(user_id, course_id), when=item_absent() | eq("transactionId", transaction_id)
    )


def move_counters(course_id: str, *, enrollments: int, revenue_cents: int) -> Change:
    """Move the course's counters (their own item, so the course item and its indexes stay still)."""
    return Change(
        keys.course_counters(course_id), Update().add(enrollmentCount=enrollments, revenueCents=revenue_cents)
    )
