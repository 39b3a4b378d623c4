"""The LMS stack: the data, the bus, the secrets, the API, and every workflow of the catalog."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.analytics import Analytics
from infra.api import Api
from infra.bundling import Packages
from infra.constants import API_PACKAGE, pascal
from infra.data import Data
from infra.mail import Mail
from infra.operations import Operations
from infra.policies import api_needs
from infra.workflow import Platform, WorkflowConstruct
from workflows import catalog
from workflows.definition import Workflow


class LmsStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cors_origins: list[str],
        mail_domain: str = "example.com",
        mail_from: str | None = None,
        public_url: str = "https://api.example.com",
        workflows: tuple[Workflow, ...] = catalog.WORKFLOWS,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.data = Data(self, "Data")
        self.event_bus = events.EventBus(self, "EventBus")
        # After the first deploy the operator stores {"secretKey": ..., "webhookSecret": ...} here.
        self.stripe_secret = secretsmanager.Secret(
            self,
            "StripeSecrets",
            description="Stripe API key and webhook signing secret (JSON: secretKey, webhookSecret)",
        )
        self.mail = Mail(
            self,
            "Mail",
            domain=mail_domain,
            sender=mail_from or f"LMS <no-reply@{mail_domain}>",
            public_url=public_url,
        )
        # The credential issuer's Ed25519 signing key (JSON: kid, privateKeyJwk). Secrets Manager cannot
        # generate one: after the first deploy the operator runs `lms credentials rotate-key`
        # (docs/credentials.md), which stores it here and publishes its public key.
        self.credential_key_secret = secretsmanager.Secret(
            self,
            "CredentialSigningKey",
            description="Ed25519 signing key of verifiable certificates (JSON: kid, privateKeyJwk)",
        )
        self.platform = Platform(
            self.data,
            self.event_bus,
            self.stripe_secret,
            Packages(),
            {},
            self.mail,
            credential_key_secret=self.credential_key_secret,
        )
        self.workflows = {
            w.name: WorkflowConstruct(self, pascal(w.name), workflow=w, platform=self.platform)
            for w in _started_ones_first(workflows)
        }
        needs = api_needs(workflows)
        self.api = Api(
            self,
            "Api",
            data=self.data,
            code=self.platform.packages.code(API_PACKAGE, "api.app.handler"),
            cors_origins=cors_origins,
            environment=catalog.environment(
                Workflow(name="api"),
                catalog.TaskFunction("Api", needs, packaging=API_PACKAGE),
                self.platform.resources(),
            ),
        )
        self.platform.grant(self.api.function, needs)
        self.operations = Operations(self, "Operations", workflows=self.workflows, api=self.api)
        # The event lake (lms.analytics): EventBridge -> Firehose -> Parquet in S3 -> Athena.
        self.analytics = Analytics(self, "Analytics", bucket=self.data.bucket, event_bus=self.event_bus)
        CfnOutput(self, "ApiUrl", value=self.api.rest_api.url)
        CfnOutput(self, "TableName", value=self.data.table.table_name)
        CfnOutput(self, "BucketName", value=self.data.bucket.bucket_name)
        CfnOutput(self, "StripeSecretArn", value=self.stripe_secret.secret_arn)
        CfnOutput(self, "MailSenderDomain", value=mail_domain)
        CfnOutput(self, "CredentialKeySecretArn", value=self.credential_key_secret.secret_arn)
        for name, construct in self.workflows.items():
            CfnOutput(self, f"{pascal(name)}StateMachineArn", value=construct.state_machine.state_machine_arn)


def _started_ones_first(workflows: tuple[Workflow, ...]) -> list[Workflow]:
    """Workflows whose functions start other workflows (a quiz attempt's grading starts certificate
    issuance) are built after the rest, so the ARNs their functions are given already exist."""

    def starts_others(workflow: Workflow) -> bool:
        return any(set(fn.needs.start_workflows) - {workflow.name} for fn in workflow.all_functions)

    return sorted(workflows, key=starts_others)
