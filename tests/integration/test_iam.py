"""The local cloud refuses what AWS refuses: each function (and the API) may make exactly the calls
its declared needs grant (the statements CDK synthesises, infra/policies.py), and a call outside
them fails as AWS fails it, naming the action and the resource."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from infra.local.iam import ENGINE
from infra.local.lambda_runtime import function_arn
from lms import aws
from lms.settings import get_settings
from workflows import catalog
from workflows.definition import Access, Needs, TaskFunction
from workflows.video import VIDEO

FUNCTIONS = list(catalog.all_functions().values())
DENIED = {"AccessDenied", "AccessDeniedException", "403"}
Call = Callable[[], Any]


def as_caller(credentials: aws.Credentials | None, service: str) -> Any:
    """A client of its own signed with these credentials (the product's cached ones are hooked)."""
    assert credentials is not None
    return boto3.client(
        service,
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
        region_name=aws.region(),
        config=Config(signature_version="s3v4" if service == "s3" else None, retries={"max_attempts": 1}),
    )


def error_code(call: Call) -> str | None:
    """The AWS error code of the call, or None if it succeeded."""
    try:
        call()
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return None


def refused_call(needs: Needs, credentials: aws.Credentials) -> tuple[str, Call]:
    """A call the declaration does not grant (the nearest one: what it may do, one step further)."""
    settings = get_settings()
    table = as_caller(credentials, "dynamodb")
    key = {"PK": {"S": f"IAM#{uuid.uuid4().hex}"}, "SK": {"S": "probe"}}
    if needs.table is None:
        return "dynamodb:GetItem", lambda: table.get_item(TableName=settings.table_name, Key=key)
    if needs.table is Access.READ:
        return "dynamodb:PutItem", lambda: table.put_item(TableName=settings.table_name, Item=key)
    s3 = as_caller(credentials, "s3")
    for grant in needs.bucket_grants:
        if grant.access is Access.READ:
            # Reading a prefix never lets a function write there.
            key = f"{grant.prefix}iam-{uuid.uuid4().hex}"
            return "s3:PutObject", functools.partial(
                s3.put_object, Bucket=settings.bucket_name, Key=key, Body=b"x"
            )
    # Nobody may scan the table or touch keys outside the prefixes it declared.
    return "dynamodb:Scan", lambda: table.scan(TableName=settings.table_name, Limit=1)


def allowed_call(fn: TaskFunction, credentials: aws.Credentials, local_cloud: Any) -> tuple[str, Call]:
    """A call the declaration grants; business answers (no such task, already exists) are fine."""
    settings = get_settings()
    needs = fn.needs
    if needs.table is not None:
        table = as_caller(credentials, "dynamodb")
        key = {"PK": {"S": f"IAM#{uuid.uuid4().hex}"}, "SK": {"S": "probe"}}
        if needs.table is Access.WRITE:
            return "dynamodb:PutItem", lambda: table.put_item(TableName=settings.table_name, Item=key)
        return "dynamodb:GetItem", lambda: table.get_item(TableName=settings.table_name, Key=key)
    if needs.bucket_grants:
        grant = needs.bucket_grants[0]
        s3 = as_caller(credentials, "s3")
        key = f"{grant.prefix}iam-{uuid.uuid4().hex}"
        if grant.access is Access.READ:
            aws.client("s3").put_object(Bucket=settings.bucket_name, Key=key, Body=b"x")  # the harness
            return "s3:GetObject", lambda: s3.get_object(Bucket=settings.bucket_name, Key=key)
        return "s3:PutObject", lambda: s3.put_object(Bucket=settings.bucket_name, Key=key, Body=b"x")
    if needs.event_bus_put:
        events = as_caller(credentials, "events")
        entry = {
            "Source": "lms.iam-test",
            "DetailType": "Probe",
            "Detail": "{}",
            "EventBusName": settings.event_bus_name,
        }
        return "events:PutEvents", lambda: events.put_events(Entries=[entry])
    if needs.task_callbacks:
        states = as_caller(credentials, "stepfunctions")
        return "states:SendTaskSuccess", lambda: states.send_task_success(
            taskToken="not-a-token", output="{}"
        )
    if needs.start_workflows:
        states = as_caller(credentials, "stepfunctions")
        arn = local_cloud.state_machine_arns[needs.start_workflows[0]]
        # An input that is not JSON: authorised, then refused as invalid, so nothing runs.
        return "states:StartExecution", lambda: states.start_execution(
            stateMachineArn=arn, name=f"iam-{uuid.uuid4().hex[:8]}", input="not json"
        )
    sts = as_caller(credentials, "sts")
    return "sts:GetCallerIdentity", lambda: sts.get_caller_identity()


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda fn: fn.name)
def test_each_function_may_make_the_calls_it_declared_and_no_other(
    local_cloud: Any, fn: TaskFunction
) -> None:
    credentials = local_cloud.credentials[fn.name]
    action, refused = refused_call(fn.needs, credentials)
    with pytest.raises(ClientError) as denied:
        refused()
    assert denied.value.response["Error"]["Code"] in DENIED
    message = denied.value.response["Error"]["Message"]
    assert action in message and f"assumed-role/{fn.name}/" in message, message

    granted_action, allowed = allowed_call(fn, credentials, local_cloud)
    assert error_code(allowed) not in DENIED, granted_action


def test_a_function_reads_only_its_own_prefix_and_the_refusal_names_the_object(local_cloud: Any) -> None:
    settings = get_settings()
    aws.client("s3").put_object(Bucket=settings.bucket_name, Key="certificates/iam-probe.pdf", Body=b"%PDF")
    s3 = as_caller(local_cloud.credentials["lms-video-probe"], "s3")

    with pytest.raises(ClientError) as denied:
        s3.get_object(Bucket=settings.bucket_name, Key="certificates/iam-probe.pdf")

    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert (
        f"arn:aws:s3:::{settings.bucket_name}/certificates/iam-probe.pdf"
        in denied.value.response["Error"]["Message"]
    )


def test_a_json_service_refuses_with_access_denied_exception_400(local_cloud: Any) -> None:
    states = as_caller(local_cloud.credentials["lms-video-probe"], "stepfunctions")

    with pytest.raises(ClientError) as denied:
        states.list_executions(stateMachineArn=local_cloud.state_machine_arns["purchase"])

    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "states:ListExecutions" in denied.value.response["Error"]["Message"]


def test_the_api_signs_uploads_and_reads_media_but_writes_no_media(local_cloud: Any) -> None:
    settings = get_settings()
    s3 = as_caller(local_cloud.api_credentials, "s3")
    upload = s3.generate_presigned_url(
        "put_object",
        Params={
            "Bucket": settings.bucket_name,
            "Key": f"uploads/iam/{uuid.uuid4().hex}",
            "ContentType": "video/mp4",
            "ContentLength": 3,
        },
        ExpiresIn=60,
    )
    assert (
        requests.put(upload, data=b"abc", headers={"Content-Type": "video/mp4"}, timeout=10).status_code
        == 200
    )
    aws.client("s3").put_object(Bucket=settings.bucket_name, Key="media/iam/master.m3u8", Body=b"#EXTM3U")
    assert (
        s3.get_object(Bucket=settings.bucket_name, Key="media/iam/master.m3u8")["Body"].read() == b"#EXTM3U"
    )

    assert (
        error_code(lambda: s3.put_object(Bucket=settings.bucket_name, Key="media/iam/x", Body=b"x"))
        == "AccessDenied"
    )
    table = as_caller(local_cloud.api_credentials, "dynamodb")
    assert error_code(lambda: table.scan(TableName=settings.table_name, Limit=1)) == "AccessDeniedException"


def test_the_engine_invokes_only_functions_a_state_machine_names(local_cloud: Any) -> None:
    """moto's engine signs with one fixed key: it gets the union of the state machines' roles."""
    endpoint = local_cloud.endpoint
    engine = aws.Credentials(ENGINE.access_key_id, ENGINE.secret_access_key)
    lambda_ = as_caller(engine, "lambda")
    starter = VIDEO.starter
    assert starter is not None

    with pytest.raises(ClientError) as denied:
        lambda_.invoke(FunctionName=function_arn(starter.name, local_cloud.region), Payload=b"{}")
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert endpoint

    planned = lambda_.invoke(
        FunctionName=function_arn("lms-video-plan-renditions", local_cloud.region),
        Payload=json.dumps({}).encode(),
    )
    assert planned["StatusCode"] == 200  # authorised (the handler itself rejects the empty job)


def test_unknown_credentials_and_a_wrong_secret_are_refused(local_cloud: Any) -> None:
    settings = get_settings()
    stranger = as_caller(aws.Credentials("AKIAUNKNOWN000000000", "secret"), "dynamodb")
    assert (
        error_code(lambda: stranger.describe_table(TableName=settings.table_name))
        == "UnrecognizedClientException"
    )

    probe = local_cloud.credentials["lms-video-probe"]
    forged = as_caller(
        aws.Credentials(probe.access_key_id, "not-the-secret", probe.session_token), "dynamodb"
    )
    key = {"PK": {"S": "IAM#forged"}, "SK": {"S": "probe"}}
    assert (
        error_code(lambda: forged.get_item(TableName=settings.table_name, Key=key))
        == "InvalidSignatureException"
    )


def test_the_api_may_re_run_an_event_triggered_workflow_but_not_stop_it(local_cloud: Any) -> None:
    """Ops inspect and re-run any workflow's execution (``<name>-rerun-<n>``), the S3-triggered
    video included; the API stops nothing."""
    states = as_caller(local_cloud.api_credentials, "stepfunctions")
    assert (
        error_code(lambda: states.list_executions(stateMachineArn=local_cloud.state_machine_arns["video"]))
        is None
    )
    name = f"video-iam-rerun-{uuid.uuid4().hex[:8]}-rerun-1"
    started = states.start_execution(
        stateMachineArn=local_cloud.state_machine_arns["video"], name=name, input=json.dumps({})
    )
    with pytest.raises(ClientError) as denied:
        states.stop_execution(executionArn=started["executionArn"])
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    aws.client("stepfunctions").stop_execution(executionArn=started["executionArn"])  # the harness may
