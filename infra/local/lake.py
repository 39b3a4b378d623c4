"""The local event lake: a Firehose that writes Parquet, and an Athena that runs the reports on DuckDB.

* :class:`LocalFirehose` buffers lake records (:func:`lms.analytics.lake.record_of`) as Firehose
  does, by size and by time, and writes one Parquet file (pyarrow) per day partition per flush under
  ``lake/events/dt=YYYY-MM-DD/`` in the local S3: batched, never one file per event.
* :func:`run_query` runs an Athena (Trino) query, transpiled by sqlglot to DuckDB, over the lake's
  Parquet files read back as one Arrow table (the ``dt`` partition taken from the key, as Athena's
  partition projection does).
* :func:`install_athena` makes the local cloud's Athena (moto's, which never runs a query) run each
  ``StartQueryExecution`` that way and write its result CSV to the output location, as Athena does;
  the Step Functions engine's ``athena:startQueryExecution.sync`` (infra/local/athena_task.py) calls
  it like any service, so the reports' ASL is the same file in AWS and locally.
"""

from __future__ import annotations

import csv
import importlib
import io
import logging
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot

from lms import keys
from lms.analytics import lake

logger = logging.getLogger(__name__)

ARROW_TYPES = {"string": pa.string(), "int": pa.int32()}
SCHEMA = pa.schema([(name, ARROW_TYPES[kind]) for name, kind in lake.COLUMNS])

# Firehose's buffering hints (its minimum with format conversion is 64 MiB or 60-900 s); locally the
# interval is shorter so a report can be refreshed within a minute of the last event.
DEFAULT_BUFFER_BYTES = 64 * 1024 * 1024
DEFAULT_BUFFER_SECONDS = 10.0

PutObject = Callable[[str, bytes], None]  # (key, bytes) into the lake's bucket
PutResult = Callable[[str, str, bytes], None]  # (bucket, key, bytes): a query's result file
ListObjects = Callable[[str], Iterable[tuple[str, bytes]]]  # prefix -> (key, bytes) of each object


def parquet_bytes(records: list[dict[str, Any]]) -> bytes:
    """One Parquet file (snappy, as Firehose writes) of lake records."""
    table = pa.Table.from_pylist(records, schema=SCHEMA)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="snappy")
    return sink.getvalue()


def lake_table(objects: Iterable[tuple[str, bytes]]) -> pa.Table:
    """Every Parquet file of the lake as one table, with its ``dt`` partition column from the key."""
    tables = []
    for key, data in objects:
        day = lake.partition_of_key(key)
        if day is None or not key.endswith(".parquet"):
            continue
        table = pq.read_table(io.BytesIO(data)).select(list(lake.COLUMN_NAMES)).cast(SCHEMA)
        tables.append(
            table.append_column(lake.PARTITION_COLUMN, pa.array([day] * table.num_rows, pa.string()))
        )
    if not tables:
        return pa.Table.from_pylist([], schema=SCHEMA.append(pa.field(lake.PARTITION_COLUMN, pa.string())))
    return pa.concat_tables(tables)


def to_duckdb(query: str) -> str:
    """The Athena (Trino) query in DuckDB's dialect: one SQL file, two engines."""
    return ";\n".join(sqlglot.transpile(query, read="trino", write="duckdb"))


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]

    def csv(self) -> str:
        """As Athena writes a result file: a header, every value quoted, NULL as an empty field."""
        out = io.StringIO()
        writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow(["" if value is None else _text(value) for value in row])
        return out.getvalue()


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def run_query(query: str, events: pa.Table) -> QueryResult:
    """Run an Athena query on DuckDB over the lake's events (the ``events`` table), in UTC."""
    connection = duckdb.connect()
    try:
        connection.execute("SET TimeZone = 'UTC'")
        connection.register(lake.TABLE, events)
        cursor = connection.execute(to_duckdb(query))
        columns = [column[0] for column in cursor.description or []]
        return QueryResult(columns, [tuple(row) for row in cursor.fetchall()])
    finally:
        connection.close()


class LocalFirehose:
    """Buffers records and writes them as Parquet, one file per day per flush, like Firehose.

    A flush happens when the buffer reaches ``buffer_bytes`` (the records' JSON size, as Firehose
    counts its input) or ``buffer_seconds`` after the first buffered record (a timer thread), and on
    :meth:`flush`/:meth:`close`.
    """

    def __init__(
        self,
        put_object: PutObject,
        *,
        buffer_bytes: int = DEFAULT_BUFFER_BYTES,
        buffer_seconds: float = DEFAULT_BUFFER_SECONDS,
    ) -> None:
        self._put_object = put_object
        self.buffer_bytes = buffer_bytes
        self.buffer_seconds = buffer_seconds
        self._records: list[dict[str, Any]] = []
        self._size = 0
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self.files_written = 0

    def put(self, record: dict[str, Any]) -> None:
        with self._lock:
            self._records.append(record)
            self._size += sum(len(str(value)) for value in record.values() if value is not None)
            full = self._size >= self.buffer_bytes
            if not full and self._timer is None and self.buffer_seconds > 0:
                self._timer = threading.Timer(self.buffer_seconds, self.flush)
                self._timer.daemon = True
                self._timer.start()
        if full:
            self.flush()

    def flush(self) -> int:
        """Write what is buffered; returns how many records were written."""
        with self._lock:
            records, self._records, self._size = self._records, [], 0
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        by_day: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for record in records:
            by_day[lake.day_of(record)].append(record)
        stamp = time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime())
        for day, day_records in sorted(by_day.items()):
            key = f"{keys.lake_partition(day)}lms-events-{stamp}-{uuid.uuid4().hex}.parquet"
            try:
                self._put_object(key, parquet_bytes(day_records))
                self.files_written += 1
            except Exception:  # the buffer is lost as Firehose's would go to its error prefix
                logger.exception("lake write failed", extra={"key": key, "records": len(day_records)})
        return len(records)

    def close(self) -> None:
        self.flush()


# --- the local cloud's Athena -------------------------------------------------------------------

_list_objects: ListObjects | None = None
_put_result: PutResult | None = None
_installed = False


def install_athena(list_objects: ListObjects, put_result: PutResult) -> None:
    """Make moto's Athena run queries: DuckDB over the lake (``list_objects``), the result CSV to the
    output location (``put_result(bucket, key, data)``), the execution SUCCEEDED or FAILED with the
    engine's message, as Athena reports a query error."""
    global _list_objects, _put_result, _installed
    _list_objects = list_objects
    _put_result = put_result
    if _installed:
        return
    _installed = True
    models = importlib.import_module("moto.athena.models")
    backend_class = models.AthenaBackend
    original = backend_class.start_query_execution

    def start_query_execution(self: Any, query: str, *args: Any, **kwargs: Any) -> str:
        exec_id: str = original(self, query, *args, **kwargs)
        _execute(self, exec_id, query)
        return exec_id

    backend_class.start_query_execution = start_query_execution


def _execute(backend: Any, exec_id: str, query: str) -> None:
    execution = backend.executions[exec_id]
    models = importlib.import_module("moto.athena.models")
    try:
        if _list_objects is None or _put_result is None:
            raise RuntimeError("the local Athena is not installed")
        events = lake_table(_list_objects(keys.LAKE_EVENTS_PREFIX))
        result = run_query(query, events)
    except Exception as error:  # noqa: BLE001 - a query error is the execution's state, as in Athena
        execution.status = "FAILED"
        execution.state_change_reason = f"{type(error).__name__}: {error}"
        execution.end_time = time.time()
        return
    header = [{"VarCharValue": column} for column in result.columns]
    rows = [{"Data": header}] + [
        {"Data": [{} if value is None else {"VarCharValue": _text(value)} for value in row]}
        for row in result.rows
    ]
    column_info = [{"Name": column, "Label": column, "Type": "varchar"} for column in result.columns]
    backend.query_results[exec_id] = models.QueryResults(rows=rows, column_info=column_info)
    location = (execution.config or {}).get("OutputLocation")
    if location:
        bucket, _, key = location.removeprefix("s3://").partition("/")
        _put_result(bucket, key, result.csv().encode())
    execution.status = "SUCCEEDED"
    execution.end_time = time.time()
