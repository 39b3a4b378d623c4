"""The documentation's snippets run as printed: every ```bash block of README.md and docs/, page by
page in one shell, against a real `lms dev` found through its state file (no exported ports).

A block preceded by ``<!-- not run: reason -->`` is skipped (deploying needs an AWS account).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.e2e.test_lms_dev import Output

ROOT = Path(__file__).resolve().parents[2]
LMS = Path(sys.executable).with_name("lms")
PASSWORD = "docs-demo-password"
_BLOCK = re.compile(r"(?:<!-- not run: (?P<reason>[^\n]*?) -->\n)?```bash\n(?P<code>.*?)```", re.DOTALL)
# What each page's run must print, besides ending with exit status 0.
EXPECTED = {
    "docs/local-development.md": ['"status":"ok"', "204", "UNAUTHORIZED"],
    "docs/workflows/purchase.md": ["PENDING", "Transaction", "COMPLETED", "declined, as expected"],
    "docs/workflows/publish.md": ['"publishedVersion":1', "TEXT_EMPTY"],
    "docs/workflows/certificate.md": ['"progressPercentage":100', '"valid":true'],
    "docs/workflows/video.md": ["READY", "master", "FAILED"],
    "docs/operations.md": [
        "FAILED in     PurchaseFailed",  # the Fail state, with the timeline below it
        "CreatePaymentIntent          Task      CAUGHT",
        "injected: Stripe client broken",
        "rerun-1",
        "COMPLETED",
    ],
}


def snippets(page: Path) -> list[str]:
    return [match["code"] for match in _BLOCK.finditer(page.read_text()) if not match["reason"]]


PAGES = [page for page in (ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))) if snippets(page)]


def _name(page: Path) -> str:
    return str(page.relative_to(ROOT))


def _without_exported_ports() -> dict[str, str]:
    """The reader's shell: none of the variables `lms dev` runs with, so the state file must do."""
    drop = ("LMS_API_PORT", "LMS_CLOUD_PORT", "LMS_STRIPE_PORT", "LMS_JWT_SECRET", "LMS_STRIPE_API_BASE")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    for variable in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "AWS_ENDPOINT_URL"):
        env.pop(variable, None)
    return env


@pytest.fixture(scope="module")
def reader_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A running `lms dev` on ports of its own, with a state file of its own (never the developer's)."""
    state_file = tmp_path_factory.mktemp("lms-state") / "dev.json"
    shared = {
        **_without_exported_ports(),
        "LMS_DEMO_PASSWORD": PASSWORD,
        "LMS_DEV_STATE_FILE": str(state_file),
    }
    dev_env = {
        **shared,
        "LMS_API_PORT": str(free_port()),
        "LMS_CLOUD_PORT": str(free_port()),
        "LMS_STRIPE_PORT": str(free_port()),
    }
    process = subprocess.Popen(
        [str(LMS), "dev"], env=dev_env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        Output(process).wait_for("Press Ctrl-C", timeout=90)
        assert state_file.exists(), "lms dev records where it runs"
        yield shared
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    assert not state_file.exists(), "lms dev removes its state file when it stops"


def test_the_pages_with_snippets_are_the_expected_ones() -> None:
    """A page whose snippets lose their checks (or a new page) is noticed here."""
    assert sorted(_name(page) for page in PAGES) == sorted(EXPECTED)


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_the_snippets_of_a_page_run_as_printed(reader_env: dict[str, str], page: Path) -> None:
    if page.name == "video.md" and not (shutil.which("ffmpeg") and shutil.which("ffprobe")):
        pytest.fail("ffmpeg is not installed: `make test` installs it (scripts/system-tools.sh)")
    script = "set -euo pipefail\n" + "\n".join(snippets(page))
    result = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, env=reader_env, capture_output=True, text=True, timeout=600
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for expected in EXPECTED[_name(page)]:
        assert expected in output, f"{expected!r} not in the output of {_name(page)}:\n{output}"


def test_lms_seed_finds_the_running_instance_and_keeps_the_printed_password(
    reader_env: dict[str, str],
) -> None:
    """`make seed` runs `lms seed`: no exported port, no LMS_DEMO_PASSWORD, the logins still work."""
    import requests

    env = {k: v for k, v in reader_env.items() if k != "LMS_DEMO_PASSWORD"}
    seeded = subprocess.run(
        [str(LMS), "seed"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    assert "unchanged" in seeded.stdout and PASSWORD not in seeded.stdout
    api = subprocess.run(
        [str(LMS), "status", "--api-url"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    ).stdout.strip()
    for email in ("admin@example.com", "student@example.com"):
        login = requests.post(f"{api}/auth/login", json={"email": email, "password": PASSWORD}, timeout=30)
        assert login.status_code == 200, login.text


def test_a_state_file_left_by_a_killed_lms_dev_is_ignored_with_a_message(tmp_path: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    state_file = tmp_path / "dev.json"
    record = {
        "pid": gone.pid,
        "checkout": str(ROOT),
        "api_port": free_port(),
        "cloud_port": free_port(),
        "stripe_port": None,
        "started_at": "2026-11-29T00:00:00+00:00",
    }
    state_file.write_text(json.dumps(record))
    env = {
        **_without_exported_ports(),
        "LMS_DEV_STATE_FILE": str(state_file),
        "LMS_API_PORT": str(free_port()),
    }
    status = subprocess.run(
        [str(LMS), "status"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert status.returncode == 1
    assert f"pid {gone.pid}" in status.stderr and "no longer running" in status.stderr
    assert "make dev" in status.stderr


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_relative_link_of_the_docs_leads_somewhere() -> None:
    pages = [
        ROOT / "README.md",
        ROOT / "state-machines" / "README.md",
        *sorted((ROOT / "docs").rglob("*.md")),
    ]
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if re.match(r"[a-z]+:", target):
                continue  # a URL
            path, _, anchor = target.partition("#")
            resolved = (page.parent / path).resolve() if path else page
            if not resolved.exists():
                broken.append(f"{_name(page)}: {target}")
            elif anchor and resolved.is_file():
                headings = re.findall(r"^#+ (.+)$", resolved.read_text(), flags=re.MULTILINE)
                if anchor not in {_anchor(h) for h in headings}:
                    broken.append(f"{_name(page)}: {target} (no such heading)")
    assert broken == []
