"""The local Lambda runtime answers like the Lambda Invoke API, running handlers in worker processes.

No network: the runtime is called directly; its workers are local processes talking over pipes.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from infra.local.lambda_runtime import FunctionConfig, LambdaRuntime, function_name_of

HANDLERS = __name__


def ok_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {
        "tmp": tempfile.gettempdir(),
        "echo": event,
        "function": context.function_name,
        "remainingMs": context.get_remaining_time_in_millis(),
        "pid": os.getpid(),
        "variables": sorted(k for k in os.environ if k.startswith("LMS_")),
    }


class PaymentDeclinedError(Exception):
    pass


def failing_handler(event: dict[str, Any], context: Any) -> None:
    raise PaymentDeclinedError("card declined")


def sleeping_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    Path(event["started"]).touch()  # tells the test the invocation is running
    time.sleep(float(event.get("seconds", 600)))
    return {"woke": True}


def dying_handler(event: dict[str, Any], context: Any) -> None:
    os._exit(3)


def runtime(**configs: FunctionConfig) -> LambdaRuntime:
    return LambdaRuntime(
        {
            "ok": FunctionConfig(f"{HANDLERS}.ok_handler", environment=lambda: {"LMS_TABLE_NAME": "t"}),
            "fails": FunctionConfig(f"{HANDLERS}.failing_handler"),
            **configs,
        },
        region="us-east-1",
    )


def test_result_is_the_payload_with_a_lambda_like_context_from_a_worker_process() -> None:
    local = runtime()
    try:
        status, headers, body = local.invoke("ok", b'{"a": 1}')
    finally:
        local.close()
    assert status == 200 and "X-Amz-Function-Error" not in headers
    result = json.loads(body)
    assert result["echo"] == {"a": 1} and result["function"] == "ok" and result["remainingMs"] > 0
    assert result["pid"] != os.getpid()


def test_each_function_sees_only_its_declared_environment(monkeypatch) -> None:
    monkeypatch.setenv("LMS_JWT_SECRET", "the emulator's secret")
    local = runtime()
    try:
        result = json.loads(local.invoke("ok", b"{}")[2])
    finally:
        local.close()
    assert result["variables"] == ["LMS_TABLE_NAME"]


def test_each_worker_has_its_own_tmp_which_goes_with_it() -> None:
    local = runtime(other=FunctionConfig(f"{HANDLERS}.ok_handler"))
    try:
        mine, theirs = (Path(json.loads(local.invoke(name, b"{}")[2])["tmp"]) for name in ("ok", "other"))
        assert mine != theirs and mine.is_dir() and theirs.is_dir()
        assert mine != Path(tempfile.gettempdir())
    finally:
        local.close()
    assert not mine.exists() and not theirs.exists()


def test_a_warm_worker_serves_the_next_invocation() -> None:
    local = runtime()
    try:
        first, second = (json.loads(local.invoke("ok", b"{}")[2])["pid"] for _ in range(2))
    finally:
        local.close()
    assert first == second


def test_exception_becomes_function_error_with_its_type_name() -> None:
    local = runtime()
    try:
        status, headers, body = local.invoke("fails", b"{}")
    finally:
        local.close()
    assert status == 200 and headers["X-Amz-Function-Error"] == "Unhandled"
    payload = json.loads(body)
    assert payload["errorType"] == "PaymentDeclinedError" and payload["errorMessage"] == "card declined"


def test_a_handler_past_its_timeout_is_killed_and_reported_as_lambda_does(tmp_path: Path) -> None:
    local = runtime(slow=FunctionConfig(f"{HANDLERS}.sleeping_handler", timeout_seconds=1))
    try:
        event = json.dumps({"started": str(tmp_path / "started")}).encode()
        status, headers, body = local.invoke("slow", event)
        # The function still works afterwards: a fresh worker replaces the killed one.
        again = local.invoke("slow", json.dumps({"started": str(tmp_path / "again"), "seconds": 0}).encode())
    finally:
        local.close()
    assert status == 200 and headers["X-Amz-Function-Error"] == "Unhandled"
    payload = json.loads(body)
    assert payload["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in payload["errorMessage"]
    assert json.loads(again[2]) == {"woke": True}


@contextlib.contextmanager
def sleeping(local: LambdaRuntime, tmp_path: Path) -> Iterator[threading.Thread]:
    """An invocation of ``slow`` that is running (its handler has started) until the runtime closes."""
    started = tmp_path / "started"
    event = json.dumps({"started": str(started)}).encode()
    thread = threading.Thread(target=local.invoke, args=("slow", event))
    thread.start()
    try:
        wait_for_file(started)
        yield thread
    finally:
        local.close()  # kills the sleeping worker
        thread.join()


def test_a_busy_function_does_not_hold_up_another(tmp_path: Path) -> None:
    local = runtime(slow=FunctionConfig(f"{HANDLERS}.sleeping_handler", timeout_seconds=30))
    with sleeping(local, tmp_path) as slow:
        assert json.loads(local.invoke("ok", b"{}")[2])["function"] == "ok"
        assert slow.is_alive()


def test_invocations_beyond_the_concurrency_cap_are_throttled(tmp_path: Path) -> None:
    local = runtime(slow=FunctionConfig(f"{HANDLERS}.sleeping_handler", timeout_seconds=30, concurrency=1))
    with sleeping(local, tmp_path):
        status, headers, _ = local.invoke("slow", json.dumps({"started": str(tmp_path / "x")}).encode())
    assert status == 429 and headers["X-Amzn-ErrorType"] == "TooManyRequestsException"
    assert not (tmp_path / "x").exists()


def test_a_worker_that_dies_is_a_runtime_exit_error_and_an_unimportable_handler_an_import_error() -> None:
    local = runtime(
        dies=FunctionConfig(f"{HANDLERS}.dying_handler"),
        missing=FunctionConfig(f"{HANDLERS}.no_such_handler"),
    )
    try:
        died = json.loads(local.invoke("dies", b"{}")[2])
        missing = json.loads(local.invoke("missing", b"{}")[2])
    finally:
        local.close()
    assert died["errorType"] == "Runtime.ExitError"
    assert missing["errorType"] == "Runtime.ImportModuleError"


def test_unknown_function_is_resource_not_found() -> None:
    status, headers, _ = runtime().invoke("nope", b"{}")
    assert status == 404 and headers["X-Amzn-ErrorType"] == "ResourceNotFoundException"


def test_injected_fault_fails_exactly_the_next_n_invocations() -> None:
    local = runtime()
    local.inject_fault("ok", "Lambda.TooManyRequestsException", "slow down", count=2)
    try:
        outcomes = [local.invoke("ok", b"{}")[1].get("X-Amz-Function-Error") for _ in range(3)]
    finally:
        local.close()
    assert outcomes == ["Unhandled", "Unhandled", None]


def test_a_matched_fault_spares_other_invocations() -> None:
    local = runtime()
    local.inject_fault("ok", "EnrollmentFailedError", "boom", count=1, match={"transactionId": "t2"})
    try:
        assert "X-Amz-Function-Error" not in local.invoke("ok", b'{"transactionId": "t1"}')[1]
        assert local.invoke("ok", b'{"transactionId": "t2"}')[1]["X-Amz-Function-Error"] == "Unhandled"
        assert "X-Amz-Function-Error" not in local.invoke("ok", b'{"transactionId": "t2"}')[1]
    finally:
        local.close()


def test_function_arn_and_name_both_resolve() -> None:
    arn = "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Alms-purchase-enroll"
    assert function_name_of(arn) == "lms-purchase-enroll"
    assert function_name_of("lms-purchase-enroll") == "lms-purchase-enroll"


def wait_for_file(path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)
