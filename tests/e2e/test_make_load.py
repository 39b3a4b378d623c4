"""`make load` as a user runs it: a real `lms dev`, found through its state file, 10 s with 2 users;
the table printed and the report files written."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.e2e.test_lms_dev import _environment, _start, _stop

ROOT = Path(__file__).resolve().parents[2]


def test_make_load_prints_the_table_and_writes_the_report(tmp_path: Path) -> None:
    env = {**_environment(), "LMS_DEV_STATE_FILE": str(tmp_path / "dev.json")}
    process, output = _start(env)
    try:
        output.wait_for("Press Ctrl-C", timeout=60)
        # Only what a shell that ran `make dev` elsewhere has: the state file, not the ports.
        shell = {
            k: v for k, v in env.items() if k not in ("LMS_API_PORT", "LMS_CLOUD_PORT", "LMS_STRIPE_PORT")
        }
        report = tmp_path / "report"
        run = subprocess.run(
            ["make", "--no-print-directory", "load"],  # noqa: S607
            cwd=ROOT,
            env={**shell, "LOAD_SECONDS": "10", "LOAD_USERS": "2", "LOAD_REPORT_DIR": str(report)},
            capture_output=True,
            text=True,
            timeout=180,
        )
    finally:
        _stop(process)
    printed = run.stdout + run.stderr
    assert run.returncode == 0, printed
    assert f"against http://127.0.0.1:{env['LMS_API_PORT']}" in printed
    header = next(line for line in printed.splitlines() if line.startswith("type "))
    for column in ("req/s", "p50 ms", "p95 ms", "p99 ms", "fails", "handler", "dynamodb"):
        assert column in header
    assert any(line.startswith("GET    /courses ") for line in printed.splitlines()), printed
    for name in (
        "stats_stats.csv",
        "stats_failures.csv",
        "stats_stats_history.csv",
        "report.html",
        "summary.json",
    ):
        assert (report / name).stat().st_size > 0, name
    assert "/courses" in (report / "stats_stats.csv").read_text()
