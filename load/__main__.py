"""`make load` (``python -m load``): the Locust suite, headless, against the running ``lms dev``.

    make load                                  # 60 s, 20 users, against `make dev` of this checkout
    make load LOAD_SECONDS=300 LOAD_USERS=50
    LOAD_URL=http://127.0.0.1:3000 make load   # another local API (LOAD_STRIPE_URL for its Stripe)

Prints a table per endpoint and flow (requests/s, p50/p95/p99, failures, and where the mean time
went), writes ``load-report/`` (Locust's CSVs, its HTML report, summary.json), and exits non-zero
when more than 1 % of requests fail or a flow's p95 exceeds its budget (load/budgets.toml).
It refuses a production Stripe key or a non-local API unless ``LOAD_I_MEAN_IT=1``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import requests

from load import target as targets
from load.summary import BUDGETS_FILE, format_table, judge, read_budgets

REPORT_DIR = Path("load-report")
STAFF_VARIABLES = (
    "LOAD_INSTRUCTOR_EMAIL",
    "LOAD_INSTRUCTOR_PASSWORD",
    "LOAD_ADMIN_EMAIL",
    "LOAD_ADMIN_PASSWORD",
)
# How long past LOAD_SECONDS the Locust process may take (users finishing, the report written).
GRACE_SECONDS = 120


def _positive(variable: str, default: str) -> str:
    raw = os.environ.get(variable, default)
    try:
        if float(raw) > 0:
            return raw
    except ValueError:
        pass
    sys.exit(f"{variable} must be a positive number, not {raw!r}")


def main() -> int:
    seconds = _positive("LOAD_SECONDS", "60")
    users = _positive("LOAD_USERS", "20")
    try:
        found = targets.find_target()
    except (targets.RefusedError, LookupError) as error:
        print(f"make load: {error}", file=sys.stderr)
        return 2
    try:
        requests.get(f"{found.api_url}/health", timeout=10).raise_for_status()
    except requests.RequestException as error:
        print(f"make load: the API at {found.api_url} does not answer /health ({error}).", file=sys.stderr)
        return 2

    staff = {k: os.environ[k] for k in STAFF_VARIABLES if os.environ.get(k)}
    if len(staff) < len(STAFF_VARIABLES) and found.cloud_url:
        from load.accounts import create_staff

        staff = create_staff(found.cloud_url)
    elif len(staff) < len(STAFF_VARIABLES):
        print("No staff logins (LOAD_INSTRUCTOR_*/LOAD_ADMIN_*): instructors and admins will idle.")
    report = Path(os.environ.get("LOAD_REPORT_DIR", REPORT_DIR))
    env = {
        **os.environ,
        **staff,
        "LOAD_URL": found.api_url,
        "LOAD_STRIPE_URL": found.stripe_url or "",
        "LOAD_STRIPE_KEY": found.stripe_key,
        "LOAD_SECONDS": seconds,
        "LOAD_USERS": users,
        "LOAD_REPORT_DIR": str(report),
    }
    print(f"Load: {users} users for {seconds} s against {found.api_url} (report in {report}/)", flush=True)
    try:
        subprocess.run(
            [sys.executable, "-m", "load.run"],
            env=env,
            check=True,
            timeout=float(seconds) + GRACE_SECONDS,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        print(f"make load: the Locust run did not finish ({error}).", file=sys.stderr)
        return 2

    summary = json.loads((report / "summary.json").read_text(encoding="utf-8"))
    print()
    print(format_table(summary))
    budgets_file = Path(os.environ.get("LOAD_BUDGETS", BUDGETS_FILE))
    problems = judge(summary, read_budgets(budgets_file))
    print()
    for problem in problems:
        print(f"FAILED: {problem}")
    if not problems:
        print(f"Passed: failures and flow p95s within {budgets_file.name}. Report: {report}/report.html")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
