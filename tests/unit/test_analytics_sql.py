"""The report SQL on the local lake: a known event set gives the figures worked out by hand.

The events go the real local way: each delivered event becomes a lake record
(lms.analytics.lake.record_of), records are written as Parquet by the local Firehose and read back
with their day partition, and every report file runs on DuckDB after sqlglot's Trino -> DuckDB
transpilation, the same text Athena runs.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import sqlglot

from infra.local import lake as local_lake
from lms import keys
from lms.analytics import lake, reports
from lms.analytics.results import COURSE_REPORTS, PLATFORM_REPORTS
from tests import analytics as known


def _lake_of(delivered: list[dict[str, Any]], buffer_bytes: int = 10_000) -> tuple[dict[str, bytes], int]:
    files: dict[str, bytes] = {}
    firehose = local_lake.LocalFirehose(files.__setitem__, buffer_bytes=buffer_bytes, buffer_seconds=0)
    for event in delivered:
        firehose.put(lake.record_of(event))
    firehose.close()
    return files, firehose.files_written


def _figures(delivered: list[dict[str, Any]]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    files, _ = _lake_of(delivered)
    table = local_lake.lake_table(files.items())
    rows = {
        report.id: reports.parse_csv(local_lake.run_query(report.query(), table).csv())
        for report in reports.REPORTS
    }
    return reports.results_by_scope(rows, known.lessons_of)


def _close(actual: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    assert len(actual) == len(expected), (actual, expected)
    for got, want in zip(actual, expected, strict=True):
        assert set(got) == set(want), (got, want)
        for column, value in want.items():
            if isinstance(value, float):
                assert got[column] is not None and math.isclose(got[column], value, abs_tol=1e-9), (
                    column,
                    got,
                )
            else:
                assert got[column] == value, (column, got, want)


@pytest.fixture(scope="module")
def figures() -> dict[str, dict[str, list[dict[str, Any]]]]:
    return _figures(known.known_events())


@pytest.mark.parametrize("name", list(COURSE_REPORTS))
def test_each_course_report_gives_the_figures_computed_by_hand(figures, name: str) -> None:
    _close(figures[keys.course_scope(known.COURSE)][name], known.expected_course()[name])


@pytest.mark.parametrize("name", list(PLATFORM_REPORTS))
def test_each_platform_report_gives_the_figures_computed_by_hand(figures, name: str) -> None:
    _close(figures[keys.PLATFORM_SCOPE][name], known.expected_platform()[name])


def test_a_course_with_one_finisher_has_that_finishers_days_as_its_median(figures) -> None:
    _close(
        figures[keys.course_scope(known.FREE_COURSE)]["completion"], known.expected_free_course_completion()
    )
    assert figures[keys.course_scope(known.FREE_COURSE)]["funnel"] == [
        {"position": 1, "lesson_id": "m1", "title": "Only lesson", "reached": 1, "completed": 1}
    ]


def test_duplicated_events_change_nothing() -> None:
    events = known.known_events()
    once = _figures(events)
    # At-least-once delivery: every event twice, in other files, in reverse order.
    twice = _figures(events + list(reversed(events)))
    for scope, by_report in once.items():
        for name, rows in by_report.items():
            _close(twice[scope][name], rows)


def test_the_lake_is_written_in_batches_partitioned_by_the_events_day() -> None:
    events = known.known_events()
    files, written = _lake_of(events, buffer_bytes=10**9)
    days = {lake.day_of(lake.record_of(event)) for event in events}
    assert written == len(files) == len(days)  # one file per day of the one flush, not one per event
    assert {lake.partition_of_key(key) for key in files} == days
    assert all(key.startswith(keys.LAKE_EVENTS_PREFIX) and key.endswith(".parquet") for key in files)


def test_the_lake_holds_ids_never_emails_or_names() -> None:
    files, _ = _lake_of(known.known_events())
    table = local_lake.lake_table(files.items())
    assert table.column_names == [*lake.COLUMN_NAMES, lake.PARTITION_COLUMN]
    text = str(table.to_pylist())
    assert "@" not in text


@pytest.mark.parametrize("report", reports.REPORTS, ids=lambda report: report.id)
def test_every_report_is_trino_sql_that_transpiles_to_duckdb(report: reports.Report) -> None:
    query = report.query()
    assert sqlglot.parse_one(query, read="trino") is not None  # valid in Athena's dialect
    transpiled = local_lake.to_duckdb(query)
    assert "events" in transpiled and transpiled != query


def test_every_report_of_the_contract_has_its_sql_file() -> None:
    assert {report.sql_file.name for report in reports.REPORTS} | {reports.PRELUDE} == {
        path.name for path in reports.SQL_DIR.glob("*.sql")
    }
