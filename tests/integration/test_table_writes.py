"""The table's conditional writes against the local cloud's DynamoDB: bools and domain errors, no botocore."""

from __future__ import annotations

import uuid

import pytest

from lms import keys
from lms.errors import ConditionFailedError, ConflictError, NotFoundError
from lms.expressions import Update, absent, eq, equal_all, item_absent, item_exists, lt, one_of
from lms.table import Change, Check, Delete, Put, Table


def _key() -> keys.Key:
    return keys.Key(f"TEST#{uuid.uuid4().hex}", "A")


@pytest.fixture
def table(local_cloud) -> Table:
    return Table()


def test_a_create_that_must_not_overwrite_says_false_the_second_time(table: Table) -> None:
    key = _key()
    assert table.put_if({**key.as_item(), "n": 1}, when=item_absent())
    assert not table.put_if({**key.as_item(), "n": 2}, when=item_absent())
    assert table.get(key, consistent=True)["n"] == 1


def test_a_strict_write_raises_the_callers_error_or_a_409(table: Table) -> None:
    key = _key()
    table.put({**key.as_item(), "status": "PENDING"})
    with pytest.raises(NotFoundError, match="gone"):
        table.put({**key.as_item()}, when=eq("status", "DONE"), otherwise=NotFoundError("gone"))
    with pytest.raises(ConditionFailedError) as raised:
        table.update(key, Update().set(status="DONE"), when=eq("status", "ACTIVE"))
    assert raised.value.status == 409
    assert table.get(key, consistent=True)["status"] == "PENDING"


def test_an_update_sets_adds_removes_and_keeps_what_is_already_set(table: Table) -> None:
    key = _key()
    table.put({**key.as_item(), "status": "PENDING", "note": "x", "tags": {"a"}, "first": "kept"})
    item = table.update(
        key,
        Update()
        .set({"status": "ACTIVE"}, name="reserved word")
        .set_if_absent(first="new", second="set")
        .add(count=2, tags={"b"})
        .remove("note")
        .set(cleared=None),
        when=eq("status", "PENDING") & item_exists(),
    )
    assert item["status"] == "ACTIVE" and item["name"] == "reserved word"
    assert (item["first"], item["second"], item["count"]) == ("kept", "set", 2)
    assert sorted(item["tags"]) == ["a", "b"] and "note" not in item and "cleared" not in item


def test_update_if_answers_none_and_changes_nothing_when_the_condition_fails(table: Table) -> None:
    key = _key()
    table.put({**key.as_item(), "expiresAt": 10})
    assert table.update_if(key, Update().set(expiresAt=20), when=lt("expiresAt", 5)) is None
    assert table.update_if(key, Update().set(expiresAt=20), when=lt("expiresAt", 15))["expiresAt"] == 20


def test_conditions_compose_with_or_and_not(table: Table) -> None:
    key = _key()
    table.put({**key.as_item(), "holder": "a", "expiresAt": 100})
    taken = item_absent() | lt("expiresAt", 50) | eq("holder", "b")
    assert not table.put_if({**key.as_item(), "holder": "b"}, when=taken)
    assert table.put_if({**key.as_item(), "holder": "b"}, when=~eq("holder", "c") & one_of("holder", ["a"]))
    assert table.delete_if(key, when=equal_all({"holder": "b"}))
    assert table.get(key, consistent=True) is None


def test_a_transaction_is_all_or_nothing_and_names_the_failed_write(table: Table) -> None:
    guard, first, second = _key(), _key(), _key()
    table.put({**guard.as_item(), "open": True})
    table.put({**second.as_item(), "v": 1})
    writes = [
        Check(guard, eq("open", False)),
        Put({**first.as_item(), "v": 1}, item_absent()),
        Change(second, Update().add(v=1), absent("locked")),
    ]
    assert not table.transact_if(writes)
    assert table.get(first, consistent=True) is None and table.get(second, consistent=True)["v"] == 1

    with pytest.raises(ConflictError, match="positions"):
        table.transact(writes, otherwise=lambda failed: ConflictError(f"positions {failed}"))
    try:
        table.transact(writes, otherwise=lambda failed: ConflictError(str(failed)))
    except ConflictError as error:
        assert error.message == "(0,)"

    table.update(guard, Update().set(open=False))
    table.transact([*writes, Delete(_key())])
    assert table.get(first, consistent=True)["v"] == 1 and table.get(second, consistent=True)["v"] == 2
