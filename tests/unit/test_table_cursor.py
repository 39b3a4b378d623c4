from __future__ import annotations

import pytest

from lms.errors import ValidationError
from lms.table import decode_cursor, encode_cursor, serialize


def test_cursor_round_trips_a_dynamodb_key() -> None:
    key = serialize({"PK": "COURSE#1", "SK": "COURSE", "GSI2PK": "COURSES#PUBLISHED", "GSI2SK": "2026#1"})
    cursor = encode_cursor(key)
    assert cursor and "COURSE#1" not in cursor  # opaque to clients
    assert decode_cursor(cursor) == key


@pytest.mark.parametrize("cursor", ["%%%", "bm90IGpzb24", "WzEsMl0", "eyJQSyI6IDF9"])
def test_foreign_cursors_are_validation_errors(cursor: str) -> None:
    with pytest.raises(ValidationError):
        decode_cursor(cursor)


def test_no_cursor_means_first_page() -> None:
    assert decode_cursor(None) is None and encode_cursor(None) is None
