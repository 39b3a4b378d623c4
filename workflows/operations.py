"""Operations: what happened to this order / video / certificate, from the Step Functions API alone.

The same calls answer in AWS and on the local cloud (both speak the Step Functions API), so the
``lms executions`` CLI, ``GET /ops/executions`` and the console (``/console``, served by the API) share
this module. Execution names are business keys (``purchase-<transactionId>``,
``video-<lessonId>-<uploadId>``, ...), so the name is the link from a business record to its
executions and back; a re-run is ``<name>-rerun-<n>`` and links to the execution it repeats the same
way. Each workflow declares its business record (``Workflow.record``): an execution is shown with
it, and a redrive or re-run is refused once the record no longer needs one, or while another run of
the same record is in flight.

Everything shown is redacted (:mod:`lms.redaction`): client secrets, task tokens, keys, hashes.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from lms import aws
from lms.entities import CAMEL_CASE
from lms.errors import ConflictError, LmsError, NotFoundError
from lms.redaction import redact, redact_json_text
from workflows.definition import Workflow, value_at

STATE_MACHINE_PREFIX = "lms-"
_ARN_VARIABLE = re.compile(r"^LMS_[A-Z0-9_]+_STATE_MACHINE_ARN$")
_RERUN = re.compile(r"^(?P<original>.+)-rerun-(?P<n>\d+)$")
MAX_EXECUTION_NAME = 80
# The local cloud answers RedriveExecution with this code (infra/local/cloud.py): its engine has none.
REDRIVE_UNSUPPORTED_CODE = "UnsupportedOperation"
# How many executions per workflow a business-key search reads (newest first).
SEARCH_DEPTH = 1000


class ExecutionStatus(StrEnum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    ABORTED = "ABORTED"
    PENDING_REDRIVE = "PENDING_REDRIVE"


ENDED_BADLY = (ExecutionStatus.FAILED, ExecutionStatus.TIMED_OUT, ExecutionStatus.ABORTED)


class RedriveUnsupportedError(LmsError):
    status, code = 409, "REDRIVE_UNSUPPORTED"


class RedriveRefusedError(ConflictError):
    """The business record needs no re-run any more, or another run of it is in flight."""

    code = "REDRIVE_REFUSED"


class _Model(BaseModel):
    model_config = ConfigDict(**CAMEL_CASE, populate_by_name=True, serialize_by_alias=True)


class ExecutionSummary(_Model):
    name: str
    workflow: str
    status: ExecutionStatus
    business_key: str
    start_date: datetime
    stop_date: datetime | None = None
    execution_arn: str
    rerun_of: str | None = None  # the execution this one re-runs with the same input


class Step(_Model):
    """One visit of a state: when it was entered and left, what it saw and returned, its error."""

    name: str
    type: str
    status: str  # SUCCEEDED, CAUGHT (failed, and a Catch moved on), FAILED, RUNNING
    entered_at: datetime
    exited_at: datetime | None = None
    duration_ms: int | None = None
    input: Any = None
    output: Any = None
    error: str | None = None
    cause: Any = None


class Failure(_Model):
    state: str | None
    error: str | None
    cause: Any = None


class HistoryEvent(_Model):
    id: int
    type: str
    timestamp: datetime
    details: Any = None


class RecordLink(_Model):
    """A field of the business record that names an execution (by name or ARN), and that execution."""

    field: str
    execution: str


class BusinessRecordView(_Model):
    """The record an execution drives (its workflow's ``BusinessRecord``), redacted."""

    kind: str
    key: str
    data: Any
    links: list[RecordLink]


class ExecutionDetail(ExecutionSummary):
    input: Any = None
    output: Any = None
    failure: Failure | None = None
    steps: list[Step]
    path: list[str]  # states entered, in order, each once
    events: list[HistoryEvent]
    definition: dict[str, Any]
    reruns: list[str]
    record: BusinessRecordView | None = None
    # Why a redrive (or re-run) would be refused now; None when one may be asked for.
    redrive_refusal: str | None = None


class RedriveResult(_Model):
    mode: str  # "redrive" (AWS resumed it from the failed state) or "rerun" (a new execution)
    name: str
    execution_arn: str


def deployed_state_machines() -> dict[str, str]:
    """Workflow name -> state machine ARN, from the ``LMS_<NAME>_STATE_MACHINE_ARN`` variables.

    The API gets one for every deployed workflow (CDK and the local cloud set them); the name is the
    state machine's (``lms-<workflow>``), so nothing here needs the catalog.
    """
    found = {}
    for variable, arn in os.environ.items():
        if _ARN_VARIABLE.match(variable) and arn:
            found[workflow_of_state_machine(arn)] = arn
    return found


def discover_state_machines(client: Any) -> dict[str, str]:
    """Workflow name -> ARN for every ``lms-*`` state machine the caller's credentials can list (the CLI)."""
    found = {}
    for page in client.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            if machine["name"].startswith(STATE_MACHINE_PREFIX):
                found[machine["name"].removeprefix(STATE_MACHINE_PREFIX)] = machine["stateMachineArn"]
    return found


def workflow_of_state_machine(arn: str) -> str:
    return arn.rsplit(":", 1)[-1].removeprefix(STATE_MACHINE_PREFIX)


def declared(workflow: str) -> Workflow | None:
    """The catalog's declaration of a deployed workflow (None for one the catalog does not list)."""
    from workflows.catalog import WORKFLOWS

    return next((w for w in WORKFLOWS if w.name == workflow), None)


def execution_prefix(workflow: str) -> str:
    """What the workflow's execution names start with (its name, unless the catalog says otherwise)."""
    found = declared(workflow)
    return found.execution_prefix if found else workflow


def _utc(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC) if moment is not None else None


class Operations:
    """Executions of the given workflows (name -> state machine ARN)."""

    def __init__(
        self, state_machines: dict[str, str], client: Any = None, *, read_records: bool = True
    ) -> None:
        """``read_records``: look business records up in the table (the CLI against AWS may not know it)."""
        self.state_machines = dict(sorted(state_machines.items()))
        self._client = client
        self._read_records = read_records

    @property
    def sfn(self) -> Any:
        return self._client or aws.client("stepfunctions")

    # --- listing --------------------------------------------------------------------------------

    def list_executions(
        self,
        *,
        workflow: str | None = None,
        status: ExecutionStatus | None = None,
        business_key: str | None = None,
        limit: int = 50,
    ) -> list[ExecutionSummary]:
        """Newest first. ``business_key`` searches every workflow's execution names for that key."""
        if workflow is not None and workflow not in self.state_machines:
            raise NotFoundError(
                f"No workflow {workflow!r}; deployed: {', '.join(self.state_machines) or 'none'}."
            )
        names = [workflow] if workflow else list(self.state_machines)
        needle = business_key.lower() if business_key else None
        found: list[ExecutionSummary] = []
        for name in names:
            depth = SEARCH_DEPTH if needle else limit
            for item in self._executions(name, status, depth):
                summary = self._summary(name, item)
                if needle is None or needle in summary.name.lower():
                    found.append(summary)
        found.sort(key=lambda s: s.start_date, reverse=True)
        return found[:limit]

    def _executions(
        self, workflow: str, status: ExecutionStatus | None, depth: int
    ) -> Iterator[dict[str, Any]]:
        arguments: dict[str, Any] = {"stateMachineArn": self.state_machines[workflow]}
        if status is not None:
            arguments["statusFilter"] = status.value
        seen = 0
        for page in self.sfn.get_paginator("list_executions").paginate(**arguments):
            for item in page["executions"]:
                yield item
                seen += 1
                if seen >= depth:
                    return

    def _summary(self, workflow: str, item: dict[str, Any]) -> ExecutionSummary:
        name = item["name"]
        rerun = _RERUN.match(name)
        original = rerun["original"] if rerun else name
        return ExecutionSummary(
            name=name,
            workflow=workflow,
            status=ExecutionStatus(item["status"]),
            business_key=original.removeprefix(f"{execution_prefix(workflow)}-"),
            start_date=_utc(item["startDate"]),
            stop_date=_utc(item.get("stopDate")),
            execution_arn=item["executionArn"],
            rerun_of=original if rerun else None,
        )

    # --- one execution -------------------------------------------------------------------------

    def find(self, name: str) -> tuple[str, dict[str, Any]]:
        """(workflow, DescribeExecution) of the execution with this name, in whichever workflow has it."""
        # The workflow whose execution prefix the name starts with first; then the rest.
        candidates = sorted(
            self.state_machines, key=lambda w: (not name.startswith(f"{execution_prefix(w)}-"), -len(w))
        )
        for workflow in candidates:
            try:
                return workflow, self.sfn.describe_execution(executionArn=self._execution_arn(workflow, name))
            except ClientError as error:
                if error.response["Error"]["Code"] != "ExecutionDoesNotExist":
                    raise
        raise NotFoundError(f"No execution named {name!r}.")

    def describe(self, name: str) -> ExecutionDetail:
        workflow, described = self.find(name)
        arn = described["executionArn"]
        history = self._history(arn)
        definition = json.loads(self._definition(workflow, arn))
        steps, failure = _timeline(history, definition, ExecutionStatus(described["status"]))
        summary = self._summary(workflow, described)
        root = summary.rerun_of or summary.name
        reruns = self._reruns(workflow, root)
        record = self.record(workflow, summary.business_key)
        return ExecutionDetail(
            **summary.model_dump(),
            input=redact_json_text(described.get("input")),
            output=redact_json_text(described.get("output")),
            failure=failure,
            steps=steps,
            path=list(dict.fromkeys(step.name for step in steps)),
            events=[_event(e) for e in history],
            definition=definition,
            reruns=[s.name for s in reruns],
            record=record,
            redrive_refusal=self._refusal(workflow, described, record, reruns),
        )

    def record(self, workflow: str, business_key: str) -> BusinessRecordView | None:
        """The business record the workflow's executions of this key drive, redacted (None: none yet)."""
        found = declared(workflow) if self._read_records else None
        source = found.record if found else None
        data = source.lookup(business_key) if source else None
        if source is None or data is None:
            return None
        links = [
            RecordLink(field=path, execution=str(value).rsplit(":", 1)[-1])
            for path in source.links
            if (value := value_at(data, path))
        ]
        return BusinessRecordView(kind=source.kind, key=business_key, data=redact(data), links=links)

    def _refusal(
        self,
        workflow: str,
        described: dict[str, Any],
        record: BusinessRecordView | None,
        reruns: list[ExecutionSummary],
    ) -> str | None:
        """Why this execution may not be redriven (or re-run) now; None if it may."""
        name, status = described["name"], ExecutionStatus(described["status"])
        if status not in ENDED_BADLY:
            return f"{name} is {status.value}: only a failed, timed-out or aborted execution is redriven."
        found = declared(workflow)
        source = found.record if found else None
        if source is not None and record is not None:
            reason = source.settled_reason(record.data, record.key)
            if reason:
                return f"The {record.kind} {record.key} needs no re-run: {reason}."
        running = [s.name for s in reruns if s.status == ExecutionStatus.RUNNING]
        linked = [link.execution for link in record.links] if record else []
        for other in dict.fromkeys(linked):
            if other != name and other not in running and self._is_running(workflow, other):
                running.append(other)
        if running:
            of = f"the {record.kind} {record.key}" if record else "the same business key"
            return f"{running[0]} of {of} is still running: wait for it to end."
        return None

    def _is_running(self, workflow: str, name: str) -> bool:
        try:
            described = self.sfn.describe_execution(executionArn=self._execution_arn(workflow, name))
        except ClientError as error:
            if error.response["Error"]["Code"] != "ExecutionDoesNotExist":
                raise
            return False
        return bool(described["status"] == ExecutionStatus.RUNNING)

    def _history(self, arn: str) -> list[dict[str, Any]]:
        pages = self.sfn.get_paginator("get_execution_history").paginate(executionArn=arn)
        return [event for page in pages for event in page["events"]]

    def _definition(self, workflow: str, execution_arn: str) -> str:
        try:
            # The definition this execution ran, even if the state machine has changed since.
            return str(
                self.sfn.describe_state_machine_for_execution(executionArn=execution_arn)["definition"]
            )
        except (ClientError, NotImplementedError):
            return str(
                self.sfn.describe_state_machine(stateMachineArn=self.state_machines[workflow])["definition"]
            )

    def _reruns(self, workflow: str, root: str) -> list[ExecutionSummary]:
        prefix = f"{root}-rerun-"
        found = [
            self._summary(workflow, item)
            for item in self._executions(workflow, None, SEARCH_DEPTH)
            if item["name"].startswith(prefix) and item["name"][len(prefix) :].isdigit()
        ]
        return sorted(found, key=lambda s: int(s.name[len(prefix) :]))

    def _execution_arn(self, workflow: str, name: str) -> str:
        return self.state_machines[workflow].replace(":stateMachine:", ":execution:") + f":{name}"

    # --- redrive / re-run ----------------------------------------------------------------------

    def redrive(self, name: str, *, rerun_if_unsupported: bool = False) -> RedriveResult:
        """Resume a failed execution from its failed state (``RedriveExecution``, AWS).

        The local engine has no RedriveExecution: there, unless ``rerun_if_unsupported``, this
        raises :class:`RedriveUnsupportedError` naming the re-run it offers instead.
        """
        workflow, described = self.find(name)
        self._refuse_if_not_needed(workflow, described)
        try:
            self.sfn.redrive_execution(executionArn=described["executionArn"])
        except ClientError as error:
            if error.response["Error"]["Code"] != REDRIVE_UNSUPPORTED_CODE:
                raise
            if not rerun_if_unsupported:
                raise RedriveUnsupportedError(
                    f"This engine cannot redrive ({error.response['Error'].get('Message', '')}). Re-run "
                    f"{name} with its original input instead, as {self._next_rerun(workflow, name)}.",
                    details={"rerunName": self._next_rerun(workflow, name)},
                ) from error
            return self._rerun(workflow, name, described)
        return RedriveResult(mode="redrive", name=name, execution_arn=described["executionArn"])

    def rerun(self, name: str) -> RedriveResult:
        """Start ``<original>-rerun-<n>`` with the original execution's input (tasks are idempotent).

        Refused as a redrive is: unless it ended badly, once its record needs no re-run, or while
        another run of the record is in flight (``-rerun-2`` never starts beside ``-rerun-1``).
        """
        workflow, described = self.find(name)
        self._refuse_if_not_needed(workflow, described)
        return self._rerun(workflow, name, described)

    def _refuse_if_not_needed(self, workflow: str, described: dict[str, Any]) -> None:
        name = described["name"]
        if ExecutionStatus(described["status"]) not in ENDED_BADLY:
            raise ConflictError(
                f"{name} is {described['status']}: only a failed, timed-out or aborted execution is redriven."
            )
        original = _RERUN.match(name)
        root = original["original"] if original else name
        summary = self._summary(workflow, described)
        record = self.record(workflow, summary.business_key)
        refusal = self._refusal(workflow, described, record, self._reruns(workflow, root))
        if refusal:
            raise RedriveRefusedError(refusal, details={"reason": refusal})

    def _rerun(self, workflow: str, name: str, described: dict[str, Any]) -> RedriveResult:
        original = _RERUN.match(name)
        root = original["original"] if original else name
        if original:
            described = self.find(root)[1]
        rerun_name = self._next_rerun(workflow, root)
        started = self.sfn.start_execution(
            stateMachineArn=self.state_machines[workflow], name=rerun_name, input=described["input"]
        )
        return RedriveResult(mode="rerun", name=rerun_name, execution_arn=started["executionArn"])

    def _next_rerun(self, workflow: str, name: str) -> str:
        match = _RERUN.match(name)
        root = match["original"] if match else name
        taken = [int(s.name.rsplit("-", 1)[1]) for s in self._reruns(workflow, root)]
        rerun_name = f"{root}-rerun-{max(taken, default=0) + 1}"
        if len(rerun_name) > MAX_EXECUTION_NAME:
            raise ConflictError(f"{rerun_name} is longer than Step Functions allows ({MAX_EXECUTION_NAME}).")
        return rerun_name


def _details(event: dict[str, Any]) -> dict[str, Any]:
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            return value
    return {}


def _event(event: dict[str, Any]) -> HistoryEvent:
    details = {
        key: redact_json_text(value) if key in ("input", "output", "parameters", "cause") else redact(value)
        for key, value in _details(event).items()
        if not key.endswith("Details")  # {"truncated": false}
    }
    return HistoryEvent(
        id=event["id"], type=event["type"], timestamp=_utc(event["timestamp"]), details=details
    )


def _timeline(
    history: list[dict[str, Any]], definition: dict[str, Any], status: ExecutionStatus
) -> tuple[list[Step], Failure | None]:
    """States in the order they ran, with durations and errors; the failing state if it failed."""
    states = definition.get("States", {})
    steps: list[Step] = []
    open_steps: list[Step] = []
    failure: Failure | None = None
    for event in history:
        kind, details = event["type"], _details(event)
        at = _utc(event["timestamp"])
        assert at is not None
        if kind.endswith("StateEntered"):
            for caught in [s for s in open_steps if s.error]:
                # Its error was caught: the execution moved on to another state.
                open_steps.remove(caught)
                _close(caught, at, "CAUGHT")
            name = details.get("name", "?")
            step = Step(
                name=name,
                type=states.get(name, {}).get("Type", kind.removesuffix("StateEntered")),
                status=ExecutionStatus.RUNNING.value,
                entered_at=at,
                input=redact_json_text(details.get("input")),
            )
            steps.append(step)
            open_steps.append(step)
        elif kind.endswith("StateExited"):
            name = details.get("name")
            exited = next((s for s in reversed(open_steps) if s.name == name), None)
            if exited is not None:
                open_steps.remove(exited)
                _close(exited, at, "CAUGHT" if exited.error else ExecutionStatus.SUCCEEDED.value)
                exited.output = redact_json_text(details.get("output"))
        elif kind.startswith("Execution") and "error" in details:
            # ExecutionFailed / TimedOut / Aborted: the running state (or the Fail state) is to blame.
            culprit = open_steps[-1] if open_steps else (steps[-1] if steps else None)
            cause = redact_json_text(details.get("cause"))
            failure = Failure(
                state=culprit.name if culprit else None, error=details.get("error"), cause=cause
            )
            if culprit is not None and culprit.error is None:
                culprit.error, culprit.cause = details.get("error"), cause
        elif "error" in details and open_steps:
            # TaskFailed, LambdaFunctionFailed, TaskTimedOut...: the error of the state running now.
            step = open_steps[-1]
            step.error, step.cause = details.get("error"), redact_json_text(details.get("cause"))
        elif kind in ("ExecutionTimedOut", "ExecutionAborted") and failure is None:
            culprit = open_steps[-1] if open_steps else None
            failure = Failure(state=culprit.name if culprit else None, error=kind, cause=None)
    end = _utc(history[-1]["timestamp"]) if history else None
    for step in open_steps:
        if status is not ExecutionStatus.RUNNING and end is not None:
            _close(step, end, "FAILED")
    if failure is not None and failure.state is not None:
        for step in reversed(steps):
            if step.name == failure.state:
                step.status = "FAILED"
                break
    return steps, failure


def _close(step: Step, at: datetime, status: str) -> None:
    step.exited_at = at
    step.duration_ms = int((at - step.entered_at).total_seconds() * 1000)
    step.status = status
