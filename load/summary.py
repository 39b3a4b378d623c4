"""The run's summary table and its verdict (no Locust import: the runner reads ``summary.json``).

Columns: requests per second over the run, p50/p95/p99 as the client saw them, failures, and where
the mean time went: inside the API handler (``Server-Timing: handler``), the part of that spent in
DynamoDB calls (``dynamodb``), and the rest of the client's mean outside the handler (the network,
the local API gateway, and waiting for the one local execution environment: ``outside``). A flow
has no handler time: it spans many requests and the workflow between them.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BUDGETS_FILE = Path(__file__).with_name("budgets.toml")


@dataclass(frozen=True)
class Budgets:
    max_failure_ratio: float = 0.01
    flow_p95_ms: dict[str, float] = field(default_factory=dict)


def read_budgets(path: Path = BUDGETS_FILE) -> Budgets:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    return Budgets(
        max_failure_ratio=float(raw.get("max_failure_ratio", 0.01)),
        flow_p95_ms={str(k): float(v) for k, v in raw.get("flow_p95_ms", {}).items()},
    )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def format_table(summary: dict[str, Any]) -> str:
    header = (
        f"{'type':<6} {'name':<44} {'req/s':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
        f"{'fails':>6}  {'mean':>6} {'handler':>7} {'dynamodb':>8} {'outside':>7}"
    )
    lines = [header, "-" * len(header)]
    for row in summary["rows"]:
        handler = row.get("handler_ms")
        outside = None if handler is None else max(0.0, row["mean_ms"] - handler)
        lines.append(
            f"{row['type']:<6} {row['name'][:44]:<44} {row['rps']:>6.2f} {_ms(row['p50_ms']):>7} "
            f"{_ms(row['p95_ms']):>7} {_ms(row['p99_ms']):>7} {row['failures']:>6}  "
            f"{_ms(row['mean_ms']):>6} {_ms(handler):>7} {_ms(row.get('dynamodb_ms')):>8} {_ms(outside):>7}"
        )
    lines.append("-" * len(header))
    seconds = summary["seconds"] or 1
    lines.append(
        f"{'':<6} {'Total':<44} {summary['requests'] / seconds:>6.2f} {'':>7} {'':>7} {'':>7} "
        f"{summary['failures']:>6}"
    )
    return "\n".join(lines)


def judge(summary: dict[str, Any], budgets: Budgets) -> list[str]:
    """What makes the run fail: more failures than allowed, a flow's p95 over its budget, an error
    in the suite itself, or no request at all. Empty when the run passes."""
    problems = []
    requests, failures = summary["requests"], summary["failures"]
    if requests == 0:
        problems.append("no request was made")
    elif failures / requests > budgets.max_failure_ratio:
        problems.append(
            f"{failures} of {requests} requests failed ({failures / requests:.1%}, "
            f"allowed {budgets.max_failure_ratio:.1%})"
        )
    for row in summary["rows"]:
        budget = budgets.flow_p95_ms.get(row["name"]) if row["type"] == "FLOW" else None
        if budget is not None and row["requests"] and row["p95_ms"] > budget:
            problems.append(
                f"flow {row['name']}: p95 {row['p95_ms']:,.0f} ms over its budget {budget:,.0f} ms"
            )
    if summary.get("exceptions"):
        problems.append(f"{summary['exceptions']} errors in the load suite itself (stats_exceptions.csv)")
    return problems
