"""The catalog derives names, placeholders, environments and state machine grants from declarations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workflows import catalog
from workflows.catalog import Access, BucketAccess, EventTrigger, Needs, Resources, TaskFunction, Workflow
from workflows.purchase import PURCHASE

RESOURCES = Resources(
    table_name="t",
    bucket_name="b",
    event_bus_name="bus",
    stripe_secret_arn="arn:secret",
    state_machine_arns={"demo": "arn:sm:demo"},
)


def demo(tmp_path: Path, asl: dict[str, object], **options: object) -> Workflow:
    (tmp_path / "demo.asl.json").write_text(json.dumps(asl))
    return Workflow(name="demo", asl_dir=tmp_path, **options)  # type: ignore[arg-type]


def test_names_placeholders_and_handlers_derive_from_the_state_name() -> None:
    (validate, *_) = PURCHASE.functions
    assert validate.name == "lms-purchase-validate-order"
    assert validate.placeholder == "ValidateOrderFunctionArn"
    assert validate.handler == "tasks.purchase.validate_order"
    assert PURCHASE.path.name == "purchase.asl.json" and PURCHASE.state_machine_name == "lms-purchase"


def test_render_fills_every_placeholder_adds_the_timeout_and_refuses_unknown_ones(tmp_path: Path) -> None:
    workflow = demo(
        tmp_path,
        {"StartAt": "Fn", "States": {"Fn": {"Resource": "${FnFunctionArn}", "Table": "${TableName}"}}},
        functions=(TaskFunction("Fn"),),
        timeout_seconds=60,
    )
    mapping = catalog.substitutions(workflow, function_arn={"lms-demo-fn": "arn:fn"}, resources=RESOURCES)
    assert mapping == {"FnFunctionArn": "arn:fn", "TableName": "t"}  # only what the ASL uses
    rendered = json.loads(catalog.render(workflow, mapping))
    assert rendered["States"]["Fn"] == {"Resource": "arn:fn", "Table": "t"}
    assert rendered["TimeoutSeconds"] == 60
    with pytest.raises(ValueError, match=r"\$\{TableName\}"):
        catalog.render(workflow, {"FnFunctionArn": "arn:fn"})


def test_an_asl_placeholder_nobody_fills_is_an_error(tmp_path: Path) -> None:
    workflow = demo(tmp_path, {"StartAt": "X", "States": {"X": {"Resource": "${Mystery}"}}})
    with pytest.raises(ValueError, match="Mystery"):
        catalog.substitutions(workflow, function_arn={}, resources=RESOURCES)


def test_a_function_gets_the_variables_of_its_needs_and_nothing_else() -> None:
    workflow = Workflow(name="demo")
    bare = TaskFunction("Bare", workflow="demo")
    full = TaskFunction(
        "Full",
        Needs(
            table=Access.READ,
            bucket=BucketAccess(Access.WRITE, "uploads/"),
            stripe_secret=True,
            event_bus_put=True,
            start_workflows=("demo",),
        ),
        packaging=catalog.Zip(dependencies=("stripe",)),
        workflow="demo",
    )
    assert catalog.environment(workflow, bare, RESOURCES) == {}
    assert catalog.environment(workflow, full, RESOURCES) == {
        "LMS_TABLE_NAME": "t",
        "LMS_BUCKET_NAME": "b",
        "LMS_EVENT_BUS_NAME": "bus",
        "LMS_STRIPE_SECRET_ARN": "arn:secret",
        "LMS_DEMO_STATE_MACHINE_ARN": "arn:sm:demo",
    }


def test_an_event_trigger_adds_a_starter_that_may_only_start_its_workflow(tmp_path: Path) -> None:
    workflow = demo(
        tmp_path,
        {"StartAt": "X", "States": {"X": {"Type": "Succeed"}}},
        trigger=EventTrigger({"source": ["aws.s3"]}, business_key=("detail.object.key",), bus="default"),
    )
    starter = workflow.starter
    assert starter is not None and starter.name == "lms-demo-starter"
    assert starter.needs == Needs(start_workflows=("demo",))
    assert catalog.environment(workflow, starter, RESOURCES) == {
        "LMS_DEMO_STATE_MACHINE_ARN": "arn:sm:demo",
        "LMS_WORKFLOW": "demo",
        "LMS_EXECUTION_PREFIX": "demo",
        "LMS_BUSINESS_KEY": "detail.object.key",
    }
    assert Workflow(name="api-started").starter is None


def test_state_machine_grants_come_from_the_asl_integrations(tmp_path: Path) -> None:
    task = "arn:aws:states:::"
    workflow = demo(
        tmp_path,
        {
            "StartAt": "Record",
            "States": {
                "Record": {"Type": "Task", "Resource": f"{task}dynamodb:putItem"},
                "Work": {"Type": "Task", "Resource": f"{task}lambda:invoke.waitForTaskToken"},
                "Fan": {
                    "Type": "Parallel",
                    "Branches": [
                        {"States": {"Tell": {"Type": "Task", "Resource": f"{task}events:putEvents"}}}
                    ],
                },
            },
        },
    )
    assert catalog.integrations(workflow) == {
        "table": {"dynamodb:PutItem"},
        "event_bus": {"events:PutEvents"},
    }
    (tmp_path / "demo.asl.json").write_text(
        json.dumps({"StartAt": "X", "States": {"X": {"Type": "Task", "Resource": f"{task}sqs:sendMessage"}}})
    )
    with pytest.raises(ValueError, match="sqs:sendMessage"):
        catalog.integrations(workflow)


def test_a_timeout_in_the_asl_must_agree_with_the_catalog(tmp_path: Path) -> None:
    workflow = demo(tmp_path, {"StartAt": "X", "TimeoutSeconds": 5, "States": {}}, timeout_seconds=60)
    with pytest.raises(ValueError, match="TimeoutSeconds 5"):
        catalog.definition(workflow)


def test_declarations_refuse_what_cannot_be_deployed() -> None:
    with pytest.raises(ValueError, match="prefix"):
        BucketAccess(Access.READ, "")
    with pytest.raises(ValueError, match="workflow name"):
        Workflow(name="Not_A_Name")
    with pytest.raises(ValueError, match="stripe SDK"):
        TaskFunction("Charge", Needs(stripe_secret=True))
    with pytest.raises(ValueError, match="event bus"):
        EventTrigger({"source": ["x"]}, business_key=("id",), bus="somewhere")


def test_execution_names_are_business_keys_within_the_80_character_limit() -> None:
    workflow = Workflow(name="purchase")
    assert workflow.execution_name("tx1") == "purchase-tx1"
    assert len(workflow.execution_name("x" * 200)) == 80
    assert workflow.execution_name("uploads/a b.mp4") == "purchase-uploads-a-b-mp4"


def test_the_catalog_finds_each_workflow_from_its_asl_file_and_its_module(tmp_path, monkeypatch) -> None:
    """Adding a workflow is three files: nothing lists it, and a missing declaration is loud."""
    import importlib
    import json as json_
    import textwrap

    package = tmp_path / "found_workflows"
    package.mkdir()
    (package / "__init__.py").write_text("")
    asl = json_.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    for name in ("alpha", "alpha-beta"):
        (tmp_path / f"{name}.asl.json").write_text(asl)
    (package / "alpha.py").write_text(
        textwrap.dedent(
            f"""
            from pathlib import Path
            from workflows.definition import Workflow
            ALPHA = Workflow(name="alpha", asl_dir=Path({str(tmp_path)!r}))
            ALPHA_BETA = Workflow(name="alpha-beta", asl_dir=Path({str(tmp_path)!r}))
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()

    found = catalog.declared_workflows(tmp_path, "found_workflows")
    assert [w.name for w in found] == ["alpha-beta", "alpha"]

    (tmp_path / "gamma.asl.json").write_text(asl)
    with pytest.raises(LookupError, match="gamma.asl.json: no module found_workflows.gamma"):
        catalog.declared_workflows(tmp_path, "found_workflows")


def test_the_product_catalog_is_every_asl_file_of_state_machines() -> None:
    files = sorted(p.name.removesuffix(".asl.json") for p in catalog.STATE_MACHINES_DIR.glob("*.asl.json"))
    assert sorted(w.name for w in catalog.WORKFLOWS) == files
