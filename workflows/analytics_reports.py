"""The analytics reports workflow: every report's SQL through Athena, the results stored with asOf.

A schedule starts ``analytics-reports-<tick>`` every :data:`RATE_SECONDS` (one execution per tick),
and ``lms analytics refresh`` starts one on demand. ``PlanReports`` lists the report queries (the
SQL files of lms/analytics/sql with their shared prelude); ``RunReports`` runs each through the Step
Functions Athena integration (``athena:startQueryExecution.sync``: Athena on the Glue table in AWS,
DuckDB over the local lake locally, the same ASL); ``StoreResults`` reads each query's result file,
splits the course reports by course, and writes each scope's results with the run's ``asOf``
(lms.analytics.results). A query or store fault ends in ``ReportsFaulted`` (alarmed); the previous
results stay served, and the next tick tries again.
"""

from __future__ import annotations

from lms import keys
from workflows.definition import Access, BucketAccess, Needs, ScheduleTrigger, TaskFunction, Workflow

RATE_SECONDS = 5 * 60

ANALYTICS_REPORTS = Workflow(
    name="analytics-reports",
    trigger=ScheduleTrigger(rate_seconds=RATE_SECONDS),
    functions=(
        TaskFunction("PlanReports", Needs(), timeout_seconds=10),
        # Reads Athena's result files and the courses' lessons (the funnel's order), writes results.
        TaskFunction(
            "StoreResults",
            Needs(
                table=Access.READ,
                bucket=(
                    BucketAccess(Access.READ, keys.ATHENA_RESULTS_PREFIX),
                    BucketAccess(Access.WRITE, keys.ANALYTICS_RESULTS_PREFIX),
                ),
            ),
            timeout_seconds=120,
            memory_mb=1024,
        ),
    ),
    # A run takes the longest query's time; one still going at the next tick's is stuck.
    timeout_seconds=RATE_SECONDS,
    error_alarms=("ReportsFaulted",),
)
