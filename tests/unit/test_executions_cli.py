"""`lms executions --region/--profile` talks to AWS (here moto's in-process AWS), not the local cloud."""

from __future__ import annotations

import json

import pytest
from moto import mock_aws

from infra.local.cli import main

DEFINITION = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
ROLE = "arn:aws:iam::123456789012:role/sfn"


def test_region_option_lists_the_lms_state_machines_executions_in_aws(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # a local cloud that is not running
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        import boto3

        sfn = boto3.client(
            "stepfunctions", region_name="eu-west-1", endpoint_url="https://states.eu-west-1.amazonaws.com"
        )
        ours = sfn.create_state_machine(name="lms-purchase", definition=DEFINITION, roleArn=ROLE)
        other = sfn.create_state_machine(name="someone-else", definition=DEFINITION, roleArn=ROLE)
        sfn.start_execution(stateMachineArn=ours["stateMachineArn"], name="purchase-tx42", input="{}")
        sfn.start_execution(stateMachineArn=other["stateMachineArn"], name="not-ours", input="{}")

        assert main(["executions", "--region", "eu-west-1", "list"]) == 0

    listed = capsys.readouterr().out
    assert "purchase-tx42" in listed and "not-ours" not in listed
