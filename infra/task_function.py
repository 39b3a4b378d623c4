"""One factory for "a Python function with our defaults", used by the API and every task."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constants import LAMBDA_MEMORY_MB, LAMBDA_TIMEOUT_SECONDS, LOG_RETENTION_DAYS, SERVICE_NAME

RUNTIME = lambda_.Runtime.PYTHON_3_14


def python_function(
    scope: Construct,
    construct_id: str,
    *,
    code: lambda_.Code,
    handler: str,
    environment: dict[str, str],
    timeout_seconds: int = LAMBDA_TIMEOUT_SECONDS,
) -> lambda_.Function:
    """ARM64, JSON logs to a retained log group, X-Ray active, its own least-privilege role."""
    log_group = logs.LogGroup(scope, f"{construct_id}Logs", retention=logs.RetentionDays.ONE_MONTH)
    assert LOG_RETENTION_DAYS == 30  # keep the constant and the enum in step
    role = iam.Role(scope, f"{construct_id}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    log_group.grant_write(role)
    function = lambda_.Function(
        scope,
        construct_id,
        runtime=RUNTIME,
        architecture=lambda_.Architecture.ARM_64,
        code=code,
        handler=handler,
        role=role,
        memory_size=LAMBDA_MEMORY_MB,
        timeout=Duration.seconds(timeout_seconds),
        tracing=lambda_.Tracing.ACTIVE,
        log_group=log_group,
        logging_format=lambda_.LoggingFormat.JSON,
        environment={
            "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
            "POWERTOOLS_LOG_LEVEL": "INFO",
            **environment,
        },
    )
    return function
