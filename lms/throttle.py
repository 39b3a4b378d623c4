"""Counting attempts per window with one conditional ``ADD`` each: failed logins, public verifications.

Checking first and counting after the (slow) work let parallel attempts all pass the check; a
conditional ADD lets at most ``limit`` attempts per window through, whatever the concurrency.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from botocore.exceptions import ClientError

from lms import keys
from lms.clock import utcnow
from lms.errors import RateLimitedError
from lms.table import Table, is_conditional_failure


def window(seconds: int) -> tuple[int, int]:
    """(start of the current window, seconds until it ends) for windows of ``seconds``."""
    now = utcnow().timestamp()
    start = int(now // seconds * seconds)
    return start, max(1, math.ceil(start + seconds - now))


def count(table: Table, key: keys.Key, delta: int, *, limit: int | None, expires: int) -> None:
    table.update(
        key,
        expression="ADD failures :delta SET #ttl = :ttl",
        names={"#ttl": keys.TTL_ATTRIBUTE},
        values={":delta": delta, ":ttl": expires, **({":limit": limit} if limit is not None else {})},
        condition="attribute_not_exists(failures) OR failures < :limit" if limit is not None else None,
    )


def take_attempt(
    table: Table, counters: Sequence[tuple[keys.Key, int]], *, expires: int, retry_after: int, message: str
) -> None:
    """Count one attempt on every counter, only while under every limit; else 429 (nothing counted)."""
    taken: list[keys.Key] = []
    for key, limit in counters:
        try:
            count(table, key, 1, limit=limit, expires=expires)
        except ClientError as error:
            if not is_conditional_failure(error):
                raise
            give_back(table, taken, expires)
            raise RateLimitedError(message, retry_after_seconds=retry_after) from error
        taken.append(key)


def give_back(table: Table, counted: Sequence[keys.Key], expires: int) -> None:
    for key in counted:
        count(table, key, -1, limit=None, expires=expires)
