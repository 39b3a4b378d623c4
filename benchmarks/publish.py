"""Publishing benchmark: the issue's budgets for a course of 50 lessons, measured, not asserted.

    make bench                                    # runs this after the purchase benchmark
    .venv/bin/python -m benchmarks.publish --lessons 50

Starts its own local cloud and API in this process (as the tests do), creates a course with N text
lessons over HTTP as the demo instructor (whose publications need an admin: the longest path),
publishes it, approves it as the admin and reads the execution history. Printed: state transitions
outside the Map (budget <= 10), Map iterations, the largest state input/output, and the DynamoDB
TransactWriteItems of the publish itself (budget: 1) and of the snapshot's capture (chunks of 100),
counted on the same domain functions the Publish and CaptureSnapshot tasks run, for a second course
of the same size (the tasks run in worker processes, whose DynamoDB calls this process cannot see).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import time


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lessons", type=int, default=50)
    args = parser.parse_args()
    os.environ.setdefault("LMS_JWT_SECRET", secrets.token_urlsafe(48))
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

    from infra.local.api_gateway import LocalApi
    from infra.local.cloud import LocalCloud
    from infra.local.seed import seed_demo_data
    from lms import aws
    from lms.publishing import steps
    from lms.table import Table
    from tests.conftest import ApiClient
    from tests.publishing import (
        create_course,
        publication_until,
        publish,
        text_lesson,
        transitions_outside_map,
    )
    from tests.purchases import execution

    cloud = LocalCloud(port=0).start()
    cloud.bootstrap()
    api = LocalApi(port=0).start()
    try:
        password = secrets.token_urlsafe(12)
        demo = seed_demo_data(Table(), password)
        anonymous = ApiClient(api.url)
        instructor = anonymous.login("instructor@example.com", password)
        admin = anonymous.login("admin@example.com", password)
        category = demo.categories["Python"].category_id
        lessons = [text_lesson(f"Lesson {i}") for i in range(args.lessons)]

        course = create_course(instructor, category, lessons=lessons)
        started = time.perf_counter()
        run = publish(instructor, course)
        waiting = publication_until(instructor, course, "AWAITING_APPROVAL", timeout=300)
        checked = time.perf_counter() - started
        assert admin.post(f"/admin/approvals/{waiting['approvalId']}", json={"decision": "approve"}).ok
        assert publication_until(instructor, course, "PUBLISHED", timeout=300)["status"] == "PUBLISHED"
        _, history = execution(run["executionArn"], timeout=300)
        iterations = sum(1 for e in history if e["type"] == "MapIterationStarted")
        largest = max(
            len(json.dumps(details.get("input") or details.get("output") or ""))
            for e in history
            for key, details in e.items()
            if key.endswith("EventDetails") and isinstance(details, dict)
        )

        calls: list[str] = []
        aws.dynamodb().meta.events.register(
            "before-call.dynamodb", lambda model, **_: calls.append(model.name)
        )
        second = create_course(instructor, category, lessons=lessons)
        table = Table()
        calls.clear()
        steps.capture_snapshot(table, second, 1)
        captured = calls.count("TransactWriteItems")
        calls.clear()
        steps.publish(table, second, 1, execution_name=None)
        published = calls.count("TransactWriteItems")

        print(f"Publishing a course of {args.lessons} lessons (demo instructor: admin approval path):")
        print(f"  state transitions outside the Map   {transitions_outside_map(history):5d}   (budget <= 10)")
        print(f"  Map iterations (one per lesson)     {iterations:5d}")
        print(f"  largest state input/output          {largest:5d} bytes")
        print(f"  TransactWriteItems, publish itself  {published:5d}   (budget 1)")
        print(f"  TransactWriteItems, snapshot chunks {captured:5d}   (<= 100 writes each)")
        print(f"  publish request -> awaiting approval {checked:6.1f} s (this machine; not a budget)")
        return 0
    finally:
        api.stop()
        cloud.stop()


if __name__ == "__main__":
    raise SystemExit(main())
