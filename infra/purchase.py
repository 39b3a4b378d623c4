"""The purchase-to-enrollment workflow in AWS: the state machine from the same ASL file as the
local cloud, its task functions from the shared factory, least-privilege grants, alarms."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.data import Data
from infra.task_function import python_function
from workflows.purchase import PURCHASE

# Which task talks to Stripe, and which resumes executions: everything else only touches the table.
STRIPE_TASKS = frozenset(
    {
        "lms-purchase-create-payment-intent",
        "lms-purchase-await-payment",
        "lms-purchase-refund-payment",
        "lms-purchase-close-transaction",
    }
)
CALLBACK_TASKS = frozenset({"lms-purchase-await-payment"})


def grant_task_callbacks(grantee: iam.IGrantable) -> None:
    """SendTaskSuccess/Failure support no resource-level permissions: the task token is the credential."""
    iam.Grant.add_to_principal(
        grantee=grantee, actions=["states:SendTaskSuccess", "states:SendTaskFailure"], resource_arns=["*"]
    )


class PurchaseWorkflow(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        data: Data,
        code: lambda_.Code,
        stripe_secret: secretsmanager.ISecret,
        event_bus: events.IEventBus,
    ) -> None:
        super().__init__(scope, construct_id)
        self.functions: dict[str, lambda_.Function] = {}
        for task in PURCHASE.functions:
            environment = {"LMS_TABLE_NAME": data.table.table_name}
            if task.name in STRIPE_TASKS:
                environment["LMS_STRIPE_SECRET_ARN"] = stripe_secret.secret_arn
            function = python_function(
                self,
                task.placeholder.removesuffix("FunctionArn"),
                code=code,
                handler=task.handler,
                environment=environment,
            )
            if task.name == "lms-purchase-validate-order":
                data.table.grant_read_data(function)
            else:
                data.table.grant_read_write_data(function)
            if task.name in STRIPE_TASKS:
                stripe_secret.grant_read(function)
            if task.name in CALLBACK_TASKS:
                grant_task_callbacks(function)
            self.functions[task.placeholder] = function

        log_group = logs.LogGroup(self, "ExecutionLogs", retention=logs.RetentionDays.ONE_MONTH)
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_file(str(PURCHASE.path)),
            definition_substitutions={
                **{placeholder: fn.function_arn for placeholder, fn in self.functions.items()},
                "TableName": data.table.table_name,
                "EventBusName": event_bus.event_bus_name,
            },
            state_machine_type=sfn.StateMachineType.STANDARD,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
            tracing_enabled=True,
        )
        # The ASL invokes unqualified function ARNs: exactly those, no versions or aliases (`:*`).
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=[fn.function_arn for fn in self.functions.values()],
            )
        )
        data.table.grant(self.state_machine, "dynamodb:PutItem")  # RecordPendingTransaction
        event_bus.grant_put_events_to(self.state_machine)  # PublishEnrollmentCreated

        for metric_name, metric in (
            ("Failed", self.state_machine.metric_failed(period=Duration.minutes(5))),
            ("TimedOut", self.state_machine.metric_timed_out(period=Duration.minutes(5))),
        ):
            cloudwatch.Alarm(
                self,
                f"Executions{metric_name}",
                metric=metric,
                threshold=1,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=f"A purchase execution {metric_name.lower()}; see its history.",
            )

    def grant_start(self, api_function: lambda_.Function) -> None:
        """The API starts purchases and resumes them from the Stripe webhook."""
        self.state_machine.grant_start_execution(api_function)
        grant_task_callbacks(api_function)
