"""One factory for "a function with our defaults", used by the API and every task of the catalog.

SnapStart (``snap_start=True``: the API, where a person waits on a cold start): a zip function on a
runtime that supports it (Python 3.12 and later) resumes from a snapshot of its initialised
environment, taken when a version is published. Only published versions are restored from the
snapshot, so such a function gets a ``live`` alias on its current version and every caller invokes
:func:`invoke_target`, never the unqualified function. Container images and ephemeral storage above
512 MB are not supported by SnapStart.

Task functions run without it, unqualified: a workflow step is not waited on by a person, Python
SnapStart bills every published version's cached snapshot and each restore, and a version plus an
alias per function would cost two of the stack's 500 CloudFormation resources each
(docs/deploying.md, "SnapStart").
"""

from __future__ import annotations

from aws_cdk import Duration, Size
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constants import LAMBDA_MEMORY_MB, LAMBDA_TIMEOUT_SECONDS, LOG_RETENTION_DAYS, SERVICE_NAME

RUNTIME = lambda_.Runtime.PYTHON_3_14
LIVE_ALIAS = "live"
SNAPSTART_MAX_EPHEMERAL_STORAGE_MB = 512


def snap_start_applies(code: lambda_.Code | lambda_.DockerImageCode, ephemeral_storage_mb: int) -> bool:
    return (
        not isinstance(code, lambda_.DockerImageCode)
        and bool(RUNTIME.supports_snap_start)
        and ephemeral_storage_mb <= SNAPSTART_MAX_EPHEMERAL_STORAGE_MB
    )


def invoke_target(function: lambda_.Function) -> lambda_.IFunction:
    """What callers invoke: the ``live`` alias of a SnapStart function, else the function itself."""
    alias = function.node.try_find_child(f"Alias{LIVE_ALIAS}")
    return alias if isinstance(alias, lambda_.Alias) else function


def python_function(
    scope: Construct,
    construct_id: str,
    *,
    code: lambda_.Code | lambda_.DockerImageCode,
    handler: str,
    environment: dict[str, str],
    memory_mb: int = LAMBDA_MEMORY_MB,
    timeout_seconds: int = LAMBDA_TIMEOUT_SECONDS,
    ephemeral_storage_mb: int = 512,
    reserved_concurrency: int | None = None,
    snap_start: bool = False,
    log_group: logs.ILogGroup | None = None,
) -> lambda_.Function:
    """ARM64, JSON logs to a retained log group, X-Ray active, its own least-privilege role.

    A zip ``code`` runs ``handler`` on the managed Python runtime; a container image runs its own
    command (set to the same handler when the image is built).
    """
    if log_group is None:  # its own, unless it shares its workflow's
        log_group = logs.LogGroup(scope, f"{construct_id}Logs", retention=logs.RetentionDays.ONE_MONTH)
    assert LOG_RETENTION_DAYS == 30  # keep the constant and the enum in step
    role = iam.Role(scope, f"{construct_id}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    log_group.grant_write(role)
    options = {
        "architecture": lambda_.Architecture.ARM_64,
        "role": role,
        "memory_size": memory_mb,
        "timeout": Duration.seconds(timeout_seconds),
        "ephemeral_storage_size": Size.mebibytes(ephemeral_storage_mb),
        "reserved_concurrent_executions": reserved_concurrency,
        "tracing": lambda_.Tracing.ACTIVE,
        "log_group": log_group,
        "logging_format": lambda_.LoggingFormat.JSON,
        "environment": {
            "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
            "POWERTOOLS_LOG_LEVEL": "INFO",
            **environment,
        },
    }
    if isinstance(code, lambda_.DockerImageCode):
        return lambda_.DockerImageFunction(scope, construct_id, code=code, **options)  # type: ignore[arg-type]
    snap_start = snap_start and snap_start_applies(code, ephemeral_storage_mb)
    function = lambda_.Function(
        scope,
        construct_id,
        runtime=RUNTIME,
        code=code,
        handler=handler,
        snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if snap_start else None,
        **options,  # type: ignore[arg-type]
    )
    if snap_start:
        function.add_alias(LIVE_ALIAS)
    return function
