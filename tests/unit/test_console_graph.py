"""The console's state-machine drawing: a layered layout of each catalog workflow's ASL."""

from __future__ import annotations

import itertools
import json

import pytest

from api.console import graph
from workflows.catalog import WORKFLOWS
from workflows.definition import BusinessRecord, settled_when


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_no_two_states_overlap_and_every_transition_is_drawn(workflow) -> None:
    definition = json.loads(workflow.path.read_text())
    drawn = graph.layout(definition)

    assert set(drawn.boxes) == set(definition["States"])
    for a, b in itertools.combinations(drawn.boxes.values(), 2):
        apart_x = a.left + a.width + graph.GAP_X / 2 <= b.left or b.left + b.width + graph.GAP_X / 2 <= a.left
        apart_y = a.y + a.height <= b.y or b.y + b.height <= a.y
        assert apart_x or apart_y, (a.name, b.name)
    for box in drawn.boxes.values():
        assert box.left >= 0 and box.x + box.width / 2 <= drawn.width
        assert all(len(line) * graph.CHAR_PX <= box.width for line in box.lines)  # labels fit
    expected = {
        (name, target, error)
        for name, state in definition["States"].items()
        for target, error in graph.transitions(state)
        if target != name
    }
    assert {(e.source, e.target, e.error) for e in drawn.edges} == expected
    # The layered layout keeps crossings to a handful, where rows by BFS distance crossed many (the
    # attempt workflow's re-wait loop and its three ways out make the most: 6).
    assert drawn.crossings <= 6


def test_a_transition_down_the_flow_points_down_and_a_loop_back_up() -> None:
    definition = {
        "StartAt": "Try",
        "States": {
            "Try": {"Type": "Task", "Next": "Check"},
            "Check": {"Type": "Choice", "Choices": [{"Next": "Try"}], "Default": "Done"},
            "Done": {"Type": "Succeed"},
        },
    }
    drawn = graph.layout(definition)
    edges = {(e.source, e.target): e for e in drawn.edges}
    assert edges["Try", "Check"].points[0][1] < edges["Try", "Check"].points[-1][1]
    assert edges["Check", "Try"].points[0][1] > edges["Check", "Try"].points[-1][1]  # the loop goes up
    assert drawn.boxes["Try"].y < drawn.boxes["Check"].y < drawn.boxes["Done"].y


def test_long_names_wrap_at_a_word() -> None:
    assert graph.label_lines("RecordNeedsReconciliation") == ("RecordNeeds", "Reconciliation")
    assert graph.label_lines("Enrolled") == ("Enrolled",)


def test_a_record_says_when_it_needs_no_rerun() -> None:
    record = BusinessRecord(
        "thing",
        lambda key: None,
        settled=(settled_when("status", "DONE"), settled_when("child.status", "GONE")),
    )
    assert record.settled_reason({"status": "FAILED"}, "k") is None
    assert record.settled_reason({"status": "DONE"}, "k") == "its status is DONE"
    assert (
        record.settled_reason({"status": "FAILED", "child": {"status": "GONE"}}, "k")
        == "its child.status is GONE"
    )
