"""Any workflow of the catalog in AWS, built from its declaration alone.

Each task function gets its declared memory, timeout, storage, package and exactly the grants its
``Needs`` name; the state machine is the same ASL file the local cloud runs (CDK fills the same
placeholders, :func:`workflows.catalog.substitutions`), may invoke exactly its functions and gets
the grants its direct integrations need (read from the ASL). An event trigger becomes an
EventBridge rule whose target is a starter function that names the execution; a schedule trigger
becomes a schedule rule (``Schedule.rate``) whose target is the same starter, naming each run after
its tick. Alarms: failed and timed-out executions, and one per declared error name (a metric filter on
the execution log).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Acknowledgment, Duration, Stack, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import policies
from infra.bundling import Packages
from infra.data import Data
from infra.mail import Mail
from infra.task_function import invoke_target, python_function
from workflows import catalog
from workflows.definition import EventTrigger, Needs, ScheduleTrigger, TaskFunction, Workflow

METRIC_NAMESPACE = "LMS/Workflows"


@dataclass
class Platform:
    """What every workflow is wired to, created once by the stack."""

    data: Data
    event_bus: events.IEventBus
    stripe_secret: secretsmanager.ISecret
    packages: Packages
    state_machines: dict[str, sfn.IStateMachine]
    mail: Mail | None = None  # the SES identity, configuration set and unsubscribe key (infra/mail.py)
    credential_key_secret: secretsmanager.ISecret | None = None  # the issuer's Ed25519 key (issue 20)

    def resources(self) -> catalog.Resources:
        return catalog.Resources(
            table_name=self.data.table.table_name,
            bucket_name=self.data.bucket.bucket_name,
            event_bus_name=self.event_bus.event_bus_name,
            stripe_secret_arn=self.stripe_secret.secret_arn,
            mail_from=self.mail.sender if self.mail else None,
            mail_configuration_set=self.mail.configuration_set.configuration_set_name if self.mail else None,
            mail_secret_arn=self.mail.signing_secret.secret_arn if self.mail else None,
            public_url=self.mail.public_url if self.mail else None,
            credential_key_secret_arn=self._credential_key_secret_arn(),
            state_machine_arns={name: sm.state_machine_arn for name, sm in self.state_machines.items()},
        )

    def _credential_key_secret_arn(self) -> str | None:
        return self.credential_key_secret.secret_arn if self.credential_key_secret else None

    def arns(self) -> policies.Arns:
        stack = Stack.of(self.data.table)
        return policies.Arns(
            partition=stack.partition,
            region=stack.region,
            account=stack.account,
            table=self.data.table.table_arn,
            bucket=self.data.bucket.bucket_arn,
            event_bus=self.event_bus.event_bus_arn,
            stripe_secret=self.stripe_secret.secret_arn,
            mail_identity=self.mail.domain if self.mail else None,
            mail_configuration_set=self.mail.configuration_set.configuration_set_name if self.mail else None,
            mail_secret=self.mail.signing_secret.secret_arn if self.mail else None,
            credential_key_secret=self._credential_key_secret_arn(),
            state_machines={name: sm.state_machine_arn for name, sm in self.state_machines.items()},
        )

    def grant(self, grantee: iam.IGrantable, needs: Needs) -> None:
        """Exactly the statements :func:`infra.policies.statements` derives from ``needs`` (the
        local cloud enforces the same ones); nothing is granted anywhere else."""
        add_statements(grantee, policies.statements(needs, self.arns()))
        stack = Stack.of(self.data.bucket)
        media = stack.resolve(stack.get_logical_id(self.data.bucket.node.default_child))  # type: ignore[arg-type]
        for bucket in needs.bucket_grants:
            Validations.of(stack).acknowledge(
                Acknowledgment(
                    id=f"AwsSolutions-IAM5[Resource::<{media}.Arn>/{bucket.prefix}*]",
                    reason="Objects under the key prefix the function declared in the catalog, and no other.",
                )
            )
        for name in needs.inspect_workflows:
            Validations.of(stack).acknowledge(
                Acknowledgment(
                    id="AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:"
                    f"<AWS::AccountId>:execution:{Workflow(name=name).state_machine_name}:*]",
                    reason="Executions of a state machine the function declared it inspects; execution "
                    "ARNs end in names chosen at run time (business keys).",
                )
            )


def add_statements(grantee: iam.IGrantable, found: list[policies.Statement]) -> None:
    for statement in found:
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=list(statement.actions),
                resources=list(statement.resources),
                conditions={op: dict(values) for op, values in statement.conditions.items()}
                if statement.conditions
                else None,
            )
        )


class WorkflowConstruct(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, workflow: Workflow, platform: Platform
    ) -> None:
        super().__init__(scope, construct_id)
        self.workflow = workflow
        # One log group for the workflow's task functions (each writes its own streams): ops read a
        # workflow's logs in one place, and the stack stays well under CloudFormation's 500 resources.
        self.task_logs = logs.LogGroup(self, "TaskLogs", retention=logs.RetentionDays.ONE_MONTH)
        self.functions: dict[str, lambda_.Function] = {
            fn.name: self._function(fn, platform) for fn in workflow.functions
        }
        self.log_group = logs.LogGroup(self, "ExecutionLogs", retention=logs.RetentionDays.ONE_MONTH)
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_string(catalog.definition(workflow)),
            definition_substitutions=catalog.substitutions(
                workflow,
                function_arn={name: invoke_target(fn).function_arn for name, fn in self.functions.items()},
                resources=platform.resources(),
            ),
            # Named as locally (lms-<workflow>), so `lms executions --region ...` finds it by name.
            state_machine_name=workflow.state_machine_name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=True
            ),
            tracing_enabled=True,
        )
        platform.state_machines[workflow.name] = self.state_machine
        # Invoke exactly the functions the ASL names (the SnapStart alias, or the unqualified
        # function), never `:*`, and what its direct integrations use.
        add_statements(
            self.state_machine,
            policies.state_machine_statements(
                workflow,
                platform.arns(),
                {name: invoke_target(fn).function_arn for name, fn in self.functions.items()},
            ),
        )
        self.rule: events.Rule | None = None
        self.starter: lambda_.Function | None = None
        if workflow.starter is not None:
            self.starter = self._function(workflow.starter, platform)
            self.functions[workflow.starter.name] = self.starter
            if isinstance(workflow.trigger, ScheduleTrigger):
                self.rule = self._schedule(workflow.trigger, self.starter)
            elif isinstance(workflow.trigger, EventTrigger):
                self.rule = self._rule(workflow.trigger, self.starter, platform)
        self.alarms: list[cloudwatch.Alarm] = []
        self._alarms()

    def _function(self, fn: TaskFunction, platform: Platform) -> lambda_.Function:
        function = python_function(
            self,
            fn.construct_id,
            code=platform.packages.code(fn.packaging, fn.handler),
            handler=fn.handler,
            environment=catalog.environment(self.workflow, fn, platform.resources()),
            memory_mb=fn.memory_mb,
            timeout_seconds=fn.timeout_seconds,
            ephemeral_storage_mb=fn.ephemeral_storage_mb,
            reserved_concurrency=fn.reserved_concurrency,
            log_group=self.task_logs,
        )
        platform.grant(function, fn.needs)
        return function

    def _rule(self, trigger: EventTrigger, starter: lambda_.Function, platform: Platform) -> events.Rule:
        bus = (
            platform.event_bus
            if trigger.bus == "lms"
            else events.EventBus.from_event_bus_name(self, "DefaultBus", "default")
        )
        pattern = events.EventPattern(
            **{
                key.replace("-", "_"): value
                for key, value in catalog.event_pattern(trigger, platform.resources()).items()
            }
        )
        return events.Rule(
            self,
            "Trigger",
            event_bus=bus,
            event_pattern=pattern,
            targets=[
                targets.LambdaFunction(
                    invoke_target(starter), retry_attempts=4, max_event_age=Duration.hours(2)
                )
            ],
        )

    def _schedule(self, trigger: ScheduleTrigger, starter: lambda_.Function) -> events.Rule:
        """A schedule rule (default bus) invoking the starter, which names the run after the tick.

        A rule targeting the state machine directly could not name the execution, so a duplicate
        delivery of a tick would start a second run; the starter makes it one.
        """
        return events.Rule(
            self,
            "Schedule",
            schedule=events.Schedule.rate(Duration.seconds(trigger.rate_seconds)),
            targets=[
                targets.LambdaFunction(
                    invoke_target(starter),
                    retry_attempts=4,
                    # A tick not delivered within its period is superseded by the next one.
                    max_event_age=Duration.seconds(min(trigger.rate_seconds, 24 * 3600)),
                )
            ],
        )

    def _alarms(self) -> None:
        name = self.workflow.name
        for metric_name, metric in (
            ("Failed", self.state_machine.metric_failed(period=Duration.minutes(5))),
            ("TimedOut", self.state_machine.metric_timed_out(period=Duration.minutes(5))),
        ):
            self._alarm(f"Executions{metric_name}", metric, f"A {name} execution {metric_name.lower()}")
        for error in self.workflow.error_alarms:
            # Step Functions has no per-error metric; the execution log (level ALL) has the error name.
            metric_filter = logs.MetricFilter(
                self,
                f"{error}Filter",
                log_group=self.log_group,
                metric_namespace=METRIC_NAMESPACE,
                metric_name=f"{name}-{error}",
                filter_pattern=logs.FilterPattern.all(
                    logs.FilterPattern.string_value("$.type", "=", "ExecutionFailed"),
                    logs.FilterPattern.string_value("$.details.error", "=", error),
                ),
                metric_value="1",
            )
            self._alarm(
                f"{error}Executions",
                metric_filter.metric(period=Duration.minutes(5), statistic="Sum"),
                f"A {name} execution failed with {error}",
            )

    def _alarm(self, construct_id: str, metric: cloudwatch.IMetric, description: str) -> None:
        # infra.operations sends them to the ops topic.
        self.alarms.append(alarm(self, construct_id, metric, f"{description}; see its execution history."))


def alarm(
    scope: Construct, construct_id: str, metric: cloudwatch.IMetric, description: str
) -> cloudwatch.Alarm:
    """Our one kind of alarm: any occurrence in five minutes; no data is no trouble."""
    return cloudwatch.Alarm(
        scope,
        construct_id,
        metric=metric,
        threshold=1,
        evaluation_periods=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        alarm_description=description,
    )
