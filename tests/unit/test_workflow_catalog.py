from __future__ import annotations

from pathlib import Path

import pytest

from workflows import catalog


def test_render_fills_every_placeholder_and_refuses_unknown_ones(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "demo.asl.json").write_text('{"Resource": "${FnArn}", "Table": "${TableName}"}')
    from workflows import definition

    monkeypatch.setattr(definition, "STATE_MACHINES_DIR", tmp_path)
    workflow = catalog.Workflow(
        name="demo",
        asl_file="demo.asl.json",
        execution_prefix="demo",
        functions=(catalog.TaskFunction("FnArn", "lms-demo-fn", "tasks.demo.fn"),),
    )
    mapping = catalog.substitutions(
        workflow, function_arn={"lms-demo-fn": "arn:fn"}, values={"TableName": "t"}
    )
    assert catalog.render(workflow, mapping) == '{"Resource": "arn:fn", "Table": "t"}'
    with pytest.raises(ValueError, match=r"\$\{TableName\}"):
        catalog.render(workflow, {"FnArn": "arn:fn"})


def test_execution_names_are_business_keys_within_the_80_character_limit() -> None:
    workflow = catalog.Workflow(name="purchase", asl_file="x", execution_prefix="purchase")
    assert workflow.execution_name("tx1") == "purchase-tx1"
    assert len(workflow.execution_name("x" * 200)) == 80
