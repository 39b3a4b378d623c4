"""Lambda SnapStart's before-snapshot hook, where the runtime offers it.

A SnapStart function is initialised once, when a version is published; its environments are then
restored from a snapshot of that memory. Work registered here runs before the snapshot is taken, so
no restored environment pays for it. ``snapshot_restore_py`` ships with Lambda's managed Python
runtimes only: elsewhere (tests, the local cloud, a function without SnapStart) nothing is registered.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

HOOKS_MODULE = "snapshot_restore_py"


def before_snapshot(hook: Callable[..., Any], *args: Any) -> bool:
    """Run ``hook(*args)`` before the snapshot; False where there is no snapshot to prepare."""
    try:
        hooks = importlib.import_module(HOOKS_MODULE)
    except ModuleNotFoundError:
        return False
    hooks.register_before_snapshot(hook, *args)
    return True


def preload(*modules: str) -> bool:
    """Import ``modules`` before the snapshot.

    Task handlers import the domain inside their bodies, so importing a task module stays cheap and
    each function loads only what its own step uses; with SnapStart they are all in the snapshot.
    """
    return before_snapshot(_import_all, *modules)


def _import_all(*modules: str) -> None:
    for module in modules:
        importlib.import_module(module)
