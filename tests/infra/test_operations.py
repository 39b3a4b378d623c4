"""What ops watch in AWS is derived from the catalog: alarms to one SNS topic, a dashboard, and an
EventBridge rule for executions that end badly (throwaway workflows included, added only through it)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.throwaway import THROWAWAY
from workflows import catalog

WORKFLOWS = (*catalog.WORKFLOWS, *THROWAWAY)


@pytest.fixture(scope="module")
def resources(synthesized_with_throwaway) -> dict[str, Any]:
    _, template_file, _ = synthesized_with_throwaway
    return dict(json.loads(template_file.read_text())["Resources"])


def of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {key: r for key, r in resources.items() if r["Type"] == kind}


def topic(resources: dict[str, Any]) -> str:
    (key,) = of_type(resources, "AWS::SNS::Topic")
    return key


def test_every_state_machine_alarms_on_failed_and_timed_out_executions_to_the_topic(resources) -> None:
    alarms = of_type(resources, "AWS::CloudWatch::Alarm").values()
    machines = of_type(resources, "AWS::StepFunctions::StateMachine")
    assert {m["Properties"]["StateMachineName"] for m in machines.values()} == {
        f"lms-{w.name}" for w in WORKFLOWS
    }
    for key in machines:
        watched = {
            a["Properties"]["MetricName"]
            for a in alarms
            if a["Properties"].get("Namespace") == "AWS/States"
            and {"Name": "StateMachineArn", "Value": {"Ref": key}} in a["Properties"]["Dimensions"]
        }
        assert watched == {"ExecutionsFailed", "ExecutionsTimedOut"}, key
    for alarm in alarms:
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic(resources)}]


def test_api_5xx_and_every_functions_errors_alarm(synthesized_with_throwaway, resources) -> None:
    _, _, stack = synthesized_with_throwaway
    alarms = of_type(resources, "AWS::CloudWatch::Alarm").values()
    assert any(
        a["Properties"].get("Namespace") == "AWS/ApiGateway" and a["Properties"]["MetricName"] == "5XXError"
        for a in alarms
    )
    erroring = {
        json.dumps(a["Properties"]["Dimensions"])
        for a in alarms
        if a["Properties"].get("Namespace") == "AWS/Lambda" and a["Properties"]["MetricName"] == "Errors"
    }
    functions = [stack.api.function] + [f for w in stack.workflows.values() for f in w.functions.values()]
    assert len(functions) == len({f.node.path for f in functions}) > len(WORKFLOWS)
    for function in functions:
        ref = stack.resolve(function.function_name)
        assert json.dumps([{"Name": "FunctionName", "Value": ref}]) in erroring, function.node.path


def test_executions_that_end_badly_go_to_the_topic_through_eventbridge(resources) -> None:
    machines = of_type(resources, "AWS::StepFunctions::StateMachine")
    (rule,) = [
        r
        for r in of_type(resources, "AWS::Events::Rule").values()
        if r["Properties"].get("EventPattern", {}).get("source") == ["aws.states"]  # schedules have none
        # the lake's rule takes every execution's status change, not these machines' bad endings
        and "stateMachineArn" in r["Properties"]["EventPattern"]["detail"]
    ]
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["detail-type"] == ["Step Functions Execution Status Change"]
    assert sorted(pattern["detail"]["status"]) == ["ABORTED", "FAILED", "TIMED_OUT"]
    assert sorted(json.dumps(a) for a in pattern["detail"]["stateMachineArn"]) == sorted(
        json.dumps({"Ref": key}) for key in machines
    )
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Ref": topic(resources)}
    (policy,) = of_type(resources, "AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert any(s.get("Principal") == {"Service": "events.amazonaws.com"} for s in statements)


def test_the_dashboard_shows_every_workflow_and_the_business_metrics(resources) -> None:
    (dashboard,) = of_type(resources, "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for workflow in WORKFLOWS:
        assert f"{workflow.name} executions" in body
    assert "SEARCH('{LMS,service}', 'Sum', 300)" in body
    assert "Lambda errors" in body and "5XXError" in body
