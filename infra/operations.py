"""What ops watch in AWS, derived from the catalog: one SNS topic for every alert, alarms, a dashboard.

* every workflow's alarms (failed and timed-out executions, its declared error names; built by
  :class:`infra.workflow.WorkflowConstruct`) notify the topic;
* an alarm on API 5xx answers and one on the errors of each Lambda function (API and every task);
* an EventBridge rule sends each FAILED, TIMED_OUT or ABORTED execution of the catalog's state
  machines to the topic, with its name (the business key) in the message;
* one dashboard: executions per workflow, the business metrics (namespace ``LMS``, whatever
  metrics the workflows publish), API answers and Lambda errors.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.api import Api
from infra.constants import pascal
from infra.workflow import WorkflowConstruct, alarm
from lms.metrics import METRICS_NAMESPACE

ALERTING_STATUSES = ["FAILED", "TIMED_OUT", "ABORTED"]
PERIOD = Duration.minutes(5)


class Operations(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, workflows: dict[str, WorkflowConstruct], api: Api
    ) -> None:
        super().__init__(scope, construct_id)
        # Subscribe the on-call address or chat webhook to this topic after the first deploy.
        self.topic = sns.Topic(self, "Alerts", display_name="LMS operations alerts", enforce_ssl=True)
        notify = actions.SnsAction(self.topic)
        for workflow in workflows.values():
            for workflow_alarm in workflow.alarms:
                workflow_alarm.add_alarm_action(notify)

        self.execution_rule = events.Rule(
            self,
            "ExecutionsEndedBadly",
            description="LMS workflow executions that failed, timed out or were aborted",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={
                    "status": ALERTING_STATUSES,
                    "stateMachineArn": [w.state_machine.state_machine_arn for w in workflows.values()],
                },
            ),
            targets=[
                targets.SnsTopic(
                    self.topic,
                    message=events.RuleTargetInput.from_text(
                        f"{events.EventField.from_path('$.detail.name')} "
                        f"{events.EventField.from_path('$.detail.status')}: "
                        f"{events.EventField.from_path('$.detail.executionArn')} "
                        "(`lms executions show <name>` explains it)"
                    ),
                )
            ],
        )

        self.api_errors = self._alarm(
            "Api5xx",
            api.rest_api.metric_server_error(period=PERIOD, statistic="Sum"),
            "The API answered 5xx; its logs have the detail (correlation id = request id).",
        )
        functions: dict[str, lambda_.Function] = {"api": api.function}
        for workflow in workflows.values():
            functions.update(workflow.functions)
        self.function_errors = {
            name: self._alarm(
                f"{pascal(name)}Errors",
                function.metric_errors(period=PERIOD, statistic="Sum"),
                f"{name} raised errors; its logs have them (correlation id = execution name or request id).",
            )
            for name, function in functions.items()
        }
        self.dashboard = self._dashboard(workflows, api, functions)

    def _alarm(self, construct_id: str, metric: cloudwatch.IMetric, description: str) -> cloudwatch.Alarm:
        created = alarm(self, construct_id, metric, description)
        created.add_alarm_action(actions.SnsAction(self.topic))
        return created

    def _dashboard(
        self, workflows: dict[str, WorkflowConstruct], api: Api, functions: dict[str, lambda_.Function]
    ) -> cloudwatch.Dashboard:
        dashboard = cloudwatch.Dashboard(self, "Dashboard")
        for name, workflow in workflows.items():
            machine = workflow.state_machine
            dashboard.add_widgets(
                cloudwatch.GraphWidget(
                    title=f"{name} executions",
                    left=[
                        machine.metric_started(period=PERIOD),
                        machine.metric_succeeded(period=PERIOD),
                        machine.metric_failed(period=PERIOD),
                        machine.metric_timed_out(period=PERIOD),
                        machine.metric_aborted(period=PERIOD),
                    ],
                    width=12,
                ),
                cloudwatch.AlarmStatusWidget(title=f"{name} alarms", alarms=workflow.alarms, width=12),
            )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Business metrics",
                # Every metric the workflows publish (PurchasesCompleted, VideoSecondsProcessed, ...).
                left=[
                    cloudwatch.MathExpression(
                        expression=f"SEARCH('{{{METRICS_NAMESPACE},service}}', 'Sum', 300)",
                        label="",
                        using_metrics={},
                        period=PERIOD,
                    )
                ],
                width=24,
            ),
            cloudwatch.GraphWidget(
                title="API",
                left=[
                    api.rest_api.metric_count(period=PERIOD),
                    api.rest_api.metric_client_error(period=PERIOD),
                    api.rest_api.metric_server_error(period=PERIOD),
                ],
                right=[api.rest_api.metric_latency(period=PERIOD, statistic="p95")],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Lambda errors",
                left=[fn.metric_errors(period=PERIOD, label=name) for name, fn in functions.items()],
                width=12,
            ),
        )
        return dashboard
