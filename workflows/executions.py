"""Starting and describing executions. Names are business keys, so a start is idempotent."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from lms import aws
from lms.errors import ConfigurationError
from workflows.definition import Workflow, arn_variable


def state_machine_arn(workflow: Workflow) -> str:
    arn = os.environ.get(arn_variable(workflow.name))
    if not arn:
        raise ConfigurationError(
            f"{arn_variable(workflow.name)} is not set: the {workflow.name} workflow is not deployed."
        )
    return arn


def execution_arn(workflow: Workflow, name: str) -> str:
    return state_machine_arn(workflow).replace(":stateMachine:", ":execution:") + f":{name}"


@dataclass(frozen=True)
class StartedExecution:
    name: str
    arn: str
    already_started: bool


def start(workflow: Workflow, business_key: str, payload: dict[str, Any]) -> StartedExecution:
    """Start ``<prefix>-<business key>``; a second start of the same key finds the first one."""
    name = workflow.execution_name(business_key)
    try:
        response = aws.client("stepfunctions").start_execution(
            stateMachineArn=state_machine_arn(workflow), name=name, input=json.dumps(payload)
        )
        return StartedExecution(name=name, arn=response["executionArn"], already_started=False)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ExecutionAlreadyExists":
            return StartedExecution(name=name, arn=execution_arn(workflow, name), already_started=True)
        raise
