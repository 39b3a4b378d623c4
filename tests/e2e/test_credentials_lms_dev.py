"""Verifiable certificates on a real `lms dev` (issue 20's "Done when"): a buyer completes a paid
course, fetches the credential, `lms credentials verify` accepts it (from the file and from its URL),
the admin refunds, and the same command then reports it REVOKED."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import requests

from tests.e2e.test_lms_dev import LMS, _lms_pay, running, running_env  # noqa: F401 - `running` is a fixture

COURSE = "Async Python in Practice"  # a paid demo course


def _login(api: str, email: str, password: str) -> dict[str, str]:
    login = requests.post(api + "/auth/login", json={"email": email, "password": password}, timeout=10)
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['accessToken']}"}


def _verify(dev: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LMS), "credentials", "verify", *args],
        env=running_env(dev),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_complete_fetch_verify_refund_and_see_it_revoked(running: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    api = running["api"]
    email = f"holder-{time.time_ns()}@example.org"
    account = {"email": email, "password": "a good password", "firstName": "Hal", "lastName": "Holder"}
    assert requests.post(api + "/auth/register", json=account, timeout=10).status_code == 201
    holder = _login(api, email, account["password"])
    course = next(
        c for c in requests.get(api + "/courses", timeout=10).json()["items"] if c["title"] == COURSE
    )
    started = requests.post(
        api + "/transactions", json={"courseId": course["courseId"]}, headers=holder, timeout=30
    )
    assert started.status_code == 202, started.text
    transaction_id = started.json()["transactionId"]
    paid = _lms_pay(running, transaction_id)
    assert paid.returncode == 0, paid.stdout + paid.stderr

    for lesson in requests.get(f"{api}/lessons/{course['courseId']}", headers=holder, timeout=10).json()[
        "items"
    ]:
        posted = requests.post(
            f"{api}/lessons/{lesson['lessonId']}/progress",
            json={"isCompleted": True, "timeSpent": 60},
            headers=holder,
            timeout=30,
        )
        assert posted.status_code == 200, posted.text
    deadline = time.monotonic() + 60
    while not (listed := requests.get(api + "/certificates", headers=holder, timeout=10).json()["items"]):
        assert time.monotonic() < deadline, "no certificate"
        time.sleep(0.3)
    url = f"{api}/certificates/{listed[0]['certificateId']}/credential"
    fetched = requests.get(url, headers=holder, timeout=10)
    assert fetched.status_code == 200 and fetched.headers["Content-Type"].startswith("application/vc+jwt")
    credential = tmp_path / "certificate.jwt"
    credential.write_text(fetched.text)

    from_file = _verify(running, str(credential))
    assert from_file.returncode == 0 and from_file.stdout.strip().endswith("VALID"), from_file.stdout
    token = holder["Authorization"].removeprefix("Bearer ")
    from_url = _verify(running, url, "--bearer", token)
    assert from_url.returncode == 0, from_url.stdout + from_url.stderr

    admin = _login(api, "admin@example.com", running["LMS_DEMO_PASSWORD"])
    refunded = requests.post(
        f"{api}/transactions/{transaction_id}/refund", json={}, headers=admin, timeout=30
    )
    assert refunded.status_code == 200, refunded.text
    deadline = time.monotonic() + 60
    while (revoked := _verify(running, str(credential))).returncode == 0:
        assert time.monotonic() < deadline, "still valid after the refund"
        time.sleep(0.5)
    assert revoked.returncode == 1 and revoked.stdout.strip().endswith("REVOKED"), revoked.stdout
    assert "bit" in revoked.stdout and "is set" in revoked.stdout
