"""Purchase benchmark: N purchases end to end against a real `lms dev` (local cloud, API, localstripe).

    make bench                                          # 40 purchases, 10 at a time
    make bench BENCH_ARGS="--purchases 100 --concurrency 12"

This process plays the customers (their HTTP calls and their card payments); `lms dev` runs in its
own process, as a developer runs it. Printed: latency from ``POST /transactions`` and from the
payment confirmation to COMPLETED (p50/p95), sustained purchases per second, state transitions per
purchase (from the execution history), the largest state input/output, the import time of each
Lambda handler module in a fresh interpreter (a cold-start proxy), alone and with what it prepares
before a SnapStart snapshot, and GET /courses against a bare Query (``--imports-only``: just the
import figures). It checks that nothing was lost or duplicated, and asserts no timing: the figures
are for people (docs/performance.md).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

REFERENCE_MODULE = "boto3"
PASSWORD = "benchmark password"
COURSE = "Python for Beginners"


@dataclass
class Sample:
    transaction_id: str
    execution_arn: str
    from_request: float
    from_confirmation: float


@dataclass
class Student:
    user_id: str
    token: str


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def handler_modules() -> list[str]:
    """Every Lambda handler module: the API's and each task module of the catalog (new ones too)."""
    from workflows.catalog import handler_modules as task_modules
    from workflows.definition import STARTER_HANDLER

    return ["api.app", *sorted({*task_modules(), STARTER_HANDLER.rpartition(".")[0]})]


# Runs in a fresh interpreter: the import, then what the module registered to run before a SnapStart
# snapshot (lms.snapstart; a stand-in for Lambda's snapshot_restore_py records it), i.e. what a
# restored environment has ready and a cold start without SnapStart loads by its first call.
_IMPORT_SCRIPT = """
import sys, time, types
hooks = []
sys.modules["snapshot_restore_py"] = types.SimpleNamespace(
    register_before_snapshot=lambda hook, *args: hooks.append((hook, args)))
started = time.perf_counter()
import {module}
imported = time.perf_counter() - started
for hook, args in hooks:
    hook(*args)
print(imported, time.perf_counter() - started)
"""


def import_seconds(module: str) -> tuple[float, float]:
    """Wall time of ``import module`` in a fresh interpreter, without and with its before-snapshot
    preparation."""
    output = subprocess.run(
        [sys.executable, "-c", _IMPORT_SCRIPT.format(module=module)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(output[0]), float(output[1])


def import_figures(runs: int) -> None:
    """A cold-start proxy as a ratio: absolute import times drift on a shared machine, so each module
    is compared with a bare ``import boto3`` measured in the same run, interleaved with it (targets:
    API <= 2x, tasks <= 1.5x)."""
    modules = [REFERENCE_MODULE, *handler_modules()]
    samples: dict[str, list[tuple[float, float]]] = {module: [] for module in modules}
    for _ in range(runs):
        for module in modules:
            samples[module].append(import_seconds(module))
    reference = statistics.median(imported for imported, _ in samples[REFERENCE_MODULE])
    print(f"Import time in a fresh interpreter (median of {runs}), against a bare `import boto3`:")
    width = max(len(module) for module in modules)
    print(f"  {'module':<{width}} {'import':>15}   {'+ before-snapshot preparation':>30}")
    print(f"  {REFERENCE_MODULE:<{width}} {reference * 1000:6.0f} ms 1.00x")
    for module in modules[1:]:
        imported = statistics.median(i for i, _ in samples[module])
        prepared = statistics.median(p for _, p in samples[module])
        print(
            f"  {module:<{width}} {imported * 1000:6.0f} ms {imported / reference:4.2f}x"
            f"   {prepared * 1000:17.0f} ms {prepared / reference:4.2f}x"
        )


def start_lms_dev() -> tuple[subprocess.Popen[str], dict[str, str]]:
    from tests.conftest import free_port

    ports = {name: str(free_port()) for name in ("LMS_API_PORT", "LMS_CLOUD_PORT", "LMS_STRIPE_PORT")}
    env = {**os.environ, **ports, "LMS_DEMO_PASSWORD": PASSWORD, "POWERTOOLS_LOG_LEVEL": "WARNING"}
    for variable in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "LMS_STRIPE_API_BASE", "AWS_ENDPOINT_URL"):
        env.pop(variable, None)
    lms = Path(sys.executable).with_name("lms")
    process = subprocess.Popen(
        [str(lms), "dev"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    for line in process.stdout:
        if "Press Ctrl-C" in line:
            break
    else:
        raise RuntimeError("lms dev did not start")
    # Keep draining its output (the access log) so it never blocks on a full pipe.
    threading.Thread(target=process.stdout.read, daemon=True).start()
    return process, ports


def use_dev_instance(ports: dict[str, str]) -> str:
    """Point this process at the running instance: boto3 for history, the Stripe SDK for paying."""
    from infra.local.cloud import use_local_cloud
    from lms.settings import reset_settings

    use_local_cloud(f"http://127.0.0.1:{ports['LMS_CLOUD_PORT']}")
    os.environ["STRIPE_SECRET_KEY"] = "sk_test_benchmark"  # localstripe accepts any test key
    os.environ["LMS_STRIPE_API_BASE"] = f"http://127.0.0.1:{ports['LMS_STRIPE_PORT']}"
    reset_settings()
    return f"http://127.0.0.1:{ports['LMS_API_PORT']}"


def rate(call: Any, *, requests_total: int, concurrency: int) -> float:
    """Calls per second of ``call()`` with ``concurrency`` callers, after a short warm-up."""
    for _ in range(concurrency):
        call()
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(lambda _: call(), range(requests_total)))
    return requests_total / (time.perf_counter() - started)


def api_cost(api: str, course_id: str, concurrency: int = 8, requests_total: int = 400) -> None:
    """GET /courses served per second, against a bare DynamoDB Query of one course partition on the
    same local cloud at the same concurrency (target: >= 0.4x)."""
    from lms import keys
    from lms.table import Table

    sessions = threading.local()

    def get_courses() -> None:
        if not hasattr(sessions, "session"):
            sessions.session = requests.Session()
        assert sessions.session.get(f"{api}/courses", timeout=30).status_code == 200

    table = Table()

    def bare_query() -> None:
        table.query(partition=(keys.PK, keys.course_partition(course_id)))

    api_rate = rate(get_courses, requests_total=requests_total, concurrency=concurrency)
    query_rate = rate(bare_query, requests_total=requests_total, concurrency=concurrency)
    print(f"\nPer-request cost of the API, {concurrency} concurrent clients:")
    print(f"  GET /courses                      {api_rate:7.1f} requests/s")
    print(f"  bare Query of a course partition  {query_rate:7.1f} requests/s")
    print(f"  ratio                             {api_rate / query_rate:7.2f}x (target >= 0.4x)")


def register(api: str, count: int) -> list[Student]:
    students = []
    for _ in range(count):
        email = f"bench-{time.time_ns()}@example.org"
        body = {"email": email, "password": PASSWORD, "firstName": "Bench", "lastName": "Student"}
        requests.post(f"{api}/auth/register", json=body, timeout=30).raise_for_status()
        login = requests.post(
            f"{api}/auth/login", json={"email": email, "password": PASSWORD}, timeout=30
        ).json()
        students.append(Student(login["user"]["userId"], login["accessToken"]))
    return students


def read(url: str, headers: dict[str, str]) -> Any:
    response = requests.get(url, headers=headers, timeout=30)
    assert response.status_code == 200, f"{url}: {response.status_code} {response.text}"
    return response.json()


def one_purchase(api: str, student: Student, course_id: str) -> Sample:
    from infra.local.stripe import pay

    headers = {"Authorization": f"Bearer {student.token}"}
    started = time.time()
    response = requests.post(f"{api}/transactions", json={"courseId": course_id}, headers=headers, timeout=60)
    response.raise_for_status()
    body = response.json()
    status_url = f"{api}/transactions/{student.user_id}/{body['transactionId']}"
    transaction = read(status_url, headers)
    # Under load the PaymentIntent may not exist yet when POST /transactions answers (it waits a few
    # seconds for the client secret, then answers without it): the checkout page polls, so do we.
    while not transaction.get("stripePaymentId"):
        if time.time() - started > 120:
            raise TimeoutError(f"{body['transactionId']}: no PaymentIntent")
        time.sleep(0.5)
        transaction = read(status_url, headers)
    confirmed = time.time()  # the customer presses "Pay"
    status, _ = pay(transaction["stripePaymentId"], "4242424242424242")
    assert status == "succeeded", status
    while transaction["status"] == "PENDING":
        if time.time() - started > 120:
            raise TimeoutError(body["transactionId"])
        # Polling is load on the server being measured, so poll slowly and take the completion time
        # from the record (same machine, same clock) rather than from when the poll noticed it.
        time.sleep(0.5)
        transaction = read(status_url, headers)
    assert transaction["status"] == "COMPLETED", transaction
    done = datetime.fromisoformat(transaction["completedAt"]).timestamp()
    return Sample(body["transactionId"], body["executionArn"], done - started, done - confirmed)


def history_figures(execution_arns: list[str]) -> tuple[list[int], int]:
    """(state transitions per execution, largest state input/output in bytes)."""
    from lms import aws

    sfn = aws.client("stepfunctions")
    transitions, largest = [], 0
    for arn in execution_arns:
        events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        transitions.append(sum(1 for e in events if e["type"].endswith("StateEntered")))
        for event in events:
            for details in ("stateEnteredEventDetails", "stateExitedEventDetails"):
                payload = event.get(details, {})
                largest = max(
                    largest, len(payload.get("input", "").encode()), len(payload.get("output", "").encode())
                )
    return transitions, largest


def enrollment_count(api: str, course_id: str) -> int:
    return int(requests.get(f"{api}/courses/{course_id}", timeout=30).json()["enrollmentCount"])


def check_nothing_lost_or_duplicated(api: str, course_id: str, before: int, samples: list[Sample]) -> None:
    from lms.purchases import list_all_transactions
    from lms.table import Table

    enrolled = enrollment_count(api, course_id) - before
    assert enrolled == len(samples), f"{enrolled} enrollments for {len(samples)} purchases"
    assert len({s.transaction_id for s in samples}) == len(samples), "duplicate transactions"
    ours = {s.transaction_id for s in samples}
    seen: list[Any] = []
    cursor = None
    while True:
        page, cursor = list_all_transactions(Table(), status=None, limit=100, cursor=cursor)
        seen += [t for t in page if t.transaction_id in ours]
        if not cursor:
            break
    assert len(seen) == len(samples) and all(t.status == "COMPLETED" for t in seen), (
        "a transaction went missing"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--purchases", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--import-runs", type=int, default=7)
    parser.add_argument("--imports-only", action="store_true", help="only the import-time figures")
    args = parser.parse_args()

    import_figures(args.import_runs)
    if args.imports_only:
        return 0

    process, ports = start_lms_dev()
    try:
        api = use_dev_instance(ports)
        course_id = next(
            c
            for c in requests.get(f"{api}/courses?limit=100", timeout=30).json()["items"]
            if c["title"] == COURSE
        )["courseId"]
        api_cost(api, course_id)
        students = register(api, args.purchases + 1)
        one_purchase(api, students.pop(), course_id)  # warm-up, not counted
        before = enrollment_count(api, course_id)

        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            samples = list(pool.map(lambda student: one_purchase(api, student, course_id), students))
        elapsed = time.perf_counter() - started

        check_nothing_lost_or_duplicated(api, course_id, before, samples)
        transitions, largest = history_figures([s.execution_arn for s in samples])
        from_request = [s.from_request for s in samples]
        from_payment = [s.from_confirmation for s in samples]
        print(
            f"\n{len(samples)} paid purchases, {args.concurrency} at a time: "
            "all COMPLETED, none lost or duplicated"
        )
        print(
            f"  POST /transactions -> COMPLETED   p50 {percentile(from_request, 0.5):5.2f} s"
            f"   p95 {percentile(from_request, 0.95):5.2f} s"
        )
        print(
            f"  customer pays      -> COMPLETED   p50 {percentile(from_payment, 0.5):5.2f} s"
            f"   p95 {percentile(from_payment, 0.95):5.2f} s"
        )
        print(f"  throughput                        {len(samples) / elapsed:5.2f} purchases/s sustained")
        print(f"  state transitions per purchase    {min(transitions)}..{max(transitions)}")
        print(f"  largest state input/output        {largest} bytes")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
