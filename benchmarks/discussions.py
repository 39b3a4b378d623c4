"""Discussions benchmark: DynamoDB calls and latency of posting, and of reading a page of 50 replies.

    .venv/bin/python -m benchmarks.discussions
    .venv/bin/python -m benchmarks.discussions --students 20 --replies 200

Starts the local cloud and API in this process, enrolls ``--students`` fresh students in the free
demo course (real purchases), has them post ``--replies`` replies over HTTP into one thread (spread
over the students, so the per-user posting rate is not what is measured), then reads the thread in
pages of 50. It prints, from the API's own DynamoDB client, the calls per post (budget <= 3) and the
Queries per page (budget: 1), and the p50 / p95 latencies. It asserts no timing: the figures are for
people (docs/discussions.md).
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import time
import uuid
from typing import Any

import requests

COURSE = "HTML & CSS Foundations"  # free: no payment in the way


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def run(students: int, replies: int) -> None:
    from infra.local.api_gateway import LocalApi
    from infra.local.cloud import LocalCloud
    from infra.local.iam import local_api_credentials
    from infra.local.seed import seed_demo_data
    from lms import aws
    from lms.table import Table

    os.environ.setdefault("LMS_JWT_SECRET", secrets.token_urlsafe(48))
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    cloud = LocalCloud(port=0).start()
    api = LocalApi(port=0)
    try:
        cloud.bootstrap()
        password = secrets.token_urlsafe(12)
        demo = seed_demo_data(Table(), password)
        api.start()
        calls: list[str] = []
        with aws.acting_as(local_api_credentials()):
            aws.client("dynamodb").meta.events.register(
                "before-call.dynamodb", lambda model, **_: calls.append(model.name)
            )
        course = demo.courses[COURSE].course_id
        sessions = [_enrolled_student(api.url, course) for _ in range(students)]
        forums = sessions[0].get(f"{api.url}/courses/{course}/forums", timeout=10).json()["items"]
        general = next(f for f in forums if f["title"] == "General")["forumId"]
        opened = sessions[0].post(
            f"{api.url}/forums/{general}/threads", json={"title": "Benchmark", "body": "Go"}, timeout=30
        )
        assert opened.status_code == 201, opened.text
        thread = opened.json()["threadId"]
        post_ms, post_calls = [], []
        for index in range(replies):
            session = sessions[index % len(sessions)]
            calls.clear()
            started = time.perf_counter()
            posted = session.post(
                f"{api.url}/threads/{thread}/replies", json={"body": f"reply {index}"}, timeout=30
            )
            post_ms.append((time.perf_counter() - started) * 1000)
            assert posted.status_code == 201, posted.text
            post_calls.append(len(calls))
        page_ms, page_queries, cursor, read = [], [], None, 0
        while True:
            calls.clear()
            started = time.perf_counter()
            page = (
                sessions[0]
                .get(
                    f"{api.url}/threads/{thread}",
                    params={"limit": 50, **({"cursor": cursor} if cursor else {})},
                    timeout=30,
                )
                .json()
            )
            page_ms.append((time.perf_counter() - started) * 1000)
            page_queries.append(calls.count("Query"))
            read += len(page["items"])
            cursor = page["nextCursor"]
            if not cursor:
                break
        assert read == replies + 1, (read, replies)
        print(f"DynamoDB calls per post, max over {replies}        {max(post_calls):8d}      (budget <= 3)")
        post_p50, post_p95 = statistics.median(post_ms), percentile(post_ms, 0.95)
        print(f"post latency p50 / p95                        {post_p50:8.1f} / {post_p95:.1f} ms")
        print(f"Queries per page of 50 replies, max           {max(page_queries):8d}      (budget: 1)")
        page_p50, page_p95 = statistics.median(page_ms), percentile(page_ms, 0.95)
        print(
            f"page latency p50 / p95 over {len(page_ms):<4}             {page_p50:8.1f} / {page_p95:.1f} ms"
        )
    finally:
        api.stop()
        cloud.stop()


def _enrolled_student(url: str, course_id: str) -> requests.Session:
    session = requests.Session()
    email, password = f"bench-{uuid.uuid4().hex[:10]}@example.org", secrets.token_urlsafe(12)
    account = {"email": email, "password": password, "firstName": "Bench", "lastName": "Student"}
    assert session.post(f"{url}/auth/register", json=account, timeout=30).status_code == 201
    token = session.post(f"{url}/auth/login", json={"email": email, "password": password}, timeout=30).json()
    session.headers["Authorization"] = f"Bearer {token['accessToken']}"
    bought = session.post(f"{url}/transactions", json={"courseId": course_id}, timeout=30)
    assert bought.status_code == 202, bought.text
    _until(lambda: session.get(f"{url}/enrollments", timeout=10).json()["items"])
    return session


def _until(check: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.2)
    raise TimeoutError("not reached in time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=10)
    parser.add_argument("--replies", type=int, default=100)
    arguments = parser.parse_args()
    run(arguments.students, arguments.replies)


if __name__ == "__main__":
    main()
