"""One headless Locust run through Locust's library API: ``python -m load.run`` (a child process of
:mod:`load.__main__`, which passes the target and the staff logins in the environment).

Importing Locust monkey-patches the standard library with gevent, so this module only ever runs in
a process of its own. It writes into ``LOAD_REPORT_DIR``: Locust's CSVs (``stats_stats.csv``,
``stats_stats_history.csv``, ``stats_failures.csv``, ``stats_exceptions.csv``), its HTML report
(``report.html``) and ``summary.json`` (per endpoint and flow: requests/s, p50/p95/p99, failures, and
the mean handler and DynamoDB time the API reported in ``Server-Timing``), which the runner prints
and judges.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import gevent
from locust import stats
from locust.env import Environment
from locust.html import get_html_report

from load.flows import ServerTimes
from load.locustfile import Admin, Buyer, Instructor, Learner, Visitor

USER_CLASSES = [Visitor, Buyer, Learner, Instructor, Admin]
CSV_PREFIX = "stats"
HTML_REPORT = "report.html"
SUMMARY = "summary.json"


def summarise(
    environment: Environment, server_times: ServerTimes, seconds: float, users: int
) -> dict[str, Any]:
    """What the runner prints and judges, from the run's stats."""
    means = server_times.means()
    rows = []
    for entry in sorted(environment.stats.entries.values(), key=lambda e: (e.method != "FLOW", e.name)):
        timing = means.get((entry.method or "", entry.name), {})
        rows.append(
            {
                "type": entry.method,
                "name": entry.name,
                "requests": entry.num_requests,
                "failures": entry.num_failures,
                "rps": entry.num_requests / seconds if seconds else 0.0,
                "mean_ms": entry.avg_response_time,
                "p50_ms": entry.get_response_time_percentile(0.5),
                "p95_ms": entry.get_response_time_percentile(0.95),
                "p99_ms": entry.get_response_time_percentile(0.99),
                "handler_ms": timing.get("handler"),
                "dynamodb_ms": timing.get("dynamodb"),
            }
        )
    total = environment.stats.total
    return {
        "seconds": seconds,
        "users": users,
        "requests": total.num_requests,
        "failures": total.num_failures,
        "exceptions": sum(len(e["nodes"]) for e in environment.runner.exceptions.values())
        if environment.runner
        else 0,
        "rows": rows,
    }


def main() -> int:
    host = os.environ["LOAD_URL"]
    users = int(os.environ.get("LOAD_USERS", "20"))
    seconds = float(os.environ.get("LOAD_SECONDS", "60"))
    spawn_rate = float(os.environ.get("LOAD_SPAWN_RATE", "5"))
    report = Path(os.environ.get("LOAD_REPORT_DIR", "load-report"))
    report.mkdir(parents=True, exist_ok=True)

    environment = Environment(user_classes=USER_CLASSES, host=host)
    server_times = ServerTimes()

    def on_request(request_type: str, name: str, response: Any = None, **_: Any) -> None:
        headers = getattr(response, "headers", None)
        server_times.add(request_type, name, headers.get("Server-Timing") if headers else None)

    environment.events.request.add_listener(on_request)
    runner = environment.create_local_runner()
    writer = stats.StatsCSVFileWriter(environment, stats.PERCENTILES_TO_REPORT, str(report / CSV_PREFIX))
    background = [gevent.spawn(writer), gevent.spawn(stats.stats_history, runner)]
    runner.start(users, spawn_rate=spawn_rate)
    gevent.spawn_later(seconds, runner.quit)
    runner.greenlet.join()
    gevent.killall(background)
    writer.close_files()
    _write_final_csvs(environment, report)
    (report / HTML_REPORT).write_text(
        get_html_report(environment, show_download_link=False), encoding="utf-8"
    )
    summary = summarise(environment, server_times, seconds, users)
    (report / SUMMARY).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 0


def _write_final_csvs(environment: Environment, report: Path) -> None:
    """The end-of-run stats, failures and exceptions (the writer greenlet wrote them every second)."""
    final = stats.StatsCSV(environment, stats.PERCENTILES_TO_REPORT)
    for suffix, write in (
        ("stats", final.requests_csv),
        ("failures", final.failures_csv),
        ("exceptions", final.exceptions_csv),
    ):
        with (report / f"{CSV_PREFIX}_{suffix}.csv").open("w", newline="", encoding="utf-8") as file:
            write(csv.writer(file))


if __name__ == "__main__":
    raise SystemExit(main())
