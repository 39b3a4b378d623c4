"""Cold start: every Lambda handler module imports light, and what it defers is ready before a
SnapStart snapshot (the figures themselves are `make bench`'s, never timed here)."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

from lms import snapstart
from workflows.catalog import handler_modules
from workflows.definition import STARTER_HANDLER

MODULES = ["api.app", *sorted({*handler_modules(), STARTER_HANDLER.rpartition(".")[0]})]
# What a handler module must not load when Lambda imports it: each costs a sizeable share of a cold
# start and is needed only by the first call of some functions (pydantic by every domain call).
DEFERRED = (
    "pydantic",
    "stripe",
    "jwt",
    "email_validator",
    "aws_lambda_powertools.event_handler.openapi.models",
)

# A stand-in for Lambda's snapshot_restore_py that records the hooks, then runs them as Lambda does
# before taking the snapshot.
SCRIPT = """
import importlib, json, sys, types
hooks = []
sys.modules["snapshot_restore_py"] = types.SimpleNamespace(
    register_before_snapshot=lambda hook, *args: hooks.append((hook, args)))
importlib.import_module(sys.argv[1])
loaded = [name for name in sys.argv[2:] if name in sys.modules]
for hook, args in hooks:
    hook(*args)
print(json.dumps({"loaded_by_import": loaded, "hooks": len(hooks)}))
"""


@pytest.mark.parametrize("module", MODULES)
def test_importing_a_handler_module_defers_the_heavy_libraries(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, module, *DEFERRED], capture_output=True, text=True, cwd=Path.cwd()
    )
    assert result.returncode == 0, result.stderr[-2000:]  # the before-snapshot hooks ran too
    loaded = json.loads(result.stdout)["loaded_by_import"]
    assert loaded == [], (
        f"importing {module} loads {loaded}: import them inside the handler that needs them and list "
        "them in lms.snapstart.preload (see tasks/purchase.py)"
    )


def test_the_api_and_the_purchase_tasks_prepare_their_first_call_before_the_snapshot() -> None:
    for module in ("api.app", "tasks.purchase"):
        result = subprocess.run(
            [sys.executable, "-c", SCRIPT, module], capture_output=True, text=True, cwd=Path.cwd()
        )
        assert result.returncode == 0, result.stderr[-2000:]
        assert json.loads(result.stdout)["hooks"] >= 1, module


def test_preload_imports_its_modules_when_the_snapshot_is_prepared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cold_start_probe.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    hooks: list[tuple[object, tuple[str, ...]]] = []
    fake = types.SimpleNamespace(register_before_snapshot=lambda hook, *args: hooks.append((hook, args)))
    monkeypatch.setitem(sys.modules, snapstart.HOOKS_MODULE, fake)
    monkeypatch.delitem(sys.modules, "cold_start_probe", raising=False)

    assert snapstart.preload("cold_start_probe")
    assert "cold_start_probe" not in sys.modules  # nothing loads until the snapshot is prepared
    for hook, args in hooks:
        hook(*args)  # type: ignore[operator]
    assert sys.modules["cold_start_probe"].VALUE == 1


def test_without_snapstart_nothing_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, snapstart.HOOKS_MODULE, None)  # import raises ModuleNotFoundError
    assert not snapstart.preload("json")
