"""Throwaway workflows declared only in the catalog run on the local cloud like any product workflow.

Each is a ``Workflow`` entry plus a tiny handler module (``tests/throwaway``): no construct, no
wiring. The local cloud deploys them from the entry: functions in worker processes with their
declared environment and timeout, the state machine from the ASL, the event rule with its pattern.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from lms import aws, events
from lms.blobs import S3BlobStore
from lms.events import Actor
from lms.settings import get_settings
from tests.events import subscribe
from tests.purchases import execution
from tests.throwaway import DAWDLE, GREET, HURRY, PING, THROWAWAY, UPLOAD, UPLOAD_PREFIX
from tests.throwaway.milestone import MILESTONE, MilestoneReached
from workflows import executions
from workflows.certificate import CERTIFICATE_REVOCATION


@pytest.fixture(scope="module")
def deployed(local_cloud: Any) -> Any:
    for workflow in (*THROWAWAY, MILESTONE):
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


def execution_names(cloud: Any, workflow: Any) -> list[str]:
    """The names of the workflow's executions on the local cloud (one entry per execution)."""
    listed = aws.client("stepfunctions").list_executions(
        stateMachineArn=cloud.state_machine_arns[workflow.name], maxResults=1000
    )
    return [e["name"] for e in listed["executions"]]


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
    assert UPLOAD.execution_name(outside) not in execution_names(deployed, UPLOAD)


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
    assert execution_names(deployed, PING).count(name) == 1


# --- a typed-event workflow that is exactly three files ---------------------------------------------

REPOSITORY = Path(__file__).resolve().parents[2]
MILESTONE_FILES = {
    "tests/throwaway/throwaway-milestone.asl.json",  # its ASL
    "tests/throwaway/milestone_tasks.py",  # its task module
    "tests/throwaway/milestone.py",  # its catalog entry (and its typed event)
}


def milestone(**changes: Any) -> MilestoneReached:
    fields: dict[str, Any] = {
        "milestone_id": uuid.uuid4().hex,
        "user_id": "student-1",
        "course_id": "course-1",
    }
    return MilestoneReached(actor=Actor.user("student-1"), **{**fields, **changes})


def test_nothing_outside_its_three_files_names_the_milestone_workflow() -> None:
    """The workflow is its ASL file, its task module and its catalog entry: no construct, no route,
    no rule, no list anywhere else knows it (this test only deploys and drives it)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert set(listed) >= MILESTONE_FILES
    this_test = str(Path(__file__).resolve().relative_to(REPOSITORY))
    naming = {
        path
        for path in listed
        if path not in MILESTONE_FILES | {this_test}
        and not path.startswith("docs-notes/")
        and (REPOSITORY / path).is_file()
        and re.search(r"milestone", (REPOSITORY / path).read_text(errors="ignore"), re.IGNORECASE)
    }
    assert naming == set()
    assert MILESTONE.path == REPOSITORY / "tests/throwaway/throwaway-milestone.asl.json"


def test_a_published_typed_event_runs_its_workflow_which_ops_see(deployed, admin) -> None:
    """Producer -> rule (pattern from the definition) -> starter -> execution, on the local cloud."""
    reached = milestone()

    events.publish(reached)

    name = MILESTONE.execution_name(reached.event_id)
    assert name == f"throwaway-milestone-{reached.event_id}"  # idempotent on the event's id
    described, _ = execution(started_execution(executions.execution_arn(MILESTONE, name)))
    assert described["status"] == "SUCCEEDED", (described.get("error"), described.get("cause"))
    assert json.loads(described["output"]) == {
        "celebrated": reached.milestone_id,
        "eventId": reached.event_id,
        "actor": {"type": "user", "id": "student-1"},
        "sentence": f"student-1 reached milestone {reached.milestone_id}",
        "executionName": name,
        "seesTable": False,
    }
    listed = admin.get("/ops/executions", params={"workflow": MILESTONE.name})
    assert listed.status_code == 200, listed.text
    (run,) = [item for item in listed.json()["items"] if item["name"] == name]
    assert run["workflow"] == MILESTONE.name and run["status"] == "SUCCEEDED"
    assert run["businessKey"] == reached.event_id


def test_an_event_of_another_schema_version_does_not_start_the_workflow(deployed) -> None:
    """Rules match the definition's schema version: a v2 producer does not feed a v1 consumer."""
    newer, current = milestone(), milestone()
    entry = newer.entry(get_settings().event_bus_name)
    entry["Detail"] = json.dumps({**newer.detail(), "schemaVersion": 2})
    put = aws.client("events").put_events(Entries=[entry])
    assert put["FailedEntryCount"] == 0
    events.publish(current)

    # Published second: once its execution exists, the v2 event has been matched (or not) already.
    execution(
        started_execution(executions.execution_arn(MILESTONE, MILESTONE.execution_name(current.event_id)))
    )
    assert MILESTONE.execution_name(newer.event_id) not in execution_names(deployed, MILESTONE)


def rule_delivery(event: events.Event) -> bytes:
    """The event as EventBridge hands it to a rule's target."""
    return json.dumps(
        {
            "version": "0",
            "id": uuid.uuid4().hex,
            "source": event.source,
            "detail-type": event.name,
            "time": "2026-03-01T12:00:00Z",
            "detail": event.detail(),
        }
    ).encode()


def test_a_redelivered_typed_event_runs_once_and_a_new_event_runs_again(deployed) -> None:
    reached = milestone()
    starter = MILESTONE.starter
    assert starter is not None

    first, second = (
        json.loads(deployed.runtime.invoke(starter.name, rule_delivery(reached))[2]) for _ in "12"
    )
    another = milestone(milestone_id=reached.milestone_id)  # same facts, a new event
    third = json.loads(deployed.runtime.invoke(starter.name, rule_delivery(another))[2])

    assert first["executionName"] == second["executionName"] == MILESTONE.execution_name(reached.event_id)
    assert third["executionName"] == MILESTONE.execution_name(another.event_id)
    names = execution_names(deployed, MILESTONE)
    assert names.count(first["executionName"]) == 1 and names.count(third["executionName"]) == 1


def test_a_redelivered_enrollment_revoked_revokes_once(local_cloud) -> None:
    """Certificate revocation is idempotent on its business key (the transaction): the same event
    delivered twice, or published again by an admin's retry (a new event id), is one execution."""
    revoked = events.EnrollmentRevoked(
        actor=Actor.system("admin-refund"),
        transaction_id=uuid.uuid4().hex,
        user_id=uuid.uuid4().hex,
        course_id=uuid.uuid4().hex,
        reason="Customer asked",
    )
    again = revoked.model_copy(update={"event_id": uuid.uuid4().hex})
    starter = CERTIFICATE_REVOCATION.starter
    assert starter is not None

    answers = [
        json.loads(local_cloud.runtime.invoke(starter.name, rule_delivery(event))[2])
        for event in (revoked, revoked, again)
    ]

    name = f"revoke-certificate-{revoked.transaction_id}"
    assert {answer["executionName"] for answer in answers} == {name}
    described, _ = execution(executions.execution_arn(CERTIFICATE_REVOCATION, name))
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["result"]["outcome"] == "NoCertificate"
    assert execution_names(local_cloud, CERTIFICATE_REVOCATION).count(name) == 1


def test_the_milestone_workflow_synthesises_with_its_rule_from_the_event(tmp_path) -> None:
    from tests.infra.conftest import synthesize

    _, template_file, stack = synthesize(tmp_path, (MILESTONE,))
    resources = json.loads(template_file.read_text())["Resources"]

    rules = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Events::Rule"]
    patterns = [rule["EventPattern"] for rule in rules]
    assert MilestoneReached.pattern() in patterns
    built = stack.workflows[MILESTONE.name]
    assert built.rule is not None and built.starter is not None
    functions = {
        r["Properties"]["Environment"]["Variables"].get("LMS_WORKFLOW"): r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::Function" and "Environment" in r["Properties"]
    }
    starter = functions[MILESTONE.name]
    assert starter["Environment"]["Variables"]["LMS_BUSINESS_KEY"] == "detail.eventId"
    machines = [r for r in resources.values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    assert any("lms-throwaway-milestone" in json.dumps(m["Properties"]) for m in machines)


def test_registering_publishes_user_registered_for_analytics(local_cloud, new_user) -> None:
    """The bus carries the typed event with its envelope: any rule on its definition receives it."""
    received = subscribe(events.UserRegistered)

    user = new_user()

    (detail,) = received(userId=user.user_id)
    registered = events.UserRegistered.from_detail(detail)
    assert registered.actor == Actor.user(user.user_id) and registered.role == "student"
    assert (detail["verb"], detail["object"], detail["result"]) == (
        "registered",
        {"type": "user", "id": user.user_id},
        "registered",
    )
