"""`lms executions --region/--profile` talks to AWS (here moto's in-process AWS), not the local cloud.

It runs in its own interpreter: ``mock_aws`` resets every moto backend of the process when it ends,
which would wipe the local cloud another test of this worker runs on the same moto.
"""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = """
import json
import boto3
from moto import mock_aws
from infra.local.cli import main

definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
role = "arn:aws:iam::123456789012:role/sfn"
with mock_aws():
    sfn = boto3.client(
        "stepfunctions", region_name="eu-west-1", endpoint_url="https://states.eu-west-1.amazonaws.com"
    )
    ours = sfn.create_state_machine(name="lms-purchase", definition=definition, roleArn=role)
    other = sfn.create_state_machine(name="someone-else", definition=definition, roleArn=role)
    sfn.start_execution(stateMachineArn=ours["stateMachineArn"], name="purchase-tx42", input="{}")
    sfn.start_execution(stateMachineArn=other["stateMachineArn"], name="not-ours", input="{}")
    raise SystemExit(main(["executions", "--region", "eu-west-1", "list"]))
"""


def test_region_option_lists_the_lms_state_machines_executions_in_aws() -> None:
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # a local cloud that is not running
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "purchase-tx42" in result.stdout and "not-ours" not in result.stdout
