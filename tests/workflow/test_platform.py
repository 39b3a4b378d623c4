"""Throwaway workflows declared only in the catalog run on the local cloud like any product workflow.

Each is a ``Workflow`` entry plus a tiny handler module (``tests/throwaway``): no construct, no
wiring. The local cloud deploys them from the entry: functions in worker processes with their
declared environment and timeout, the state machine from the ASL, the event rule with its pattern.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any

import pytest
import requests

from lms import aws
from lms.blobs import S3BlobStore
from lms.settings import get_settings
from tests.purchases import execution
from tests.throwaway import DAWDLE, GREET, HURRY, PING, THROWAWAY, UPLOAD, UPLOAD_PREFIX
from workflows import executions


@pytest.fixture(scope="module")
def deployed(local_cloud: Any) -> Any:
    for workflow in THROWAWAY:
        if workflow.name not in local_cloud.state_machine_arns:
            local_cloud.deploy(workflow)
    return local_cloud


def started_execution(arn: str, *, timeout: float = 30) -> str:
    """Wait until the execution with this ARN exists (an event trigger starts it asynchronously)."""
    sfn = aws.client("stepfunctions")
    deadline = time.monotonic() + timeout
    while True:
        try:
            return str(sfn.describe_execution(executionArn=arn)["executionArn"])
        except sfn.exceptions.ExecutionDoesNotExist:
            assert time.monotonic() < deadline, f"{arn} was never started"
            time.sleep(0.2)


def test_an_api_started_workflow_runs_its_task_with_only_its_declared_environment(deployed) -> None:
    assert os.environ["LMS_JWT_SECRET"]  # the emulator's own environment has secrets...
    started = executions.start(GREET, uuid.uuid4().hex, {"name": "Ada"})

    described, _ = execution(started.arn)

    assert described["status"] == "SUCCEEDED", (described.get("error"), described.get("cause"))
    output = json.loads(described["output"])
    assert output["greeting"] == "hello Ada"
    assert output["functionName"] == "lms-throwaway-greet-greet"
    assert output["tableName"] == get_settings().table_name  # declared: table read
    assert output["seesJwtSecret"] is False  # ...the function sees only what it declared
    assert output["pid"] != os.getpid()  # and runs in its own process


def test_an_s3_upload_starts_the_event_triggered_workflow_named_after_the_object(deployed) -> None:
    key = f"{UPLOAD_PREFIX}{uuid.uuid4().hex}.txt"
    store = S3BlobStore(get_settings().bucket_name)
    body = b"a lesson video, in spirit"

    uploaded = requests.put(
        store.presigned_put(key, "text/plain"), data=body, headers={"Content-Type": "text/plain"}, timeout=10
    )
    assert uploaded.status_code == 200, uploaded.text

    name = UPLOAD.execution_name(key)
    assert name == f"throwaway-upload-{key.replace('/', '-').replace('.', '-')}"
    arn = executions.execution_arn(UPLOAD, name)
    described, _ = execution(started_execution(arn))
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"key": key, "size": len(body), "contentType": "text/plain"}


def test_an_upload_outside_the_rules_prefix_starts_nothing_while_one_inside_does(deployed) -> None:
    store = S3BlobStore(get_settings().bucket_name)
    outside, inside = f"elsewhere/{uuid.uuid4().hex}", f"{UPLOAD_PREFIX}{uuid.uuid4().hex}"
    for key in (outside, inside):
        url = store.presigned_put(key, "text/plain")
        assert requests.put(url, data=b"x", headers={"Content-Type": "text/plain"}, timeout=10).ok

    # The upload inside the prefix was uploaded second; once its execution exists, the other
    # upload's event has been matched (or not) already.
    execution(started_execution(executions.execution_arn(UPLOAD, UPLOAD.execution_name(inside))))
    names = {
        e["name"]
        for e in aws.client("stepfunctions").list_executions(
            stateMachineArn=deployed.state_machine_arns[UPLOAD.name]
        )["executions"]
    }
    assert UPLOAD.execution_name(outside) not in names


def test_a_task_past_its_timeout_fails_as_lambda_does_while_other_executions_carry_on(deployed) -> None:
    slow = executions.start(DAWDLE, uuid.uuid4().hex, {"seconds": 600})
    quick = executions.start(GREET, uuid.uuid4().hex, {"name": "Grace"})

    quick_described, _ = execution(quick.arn)
    slow_described, history = execution(slow.arn, timeout=60)

    assert quick_described["status"] == "SUCCEEDED"
    assert quick_described["stopDate"] < slow_described["stopDate"]
    assert slow_described["status"] == "FAILED"
    assert slow_described["error"] == "Sandbox.Timedout"
    failed = [e for e in history if e["type"] in ("TaskFailed", "LambdaFunctionFailed")]
    assert failed and "Task timed out after 2.00 seconds" in json.dumps(failed[-1], default=str)


def test_a_state_timeout_shorter_than_the_function_is_states_timeout(deployed) -> None:
    started = executions.start(HURRY, uuid.uuid4().hex, {"seconds": 600})

    described, history = execution(started.arn, timeout=60)

    assert described["status"] == "FAILED"
    assert described["error"] == "States.Timeout"


def test_an_event_on_the_lms_bus_starts_the_workflow_whose_rule_matches_it(deployed) -> None:
    ping_id = uuid.uuid4().hex
    put = aws.client("events").put_events(
        Entries=[
            {
                "Source": "lms.tests",
                "DetailType": "Ping",
                "Detail": json.dumps({"pingId": ping_id}),
                "EventBusName": get_settings().event_bus_name,
            }
        ]
    )
    assert put["FailedEntryCount"] == 0

    arn = executions.execution_arn(PING, PING.execution_name(ping_id))
    described, _ = execution(started_execution(arn))
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"pong": ping_id, "detailType": "Ping"}


def test_a_redelivered_event_finds_the_execution_it_started(deployed) -> None:
    """EventBridge delivers at least once: the starter's second delivery starts nothing new."""
    ping_id = uuid.uuid4().hex
    event = json.dumps({"source": "lms.tests", "detail-type": "Ping", "detail": {"pingId": ping_id}}).encode()
    starter = PING.starter
    assert starter is not None

    first = json.loads(deployed.runtime.invoke(starter.name, event)[2])
    second = json.loads(deployed.runtime.invoke(starter.name, event)[2])

    # Running or finished, the second start lands on the first execution (StartExecution with the
    # same name and input is idempotent while it runs, ExecutionAlreadyExists after).
    name = PING.execution_name(ping_id)
    assert first["executionName"] == second["executionName"] == name
    executions_named = [
        e
        for e in aws.client("stepfunctions").list_executions(
            stateMachineArn=deployed.state_machine_arns[PING.name], maxResults=1000
        )["executions"]
        if e["name"] == name
    ]
    assert len(executions_named) == 1
