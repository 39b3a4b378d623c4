"""The embedded local cloud: one process, one port, no AWS account.

* ``POST /2015-03-31/functions/<name>/invocations`` -> :class:`LambdaRuntime` (the catalog's task
  functions, each in its own worker processes with its declared environment and timeout);
* ``/_local/faults`` -> fault injection for the local Lambda runtime;
* ``GET /_local/mail`` -> the mail the local SES accepted, newest first (:mod:`infra.local.mailbox`);
* everything else -> moto in server mode (DynamoDB, S3, Step Functions with execution enabled,
  EventBridge, Secrets Manager, SES).

moto's Step Functions engine calls Lambda at ``http://localhost:$MOTO_PORT``, which is this router,
so the real ASL runs the real handlers. EventBridge rules of event-triggered workflows are created
with the same patterns as in AWS, and their Lambda targets (the starters) are delivered by
:mod:`infra.local.event_routing`. Schedule rules are created as in AWS too, but moto never fires
them: :meth:`LocalCloud.fire_schedule` delivers one tick (an ``aws.events`` "Scheduled Event") to the
rule's targets, and with ``schedules=True`` (``lms dev``) a timer thread per schedule fires it every
period. Product code reaches all of it through ``AWS_ENDPOINT_URL``.
"""

from __future__ import annotations

import io
import json
import logging
import os
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from email.utils import parseaddr
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.serving import BaseWSGIServer, make_server

from infra import policies
from infra.constants import SERVICE_NAME
from infra.local import athena_task, engine_limits, engine_speedups, event_routing, mailbox, task_tokens
from infra.local import lake as local_lake
from infra.local.iam import ACCOUNT_ID, ADMIN, AccessControl, publish_api_credentials
from infra.local.lambda_runtime import (
    DEFAULT_CONCURRENCY,
    FAULTS_PATH,
    INVOKE_PATH,
    FunctionConfig,
    LambdaRuntime,
    function_arn,
    function_name_of,
)
from infra.local.usage import METER, DynamoDbMeter, Usage
from lms import aws, keys
from lms.analytics import lake
from lms.clock import utcnow
from lms.settings import get_settings, reset_settings
from workflows import catalog
from workflows import operations as ops
from workflows.definition import EventTrigger, ScheduleTrigger, TaskFunction, Workflow, arn_variable

REDRIVE_TARGET = "AWSStepFunctions.RedriveExecution"
API_ROLE = "lms-api"
DYNAMODB_TARGET = "DynamoDB_20120810."
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
CREDENTIAL_KEY_SECRET_NAME = "lms-credential-signing-key"
STATE_MACHINE_ROLE = "arn:aws:iam::123456789012:role/lms-local-stepfunctions"
# What Lambda itself puts in every function's environment (credentials, region; here the endpoint).
PASSED_THROUGH = ("AWS_", "POWERTOOLS_LOG_LEVEL", "PATH", "LANG", "TZ")
# Locally the Stripe keys are inline variables instead of a Secrets Manager secret.
STRIPE_VARIABLES = (
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "LMS_STRIPE_SECRET_KEY",
    "LMS_STRIPE_WEBHOOK_SECRET",
    "LMS_STRIPE_API_BASE",
    "LMS_STRIPE_SECRET_ARN",
)

# Locally the unsubscribe-link key is an inline variable instead of a Secrets Manager secret.
MAIL_VARIABLES = ("LMS_MAIL_SECRET",)


def mail_identity(sender: str) -> str:
    """The SES identity of a sender such as ``LMS <no-reply@example.com>``: its address."""
    return parseaddr(sender)[1]


class _StateMachineArns(Mapping[str, str]):
    """Workflow name -> the ARN of its state machine here (any name: a test deploys its own)."""

    def __init__(self, region: str) -> None:
        self._region = region

    def __getitem__(self, name: str) -> str:
        state_machine = Workflow(name=name).state_machine_name
        return f"arn:aws:states:{self._region}:{ACCOUNT_ID}:stateMachine:{state_machine}"

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def table_definition(table_name: str) -> dict[str, Any]:
    """The single table: PK/SK, GSI1 and GSI2 (both projecting ALL), on-demand billing."""
    string = "S"
    indexes = [
        {
            "IndexName": index,
            "KeySchema": [
                {"AttributeName": pk, "KeyType": "HASH"},
                {"AttributeName": sk, "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
        for index, pk, sk in ((keys.GSI1, keys.GSI1PK, keys.GSI1SK), (keys.GSI2, keys.GSI2PK, keys.GSI2SK))
    ]
    attributes = (keys.PK, keys.SK, keys.GSI1PK, keys.GSI1SK, keys.GSI2PK, keys.GSI2SK)
    return {
        "TableName": table_name,
        "KeySchema": [
            {"AttributeName": keys.PK, "KeyType": "HASH"},
            {"AttributeName": keys.SK, "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": string} for a in attributes],
        "GlobalSecondaryIndexes": indexes,
        "BillingMode": "PAY_PER_REQUEST",
    }


class _Router:
    """WSGI: every AWS call authorised first (:mod:`infra.local.iam`); then the Lambda Invoke API
    and fault injection here, the rest to moto."""

    def __init__(
        self, moto_app: Any, runtime: LambdaRuntime, access: AccessControl, usage: Usage, region: str
    ) -> None:
        self._moto = moto_app
        self._runtime = runtime
        self._access = access
        self._dynamodb = threading.Lock()
        self._usage = usage
        self._capacity = DynamoDbMeter(_stored_item(region), _index_keys(region))

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        refused = self._access.check(environ)
        if refused is not None:
            return _respond(start_response, *refused)
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        match = INVOKE_PATH.match(path)
        if match and method == "POST":
            status, headers, body = self._runtime.invoke(
                function_name_of(match["function"]), _read_body(environ)
            )
            return _respond(start_response, status, headers, body)
        if path == FAULTS_PATH and method == "POST":
            return self._inject_fault(environ, start_response)
        if path == mailbox.MAIL_PATH and method == "GET":
            body = mailbox.serve(ACCOUNT_ID, self._access.region)
            return _respond(start_response, 200, {"Content-Type": "application/json"}, body)
        if environ.get("HTTP_X_AMZ_TARGET") == REDRIVE_TARGET:
            # moto answers an unimplemented action with an HTML 500; say what it is, as AWS would.
            refusal = {
                "__type": ops.REDRIVE_UNSUPPORTED_CODE,
                "message": "the local engine has no RedriveExecution",
            }
            return _respond(
                start_response,
                400,
                {"Content-Type": "application/x-amz-json-1.0"},
                json.dumps(refusal).encode(),
            )
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        metered = _signing_key(environ) not in (None, ADMIN.access_key_id)  # the harness is not the product
        if target.startswith(DYNAMODB_TARGET):
            # DynamoDB applies each request to an item atomically; moto does not lock its tables, so
            # two concurrent ADDs to a new item could both start from nothing and one be lost.
            with self._dynamodb:
                if metered:
                    return self._metered_dynamodb(
                        target.removeprefix(DYNAMODB_TARGET), environ, start_response
                    )
                return list(self._moto(environ, start_response))
        if metered:
            self._meter(target, environ)
            if _credential_scope(environ)[3:4] == ["s3"]:
                bytes_in = int(environ.get("CONTENT_LENGTH") or 0)
                answer = list(self._moto(environ, start_response))
                listing = (
                    environ.get("REQUEST_METHOD") == "GET" and environ.get("PATH_INFO", "").count("/") < 2
                )
                method = (
                    "COPY" if environ.get("HTTP_X_AMZ_COPY_SOURCE") else environ.get("REQUEST_METHOD", "")
                )
                self._usage.s3(method, listing, bytes_in, sum(len(chunk) for chunk in answer))
                return answer
        return self._moto(environ, start_response)  # type: ignore[no-any-return]

    def _inject_fault(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        headers = {"Content-Type": "application/json"}
        try:
            spec = json.loads(_read_body(environ))
            self._runtime.inject_fault(
                spec["function"],
                spec["errorType"],
                spec.get("errorMessage", "injected fault"),
                int(spec.get("count", 1)),
                spec.get("match"),
                after_work=bool(spec.get("afterWork", False)),
            )
        except KeyError as error:
            return _respond(
                start_response, 404, headers, json.dumps({"message": f"unknown: {error}"}).encode()
            )
        except (ValueError, TypeError) as error:
            return _respond(start_response, 400, headers, json.dumps({"message": str(error)}).encode())
        return _respond(start_response, 204, {}, b"")

    def _meter(self, target: str, environ: dict[str, Any]) -> None:
        """EventBridge custom events and Step Functions executions, for the cost model."""
        if target == "AWSEvents.PutEvents":
            self._usage.put_events(_peek_body(environ))
        elif target == "AWSStepFunctions.StartExecution":
            self._usage.execution_started()

    def _metered_dynamodb(self, operation: str, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        """The call, with the read and write units DynamoDB would bill for it (infra.local.usage).

        The meter never fails the call: a request it cannot measure is counted as unmeasured (the
        cost benchmark refuses to print figures then)."""
        try:
            body = json.loads(_peek_body(environ) or b"{}")
            before = self._capacity.before(operation, body)
        except Exception:  # noqa: BLE001 - the product's call goes on unmeasured
            logging.getLogger(__name__).exception("DynamoDB %s not metered", operation)
            self._usage.unmeasured()
            return list(self._moto(environ, start_response))
        answer = list(self._moto(environ, start_response))
        try:
            reads, writes = self._capacity.after(
                operation, body, before, json.loads(b"".join(answer) or b"{}")
            )
        except Exception:  # noqa: BLE001 - as above
            logging.getLogger(__name__).exception("DynamoDB %s not metered", operation)
            self._usage.unmeasured()
        else:
            self._usage.dynamodb(operation, reads, writes)
        return answer


def _peek_body(environ: dict[str, Any]) -> bytes:
    """The request body, left in place for moto to read."""
    body = _read_body(environ)
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _credential_scope(environ: dict[str, Any]) -> list[str]:
    """``[access key, date, region, service, "aws4_request"]`` of a SigV4 request (header or presigned)."""
    authorization = str(environ.get("HTTP_AUTHORIZATION", ""))
    if "Credential=" in authorization:
        return authorization.split("Credential=", 1)[1].split(",", 1)[0].split("/")
    for name, value in parse_qsl(str(environ.get("QUERY_STRING", ""))):
        if name == "X-Amz-Credential":
            return value.split("/")
    return []


def _signing_key(environ: dict[str, Any]) -> str | None:
    scope = _credential_scope(environ)
    return scope[0] if scope else None


def _stored_item(region: str) -> Any:
    """The item as moto stores it now (DynamoDB JSON), for the cost model's write units."""

    def lookup(table_name: str, key: dict[str, Any]) -> dict[str, Any] | None:
        from moto.dynamodb.models import dynamodb_backends
        from moto.dynamodb.models.dynamo_type import DynamoType

        table = dynamodb_backends[ACCOUNT_ID][region].get_table(table_name)
        if table.hash_key_attr not in key or (table.range_key_attr and table.range_key_attr not in key):
            return None
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        item = table.get_item(DynamoType(key[table.hash_key_attr]), range_value)
        return None if item is None else {name: value.to_regular_json() for name, value in item.attrs.items()}

    return lookup


def _index_keys(region: str) -> Any:
    def indexes(table_name: str) -> list[tuple[str, ...]]:
        from moto.dynamodb.models import dynamodb_backends

        table = dynamodb_backends[ACCOUNT_ID][region].get_table(table_name)
        return [tuple(index.schema_key_attrs) for index in table.global_indexes]

    return indexes


def _read_body(environ: dict[str, Any]) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(length) if length else b""


def _respond(start_response: Any, status: int, headers: dict[str, str], body: bytes) -> list[bytes]:
    start_response(
        f"{status} {HTTPStatus(status).phrase}", [*headers.items(), ("Content-Length", str(len(body)))]
    )
    return [body]


def use_local_cloud(endpoint: str, region: str = "us-east-1") -> None:
    """Point this process's boto3 (product code included) at the local cloud."""
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            # The local cloud's administrator (infra.local.iam): the bootstrap, the test harness, the CLI.
            "AWS_ACCESS_KEY_ID": ADMIN.access_key_id,
            "AWS_SECRET_ACCESS_KEY": ADMIN.secret_access_key,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
        }
    )
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_SESSION_TOKEN", None)
    reset_settings()
    aws.reset_clients()


class LocalCloud:
    """Start with :meth:`start`, create the product's resources with :meth:`bootstrap`.

    ``workflows`` defaults to the catalog; :meth:`deploy` adds one more (tests add throwaway ones).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 4566,
        region: str = "us-east-1",
        workflows: tuple[Workflow, ...] = catalog.WORKFLOWS,
        *,
        schedules: bool = False,
    ) -> None:
        """``schedules``: fire schedule rules on their own every period (``lms dev``). Off, as in the
        tests, a tick comes only from :meth:`fire_schedule`, so no sweep runs under another test."""
        self.host, self.port, self.region = host, port, region
        self.workflows = workflows
        self.schedules = schedules
        self._schedule_timers: dict[str, threading.Thread] = {}
        self._schedules_stopped = threading.Event()
        # What the product used, as AWS bills it (the cost model: benchmarks/cost.py).
        self.usage = METER
        self.runtime = LambdaRuntime({}, region, usage=self.usage)
        self.access = AccessControl(region)
        self.state_machine_arns: dict[str, str] = {}
        self.deployed: dict[str, Workflow] = {}
        # Session credentials of each function's role (and the API's), as Lambda gives them.
        self.credentials: dict[str, aws.Credentials] = {}
        self.api_credentials: aws.Credentials | None = None
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        # The event lake's Firehose: every product event (and execution end), batched as Parquet.
        self.lake_firehose = local_lake.LocalFirehose(
            self._put_lake_object,
            buffer_seconds=float(
                os.environ.get("LMS_LAKE_BUFFER_SECONDS", local_lake.DEFAULT_BUFFER_SECONDS)
            ),
        )

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LocalCloud:
        from moto.core.config import default_user_config
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per AWS call is noise
        # The engine logs every caught error as ERROR; the execution history is where they belong.
        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
        default_user_config["stepfunctions"]["execute_state_machine"] = True
        engine_speedups.apply()
        engine_limits.apply()
        task_tokens.apply()  # two concurrent answers to one token: exactly one is delivered
        event_routing.install(self._deliver_event)
        event_routing.install_streams(self._to_lake)
        athena_task.install()  # the engine serves athena:startQueryExecution(.sync)
        local_lake.install_athena(self._lake_objects, self._put_object)
        default_user_config["lambda"]["use_docker"] = False
        app = _Router(
            DomainDispatcherApplication(create_backend_app),
            self.runtime,
            self.access,
            self.usage,
            self.region,
        )
        self._server = make_server(
            self.host, self.port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self.port = self._server.server_port  # port 0 picks a free one
        # moto's Step Functions engine calls Lambda (and DynamoDB) at localhost:$MOTO_PORT.
        os.environ["MOTO_PORT"] = str(self.port)
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-cloud", daemon=True)
        self._thread.start()
        use_local_cloud(self.endpoint, self.region)
        return self

    def stop(self) -> None:
        self.stop_schedules()
        self.lake_firehose.close()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)
        self.runtime.close()

    def bootstrap(self) -> None:
        """Create the table, the bucket, the event bus and every workflow of the catalog."""
        settings = get_settings()
        dynamodb = aws.client("dynamodb")
        dynamodb.create_table(**table_definition(settings.table_name))
        dynamodb.update_time_to_live(
            TableName=settings.table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": keys.TTL_ATTRIBUTE},
        )
        s3 = aws.client("s3")
        s3.create_bucket(Bucket=settings.bucket_name)
        # As in AWS (infra/data.py): the media bucket's events go to EventBridge's default bus.
        s3.put_bucket_notification_configuration(
            Bucket=settings.bucket_name, NotificationConfiguration={"EventBridgeConfiguration": {}}
        )
        aws.client("events").create_event_bus(Name=settings.event_bus_name)
        self._create_mail_identity()
        self._create_lake()
        self._create_credential_signing_key()
        for workflow in self.workflows:
            self.deploy(workflow)
        self._grant_api()

    def _create_mail_identity(self) -> None:
        """The sender identity (``LMS_MAIL_FROM``'s address), as an operator verifies it in AWS, and
        the configuration set if one is configured: the local SES refuses any other sender."""
        settings = get_settings()
        sesv2 = aws.client("sesv2")
        sesv2.create_email_identity(EmailIdentity=mail_identity(settings.mail_from))
        if settings.mail_configuration_set:
            sesv2.create_configuration_set(ConfigurationSetName=settings.mail_configuration_set)

    def _create_credential_signing_key(self) -> None:
        """As the operator does after a deploy (``lms credentials rotate-key``): a fresh Ed25519 key in
        a Secrets Manager secret, its public key published in the table (issue 20)."""
        from lms.credentials import keys as credential_keys
        from lms.table import Table

        created = aws.client("secretsmanager").create_secret(
            Name=CREDENTIAL_KEY_SECRET_NAME,
            Description="Ed25519 signing key of verifiable certificates (JSON: kid, privateKeyJwk)",
        )
        os.environ["LMS_CREDENTIAL_KEY_SECRET_ARN"] = created["ARN"]
        reset_settings()
        credential_keys.rotate(Table(), created["ARN"])

    def resources(self) -> catalog.Resources:
        settings = get_settings()
        return catalog.Resources(
            table_name=settings.table_name,
            bucket_name=settings.bucket_name,
            event_bus_name=settings.event_bus_name,
            stripe_secret_arn=settings.stripe_secret_arn,
            mail_from=settings.mail_from,
            mail_configuration_set=settings.mail_configuration_set,
            mail_secret_arn=settings.mail_secret_arn,
            public_url=settings.public_url,
            credential_key_secret_arn=settings.credential_key_secret_arn,
            state_machine_arns=self.state_machine_arns,
        )

    def deploy(self, workflow: Workflow) -> str:
        """Create one workflow as CDK would: its functions, its state machine, its trigger rule.

        Returns the state machine ARN, which is also put in this process's environment (the API
        reads it from there, as in AWS).
        """
        self.deployed[workflow.name] = workflow
        for fn in workflow.functions:
            self._register(workflow, fn)
        arns = {fn.name: function_arn(fn.name, self.region) for fn in workflow.functions}
        self.access.allow_engine(
            s.document() for s in policies.state_machine_statements(workflow, self.arns(), arns)
        )
        definition = catalog.render(
            workflow, catalog.substitutions(workflow, function_arn=arns, resources=self.resources())
        )
        response = aws.client("stepfunctions").create_state_machine(
            name=workflow.state_machine_name,
            definition=definition,
            roleArn=STATE_MACHINE_ROLE,
            type="STANDARD",
        )
        arn: str = response["stateMachineArn"]
        self.state_machine_arns[workflow.name] = arn
        os.environ[arn_variable(workflow.name)] = arn
        if workflow.starter is not None:
            self._register(workflow, workflow.starter)
            if isinstance(workflow.trigger, ScheduleTrigger):
                self._create_schedule(workflow, workflow.trigger, workflow.starter)
            elif isinstance(workflow.trigger, EventTrigger):
                self._create_rule(workflow, workflow.trigger, workflow.starter)
        if self.api_credentials is not None:
            self._grant_api()  # a workflow deployed later (a test's) is the API's to start and inspect
        return arn

    def arns(self) -> policies.Arns:
        """The ARNs grants name, as this local cloud makes them (CDK's tokens in AWS)."""
        settings = get_settings()
        region = self.region
        return policies.Arns(
            partition="aws",
            region=region,
            account=ACCOUNT_ID,
            table=f"arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{settings.table_name}",
            bucket=f"arn:aws:s3:::{settings.bucket_name}",
            event_bus=f"arn:aws:events:{region}:{ACCOUNT_ID}:event-bus/{settings.event_bus_name}",
            stripe_secret=settings.stripe_secret_arn,
            mail_identity=mail_identity(settings.mail_from),
            mail_configuration_set=settings.mail_configuration_set,
            mail_secret=settings.mail_secret_arn,
            credential_key_secret=settings.credential_key_secret_arn,
            state_machines=_StateMachineArns(region),
        )

    def _grant_api(self) -> None:
        """The API's role, from the same declaration as in AWS; its credentials serve the local API."""
        needs = policies.api_needs(tuple(self.deployed.values()))
        self.api_credentials = self._role(API_ROLE, policies.statements(needs, self.arns()))
        publish_api_credentials(self.api_credentials)

    def _role(self, name: str, statements: list[policies.Statement]) -> aws.Credentials:
        """A role with exactly these statements, and session credentials for it (as Lambda has).

        Made in moto's IAM and STS directly (this process hosts them): thirty functions' roles
        over HTTP would add seconds to every start.
        """
        from moto.iam.models import iam_backends
        from moto.sts.models import sts_backends

        role_name = name[:64]
        iam = iam_backends[ACCOUNT_ID]["aws"]
        if not any(role.name == role_name for role in iam.get_roles()):
            iam.create_role(role_name, json.dumps(LAMBDA_TRUST), "/", None, "", [], None)
        if statements:  # a function that needs nothing has a role with no policy
            iam.put_role_policy(role_name, "declared-needs", json.dumps(policies.policy_document(statements)))
        self.access.forget_principals()
        if name not in self.credentials:
            session = sts_backends[ACCOUNT_ID]["aws"].assume_role(
                region_name=self.region,
                role_session_name=role_name,
                role_arn=f"arn:aws:iam::{ACCOUNT_ID}:role/{role_name}",
                policy="",
                duration=12 * 3600,
                external_id="",
            )
            self.credentials[name] = aws.Credentials(
                session.access_key_id, session.secret_access_key, session.session_token
            )
        return self.credentials[name]

    def _register(self, workflow: Workflow, fn: TaskFunction) -> None:
        self._role(fn.name, policies.statements(fn.needs, self.arns()))
        self.runtime.register(
            fn.name,
            FunctionConfig(
                handler=fn.handler,
                timeout_seconds=fn.timeout_seconds,
                memory_mb=fn.memory_mb,
                concurrency=fn.reserved_concurrency or DEFAULT_CONCURRENCY,
                environment=lambda: self._environment(workflow, fn),
            ),
        )

    def _environment(self, workflow: Workflow, fn: TaskFunction) -> dict[str, str]:
        """What the function gets in AWS (from its declared needs), read when a worker starts."""
        passed = {k: v for k, v in os.environ.items() if k.startswith(PASSED_THROUGH)}
        credentials = self.credentials[fn.name]
        passed.update(
            {
                "AWS_ACCESS_KEY_ID": credentials.access_key_id,
                "AWS_SECRET_ACCESS_KEY": credentials.secret_access_key,
                "AWS_SESSION_TOKEN": credentials.session_token or "",
            }
        )
        if fn.needs.stripe_secret:
            passed.update({k: os.environ[k] for k in STRIPE_VARIABLES if k in os.environ})
        if fn.needs.mail:
            passed.update({k: os.environ[k] for k in MAIL_VARIABLES if k in os.environ})
        return {
            **passed,
            "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
            "AWS_LAMBDA_FUNCTION_NAME": fn.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_mb),
            **catalog.environment(workflow, fn, self.resources()),
        }

    def _create_rule(self, workflow: Workflow, trigger: EventTrigger, starter: TaskFunction) -> None:
        events = aws.client("events")
        bus = get_settings().event_bus_name if trigger.bus == "lms" else "default"
        rule = f"{workflow.state_machine_name}-trigger"
        events.put_rule(
            Name=rule,
            EventBusName=bus,
            EventPattern=json.dumps(catalog.event_pattern(trigger, self.resources())),
        )
        events.put_targets(
            Rule=rule,
            EventBusName=bus,
            Targets=[{"Id": "starter", "Arn": function_arn(starter.name, self.region)}],
        )

    def _deliver_event(self, arn: str, body: bytes) -> None:
        status, headers, response = self.runtime.invoke(function_name_of(arn), body)
        if status != 200 or "X-Amz-Function-Error" in headers:
            logging.getLogger(__name__).warning("event target %s failed: %s", arn, response[:500])

    # --- the event lake: rules to a (local) Firehose, Athena's workgroup ------------------------------

    def _create_lake(self) -> None:
        """As infra/analytics.py deploys it: a rule per bus sending the lake's events to the stream."""
        events = aws.client("events")
        stream = f"arn:aws:firehose:{self.region}:{ACCOUNT_ID}:deliverystream/{lake.DELIVERY_STREAM}"
        for name, bus, pattern in (
            (lake.PRODUCT_EVENTS_RULE, get_settings().event_bus_name, lake.product_events_pattern()),
            (lake.EXECUTIONS_RULE, "default", lake.execution_status_pattern()),
        ):
            events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern))
            events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "lake", "Arn": stream}])
        aws.client("athena").create_work_group(
            Name=lake.ANALYTICS_WORKGROUP,
            Configuration={
                "ResultConfiguration": {
                    "OutputLocation": f"s3://{get_settings().bucket_name}/{keys.ATHENA_RESULTS_PREFIX}"
                },
                "EnforceWorkGroupConfiguration": True,
            },
        )

    def _to_lake(self, stream_arn: str, event: dict[str, Any]) -> None:
        self.lake_firehose.put(lake.record_of(event))

    def _s3(self) -> Any:
        from moto.s3.models import s3_backends

        return s3_backends[ACCOUNT_ID]["aws"]

    def _put_lake_object(self, key: str, data: bytes) -> None:
        self._put_object(get_settings().bucket_name, key, data)

    def _put_object(self, bucket: str, key: str, data: bytes) -> None:
        """Written as the service itself writes (Firehose's and Athena's own roles in AWS)."""
        self._s3().put_object(bucket_name=bucket, key_name=key, value=data)

    def _lake_objects(self, prefix: str) -> Iterator[tuple[str, bytes]]:
        bucket = self._s3().get_bucket(get_settings().bucket_name)
        for key in list(bucket.keys.keys()):
            if key.startswith(prefix):
                found = bucket.keys.get(key)
                if found is not None:
                    yield key, found.value

    # --- schedules: moto keeps schedule rules but never fires them; the local cloud does ------------

    def _create_schedule(self, workflow: Workflow, trigger: ScheduleTrigger, starter: TaskFunction) -> None:
        """The schedule rule as CDK deploys it (default bus, ``rate(...)``, the starter its target)."""
        events = aws.client("events")
        rule = schedule_rule_name(workflow)
        minutes = trigger.rate_seconds // 60
        events.put_rule(
            Name=rule,
            ScheduleExpression=f"rate({minutes} minute{'s' if minutes > 1 else ''})",
            State="ENABLED",
        )
        events.put_targets(
            Rule=rule, Targets=[{"Id": "starter", "Arn": function_arn(starter.name, self.region)}]
        )
        if self.schedules:
            self._start_timer(workflow, trigger)

    def fire_schedule(
        self, workflow_name: str, at: datetime | None = None, *, event_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Deliver one tick of the workflow's schedule rule to the rule's targets, now, as EventBridge
        does: an ``aws.events`` "Scheduled Event" whose ``time`` is ``at`` (default: now).

        Synchronous (the timers run it in their own thread): answers what each Lambda target
        returned (the starter: the execution it started or found). ``event_id`` repeats a delivery.
        """
        rule = schedule_rule_name(self.deployed[workflow_name])
        events = aws.client("events")
        described = events.describe_rule(Name=rule)
        event = scheduled_event(described["Arn"], at or utcnow(), self.region, event_id)
        answers = []
        for target in events.list_targets_by_rule(Rule=rule)["Targets"]:
            if not target["Arn"].startswith("arn:aws:lambda:"):
                raise NotImplementedError(f"{rule}: the local cloud fires schedules at Lambda targets only")
            status, headers, body = self.runtime.invoke(
                function_name_of(target["Arn"]), json.dumps(event).encode()
            )
            if status != HTTPStatus.OK or "X-Amz-Function-Error" in headers:
                raise ScheduleDeliveryError(f"{rule} -> {target['Arn']}: {body[:500]!r}")
            answers.append(json.loads(body))
        return answers

    def schedule_rates(self) -> dict[str, int]:
        """Workflow name -> its schedule's period in seconds, for every deployed schedule."""
        return {
            name: workflow.trigger.rate_seconds
            for name, workflow in self.deployed.items()
            if isinstance(workflow.trigger, ScheduleTrigger)
        }

    def start_schedules(self, *, first_tick_after: float | None = None) -> None:
        """Fire every deployed schedule every period from now on (``lms dev``), until :meth:`stop`.

        As in AWS the first tick comes one period after the start, unless ``first_tick_after``
        (seconds) says sooner (a test, or a developer who wants a sweep now).
        """
        self.schedules = True
        self._schedules_stopped.clear()
        for workflow in self.deployed.values():
            if isinstance(workflow.trigger, ScheduleTrigger):
                self._start_timer(workflow, workflow.trigger, first_tick_after)

    def stop_schedules(self) -> None:
        """Stop the timers (a tick being delivered finishes); :meth:`fire_schedule` still works."""
        self._schedules_stopped.set()
        for timer in self._schedule_timers.values():
            timer.join(timeout=30)
        self._schedule_timers.clear()
        self.schedules = False

    def _start_timer(
        self, workflow: Workflow, trigger: ScheduleTrigger, first_tick_after: float | None = None
    ) -> None:
        if workflow.name in self._schedule_timers:
            return

        def tick() -> None:
            wait = trigger.rate_seconds if first_tick_after is None else first_tick_after
            while not self._schedules_stopped.wait(wait):
                wait = trigger.rate_seconds
                try:
                    self.fire_schedule(workflow.name)
                except Exception:  # a timer has no caller: log, and the next tick tries again
                    logging.getLogger(__name__).exception("schedule of %s not delivered", workflow.name)

        timer = threading.Thread(target=tick, name=f"schedule-{workflow.name}", daemon=True)
        self._schedule_timers[workflow.name] = timer
        timer.start()


class ScheduleDeliveryError(RuntimeError):
    """A schedule rule's target failed on a tick (EventBridge would retry it; the caller may)."""


def schedule_rule_name(workflow: Workflow) -> str:
    return f"{workflow.state_machine_name}-schedule"


def scheduled_event(rule_arn: str, at: datetime, region: str, event_id: str | None = None) -> dict[str, Any]:
    """An EventBridge "Scheduled Event" as a schedule rule delivers it to its targets."""
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }
