"""Starting a purchase (API side): the transaction id of a request and the (student, course) lock."""

from __future__ import annotations

import uuid

from lms import keys
from lms.clock import epoch_seconds
from lms.errors import ConflictError
from lms.expressions import eq, item_absent, lt
from lms.table import Table

_IDEMPOTENCY_NAMESPACE = uuid.UUID("0b7a8f0e-3f51-4c1e-9d0e-6c2f4f7d2a10")


def transaction_id_for(user_id: str, course_id: str, idempotency_key: str | None) -> str:
    """A client's Idempotency-Key maps to one transaction per (user, course); without one, a fresh id.

    Scoped by course so that reusing a key for another course starts that course's own purchase
    instead of replaying (and locking) the first one.
    """
    if idempotency_key:
        return uuid.uuid5(_IDEMPOTENCY_NAMESPACE, f"{user_id}/{course_id}/{idempotency_key}").hex
    return uuid.uuid4().hex


def claim_purchase(
    table: Table, *, user_id: str, course_id: str, transaction_id: str, window_seconds: int
) -> str:
    """Take the (student, course) purchase lock for ``transaction_id`` with a conditional write.

    Returns the transaction that holds the lock: ours, or the one already in flight, so concurrent
    requests for the same course converge on one transaction, one execution and one charge.
    """
    now = epoch_seconds()
    # The lock outlives the payment window a little; the workflow releases it when it ends.
    expires = now + window_seconds + 300
    lock = {
        **keys.purchase_lock(user_id, course_id).as_item(),
        "transactionId": transaction_id,
        "expiresAt": expires,
        keys.TTL_ATTRIBUTE: expires,
    }
    free_or_ours = item_absent() | lt("expiresAt", now) | eq("transactionId", transaction_id)
    for _ in range(3):
        if table.put_if(lock, when=free_or_ours):
            return transaction_id
        holder = table.get(keys.purchase_lock(user_id, course_id), consistent=True)
        if holder is not None:
            return str(holder["transactionId"])
    raise ConflictError("Another purchase of this course is being set up; retry in a moment.")


def release_lock(table: Table, *, user_id: str, course_id: str, transaction_id: str) -> None:
    """Free the purchase lock if ``transaction_id`` still holds it."""
    table.delete_if(keys.purchase_lock(user_id, course_id), when=eq("transactionId", transaction_id))
