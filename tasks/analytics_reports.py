"""Task handlers of the analytics reports workflow (``state-machines/analytics-reports.asl.json``)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from tasks.runtime import task_handler

logger = Logger(service="lms-analytics-reports")


@task_handler(logger)
def plan_reports(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Every report's query (prelude + its SQL file), and the run's asOf (when it started)."""
    from lms.analytics import reports

    return {
        "asOf": event["asOf"],
        "reports": [{"id": report.id, "query": report.query()} for report in reports.REPORTS],
    }


@task_handler(logger)
def store_results(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Read each query's result file, split the course reports by course, store every scope."""
    from lms.analytics import refresh

    stored = refresh.store_query_results(
        {run["id"]: run["outputLocation"] for run in event["reports"]}, as_of=event["asOf"]
    )
    logger.info("analytics results stored", extra={"scopes": stored})
    return {"scopes": stored, "asOf": event["asOf"]}
