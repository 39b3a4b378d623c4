"""The CI smoke run: the real Locust suite, a few users for a few seconds, against this test
session's API, local cloud and localstripe. Locust runs in a child process (``python -m load``,
Locust's library API): it monkey-patches the standard library with gevent, never in pytest's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

SECONDS = 12


def test_a_short_run_of_every_kind_of_user_has_no_failed_request(
    api_url: str, local_stripe: Any, demo: Any, new_user: Any, tmp_path: Path
) -> None:
    instructor = new_user(role="instructor")
    env = {
        **os.environ,
        "LOAD_URL": api_url,
        "LOAD_STRIPE_URL": local_stripe.url,
        "LOAD_SECONDS": str(SECONDS),
        "LOAD_USERS": "6",
        "LOAD_SPAWN_RATE": "6",
        "LOAD_REPORT_DIR": str(tmp_path),
        "LOAD_INSTRUCTOR_EMAIL": instructor.email,
        "LOAD_INSTRUCTOR_PASSWORD": instructor.password,
        "LOAD_ADMIN_EMAIL": "admin@example.com",
        "LOAD_ADMIN_PASSWORD": demo.password,
    }
    run = subprocess.run(
        [sys.executable, "-m", "load"], env=env, capture_output=True, text=True, timeout=SECONDS + 120
    )
    output = run.stdout + run.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    failed = (tmp_path / "stats_failures.csv").read_text()
    assert summary["failures"] == 0, failed
    assert summary["exceptions"] == 0, (tmp_path / "stats_exceptions.csv").read_text()
    assert run.returncode == 0, output
    names = {(row["type"], row["name"]) for row in summary["rows"]}
    # Visitors browsed and buyers registered. How far the buyers, learners and instructors get in
    # 12 s depends on the machine (a busy CI runner: a login or two); whatever they did, nothing
    # failed. A flow cut short by the end of the run is not reported, never failed.
    assert {("GET", "/courses"), ("POST", "/auth/register")} <= names, output
    for row in summary["rows"]:
        if row["type"] == "FLOW":
            assert row["requests"] >= 1 and row["failures"] == 0 and row["p95_ms"] > 0
    # The API said where its time went, and the table shows it beside the client's time.
    courses = next(row for row in summary["rows"] if row["name"] == "/courses" and row["type"] == "GET")
    assert 0 < courses["dynamodb_ms"] <= courses["handler_ms"] <= courses["mean_ms"]
    assert "GET    /courses " in output and "Passed" in output
    for report in ("stats_stats.csv", "stats_stats_history.csv", "report.html"):
        assert (tmp_path / report).stat().st_size > 0
