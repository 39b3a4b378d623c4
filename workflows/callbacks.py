"""The Step Functions adapter of the ``WorkflowCallbacks`` port (:mod:`lms.callbacks`).

The orchestrator's error names live here, next to the other Step Functions calls
(:mod:`workflows.executions`), so the domain never has to know them.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from lms import aws
from lms.callbacks import DELIVERED, CallbackResult

# What Step Functions answers for a token it will never accept again.
DEAD_TOKEN_CODES = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})


class StepFunctionsCallbacks:
    """``SendTaskSuccess`` / ``SendTaskFailure``; dead tokens come back as results."""

    def _send(self, operation: str, **kwargs: Any) -> CallbackResult:
        try:
            getattr(aws.client("stepfunctions"), operation)(**kwargs)
        except ClientError as error:
            code = str(error.response["Error"]["Code"])
            if code in DEAD_TOKEN_CODES:
                return CallbackResult.dead(code)
            raise
        return DELIVERED

    def succeed(self, token: str, output: dict[str, Any]) -> CallbackResult:
        return self._send("send_task_success", taskToken=token, output=json.dumps(output))

    def fail(self, token: str, *, error: str, cause: str) -> CallbackResult:
        return self._send("send_task_failure", taskToken=token, error=error, cause=cause)

    def is_running(self, execution_arn: str) -> bool:
        """Whether the execution still runs: a dead token of a running execution was answered already
        (or a retried step holds a newer one), not abandoned."""
        try:
            described = aws.client("stepfunctions").describe_execution(executionArn=execution_arn)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ExecutionDoesNotExist":
                return False
            raise
        return str(described["status"]) == "RUNNING"


def callbacks() -> StepFunctionsCallbacks:
    """The production implementation (Step Functions); it also answers :class:`PaymentCallbacks`."""
    return StepFunctionsCallbacks()
