"""Counting attempts per window with one conditional ``ADD`` each: failed logins, public verifications.

Checking first and counting after the (slow) work let parallel attempts all pass the check; a
conditional ADD lets at most ``limit`` attempts per window through, whatever the concurrency.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from lms import keys
from lms.clock import utcnow
from lms.errors import RateLimitedError
from lms.expressions import Update, absent, lt
from lms.table import Table


def window(seconds: int) -> tuple[int, int]:
    """(start of the current window, seconds until it ends) for windows of ``seconds``."""
    now = utcnow().timestamp()
    start = int(now // seconds * seconds)
    return start, max(1, math.ceil(start + seconds - now))


def count(table: Table, key: keys.Key, delta: int, *, limit: int | None, expires: int) -> bool:
    """Add ``delta`` to the counter at ``key``; False (nothing counted) when it is at ``limit`` already."""
    changes = Update().add(failures=delta).set({keys.TTL_ATTRIBUTE: expires})
    if limit is None:
        table.update(key, changes)
        return True
    return table.update_if(key, changes, when=absent("failures") | lt("failures", limit)) is not None


def take_attempt(
    table: Table, counters: Sequence[tuple[keys.Key, int]], *, expires: int, retry_after: int, message: str
) -> None:
    """Count one attempt on every counter, only while under every limit; else 429 (nothing counted)."""
    taken: list[keys.Key] = []
    for key, limit in counters:
        if not count(table, key, 1, limit=limit, expires=expires):
            give_back(table, taken, expires)
            raise RateLimitedError(message, retry_after_seconds=retry_after)
        taken.append(key)


def give_back(table: Table, counted: Sequence[keys.Key], expires: int) -> None:
    for key in counted:
        count(table, key, -1, limit=None, expires=expires)
