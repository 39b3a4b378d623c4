"""Cost model: what one business operation uses of each billed AWS resource, measured on the local
cloud, times the AWS list prices of one dated file (load/aws-prices-2026-11.json).

    make cost                        # every operation once (a 10 s video), then the cost per 1,000
    make cost COST_ARGS="--video-seconds 30 --skip-video"

Per operation: Step Functions state transitions (entered states in the execution histories of the
executions it started), Lambda invocations with their measured duration x configured memory
(GB-seconds; the API's own invocations and handler time included), DynamoDB read and write units
(computed from item sizes: infra/local/usage.py says why and how), S3 requests and bytes, and
EventBridge events. It runs in this process: a local cloud, localstripe and the local API on free
ports, seeded with the demo data. The harness's own calls (polling a record, reading histories) are
signed as the local cloud's administrator and are not counted. Figures, not assertions;
tests/load/test_cost_counts.py checks the counts of one purchase (docs/performance.md#cost-model).
"""

from __future__ import annotations

import argparse
import json
import secrets
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from infra.local.usage import Counts, Usage

PRICES_FILE = Path(__file__).resolve().parents[1] / "load" / "aws-prices-2026-11.json"
NOT_YET_COVERED = ("quiz attempt", "forum post")
SUCCEEDING_CARD = "4242424242424242"
SETTLE_SECONDS = 1.0  # after the last execution ends: an event it published may still start another


@dataclass
class Measured:
    """One operation's use of each resource (already divided by ``per``, e.g. per video minute)."""

    operation: str
    counts: Counts
    state_transitions: float
    executions: dict[str, int] = field(default_factory=dict)  # workflow -> executions started

    def scaled(self, factor: float) -> Measured:
        return Measured(
            self.operation, self.counts.scaled(factor), self.state_transitions * factor, self.executions
        )


# ----- the harness: executions, waiting, measuring ---------------------------------------------------


def executions() -> dict[str, str]:
    """Every execution of every state machine: ARN -> status (admin calls: not counted)."""
    from lms import aws

    sfn = aws.client("stepfunctions")
    found = {}
    for machine in sfn.list_state_machines()["stateMachines"]:
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine["stateMachineArn"]):
            found.update({e["executionArn"]: e["status"] for e in page["executions"]})
    return found


def entered_states(execution_arn: str) -> int:
    """State transitions as Step Functions Standard bills them: one per state entered."""
    from lms import aws

    sfn = aws.client("stepfunctions")
    entered, token = 0, None
    while True:
        page = sfn.get_execution_history(
            executionArn=execution_arn, maxResults=1000, **({"nextToken": token} if token else {})
        )
        entered += sum(1 for event in page["events"] if event["type"].endswith("StateEntered"))
        token = page.get("nextToken")
        if not token:
            return entered


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.2)


@contextmanager
def measuring(usage: Usage, operation: str, results: list[Measured], timeout: float = 300) -> Iterator[None]:
    """Counts what happens from the block's start until every execution it started has ended."""
    before_executions = set(executions())
    before = usage.snapshot()
    yield
    started: dict[str, str] = {}

    def all_ended() -> bool:
        started.clear()
        started.update({arn: s for arn, s in executions().items() if arn not in before_executions})
        return all(status != "RUNNING" for status in started.values())

    wait_until(all_ended, f"{operation}: executions still running", timeout)
    time.sleep(SETTLE_SECONDS)
    wait_until(all_ended, f"{operation}: executions still running", timeout)
    counts = usage.snapshot() - before
    if counts.unmeasured_calls:
        raise RuntimeError(
            f"{operation}: {counts.unmeasured_calls} calls the meter could not measure (see the log)"
        )
    by_workflow: dict[str, int] = {}
    for arn in started:
        workflow = arn.split(":")[6].removeprefix("lms-")
        by_workflow[workflow] = by_workflow.get(workflow, 0) + 1
    results.append(Measured(operation, counts, sum(entered_states(arn) for arn in started), by_workflow))


@dataclass
class Api:
    """The product's API as its users call it."""

    url: str
    token: str | None = None

    def call(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = requests.request(method, f"{self.url}{path}", headers=headers, timeout=60, **kwargs)
        if response.status_code != expect:
            raise AssertionError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response.json() if response.content else None

    def as_new_user(self, admin: Api, role: str = "student") -> tuple[Api, str]:
        email = f"cost-{uuid.uuid4().hex[:10]}@example.org"
        password = secrets.token_urlsafe(12)
        body = {"email": email, "password": password, "firstName": "Cost", "lastName": "Model"}
        user_id = Api(self.url).call("POST", "/auth/register", 201, json=body)["userId"]
        if role != "student":
            admin.call("PATCH", f"/admin/users/{user_id}", json={"role": role})
        token = Api(self.url).call("POST", "/auth/login", json={"email": email, "password": password})
        return Api(self.url, token["accessToken"]), user_id


# ----- the operations ---------------------------------------------------------------------------------


def purchase(api: Api, admin: Api, usage: Usage, course_id: str, results: list[Measured]) -> str:
    """A student buys ``course_id`` and pays by card; answers the transaction id."""
    from infra.local.stripe import pay
    from lms import purchases
    from lms.table import Table

    student, _ = api.as_new_user(admin)
    table = Table()  # the harness's reads: the administrator's, not counted
    with measuring(usage, "purchase", results):
        started = student.call("POST", "/transactions", 202, json={"courseId": course_id})
        transaction_id = started["transactionId"]

        def payable() -> bool:
            record = purchases.get_transaction(table, transaction_id)
            return record is not None and bool(record.payment_intent_id)

        wait_until(payable, "no PaymentIntent")
        record = purchases.get_transaction(table, transaction_id)
        assert record is not None and record.payment_intent_id
        status, _ = pay(record.payment_intent_id, SUCCEEDING_CARD)
        assert status == "succeeded", status

        def completed() -> bool:
            done = purchases.get_transaction(table, transaction_id)
            return done is not None and done.status.value == "COMPLETED"

        wait_until(completed, "purchase not COMPLETED")
    return str(transaction_id)


def publish(
    api: Api, admin: Api, instructor: Api, usage: Usage, category_id: str, results: list[Measured]
) -> None:
    """``instructor`` publishes a course of three text lessons. An instructor's first publication
    waits for an admin, who approves it here (the warm-up pass); later ones are trusted."""
    course = instructor.call(
        "POST",
        "/courses",
        201,
        json={
            "title": f"Cost {uuid.uuid4().hex[:6]}",
            "description": "d",
            "categoryId": category_id,
            "priceCents": 0,
        },
    )
    course_id = course["courseId"]
    for index in range(3):
        instructor.call(
            "POST",
            "/lessons",
            201,
            json={
                "courseId": course_id,
                "title": f"Lesson {index}",
                "type": "text",
                "content": f"<p>Text {index}</p>",
            },
        )
    with measuring(usage, "publish", results):
        instructor.call("POST", f"/courses/{course_id}/publish", 202)
        approve_if_waiting(admin, course_id)
    publication = instructor.call("GET", f"/courses/{course_id}/publication")
    assert publication["status"] == "PUBLISHED", publication


def approve_if_waiting(admin: Api, course_id: str) -> None:
    """Once the run has left RUNNING: if it waits for approval, the admin approves it."""
    from lms.publishing.publications import PublicationStatus, get_publication
    from lms.table import Table

    table = Table()  # the harness's reads: the administrator's, not counted

    def status() -> PublicationStatus | None:
        publication = get_publication(table, course_id)
        return publication.status if publication else None

    wait_until(lambda: status() not in (None, PublicationStatus.RUNNING), "publication still RUNNING")
    if status() != PublicationStatus.AWAITING_APPROVAL:
        return
    found: list[dict[str, Any]] = []

    def listed() -> bool:
        found[:] = [a for a in admin.call("GET", "/admin/approvals")["items"] if a["courseId"] == course_id]
        return bool(found)

    wait_until(listed, "no pending approval")
    admin.call("POST", f"/admin/approvals/{found[0]['approvalId']}", json={"decision": "approve"})


def certificate(api: Api, admin: Api, usage: Usage, free_course_id: str, results: list[Measured]) -> None:
    """A student completes the last lesson of a free course: the progress post and the issuance."""
    student, _ = api.as_new_user(admin)
    student.call("POST", "/transactions", 202, json={"courseId": free_course_id})
    lessons = [lesson["lessonId"] for lesson in student.call("GET", f"/lessons/{free_course_id}")["items"]]
    for lesson_id in lessons[:-1]:
        student.call("POST", f"/lessons/{lesson_id}/progress", json={"isCompleted": True})
    with measuring(usage, "certificate", results):
        student.call("POST", f"/lessons/{lessons[-1]}/progress", json={"isCompleted": True})
    assert student.call("GET", "/certificates")["items"], "no certificate issued"


def video(
    api: Api, admin: Api, usage: Usage, category_id: str, seconds: int, results: list[Measured]
) -> None:
    """An instructor uploads a generated 720p video; scaled to one minute of video."""
    import subprocess

    instructor, _ = api.as_new_user(admin, "instructor")
    course = instructor.call(
        "POST",
        "/courses",
        201,
        json={
            "title": f"Video {uuid.uuid4().hex[:6]}",
            "description": "d",
            "categoryId": category_id,
            "priceCents": 0,
        },
    )
    lesson_body = {"courseId": course["courseId"], "title": "Video lecture", "type": "video"}
    lesson = instructor.call("POST", "/lessons", 201, json=lesson_body)
    with tempfile.TemporaryDirectory() as work:
        source = Path(work) / "source.mp4"
        subprocess.run(  # noqa: S603
            [  # noqa: S607
                "ffmpeg",
                "-hide_banner",
                "-loglevel",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                f"testsrc=duration={seconds}:size=1280x720:rate=30",
                "-f",
                "lavfi",
                "-i",
                f"sine=frequency=440:duration={seconds}",
                "-c:v",
                "libx264",
                "-preset",
                "veryfast",
                "-g",
                "60",
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                "aac",
                "-shortest",
                str(source),
            ],
            check=True,
        )
        one: list[Measured] = []
        with measuring(usage, "video minute", one, timeout=900):
            ticket = instructor.call(
                "POST",
                f"/lessons/{lesson['lessonId']}/video",
                201,
                json={"contentType": "video/mp4", "contentLength": source.stat().st_size},
            )
            put = requests.put(
                ticket["uploadUrl"],
                data=source.read_bytes(),
                headers={"Content-Type": "video/mp4"},
                timeout=120,
            )
            assert put.status_code == 200, put.text
            wait_until(lambda: bool(executions_of("video")), "no video execution", 60)
    results.append(one[0].scaled(60 / seconds))


def executions_of(workflow: str) -> list[str]:
    return [arn for arn, status in executions().items() if f":lms-{workflow}" in arn and status == "RUNNING"]


def api_reads(api: Api, usage: Usage, course_id: str, results: list[Measured], count: int = 20) -> None:
    """Anonymous catalog reads (GET /courses and GET /courses/{id} in turn), per read."""
    one: list[Measured] = []
    with measuring(usage, "API read", one):
        for index in range(count):
            api.call("GET", "/courses" if index % 2 else f"/courses/{course_id}")
    results.append(one[0].scaled(1 / count))


# ----- prices -------------------------------------------------------------------------------------------


def read_prices(path: Path = PRICES_FILE) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


def dollars(measured: Measured, prices: dict[str, Any]) -> dict[str, float]:
    """The operation's cost by service, in US dollars (one operation)."""
    c = measured.counts
    api_gb_seconds = c.api_milliseconds / 1000 * prices["api_lambda_memory_mb"] / 1024
    invocations = sum(c.lambda_invocations.values()) + c.api_requests
    return {
        "step functions": measured.state_transitions
        * prices["step_functions_standard_per_thousand_transitions"]
        / 1000,
        "lambda": invocations * prices["lambda_per_million_requests"] / 1e6
        + (sum(c.lambda_gb_seconds.values()) + api_gb_seconds) * prices["lambda_arm_per_gb_second"],
        "api gateway": c.api_requests * prices["api_gateway_rest_per_million_requests"] / 1e6,
        "dynamodb": c.dynamodb_read_units * prices["dynamodb_on_demand_per_million_read_units"] / 1e6
        + c.dynamodb_write_units * prices["dynamodb_on_demand_per_million_write_units"] / 1e6,
        "s3": c.s3_tier1_requests * prices["s3_standard_per_thousand_tier1_requests"] / 1000
        + c.s3_tier2_requests * prices["s3_standard_per_thousand_tier2_requests"] / 1000
        + c.s3_bytes_in / 1024**3 * prices["s3_standard_per_gb_month"],
        "eventbridge": c.events * prices["eventbridge_per_million_custom_events"] / 1e6,
    }


def print_report(results: list[Measured], prices: dict[str, Any]) -> None:
    print(
        f"\nUse per operation (measured on the local cloud; {PRICES_FILE.name}: {prices['source'][:60]}...)"
    )
    header = (
        f"{'operation':<13} {'transitions':>11} {'lambda inv':>10} {'lambda GB-s':>11} {'API req':>7} "
        f"{'RCU':>7} {'WCU':>7} {'S3 t1/t2':>9} {'S3 MB in':>8} {'events':>6}"
    )
    print(header)
    api_memory_gb = prices["api_lambda_memory_mb"] / 1024
    for m in results:
        c = m.counts
        gb_s = sum(c.lambda_gb_seconds.values()) + c.api_milliseconds / 1000 * api_memory_gb
        s3_requests = f"{c.s3_tier1_requests:.0f}/{c.s3_tier2_requests:.0f}"
        print(
            f"{m.operation:<13} {m.state_transitions:>11.1f} {sum(c.lambda_invocations.values()):>10.1f} "
            f"{gb_s:>11.3f} {c.api_requests:>7.1f} {c.dynamodb_read_units:>7.1f} "
            f"{c.dynamodb_write_units:>7.1f} {s3_requests:>9} {c.s3_bytes_in / 1e6:>8.1f} {c.events:>6.1f}"
        )
    for name in NOT_YET_COVERED:
        print(f"{name:<13} not yet covered")
    services = list(dollars(results[0], prices)) if results else []
    print(
        "\nCost per 1,000 operations, US dollars "
        "(us-east-1 list prices; S3 storage: one month of what was written)"
    )
    print(f"{'operation':<13} " + " ".join(f"{s:>14}" for s in services) + f" {'total':>9}")
    for m in results:
        cost = dollars(m, prices)
        print(
            f"{m.operation:<13} "
            + " ".join(f"{cost[s] * 1000:>14.4f}" for s in services)
            + f" {sum(cost.values()) * 1000:>9.4f}"
        )
    for name in NOT_YET_COVERED:
        print(f"{name:<13} not yet covered")
    print("\nLambda per function (invocations, billed ms, GB-s) per operation:")
    for m in results:
        for function, calls in sorted(m.counts.lambda_invocations.items()):
            billed = m.counts.lambda_milliseconds[function]
            print(
                f"  {m.operation:<13} {function:<48} {calls:>6.2f} {billed:>10.0f} ms "
                f"{m.counts.lambda_gb_seconds[function]:>8.3f}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--video-seconds", type=int, default=10)
    parser.add_argument(
        "--skip-video", action="store_true", help="no video upload (needs ffmpeg, takes longest)"
    )
    args = parser.parse_args()

    import os

    os.environ.setdefault("LMS_JWT_SECRET", secrets.token_urlsafe(48))
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    from infra.local.api_gateway import LocalApi
    from infra.local.cloud import LocalCloud
    from infra.local.seed import seed_demo_data
    from infra.local.stripe import LocalStripe
    from lms.settings import reset_settings
    from lms.table import Table
    from tests.conftest import free_port

    cloud = LocalCloud(port=0).start()
    stripe = LocalStripe(port=free_port()).start()
    api_server = None
    try:
        stripe.configure_environment()
        cloud.bootstrap()
        password = secrets.token_urlsafe(12)
        demo = seed_demo_data(Table(), password)
        api_server = LocalApi(port=0).start()
        stripe.register_webhook(f"{api_server.url}/webhooks/stripe")
        reset_settings()
        api = Api(api_server.url)
        admin = Api(
            api.url,
            api.call("POST", "/auth/login", json={"email": "admin@example.com", "password": password})[
                "accessToken"
            ],
        )
        paid = demo.courses["Python for Beginners"].course_id
        free = demo.courses["HTML & CSS Foundations"].course_id
        category = demo.categories["Python"].category_id
        # Each operation once to warm its functions (Lambda keeps warm environments too; a cold
        # start's first call also loads the domain), then once measured.
        results: list[Measured] = []
        instructor, _ = api.as_new_user(admin, "instructor")
        for measured in ([], results):
            purchase(api, admin, cloud.usage, paid, measured)
            publish(api, admin, instructor, cloud.usage, category, measured)
            certificate(api, admin, cloud.usage, free, measured)
            api_reads(api, cloud.usage, paid, measured)
        if not args.skip_video:  # once: the transcode dominates, warm or cold
            video(api, admin, cloud.usage, category, args.video_seconds, results)
        print_report(results, read_prices())
    finally:
        if api_server is not None:
            api_server.stop()
        stripe.stop()
        cloud.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
