"""`lms dev` as a user runs it: a real process, real ports, the printed URLs and logins work."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port

LMS = Path(sys.executable).with_name("lms")


@pytest.fixture(scope="module")
def running() -> Iterator[dict[str, str]]:
    env = {
        **os.environ,
        "LMS_API_PORT": str(free_port()),
        "LMS_CLOUD_PORT": str(free_port()),
        "LMS_STRIPE_PORT": str(free_port()),
        "LMS_DEMO_PASSWORD": "demo-password-123",
    }
    for variable in ("LMS_JWT_SECRET", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "LMS_STRIPE_API_BASE"):
        env.pop(variable, None)  # `lms dev` generates its own and starts its own localstripe
    process = subprocess.Popen(
        [str(LMS), "dev"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Press Ctrl-C" in line:
            break
    output = "".join(lines)
    assert "Press Ctrl-C" in output, output
    yield {"output": output, "api": f"http://127.0.0.1:{env['LMS_API_PORT']}", **env}
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=20) == 0


def test_prints_urls_and_demo_logins(running: dict[str, str]) -> None:
    output = running["output"]
    assert running["api"] in output and "/docs" in output
    for email in ("admin@example.com", "instructor@example.com", "student@example.com"):
        assert email in output
    assert "demo-password-123" in output and "lives as long as this process" in output


def test_health_and_demo_login_work(running: dict[str, str]) -> None:
    assert requests.get(running["api"] + "/health", timeout=10).json()["status"] == "ok"
    login = requests.post(
        running["api"] + "/auth/login",
        json={"email": "admin@example.com", "password": "demo-password-123"},
        timeout=10,
    )
    assert login.status_code == 200 and login.json()["user"]["role"] == "admin"
    courses = requests.get(running["api"] + "/courses", timeout=10).json()["items"]
    assert len(courses) >= 4


def test_lms_seed_reseeds_with_a_new_password(running: dict[str, str]) -> None:
    env = {**running, "LMS_DEMO_PASSWORD": "another-password-456"}
    env = {k: v for k, v in env.items() if k not in ("output", "api")}
    result = subprocess.run([str(LMS), "seed"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    login = requests.post(
        running["api"] + "/auth/login",
        json={"email": "student@example.com", "password": "another-password-456"},
        timeout=10,
    )
    assert login.status_code == 200
    titles = [c["title"] for c in requests.get(running["api"] + "/courses", timeout=10).json()["items"]]
    assert len(titles) == len(set(titles)), "re-seeding overwrites, it does not duplicate"
