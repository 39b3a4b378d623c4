"""Certificate benchmark: PDF render time and size, and state transitions per issuance.

    make bench-certificates
    make bench-certificates CERT_BENCH_ARGS="--renders 200 --issuances 10"

Renders the certificate PDF ``--renders`` times in this process (the RenderCertificate function's
work, without S3) and prints the median and p95 render time and the PDF size. Then starts the local
cloud and API in this process, and has ``--issuances`` fresh students enroll in the free demo course
and complete its lessons over HTTP; for each issuance it reads the execution history and prints the
state transitions and the time from the completing post to the certificate being listed. It checks
that every student got exactly one certificate, and asserts no timing: the figures are for people
(docs/workflows/certificate.md).
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import requests

COURSE = "HTML & CSS Foundations"  # free: no payment in the way


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def bench_render(renders: int) -> None:
    from lms import certificate_pdf
    from lms.certificates import new_verification_code

    timings, sizes = [], []
    for index in range(renders):
        code = new_verification_code()
        document = certificate_pdf.CertificateDocument(
            holder_name=f"Student Number {index}",
            course_title="Python for Beginners",
            instructor_name="Ivan Instructor",
            issued_at=datetime.now(UTC),
            certificate_id=uuid.uuid4().hex,
            verification_code=code,
            verify_url=f"https://lms.example.org/v1/certificates/verify/{code}",
        )
        started = time.perf_counter()
        pdf = certificate_pdf.render(document)
        timings.append((time.perf_counter() - started) * 1000)
        sizes.append(len(pdf))
    first = timings[0]
    warm = timings[1:] or timings
    print(f"PDF render, first in the process (fonts loaded)  {first:8.1f} ms")
    print(
        f"PDF render, warm: p50 / p95 over {len(warm):<4}         {statistics.median(warm):8.1f} / "
        f"{percentile(warm, 0.95):.1f} ms   (budget <= 200 ms)"
    )
    print(f"PDF size, max                                    {max(sizes) / 1024:8.1f} KB   (budget < 200 KB)")


def bench_issuance(issuances: int) -> None:
    from infra.local.api_gateway import LocalApi
    from infra.local.cloud import LocalCloud
    from infra.local.seed import seed_demo_data
    from lms import aws
    from lms.table import Table
    from workflows.certificate import CERTIFICATE
    from workflows.executions import execution_arn

    os.environ.setdefault("LMS_JWT_SECRET", secrets.token_urlsafe(48))
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    cloud = LocalCloud(port=0).start()
    api = LocalApi(port=0)
    try:
        cloud.bootstrap()
        demo = seed_demo_data(Table(), secrets.token_urlsafe(12))
        api.start()
        course = demo.courses[COURSE]
        lessons = requests.get(f"{api.url}/lessons/{course.course_id}", timeout=10).json()["items"]
        transitions, latencies = [], []
        sfn = aws.client("stepfunctions")
        for _ in range(issuances):
            session = _student(api.url)
            user_id = session.get(f"{api.url}/auth/profile", timeout=10).json()["userId"]
            bought = session.post(f"{api.url}/transactions", json={"courseId": course.course_id}, timeout=30)
            assert bought.status_code == 202, bought.text
            _until(lambda s=session: s.get(f"{api.url}/enrollments", timeout=10).json()["items"])
            started = 0.0
            for lesson in lessons:
                started = time.perf_counter()
                posted = session.post(
                    f"{api.url}/lessons/{lesson['lessonId']}/progress", json={"isCompleted": True}, timeout=30
                )
                assert posted.status_code == 200, posted.text
            listed = _until(lambda s=session: s.get(f"{api.url}/certificates", timeout=10).json()["items"])
            latencies.append(time.perf_counter() - started)
            assert len(listed) == 1, listed
            arn = execution_arn(CERTIFICATE, CERTIFICATE.execution_name(f"{user_id}-{course.course_id}"))
            _until(lambda a=arn: sfn.describe_execution(executionArn=a)["status"] != "RUNNING")
            history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
            transitions.append(sum(1 for e in history if e["type"].endswith("StateEntered")))
        print(
            f"state transitions per issuance (max over {issuances})  {max(transitions):8d}      (budget <= 8)"
        )
        print(
            f"completing post -> certificate listed, p50 / max  {statistics.median(latencies):8.2f} / "
            f"{max(latencies):.2f} s"
        )
    finally:
        api.stop()
        cloud.stop()


def _student(url: str) -> requests.Session:
    email, password = f"bench-{uuid.uuid4().hex[:10]}@example.org", "benchmark password"
    account = {"email": email, "password": password, "firstName": "Bench", "lastName": "Student"}
    assert requests.post(f"{url}/auth/register", json=account, timeout=10).status_code == 201
    token = requests.post(f"{url}/auth/login", json={"email": email, "password": password}, timeout=10).json()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token['accessToken']}"
    return session


def _until(check: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--renders", type=int, default=100)
    parser.add_argument("--issuances", type=int, default=5)
    args = parser.parse_args()
    bench_render(args.renders)
    if args.issuances:
        bench_issuance(args.issuances)
    return 0


if __name__ == "__main__":
    sys.exit(main())
