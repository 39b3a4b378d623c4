"""Handlers of the engine-limit workflows (run by the local Lambda runtime in worker processes)."""

from __future__ import annotations

from typing import Any


def bloat(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A result of the size asked for: ``{"blob": "xxx..."}`` of ``event["bytes"]`` characters."""
    return {"blob": "x" * int(event["bytes"])}


def hand_out(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Takes a task token and does nothing with it: the test answers (or not) in its place."""
    return {"received": bool(event.get("token"))}
