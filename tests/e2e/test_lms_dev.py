"""`lms dev` as a user runs it: a real process, real ports, the printed URLs and logins work."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port

LMS = Path(sys.executable).with_name("lms")


class Output:
    """Drains a process's stdout on a thread, so waiting for a line can time out (readline() cannot)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        assert process.stdout is not None
        stream = process.stdout

        def pump() -> None:
            for line in stream:
                self._queue.put(line)
            self._queue.put(None)

        threading.Thread(target=pump, name="lms-dev-output", daemon=True).start()

    def wait_for(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                break
            if line is None:  # the process ended
                break
            self.lines.append(line)
        output = "".join(self.lines)
        assert text in output, output
        return output


# What the test session's own local cloud put in this process's environment (its endpoint, the API
# role's credentials, state machine ARNs, ports): `lms dev` gets a shell's environment, not those.
HARNESS_VARIABLES = ("AWS_", "LMS_", "MOTO_", "STRIPE_")


def _environment() -> dict[str, str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(HARNESS_VARIABLES)},
        "LMS_API_PORT": str(free_port()),
        "LMS_CLOUD_PORT": str(free_port()),
        "LMS_STRIPE_PORT": str(free_port()),
        "LMS_DEMO_PASSWORD": "demo-password-123",
    }
    for variable in ("LMS_JWT_SECRET", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "LMS_STRIPE_API_BASE"):
        env.pop(variable, None)  # `lms dev` generates its own and starts its own localstripe
    return env


def _start(env: dict[str, str]) -> tuple[subprocess.Popen[str], Output]:
    process = subprocess.Popen(
        [str(LMS), "dev"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    return process, Output(process)


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=20) == 0


@pytest.fixture(scope="module")
def running() -> Iterator[dict[str, str]]:
    env = _environment()
    process, output = _start(env)
    try:
        printed = output.wait_for("Press Ctrl-C", timeout=60)
        yield {"output": printed, "api": f"http://127.0.0.1:{env['LMS_API_PORT']}", **env}
    finally:
        _stop(process)


def test_a_script_that_waits_for_health_logs_in_as_every_demo_user_at_once() -> None:
    """Readiness: /health answers only once everything `lms dev` prints is true."""
    env = _environment()
    api = f"http://127.0.0.1:{env['LMS_API_PORT']}"
    process, output = _start(env)
    try:
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                health = requests.get(api + "/health", timeout=5)
            except requests.ConnectionError:
                time.sleep(0.05)  # polling for a positive signal: nothing listens yet
                continue
            if health.status_code == 200:
                break
        assert health is not None and health.status_code == 200, "".join(output.lines)

        def login(email: str) -> int:
            body = {"email": email, "password": "demo-password-123"}
            return requests.post(api + "/auth/login", json=body, timeout=30).status_code

        emails = ["admin@example.com", "instructor@example.com", "student@example.com"]
        with ThreadPoolExecutor(max_workers=len(emails)) as pool:
            assert list(pool.map(login, emails)) == [200, 200, 200]
        assert len(requests.get(api + "/courses", timeout=10).json()["items"]) >= 4
    finally:
        _stop(process)


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


def test_the_demo_student_completes_a_seeded_course_and_gets_a_verifiable_certificate(
    running: dict[str, str],
) -> None:
    """The issue's "Done when", over HTTP against `lms dev` (docs/workflows/certificate.md)."""
    api = running["api"]
    credentials = {"email": "student@example.com", "password": "demo-password-123"}
    login = requests.post(api + "/auth/login", json=credentials, timeout=10)
    assert login.status_code == 200, login.text
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {login.json()['accessToken']}"
    (enrollment,) = session.get(api + "/enrollments", timeout=10).json()["items"]
    course = enrollment["courseId"]
    lessons = session.get(f"{api}/lessons/{course}", timeout=10).json()["items"]
    for lesson in lessons:
        posted = session.post(
            f"{api}/lessons/{lesson['lessonId']}/progress",
            json={"isCompleted": True, "timeSpent": 60},
            timeout=30,
        )
        assert posted.status_code == 200, posted.text
    assert posted.json()["progressPercentage"] == 100

    deadline = time.monotonic() + 30
    while not (certificates := session.get(api + "/certificates", timeout=10).json()["items"]):
        assert time.monotonic() < deadline, "no certificate"
        time.sleep(0.2)
    detail = session.get(f"{api}/certificates/{certificates[0]['certificateId']}", timeout=10).json()
    pdf = requests.get(detail["downloadUrl"], timeout=10)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    verified = requests.get(f"{api}/certificates/verify/{detail['verificationCode']}", timeout=10).json()
    assert verified["valid"] is True and verified["holderName"] == "Sam Student"
    assert verified["courseTitle"] == "UX Research Basics"


def running_env(running: dict[str, str]) -> dict[str, str]:
    """The environment `lms dev` runs with (the fixture adds its output and API URL)."""
    return {k: v for k, v in running.items() if k not in ("output", "api")}


def test_lms_seed_reseeds_with_a_new_password(running: dict[str, str]) -> None:
    env = {**running_env(running), "LMS_DEMO_PASSWORD": "another-password-456"}
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
    # Back to the printed password, which the other tests of this running instance log in with.
    restored = subprocess.run([str(LMS), "seed"], env=running_env(running), capture_output=True, timeout=60)
    assert restored.returncode == 0, restored.stderr


def _student_buys(running: dict[str, str], title: str) -> str:
    """A new student registers, logs in and starts buying ``title``; returns the transaction id."""
    api = running["api"]
    email = f"buyer-{time.time_ns()}@example.org"
    account = {"email": email, "password": "a good password", "firstName": "Bo", "lastName": "Buyer"}
    assert requests.post(api + "/auth/register", json=account, timeout=10).status_code == 201
    login = requests.post(
        api + "/auth/login", json={"email": email, "password": account["password"]}, timeout=10
    )
    headers = {"Authorization": f"Bearer {login.json()['accessToken']}"}
    course = next(
        c for c in requests.get(api + "/courses", timeout=10).json()["items"] if c["title"] == title
    )
    started = requests.post(
        api + "/transactions", json={"courseId": course["courseId"]}, headers=headers, timeout=30
    )
    assert started.status_code == 202, started.text
    return str(started.json()["transactionId"])


def _lms_pay(running: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in running.items() if k not in ("output", "api")}
    return subprocess.run([str(LMS), "pay", *args], env=env, capture_output=True, text=True, timeout=60)


def test_a_student_buys_and_pays_with_lms_pay(running: dict[str, str]) -> None:
    transaction_id = _student_buys(running, "Async Python in Practice")
    paid = _lms_pay(running, transaction_id)
    assert paid.returncode == 0, paid.stdout + paid.stderr
    assert "Payment succeeded" in paid.stdout and "COMPLETED" in paid.stdout


def test_a_declined_card_ends_failed(running: dict[str, str]) -> None:
    transaction_id = _student_buys(running, "UX Research Basics")
    paid = _lms_pay(running, transaction_id, "--card", "4000000000000341")
    assert paid.returncode == 1
    assert "declined" in paid.stdout and "FAILED" in paid.stdout


def test_an_instructor_publishes_and_an_admin_approves_over_http(running: dict[str, str]) -> None:
    """The issue's "Done when": with the printed logins, on a running `lms dev`."""
    from tests.conftest import ApiClient
    from tests.publishing import create_course, publication_until, publish, publish_with_approval, text_lesson

    anonymous = ApiClient(running["api"])
    instructor = anonymous.login("instructor@example.com", "demo-password-123")
    admin = anonymous.login("admin@example.com", "demo-password-123")
    tree = anonymous.get("/categories").json()["items"]
    category = next(
        c["categoryId"] for parent in tree for c in parent["subcategories"] if c["name"] == "Python"
    )

    course = create_course(instructor, category)
    assert publish_with_approval(instructor, admin, course)["version"] == 1
    listed = anonymous.get(f"/courses?categoryId={category}&limit=100").json()["items"]
    assert course in {c["courseId"] for c in listed}

    broken = create_course(instructor, category, lessons=[text_lesson("Empty", content="<p> </p>")])
    publish(instructor, broken)
    failed = publication_until(instructor, broken, "CHECKLIST_FAILED", "PUBLISHED", "FAILED")
    assert failed["status"] == "CHECKLIST_FAILED" and failed["reason"]
    assert [(f["code"], f["lessonTitle"]) for f in failed["checklist"]] == [("TEXT_EMPTY", "Empty")]
