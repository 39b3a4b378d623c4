"""The API construct: the API Lambda behind an API Gateway REST API (proxy), with its secret.

The API function also serves the ops console (``/console``, :mod:`api.console`): the proxy resource
routes it there like any other path, and the stack outputs its URL; the analytics dashboard
(``/dashboard``, :mod:`api.dashboard`) the same way. Its templates and static files
travel in the API package (``api/`` whole), Jinja2 with it (``infra.constants.API_PACKAGE``).
"""

from __future__ import annotations

from aws_cdk import CfnOutput
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.data import Data
from infra.task_function import invoke_target, python_function


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        data: Data,
        code: lambda_.Code | lambda_.DockerImageCode,
        cors_origins: list[str],
        environment: dict[str, str],
    ) -> None:
        """``environment`` and the grants of the table, Stripe and the workflows come from the stack."""
        super().__init__(scope, construct_id)
        self.jwt_secret = secretsmanager.Secret(
            self,
            "JwtSigningSecret",
            description="HS256 signing secret of LMS access tokens",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True
            ),
        )
        self.function = python_function(
            self,
            "Handler",
            code=code,
            handler="api.app.handler",
            environment={
                **environment,
                "LMS_BUCKET_NAME": data.bucket.bucket_name,
                "LMS_JWT_SECRET_ARN": self.jwt_secret.secret_arn,
                "LMS_CORS_ORIGINS": ",".join(cors_origins),
            },
            snap_start=True,  # a person waits on the API's cold starts (infra/task_function.py)
        )
        self.jwt_secret.grant_read(self.function)

        access_logs = logs.LogGroup(self, "AccessLogs", retention=logs.RetentionDays.ONE_MONTH)
        self.rest_api = apigateway.LambdaRestApi(
            self,
            "RestApi",
            handler=invoke_target(self.function),
            proxy=True,
            cloud_watch_role=True,
            deploy_options=apigateway.StageOptions(
                stage_name="v1",
                tracing_enabled=True,
                logging_level=apigateway.MethodLoggingLevel.ERROR,
                access_log_destination=apigateway.LogGroupLogDestination(access_logs),
                access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
                throttling_rate_limit=100,
                throttling_burst_limit=200,
            ),
        )
        # The console's pages are served by the same function: the stage URL plus /console.
        self.console_url = f"{self.rest_api.url}console"
        CfnOutput(self, "ConsoleUrl", value=self.console_url, description="The ops console (admin login)")
        # So is the analytics dashboard (api.dashboard): the stage URL plus /dashboard.
        self.dashboard_url = f"{self.rest_api.url}dashboard"
        CfnOutput(
            self,
            "DashboardUrl",
            value=self.dashboard_url,
            description="The analytics dashboard (instructor or admin login)",
        )
