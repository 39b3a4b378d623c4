"""IAM policy statements derived from declarations: one source for CDK and for the local cloud.

A function's :class:`~workflows.definition.Needs` (the API's too, :func:`api_needs`)
becomes exactly these statements; a state machine gets invoke rights on its own functions and the
actions its direct integrations use (read from the ASL). ``infra/workflow.py`` adds them to the
roles CDK synthesises, and ``infra/local/iam.py`` attaches the very same documents to the local
cloud's roles and refuses every call outside them. Pure Python: ARNs are plain strings here, which
CDK tokens are too, so the same function serves both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lms.analytics.lake import ANALYTICS_WORKGROUP, LAKE_DATABASE
from lms.analytics.lake import TABLE as LAKE_TABLE
from lms.keys import (
    ANALYTICS_RESULTS_PREFIX,
    ATHENA_RESULTS_PREFIX,
    CERTIFICATE_PDF_PREFIX,
    LAKE_EVENTS_PREFIX,
    MEDIA_PREFIX,
    SUBMISSIONS_BLOB_PREFIX,
    UPLOADS_PREFIX,
)
from workflows import catalog
from workflows.definition import Access, ApiTrigger, BucketAccess, Needs, Workflow

# What each table access lets a function do. No Scan (every access pattern is a Query or GetItem)
# and no stream reads: only what the product's calls need, transactions included (a
# TransactWriteItems is authorised item by item as PutItem/UpdateItem/DeleteItem/ConditionCheckItem).
TABLE_READ_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
)
TABLE_WRITE_ACTIONS = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:DescribeTable",
)
OBJECT_ACTIONS = {
    Access.READ: ("s3:GetObject",),
    Access.WRITE: ("s3:PutObject",),
    Access.READ_WRITE: ("s3:GetObject", "s3:PutObject"),
}
SECRET_READ_ACTIONS = ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret")
# SESv2 SendEmail (simple or raw content alike) is authorised as ses:SendEmail on the identity.
MAIL_SEND_ACTIONS = ("ses:SendEmail",)
# SendTaskSuccess/Failure support no resource-level permissions: the task token is the credential.
CALLBACK_ACTIONS = ("states:SendTaskSuccess", "states:SendTaskFailure")
STATE_MACHINE_INSPECTION_ACTIONS = ("states:ListExecutions", "states:DescribeStateMachine")
# Ops also re-run an execution (a new one with the same input, ``<name>-rerun-<n>``), event-triggered
# workflows included: a StartExecution, granted with the inspection unless already granted to start.
RERUN_ACTION = "states:StartExecution"
EXECUTION_INSPECTION_ACTIONS = (
    "states:DescribeExecution",
    "states:GetExecutionHistory",
    "states:DescribeStateMachineForExecution",
    "states:RedriveExecution",
)


@dataclass(frozen=True)
class Statement:
    """One ``Allow`` statement: these actions on these resources, under these conditions."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: Mapping[str, Mapping[str, list[str]]] | None = None

    def document(self) -> dict[str, Any]:
        statement: dict[str, Any] = {
            "Effect": "Allow",
            "Action": list(self.actions),
            "Resource": list(self.resources),
        }
        if self.conditions:
            statement["Condition"] = {op: dict(values) for op, values in self.conditions.items()}
        return statement


@dataclass(frozen=True)
class Arns:
    """The ARNs grants name: CDK tokens in AWS, the local cloud's ARNs locally."""

    partition: str
    region: str
    account: str
    table: str
    bucket: str
    event_bus: str
    stripe_secret: str | None = None
    state_machines: Mapping[str, str] = field(default_factory=dict)  # workflow name -> ARN
    # Email: the SES identity mail is sent from, its configuration set, the unsubscribe-link key.
    mail_identity: str | None = None
    mail_configuration_set: str | None = None
    mail_secret: str | None = None

    def ses(self, resource: str) -> str:
        return f"arn:{self.partition}:ses:{self.region}:{self.account}:{resource}"

    credential_key_secret: str | None = None  # the credential issuer's signing key (issue 20)

    def table_indexes(self) -> str:
        return f"{self.table}/index/*"

    def objects(self, prefix: str) -> str:
        return f"{self.bucket}/{prefix}*"

    def executions(self, workflow: str) -> str:
        """Every execution of one workflow's state machine (names are chosen at run time)."""
        name = Workflow(name=workflow).state_machine_name
        return f"arn:{self.partition}:states:{self.region}:{self.account}:execution:{name}:*"


def api_needs(workflows: tuple[Workflow, ...]) -> Needs:
    """The API reads and writes the table, reads the Stripe keys, starts the API-triggered
    workflows, resumes waiting executions (the Stripe webhook), publishes EnrollmentRevoked (admin
    refunds), checks unsubscribe links (their key, not SES), signs upload URLs of videos
    (``uploads/``: a presigned URL carries the signer's
    rights), reads and signs the playable media (``media/``, listed so that a missing playlist is a
    404 rather than S3's 403), signs download URLs of certificates, signs upload and download URLs
    of assignment work (``submissions/``), reads the stored analytics results and inspects every
    workflow's executions (the ops routes). The local cloud enforces exactly this
    (``infra/local/iam.py``)."""
    return Needs(
        table=Access.READ_WRITE,
        bucket=(
            BucketAccess(Access.WRITE, UPLOADS_PREFIX),
            BucketAccess(Access.READ, MEDIA_PREFIX, list=True),
            BucketAccess(Access.READ, CERTIFICATE_PDF_PREFIX),
            # the stored analytics results (listed: before the first refresh a scope has none, a 404)
            BucketAccess(Access.READ, ANALYTICS_RESULTS_PREFIX, list=True),
            # Assignment work: signs the students' upload URLs and the graders' download URLs.
            BucketAccess(Access.READ_WRITE, SUBMISSIONS_BLOB_PREFIX),
        ),
        stripe_secret=True,
        mail_links=True,
        task_callbacks=True,
        event_bus_put=True,
        start_workflows=tuple(w.name for w in workflows if isinstance(w.trigger, ApiTrigger)),
        inspect_workflows=tuple(w.name for w in workflows),
    )


def statements(needs: Needs, arns: Arns) -> list[Statement]:
    """Exactly what ``needs`` names, in a stable order; nothing is granted anywhere else."""
    found: list[Statement] = []
    if needs.table is not None:
        actions = {
            Access.READ: TABLE_READ_ACTIONS,
            Access.WRITE: TABLE_WRITE_ACTIONS,
            Access.READ_WRITE: _union(TABLE_READ_ACTIONS, TABLE_WRITE_ACTIONS),
        }[needs.table]
        found.append(Statement(actions, (arns.table, arns.table_indexes())))
    for bucket in needs.bucket_grants:
        found.extend(bucket_statements(bucket, arns))
    if needs.stripe_secret and arns.stripe_secret:
        found.append(Statement(SECRET_READ_ACTIONS, (arns.stripe_secret,)))
    if needs.mail:
        found.extend(mail_statements(arns))
    elif needs.mail_links and arns.mail_secret:
        found.append(Statement(SECRET_READ_ACTIONS, (arns.mail_secret,)))
    if needs.credential_signing_key and arns.credential_key_secret:
        found.append(Statement(SECRET_READ_ACTIONS, (arns.credential_key_secret,)))
    if needs.task_callbacks:
        found.append(Statement(CALLBACK_ACTIONS, ("*",)))
    if needs.event_bus_put:
        found.append(Statement(("events:PutEvents",), (arns.event_bus,)))
    for name in needs.start_workflows:
        found.append(Statement(("states:StartExecution",), (arns.state_machines[name],)))
    for name in needs.inspect_workflows:
        rerun = () if name in needs.start_workflows else (RERUN_ACTION,)
        found.append(Statement((*STATE_MACHINE_INSPECTION_ACTIONS, *rerun), (arns.state_machines[name],)))
        found.append(Statement(EXECUTION_INSPECTION_ACTIONS, (arns.executions(name),)))
    return found


def mail_statements(arns: Arns) -> list[Statement]:
    """SESv2 SendEmail from the sender identity only (and through its configuration set: SES checks
    both resources), and reading the key that signs unsubscribe links."""
    sending = [arns.ses(f"identity/{arns.mail_identity or '*'}")]
    if arns.mail_configuration_set:
        sending.append(arns.ses(f"configuration-set/{arns.mail_configuration_set}"))
    found = [Statement(MAIL_SEND_ACTIONS, tuple(sending))]
    if arns.mail_secret:
        found.append(Statement(SECRET_READ_ACTIONS, (arns.mail_secret,)))
    return found


def bucket_statements(bucket: BucketAccess, arns: Arns) -> list[Statement]:
    """Objects under the declared prefix only; listing (a bucket-level action) narrowed to it.

    Without ``s3:ListBucket`` S3 answers a GET or HEAD of a missing key with 403, not 404: a
    function that must tell "absent" from "forbidden" declares ``list=True``.
    """
    # A function that deletes also tags what S3 would not delete, for the lifecycle rule to expire.
    deleting = ("s3:DeleteObject", "s3:PutObjectTagging") if bucket.delete else ()
    actions = OBJECT_ACTIONS[bucket.access] + deleting
    found = [Statement(actions, (arns.objects(bucket.prefix),))]
    if bucket.list:
        found.append(
            Statement(
                ("s3:ListBucket",),
                (arns.bucket,),
                {"StringLike": {"s3:prefix": [f"{bucket.prefix}*"]}},
            )
        )
    return found


def state_machine_statements(
    workflow: Workflow, arns: Arns, function_arns: Mapping[str, str]
) -> list[Statement]:
    """The state machine's role: invoke exactly its functions (as the ASL names them, never ``:*``)
    and what its direct service integrations use (read from the ASL, not declared twice)."""
    found: list[Statement] = []
    invoked = tuple(function_arns[fn.name] for fn in workflow.functions)
    if invoked:
        found.append(Statement(("lambda:InvokeFunction",), invoked))
    integrations = catalog.integrations(workflow)
    if "table" in integrations:
        found.append(Statement(tuple(sorted(integrations["table"])), (arns.table, arns.table_indexes())))
    if "event_bus" in integrations:
        found.append(Statement(("events:PutEvents",), (arns.event_bus,)))
    if "athena" in integrations:
        found.extend(athena_statements(arns))
    return found


ATHENA_QUERY_ACTIONS = (
    "athena:StartQueryExecution",
    "athena:GetQueryExecution",
    "athena:GetQueryResults",
    "athena:StopQueryExecution",
)
GLUE_READ_ACTIONS = ("glue:GetDatabase", "glue:GetTable", "glue:GetPartitions")


def athena_statements(arns: Arns) -> list[Statement]:
    """Running the lake's queries (the analytics workgroup only): Athena reads the Glue table and
    the lake's objects, and writes its result files, with the caller's rights."""
    glue = f"arn:{arns.partition}:glue:{arns.region}:{arns.account}"
    return [
        Statement(ATHENA_QUERY_ACTIONS, (analytics_workgroup_arn(arns),)),
        Statement(
            GLUE_READ_ACTIONS,
            (
                f"{glue}:catalog",
                f"{glue}:database/{LAKE_DATABASE}",
                f"{glue}:table/{LAKE_DATABASE}/{LAKE_TABLE}",
            ),
        ),
        *bucket_statements(BucketAccess(Access.READ, LAKE_EVENTS_PREFIX, list=True), arns),
        *bucket_statements(BucketAccess(Access.READ_WRITE, ATHENA_RESULTS_PREFIX, list=True), arns),
        Statement(("s3:GetBucketLocation",), (arns.bucket,)),
    ]


def analytics_workgroup_arn(arns: Arns) -> str:
    return f"arn:{arns.partition}:athena:{arns.region}:{arns.account}:workgroup/{ANALYTICS_WORKGROUP}"


def policy_document(found: list[Statement]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [s.document() for s in found]}


def _union(*groups: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(action for group in groups for action in group))
