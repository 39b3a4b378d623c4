"""The LMS stack: composes one construct per capability."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.api import Api
from infra.bundling import lambda_code
from infra.data import Data
from infra.purchase import PurchaseWorkflow
from workflows.executions import arn_variable
from workflows.purchase import PURCHASE


class LmsStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, cors_origins: list[str], **kwargs: object
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        code = lambda_code()
        self.data = Data(self, "Data")
        self.event_bus = events.EventBus(self, "EventBus")
        # After the first deploy the operator stores {"secretKey": ..., "webhookSecret": ...} here.
        self.stripe_secret = secretsmanager.Secret(
            self,
            "StripeSecrets",
            description="Stripe API key and webhook signing secret (JSON: secretKey, webhookSecret)",
        )
        self.purchase = PurchaseWorkflow(
            self,
            "Purchase",
            data=self.data,
            code=code,
            stripe_secret=self.stripe_secret,
            event_bus=self.event_bus,
        )
        self.api = Api(self, "Api", data=self.data, code=code, cors_origins=cors_origins)
        self.api.function.add_environment("LMS_STRIPE_SECRET_ARN", self.stripe_secret.secret_arn)
        self.api.function.add_environment(
            arn_variable(PURCHASE), self.purchase.state_machine.state_machine_arn
        )
        self.stripe_secret.grant_read(self.api.function)
        self.purchase.grant_start(self.api.function)
        CfnOutput(self, "ApiUrl", value=self.api.rest_api.url)
        CfnOutput(self, "TableName", value=self.data.table.table_name)
        CfnOutput(self, "BucketName", value=self.data.bucket.bucket_name)
        CfnOutput(self, "StripeSecretArn", value=self.stripe_secret.secret_arn)
        CfnOutput(self, "PurchaseStateMachineArn", value=self.purchase.state_machine.state_machine_arn)
