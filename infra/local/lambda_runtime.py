"""A local Lambda runtime behind the standard Invoke API.

``POST /2015-03-31/functions/<name or ARN>/invocations`` runs the handler registered for that
function (from the workflow catalog) in this process, with a Lambda-like context. A handler that
raises answers 200 with ``X-Amz-Function-Error: Unhandled`` and the error payload, exactly as Lambda
does, so Step Functions sees the same error names locally and in AWS.

Fault injection (like AWS FIS for Lambda): ``POST /_local/faults`` with
``{"function": name, "errorType": "...", "errorMessage": "...", "count": n, "match": {...}}`` makes
the next ``n`` invocations of that function fail with that error, without running the handler.
``match`` (optional) limits the fault to invocations whose payload has those top-level values, so
a test can target its own execution while others run.
"""

from __future__ import annotations

import importlib
import json
import re
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools import Logger

logger = Logger(service="lms-local-lambda")

INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<function>[^/]+)/invocations/?$")
FAULTS_PATH = "/_local/faults"
ACCOUNT_ID = "123456789012"


@dataclass
class LambdaContext:
    """What Powertools and handlers read from a Lambda context."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    deadline: float = 0.0

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass
class Fault:
    error_type: str
    error_message: str
    remaining: int
    match: dict[str, Any] | None = None

    def applies_to(self, event: Any) -> bool:
        if not self.match:
            return True
        return isinstance(event, dict) and all(event.get(k) == v for k, v in self.match.items())


def function_arn(name: str, region: str) -> str:
    return f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{name}"


def function_name_of(name_or_arn: str) -> str:
    name_or_arn = unquote(name_or_arn)
    if name_or_arn.startswith("arn:"):
        return name_or_arn.split(":")[6]
    return name_or_arn


class LambdaRuntime:
    """Runs registered handlers by function name."""

    def __init__(self, functions: dict[str, str], region: str, timeout_seconds: int = 60) -> None:
        self._handlers = dict(functions)  # function name -> "package.module.function"
        self._region = region
        self._timeout = timeout_seconds
        self._faults: dict[str, Fault] = {}
        self._lock = threading.Lock()

    @property
    def function_names(self) -> Iterable[str]:
        return self._handlers.keys()

    def register(self, name: str, handler: str) -> None:
        self._handlers[name] = handler

    def inject_fault(
        self,
        function: str,
        error_type: str,
        error_message: str,
        count: int,
        match: dict[str, Any] | None = None,
    ) -> None:
        if function not in self._handlers:
            raise KeyError(function)
        with self._lock:
            self._faults[function] = Fault(error_type, error_message, count, match)

    def _take_fault(self, function: str, event: Any) -> Fault | None:
        with self._lock:
            fault = self._faults.get(function)
            if not fault or not fault.applies_to(event):
                return None
            fault.remaining -= 1
            if fault.remaining <= 0:
                del self._faults[function]
            return fault

    def _resolve(self, function: str) -> Callable[[Any, LambdaContext], Any]:
        module_name, _, attribute = self._handlers[function].rpartition(".")
        return getattr(importlib.import_module(module_name), attribute)  # type: ignore[no-any-return]

    def invoke(self, function: str, payload: bytes) -> tuple[int, dict[str, str], bytes]:
        """Run one invocation; returns ``(status, headers, body)`` as the Invoke API would."""
        request_id = str(uuid.uuid4())
        headers = {
            "Content-Type": "application/json",
            "X-Amz-Request-Id": request_id,
            "X-Amz-Executed-Version": "$LATEST",
        }
        if function not in self._handlers:
            message = f"Function not found: {function_arn(function, self._region)}"
            headers["X-Amzn-ErrorType"] = "ResourceNotFoundException"
            return 404, headers, json.dumps({"Type": "User", "Message": message}).encode()
        try:
            event = json.loads(payload) if payload else {}
        except json.JSONDecodeError:
            headers["X-Amzn-ErrorType"] = "InvalidRequestContentException"
            return (
                400,
                headers,
                json.dumps({"Type": "User", "Message": "Could not parse request body into json"}).encode(),
            )
        fault = self._take_fault(function, event)
        if fault:
            logger.info("injected fault", extra={"function": function, "error_type": fault.error_type})
            headers["X-Amz-Function-Error"] = "Unhandled"
            return 200, headers, _error_payload(fault.error_type, fault.error_message, [])
        context = LambdaContext(
            function_name=function,
            invoked_function_arn=function_arn(function, self._region),
            aws_request_id=request_id,
            log_group_name=f"/aws/lambda/{function}",
            deadline=time.monotonic() + self._timeout,
        )
        try:
            result = self._resolve(function)(event, context)
            return 200, headers, json.dumps(result, default=str).encode()
        except Exception as error:  # noqa: BLE001 - reported to the caller exactly like Lambda does
            headers["X-Amz-Function-Error"] = "Unhandled"
            stack = traceback.format_exception(error)
            return 200, headers, _error_payload(type(error).__name__, str(error), stack)


def _error_payload(error_type: str, message: str, stack: list[str]) -> bytes:
    return json.dumps({"errorMessage": message, "errorType": error_type, "stackTrace": stack}).encode()
