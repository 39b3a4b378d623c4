"""The purchase ASL's shape: what the failed- and timed-out-executions alarms rely on."""

from __future__ import annotations

import json
from typing import Any

from lms.settings import Settings
from workflows.purchase import PURCHASE

FAULTS = {"PurchaseFailed", "NeedsReconciliation"}


def definition() -> dict[str, Any]:
    return dict(json.loads(PURCHASE.path.read_text()))


def test_the_execution_times_out_after_the_longest_payment_window_and_its_compensation() -> None:
    (window_limit,) = [
        m.le for m in Settings.model_fields["payment_window_seconds"].metadata if hasattr(m, "le")
    ]
    assert definition()["TimeoutSeconds"] >= window_limit + 3600


def test_only_faults_end_in_fail_states_and_every_task_has_a_catch() -> None:
    states = definition()["States"]
    fails = {name for name, state in states.items() if state["Type"] == "Fail"}
    assert fails == FAULTS
    assert {states[name]["Error"] for name in fails} == FAULTS
    for name, state in states.items():
        if state["Type"] == "Task":
            assert any("States.ALL" in c["ErrorEquals"] for c in state.get("Catch", [])), name
