"""Storing a refresh's figures: Athena's result files -> each scope's stored results.

Called by the reports workflow's ``StoreResults`` task with each report's result location (the
``s3://`` OutputLocation the Athena integration returned). The funnel's lesson order comes from the
course (one Query per course in the results, a task's read, never a request's).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lms import keys
from lms.analytics import reports, results
from lms.blobs import BlobStore, S3BlobStore
from lms.settings import get_settings
from lms.table import Table


def lessons_from(table: Table) -> reports.LessonsOf:
    def lessons_of(course_id: str) -> list[tuple[str, str | None]]:
        from lms.courses.courses import read_course_partition

        _, lessons = read_course_partition(table, course_id)
        return [(lesson.lesson_id, lesson.title) for lesson in lessons]

    return lessons_of


def key_of(location: str, bucket: str) -> str:
    """``s3://<bucket>/analytics/athena-results/<id>.csv`` -> its key (in the product's bucket)."""
    prefix = f"s3://{bucket}/"
    if not location.startswith(prefix):
        raise ValueError(f"result {location} is not in the bucket {bucket}")
    return location.removeprefix(prefix)


def store_query_results(
    locations: dict[str, str],
    *,
    as_of: str,
    blobs: BlobStore | None = None,
    table: Table | None = None,
) -> dict[str, int]:
    """Store every scope's results from the reports' result files (report id -> s3 location).
    Returns scope kind -> how many scopes were stored."""
    bucket = get_settings().bucket_name
    store = blobs or S3BlobStore(bucket)
    rows: dict[str, list[dict[str, str | None]]] = {}
    for report_id, location in locations.items():
        data = store.get(key_of(location, bucket))
        if data is None:
            raise FileNotFoundError(f"{report_id}: no result file at {location}")
        rows[report_id] = reports.parse_csv(data.decode())
    scoped = reports.results_by_scope(rows, lessons_from(table or Table()))
    moment = datetime.fromisoformat(as_of.replace("Z", "+00:00"))
    counts = {"platform": 0, "course": 0}
    for scope, figures in scoped.items():
        results.store(scope, figures, moment, blobs=store)
        counts["platform" if scope == keys.PLATFORM_SCOPE else "course"] += 1
    return counts


def latest_figures(scope: str) -> dict[str, Any] | None:
    """The scope's stored results as JSON (for ``lms analytics`` and tests)."""
    found = results.latest(scope)
    if found is None:
        return None
    return {"asOf": found.as_of.isoformat(), "results": found.results}
