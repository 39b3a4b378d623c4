"""Task handlers of the maintenance workflow (``state-machines/maintenance.asl.json``).

Thin: each runs one sweep of the domain and returns its counts. A sweep is idempotent (a reminder is
claimed before it is sent, a refund is finished by finding Stripe's refund), so the ASL's retries and
the next tick are safe. Exceptions reach Step Functions by class name for its Retry and Catch.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tasks.runtime import metrics, task_handler

logger = Logger(service="lms-maintenance")


@task_handler(logger)
def send_reminders(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Remind once for every task past its reminder time, over every human task the catalog declares."""
    from lms import human_tasks
    from lms.table import Table
    from workflows.catalog import WORKFLOWS
    from workflows.human_tasks import declared
    from workflows.maintenance import SweepInput

    SweepInput.model_validate(event)
    table = Table()
    reminded = {
        declaration.kind: [
            task.task_id for task in human_tasks.remind_due(table, declaration.kind, declaration.role)
        ]
        for declaration in declared(WORKFLOWS)
    }
    count = sum(len(ids) for ids in reminded.values())
    metrics.add_metric(name="HumanTaskReminders", unit=MetricUnit.Count, value=count)
    logger.info("reminders sent", extra={"reminded": reminded})
    return {"reminded": count, "byKind": {kind: len(ids) for kind, ids in reminded.items()}}


@task_handler(logger)
def finish_pending_refunds(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Finish admin refunds left REFUND_PENDING; those that still fail are counted and named."""
    from lms import payments, purchases
    from lms.table import Table
    from workflows.maintenance import SweepInput

    SweepInput.model_validate(event)
    report = purchases.sweep_pending_refunds(Table(), payments.gateway())
    metrics.add_metric(name="PendingRefundsFinished", unit=MetricUnit.Count, value=len(report.finished))
    if report.failed:
        logger.warning("refunds still pending", extra={"failed": report.failed})
    return {
        "finished": len(report.finished),
        "stillPending": len(report.failed),
        "finishedIds": report.finished,
        "stillPendingIds": sorted(report.failed),
    }
