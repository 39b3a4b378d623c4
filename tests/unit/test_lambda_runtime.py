"""The local Lambda runtime answers like the Lambda Invoke API (no network: handlers are called directly)."""

from __future__ import annotations

import json
from typing import Any

from infra.local.lambda_runtime import LambdaRuntime, function_name_of


def ok_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {
        "echo": event,
        "function": context.function_name,
        "remainingMs": context.get_remaining_time_in_millis(),
    }


class PaymentDeclinedError(Exception):
    pass


def failing_handler(event: dict[str, Any], context: Any) -> None:
    raise PaymentDeclinedError("card declined")


def runtime() -> LambdaRuntime:
    return LambdaRuntime(
        {"ok": f"{__name__}.ok_handler", "fails": f"{__name__}.failing_handler"}, region="us-east-1"
    )


def test_result_is_the_payload_with_a_lambda_like_context() -> None:
    status, headers, body = runtime().invoke("ok", b'{"a": 1}')
    assert status == 200 and "X-Amz-Function-Error" not in headers
    result = json.loads(body)
    assert result["echo"] == {"a": 1} and result["function"] == "ok" and result["remainingMs"] > 0


def test_exception_becomes_function_error_with_its_type_name() -> None:
    status, headers, body = runtime().invoke("fails", b"{}")
    assert status == 200 and headers["X-Amz-Function-Error"] == "Unhandled"
    payload = json.loads(body)
    assert payload["errorType"] == "PaymentDeclinedError" and payload["errorMessage"] == "card declined"


def test_unknown_function_is_resource_not_found() -> None:
    status, headers, _ = runtime().invoke("nope", b"{}")
    assert status == 404 and headers["X-Amzn-ErrorType"] == "ResourceNotFoundException"


def test_injected_fault_fails_exactly_the_next_n_invocations() -> None:
    local = runtime()
    local.inject_fault("ok", "Lambda.TooManyRequestsException", "slow down", count=2)
    outcomes = [local.invoke("ok", b"{}")[1].get("X-Amz-Function-Error") for _ in range(3)]
    assert outcomes == ["Unhandled", "Unhandled", None]


def test_a_matched_fault_spares_other_invocations() -> None:
    local = runtime()
    local.inject_fault("ok", "EnrollmentFailedError", "boom", count=1, match={"transactionId": "t2"})
    assert "X-Amz-Function-Error" not in local.invoke("ok", b'{"transactionId": "t1"}')[1]
    assert local.invoke("ok", b'{"transactionId": "t2"}')[1]["X-Amz-Function-Error"] == "Unhandled"
    assert "X-Amz-Function-Error" not in local.invoke("ok", b'{"transactionId": "t2"}')[1]


def test_function_arn_and_name_both_resolve() -> None:
    arn = "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Alms-purchase-enroll"
    assert function_name_of(arn) == "lms-purchase-enroll"
    assert function_name_of("lms-purchase-enroll") == "lms-purchase-enroll"
