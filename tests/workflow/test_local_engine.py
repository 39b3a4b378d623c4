"""The local engine runs real ASL that invokes a real task handler through the Lambda Invoke API.

Given a state machine whose Task calls ``tasks.purchase.validate_order`` by function ARN, when an
execution runs, then the handler's result (priced from the course record) is the execution's
output, a business error ends the execution FAILED through the ASL's Catch, and an injected Lambda
service fault is retried by the ASL's Retry. The history is read back as ops would.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from infra.local.cloud import STATE_MACHINE_ROLE
from infra.local.lambda_runtime import function_arn
from lms import aws

FUNCTION = "lms-test-validate-order"
ASL = Path(__file__).parent / "asl" / "validate_order.asl.json"


@pytest.fixture(scope="module")
def state_machine(local_cloud: Any) -> str:
    local_cloud.runtime.register(FUNCTION, "tasks.purchase.validate_order")
    definition = ASL.read_text().replace(
        "${ValidateOrderFunctionArn}", function_arn(FUNCTION, local_cloud.region)
    )
    return aws.client("stepfunctions").create_state_machine(
        name=f"engine-check-{uuid.uuid4().hex[:6]}", definition=definition, roleArn=STATE_MACHINE_ROLE
    )["stateMachineArn"]


def run(state_machine: str, payload: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    sfn = aws.client("stepfunctions")
    name = f"purchase-{uuid.uuid4().hex}"
    arn = sfn.start_execution(stateMachineArn=state_machine, name=name, input=json.dumps(payload))[
        "executionArn"
    ]
    deadline = time.monotonic() + 30
    while (execution := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "execution did not finish"
        time.sleep(0.05)
    assert execution["name"] == name
    return execution, sfn.get_execution_history(executionArn=arn)["events"]


def test_paid_course_order_is_priced_from_the_course_record(state_machine: str, demo) -> None:
    course = demo.data.courses["Python for Beginners"]
    student = demo.data.users["student"]
    execution, history = run(
        state_machine, {"userId": student.user_id, "courseId": course.course_id, "price": 1}
    )

    assert execution["status"] == "SUCCEEDED"
    output = json.loads(execution["output"])
    assert output["price"] == {"amount": course.price_cents, "currency": "usd"}
    assert output["isFree"] is False and output["courseTitle"] == course.title
    types = [event["type"] for event in history]
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"
    assert "TaskScheduled" in types and "TaskSucceeded" in types
    scheduled = next(e for e in history if e["type"] == "TaskScheduled")["taskScheduledEventDetails"]
    assert json.loads(scheduled["parameters"])["FunctionName"].endswith(f":function:{FUNCTION}")


def test_business_error_from_the_handler_is_caught_by_the_asl(state_machine: str, demo) -> None:
    draft = demo.data.courses["Django Deep Dive (draft)"]
    execution, history = run(
        state_machine, {"userId": demo.data.users["student"].user_id, "courseId": draft.course_id}
    )

    assert execution["status"] == "FAILED"
    assert execution["error"] == "OrderRejected"
    task_failed = next(e for e in history if e["type"] == "TaskFailed")["taskFailedEventDetails"]
    assert task_failed["error"] == "OrderNotValidError"
    assert "not published" in task_failed["cause"]


def test_injected_lambda_fault_is_retried(state_machine: str, local_cloud: Any, demo) -> None:
    local_cloud.runtime.inject_fault(FUNCTION, "Lambda.ServiceException", "injected", count=1)
    course = demo.data.courses["HTML & CSS Foundations"]
    execution, history = run(
        state_machine, {"userId": demo.data.users["student"].user_id, "courseId": course.course_id}
    )

    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"])["isFree"] is True
    failures = [e["taskFailedEventDetails"]["error"] for e in history if e["type"] == "TaskFailed"]
    assert failures == ["Lambda.ServiceException"]
