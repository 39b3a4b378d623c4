"""The purchase workflow in the CDK app: the same ASL, least-privilege functions, logging, tracing, alarms."""

from __future__ import annotations

import json
from typing import Any

from workflows.purchase import PURCHASE


def _functions(template: Any) -> dict[str, dict[str, Any]]:
    found = template.find_resources("AWS::Lambda::Function")
    # Container-image functions have no Handler (the image runs it); the purchase has none.
    return {r["Properties"]["Handler"]: r for r in found.values() if "Handler" in r["Properties"]}


def test_state_machine_is_the_asl_file_with_logging_all_and_tracing(synthesized) -> None:
    template, template_file = synthesized
    machines = template.find_resources("AWS::StepFunctions::StateMachine")
    (machine,) = [m for logical_id, m in machines.items() if logical_id.startswith("PurchaseStateMachine")]
    properties = machine["Properties"]
    assert properties["LoggingConfiguration"]["Level"] == "ALL"
    assert properties["TracingConfiguration"] == {"Enabled": True}
    assert properties["StateMachineType"] == "STANDARD"
    # The definition is the ASL file; CDK fills the same placeholders the local cloud fills.
    asl = json.loads(PURCHASE.path.read_text())
    substitutions = properties["DefinitionSubstitutions"]
    assert set(substitutions) == {fn.placeholder for fn in PURCHASE.functions} | {"TableName", "EventBusName"}
    # The ASL file the local cloud runs, plus the catalog's overall timeout.
    assert json.loads(properties["DefinitionString"]) == {**asl, "TimeoutSeconds": PURCHASE.timeout_seconds}


def test_one_function_per_task_with_only_the_secrets_it_needs(synthesized) -> None:
    template, _ = synthesized
    functions = _functions(template)
    for task in PURCHASE.functions:
        assert task.handler in functions, task.handler
        properties = functions[task.handler]["Properties"]
        environment = properties["Environment"]["Variables"]
        talks_to_stripe = task.name in {
            "lms-purchase-create-payment-intent",
            "lms-purchase-await-payment",
            "lms-purchase-refund-payment",
            "lms-purchase-close-transaction",
        }
        assert ("LMS_STRIPE_SECRET_ARN" in environment) is talks_to_stripe, task.name
        assert not any("SECRET_KEY" in name for name in environment), (
            "secrets never in clear in the environment"
        )
        assert properties["TracingConfig"] == {"Mode": "Active"}
        assert properties["Timeout"] == task.timeout_seconds  # its own, not the API's 29 s
    api = functions["api.app.handler"]["Properties"]["Environment"]["Variables"]
    assert "LMS_PURCHASE_STATE_MACHINE_ARN" in api and "LMS_STRIPE_SECRET_ARN" in api


def test_state_machine_may_invoke_exactly_its_functions(synthesized) -> None:
    template, _ = synthesized
    policies = template.find_resources("AWS::IAM::Policy")
    invoke_resources = [
        statement["Resource"]
        for logical_id, policy in policies.items()
        if logical_id.startswith("PurchaseStateMachine")
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement.get("Action") == "lambda:InvokeFunction"
    ]
    (purchase,) = (r for r in invoke_resources if "PurchaseValidateOrder" in json.dumps(r))
    assert len(purchase) == len(PURCHASE.functions)
    assert not any(":*" in json.dumps(resource) for resource in purchase)


def test_failed_timed_out_and_unreconciled_executions_raise_alarms(synthesized) -> None:
    template, _ = synthesized
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    # Function errors and API 5xx have their own alarms (tests/infra/test_operations.py).
    metrics = sorted(
        a["Properties"]["MetricName"]
        for logical_id, a in alarms.items()
        if logical_id.startswith("Purchase")
        and a["Properties"]["Namespace"] not in ("AWS/Lambda", "AWS/ApiGateway")
    )
    assert metrics == ["ExecutionsFailed", "ExecutionsTimedOut", "purchase-NeedsReconciliation"]


def test_stripe_secrets_live_in_secrets_manager(synthesized) -> None:
    template, _ = synthesized
    secrets = template.find_resources("AWS::SecretsManager::Secret")
    assert any("Stripe" in s["Properties"].get("Description", "") for s in secrets.values())
