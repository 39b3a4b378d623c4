"""DynamoDB condition and update expressions, built from attribute names and plain values.

Domain code says *what* must hold and *what* changes; this module writes the expression text, the
``#name`` / ``:value`` placeholders and their maps, so no business function carries a raw
expression or counts placeholders by hand::

    when = item_absent() | lt("expiresAt", now) | eq("transactionId", tid)
    changes = Update().set(status="ACTIVE", updatedAt=now).add(enrollments=1)
    table.update(key, changes, when=eq("status", "PENDING"), otherwise=ConflictError("..."))

Conditions compose with ``&``, ``|`` and ``~``. Both kinds render through one :class:`Placeholders`,
so a condition and an update of the same request never reuse a placeholder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lms import keys


class Placeholders:
    """Hands out ``#nN`` for attribute names and ``:vN`` for values, one request at a time."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}
        self._by_attribute: dict[str, str] = {}

    def name(self, attribute: str) -> str:
        # A dotted path (``counters.enrollments``) is a path of map keys, each its own placeholder.
        return ".".join(self._one_name(part) for part in attribute.split("."))

    def _one_name(self, attribute: str) -> str:
        if attribute not in self._by_attribute:
            placeholder = f"#n{len(self._by_attribute)}"
            self._by_attribute[attribute] = placeholder
            self.names[placeholder] = attribute
        return self._by_attribute[attribute]

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = value
        return placeholder


@dataclass(frozen=True)
class Condition:
    """A condition expression, rendered lazily so it can be combined with others."""

    _render: Callable[[Placeholders], str]

    def render(self, placeholders: Placeholders) -> str:
        return self._render(placeholders)

    def __and__(self, other: Condition) -> Condition:
        return Condition(lambda p: f"({self.render(p)}) AND ({other.render(p)})")

    def __or__(self, other: Condition) -> Condition:
        return Condition(lambda p: f"({self.render(p)}) OR ({other.render(p)})")

    def __invert__(self) -> Condition:
        return Condition(lambda p: f"NOT ({self.render(p)})")


def exists(attribute: str) -> Condition:
    return Condition(lambda p: f"attribute_exists({p.name(attribute)})")


def absent(attribute: str) -> Condition:
    return Condition(lambda p: f"attribute_not_exists({p.name(attribute)})")


def item_exists() -> Condition:
    """The item is there (its partition key attribute exists)."""
    return exists(keys.PK)


def item_absent() -> Condition:
    """No item with this key yet: a create that must not overwrite."""
    return absent(keys.PK)


def _compare(operator: str) -> Callable[[str, Any], Condition]:
    def build(attribute: str, value: Any) -> Condition:
        return Condition(lambda p: f"{p.name(attribute)} {operator} {p.value(value)}")

    return build


eq = _compare("=")
ne = _compare("<>")
lt = _compare("<")
le = _compare("<=")
gt = _compare(">")
ge = _compare(">=")


def equal_all(expected: Mapping[str, Any]) -> Condition:
    """Every attribute of ``expected`` has its value (the item exists, even when ``expected`` is empty)."""
    condition = item_exists()
    for attribute, value in expected.items():
        condition = condition & eq(attribute, value)
    return condition


def one_of(attribute: str, values: Iterable[Any]) -> Condition:
    wanted = list(values)
    if not wanted:
        raise ValueError("one_of needs at least one value")
    return Condition(lambda p: f"{p.name(attribute)} IN ({', '.join(p.value(v) for v in wanted)})")


def contains(attribute: str, value: Any) -> Condition:
    return Condition(lambda p: f"contains({p.name(attribute)}, {p.value(value)})")


def begins_with(attribute: str, prefix: str) -> Condition:
    return Condition(lambda p: f"begins_with({p.name(attribute)}, {p.value(prefix)})")


@dataclass
class Update:
    """An update expression: ``SET``, ``SET … if_not_exists``, ``ADD``, ``REMOVE`` and ``DELETE``.

    Attribute names are given as mapping keys (or ``**fields`` when they are identifiers), so
    reserved words (``status``, ``name``) need no care. ``None`` values are SET as absent: they are
    REMOVEd, since the table never stores nulls.
    """

    _set: dict[str, Any] = field(default_factory=dict)
    _set_if_absent: dict[str, Any] = field(default_factory=dict)
    _add: dict[str, Any] = field(default_factory=dict)
    _remove: list[str] = field(default_factory=list)
    _delete: dict[str, Any] = field(default_factory=dict)

    def set(self, fields: Mapping[str, Any] | None = None, /, **more: Any) -> Update:
        for attribute, value in {**(fields or {}), **more}.items():
            if value is None:
                self._remove.append(attribute)
            else:
                self._set[attribute] = value
        return self

    def set_if_absent(self, fields: Mapping[str, Any] | None = None, /, **more: Any) -> Update:
        """SET each attribute only where the item has none yet (``if_not_exists``)."""
        self._set_if_absent.update({**(fields or {}), **more})
        return self

    def add(self, fields: Mapping[str, Any] | None = None, /, **more: Any) -> Update:
        """Atomic counters (numbers) or set unions (Python sets)."""
        self._add.update({**(fields or {}), **more})
        return self

    def remove(self, *attributes: str) -> Update:
        self._remove.extend(attributes)
        return self

    def delete(self, fields: Mapping[str, Any] | None = None, /, **more: Any) -> Update:
        """Take elements out of set attributes."""
        self._delete.update({**(fields or {}), **more})
        return self

    def __bool__(self) -> bool:
        return bool(self._set or self._set_if_absent or self._add or self._remove or self._delete)

    def render(self, p: Placeholders) -> str:
        assignments = [f"{p.name(a)} = {p.value(v)}" for a, v in self._set.items()]
        assignments += [
            f"{p.name(a)} = if_not_exists({p.name(a)}, {p.value(v)})" for a, v in self._set_if_absent.items()
        ]
        clauses = []
        if assignments:
            clauses.append("SET " + ", ".join(assignments))
        if self._add:
            clauses.append("ADD " + ", ".join(f"{p.name(a)} {p.value(v)}" for a, v in self._add.items()))
        if self._remove:
            clauses.append("REMOVE " + ", ".join(p.name(a) for a in dict.fromkeys(self._remove)))
        if self._delete:
            clauses.append(
                "DELETE " + ", ".join(f"{p.name(a)} {p.value(v)}" for a, v in self._delete.items())
            )
        if not clauses:
            raise ValueError("an update needs at least one change")
        return " ".join(clauses)
