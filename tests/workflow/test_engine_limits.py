"""The local engine refuses what AWS Step Functions refuses (infra/local/engine_limits.py).

Each test makes a call AWS would refuse, through a throwaway workflow (tests/throwaway/engine_limits.py)
run by the local cloud with its real handlers: a payload over 256 KB, a token answered after its
execution was stopped or timed out, an execution past its TimeoutSeconds, a task past its own.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lms import aws
from tests.purchases import execution, states_entered
from tests.throwaway.engine_limits import AWAIT, BLOAT, DOUBLE, ENGINE_LIMITS, GATHER, LINGER, RUSH
from workflows import executions
from workflows.callbacks import StepFunctionsCallbacks


@pytest.fixture(scope="module")
def deployed(local_cloud: Any) -> Any:
    for workflow in ENGINE_LIMITS:
        if workflow.name not in local_cloud.state_machine_arns:
            local_cloud.deploy(workflow)
    return local_cloud


def handed_out_tokens(execution_arn: str, *, attempts: int = 1, timeout: float = 20) -> list[str]:
    """The task tokens the token task passed to its function, one per attempt (from the history)."""
    sfn = aws.client("stepfunctions")
    deadline = time.monotonic() + timeout
    while True:
        history = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
        scheduled = [e for e in history if e["type"] == "TaskScheduled"]
        if len(scheduled) >= attempts:
            return [
                str(json.loads(e["taskScheduledEventDetails"]["parameters"])["Payload"]["token"])
                for e in scheduled
            ]
        assert time.monotonic() < deadline, f"{attempts} attempt(s) of the token task never started"
        time.sleep(0.05)


def handed_out_token(execution_arn: str) -> str:
    return handed_out_tokens(execution_arn)[-1]


def error_code(call: Any) -> str | None:
    try:
        call()
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return None


def refusal(call: Any) -> str:
    with pytest.raises(ClientError) as refused:
        call()
    return str(refused.value.response["Error"]["Code"])


def answers_to(token: str) -> dict[str, str]:
    """What Step Functions answers each way of completing (or keeping alive) the task of ``token``."""
    sfn = aws.client("stepfunctions")
    return {
        "success": refusal(lambda: sfn.send_task_success(taskToken=token, output="{}")),
        "failure": refusal(lambda: sfn.send_task_failure(taskToken=token, error="Late", cause="late")),
        "heartbeat": refusal(lambda: sfn.send_task_heartbeat(taskToken=token)),
    }


ALL_TIMED_OUT = {"success": "TaskTimedOut", "failure": "TaskTimedOut", "heartbeat": "TaskTimedOut"}


def test_a_task_result_over_256_kb_fails_the_execution_although_a_states_all_catch_is_there(deployed) -> None:
    small = executions.start(BLOAT, uuid.uuid4().hex, {"bytes": 1000})
    large = executions.start(BLOAT, uuid.uuid4().hex, {"bytes": 300_000})

    small_described, small_history = execution(small.arn)
    described, history = execution(large.arn)

    assert small_described["status"] == "SUCCEEDED"
    assert states_entered(small_history)[-1] == "Bloated"
    # The ResultSelector would have kept only the status code, but the result itself is too large,
    # and AWS never lets States.ALL catch States.DataLimitExceeded.
    assert described["status"] == "FAILED", described
    assert described["error"] == "States.DataLimitExceeded"
    assert "Caught" not in states_entered(history)
    assert history[-1]["type"] == "ExecutionFailed"


def test_a_task_input_over_256_kb_after_parameters_fails_the_execution(deployed) -> None:
    fits = executions.start(DOUBLE, uuid.uuid4().hex, {"blob": "x" * 1000})
    doubled = executions.start(DOUBLE, uuid.uuid4().hex, {"blob": "x" * 150_000})  # 300 KB once doubled

    fits_described, fits_history = execution(fits.arn)
    described, history = execution(doubled.arn)

    assert fits_described["status"] == "SUCCEEDED"
    assert states_entered(fits_history)[-1] == "Doubled"
    assert described["status"] == "FAILED", described
    assert described["error"] == "States.DataLimitExceeded"
    assert "has an input with a size exceeding" in described["cause"]
    assert "Caught" not in states_entered(history)


def test_map_results_gathered_over_256_kb_fail_the_execution_though_each_is_small(deployed) -> None:
    piece = {"bytes": 70_000}
    fits = executions.start(GATHER, uuid.uuid4().hex, {"items": [piece] * 3})  # about 210 KB
    overflows = executions.start(GATHER, uuid.uuid4().hex, {"items": [piece] * 4})  # about 280 KB

    fits_described, fits_history = execution(fits.arn)
    described, history = execution(overflows.arn)

    assert fits_described["status"] == "SUCCEEDED"
    assert states_entered(fits_history)[-1] == "Gathered"
    assert described["status"] == "FAILED", described
    assert described["error"] == "States.DataLimitExceeded"
    assert "Caught" not in states_entered(history)


def test_a_stopped_execution_waiting_for_a_token_is_aborted_and_its_token_refused(deployed) -> None:
    started = executions.start(AWAIT, uuid.uuid4().hex, {"timeoutSeconds": 60, "heartbeatSeconds": 60})
    token = handed_out_token(started.arn)
    sfn = aws.client("stepfunctions")

    stopped = sfn.stop_execution(executionArn=started.arn, error="OpsStop", cause="stopped by a test")

    # As in AWS, the execution is ABORTED as soon as StopExecution answers, not when the wait ends.
    described = sfn.describe_execution(executionArn=started.arn)
    assert described["status"] == "ABORTED"
    assert described["stopDate"] == stopped["stopDate"]
    history = sfn.get_execution_history(executionArn=started.arn, maxResults=1000)["events"]
    assert history[-1]["type"] == "ExecutionAborted"
    assert answers_to(token) == ALL_TIMED_OUT
    # The product's adapter reads that as a dead token (a late payment is refunded, not enrolled).
    late = StepFunctionsCallbacks().succeed(token, {"paid": True})
    assert (late.delivered, late.dead_reason) == (False, "TaskTimedOut")
    time.sleep(0.3)
    assert sfn.describe_execution(executionArn=started.arn)["status"] == "ABORTED"
    assert len(sfn.get_execution_history(executionArn=started.arn, maxResults=1000)["events"]) == len(history)


def test_an_execution_past_its_timeout_seconds_is_timed_out_while_a_token_task_waits(deployed) -> None:
    started = executions.start(LINGER, uuid.uuid4().hex, {})
    token = handed_out_token(started.arn)

    described, history = execution(started.arn, timeout=10)

    assert described["status"] == "TIMED_OUT"
    took = (described["stopDate"] - described["startDate"]).total_seconds()
    assert 2 <= took < 5, took  # the workflow's 2 s, not the task's 600 s
    assert history[-1]["type"] == "ExecutionTimedOut"
    assert "Done" not in states_entered(history)
    assert answers_to(token) == ALL_TIMED_OUT


def test_a_lambda_task_past_its_timeout_seconds_raises_a_catchable_states_timeout(deployed) -> None:
    started = executions.start(RUSH, uuid.uuid4().hex, {"seconds": 600})

    described, history = execution(started.arn, timeout=20)

    assert described["status"] == "SUCCEEDED", described
    assert states_entered(history)[-1] == "TooSlow"
    assert json.loads(described["output"])["error"]["Error"] == "States.Timeout"
    assert any(e["type"] == "TaskTimedOut" for e in history)
    took = (described["stopDate"] - described["startDate"]).total_seconds()
    assert took < 10, took  # the state's 1 s, not the function's 30 s


def test_a_missed_heartbeat_is_a_catchable_states_timeout(deployed) -> None:
    started = executions.start(AWAIT, uuid.uuid4().hex, {"timeoutSeconds": 60, "heartbeatSeconds": 1})
    token = handed_out_token(started.arn)

    described, history = execution(started.arn, timeout=20)

    assert described["status"] == "SUCCEEDED", described
    assert states_entered(history)[-1] == "NoAnswer"
    assert json.loads(described["output"])["error"]["Error"] == "States.Timeout"
    assert answers_to(token) == ALL_TIMED_OUT


def test_heartbeats_keep_a_token_task_alive_and_its_token_answers_once(deployed) -> None:
    # 5 s between heartbeats: room for a loaded machine to hand the token out before the first one.
    started = executions.start(AWAIT, uuid.uuid4().hex, {"timeoutSeconds": 60, "heartbeatSeconds": 5})
    token = handed_out_token(started.arn)
    sfn = aws.client("stepfunctions")
    # The history names the token a moment before the local engine registers it (AWS has no such
    # gap): wait until the engine knows it, then keep the task alive.
    deadline = time.monotonic() + 5
    while (code := error_code(lambda: sfn.send_task_heartbeat(taskToken=token))) == "InvalidToken":
        assert time.monotonic() < deadline, "the engine never registered the handed-out token"
        time.sleep(0.05)
    assert code is None, code

    for _ in range(14):  # 7 s: longer than the heartbeat interval
        sfn.send_task_heartbeat(taskToken=token)
        time.sleep(0.5)
    sfn.send_task_success(taskToken=token, output=json.dumps({"answer": 42}))
    described, history = execution(started.arn)

    assert described["status"] == "SUCCEEDED", described
    assert states_entered(history)[-1] == "Answered"
    assert json.loads(described["output"])["answer"] == {"answer": 42}
    assert answers_to(token) == ALL_TIMED_OUT  # a second answer is refused, as in AWS


def test_a_retried_token_task_hands_out_a_new_token_and_the_old_one_is_refused(deployed) -> None:
    business_key = uuid.uuid4().hex
    deployed.runtime.inject_fault(
        "lms-throwaway-await-hand-out",
        "HandOutUnavailableError",
        "the function could not take the token",
        count=1,
        match={"executionName": AWAIT.execution_name(business_key)},
    )
    started = executions.start(AWAIT, business_key, {"timeoutSeconds": 60, "heartbeatSeconds": 60})
    first, second = handed_out_tokens(started.arn, attempts=2)
    sfn = aws.client("stepfunctions")

    assert first != second
    assert answers_to(first) == ALL_TIMED_OUT  # the failed attempt's token died with it
    sfn.send_task_success(taskToken=second, output=json.dumps({"answer": "retried"}))
    described, history = execution(started.arn)

    assert described["status"] == "SUCCEEDED", described
    assert states_entered(history)[-1] == "Answered"
    assert json.loads(described["output"])["answer"] == {"answer": "retried"}
