"""Analytics benchmark: events/s into the local lake, and the time of every report over it.

    .venv/bin/python -m benchmarks.analytics                    # 1,000,000 events
    .venv/bin/python -m benchmarks.analytics --events 100000 --courses 50

Generates ``--events`` synthetic delivered events (registrations, enrollments with purchases, lesson
progress, graded first attempts, posts, execution ends) over the last 180 days and ``--courses``
courses, each with an id and 1 % delivered twice. Ingestion is the local path an event takes:
``record_of`` (the lake row), the local Firehose's buffer (64 MiB flushes) and pyarrow Parquet per
day partition, into memory instead of S3. Then the lake is read back (with its day partition) and
every report's SQL, transpiled to DuckDB, is run over it: the time per report and in all is printed.
No timing is asserted; the figures are for people (docs/analytics.md).
"""

from __future__ import annotations

import argparse
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any


def synthetic_events(count: int, courses: int, seed: int = 18) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    course_ids = [uuid.UUID(int=rng.getrandbits(128)).hex for _ in range(courses)]
    lessons = {course: [f"{course[:8]}-l{n}" for n in range(8)] for course in course_ids}
    users = [uuid.UUID(int=rng.getrandbits(128)).hex for _ in range(max(10, count // 40))]
    kinds = (
        ["progress"] * 70
        + ["enrol"] * 8
        + ["register"] * 4
        + ["attempt"] * 8
        + ["post"] * 6
        + ["execution"] * 4
    )
    found: list[dict[str, Any]] = []
    for _ in range(count):
        kind = rng.choice(kinds)
        at = now - timedelta(seconds=rng.randrange(180 * 86400))
        occurred = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        user, course = rng.choice(users), rng.choice(course_ids)
        base = {
            "eventId": uuid.UUID(int=rng.getrandbits(128)).hex,
            "occurredAt": occurred,
            "schemaVersion": 1,
            "actor": {"type": "user", "id": user},
            "courseId": course,
            "userId": user,
        }
        if kind == "progress":
            lesson = rng.choice(lessons[course])
            done = rng.random() < 0.6
            detail = {
                **base,
                "verb": "progressed",
                "object": {"type": "lesson", "id": lesson},
                "result": "completed" if done else "in-progress",
                "lessonId": lesson,
                "isCompleted": done,
                "timeSpentSeconds": 60,
                "progressPercentage": rng.choice([12, 25, 37, 50, 62, 75, 87, 100]),
            }
            found.append(_delivered("LessonProgressRecorded", "lms.learning", detail))
        elif kind == "enrol":
            transaction = uuid.UUID(int=rng.getrandbits(128)).hex
            amount = rng.choice([0, 1900, 4900])
            common = {**base, "transactionId": transaction, "amount": amount}
            found.append(
                _delivered(
                    "EnrollmentCreated",
                    "lms.purchases",
                    {
                        **common,
                        "verb": "enrolled",
                        "object": {"type": "course", "id": course},
                        "result": "enrolled",
                        "enrolledAt": occurred,
                    },
                )
            )
            found.append(
                _delivered(
                    "PurchaseCompleted",
                    "lms.purchases",
                    {
                        **common,
                        "eventId": uuid.UUID(int=rng.getrandbits(128)).hex,
                        "verb": "purchased",
                        "object": {"type": "transaction", "id": transaction},
                        "result": "completed",
                        "currency": "usd",
                    },
                )
            )
        elif kind == "register":
            detail = {
                **base,
                "verb": "registered",
                "object": {"type": "user", "id": user},
                "result": "registered",
                "role": "student",
            }
            detail.pop("courseId")
            found.append(_delivered("UserRegistered", "lms.identity", detail))
        elif kind == "attempt":
            scores = [(f"q{n}", float(rng.randint(0, 1)), 1.0) for n in range(5)]
            detail = {
                **base,
                "verb": "graded",
                "object": {"type": "attempt", "id": base["eventId"]},
                "result": "graded",
                "attemptNumber": rng.choice([1, 1, 2]),
                "score": sum(s for _, s, _ in scores),
                "maxScore": 5.0,
                "questions": [{"questionId": q, "score": s, "maxScore": m} for q, s, m in scores],
            }
            found.append(_delivered("AttemptGraded", "lms.assessments", detail))
        elif kind == "post":
            detail = {
                **base,
                "verb": "posted",
                "object": {"type": "post", "id": base["eventId"]},
                "result": "posted",
                "threadId": f"{course[:8]}-t{rng.randrange(20)}",
            }
            found.append(_delivered("PostCreated", "lms.discussions", detail))
        else:
            workflow = rng.choice(["purchase", "certificate", "publish", "video"])
            status = rng.choice(["SUCCEEDED"] * 9 + ["FAILED"])
            found.append(
                {
                    "id": base["eventId"],
                    "detail-type": "Step Functions Execution Status Change",
                    "source": "aws.states",
                    "time": occurred[:19] + "Z",
                    "detail": {
                        "executionArn": f"arn:aws:states:us-east-1:1:execution:lms-{workflow}:{user}",
                        "stateMachineArn": f"arn:aws:states:us-east-1:1:stateMachine:lms-{workflow}",
                        "name": base["eventId"],
                        "status": status,
                        "output": '{"outcome":"done"}' if status == "SUCCEEDED" else None,
                    },
                }
            )
        if len(found) >= count:
            break
    duplicates = [found[i] for i in rng.sample(range(len(found)), len(found) // 100)]
    return found[:count] + duplicates


def _delivered(name: str, source: str, detail: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": detail["eventId"],
        "detail-type": name,
        "source": source,
        "time": detail["occurredAt"],
        "detail": detail,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--courses", type=int, default=200)
    args = parser.parse_args()

    from infra.local import lake as local_lake
    from lms.analytics import lake, reports

    print(f"generating {args.events:,} events over {args.courses} courses (1 % delivered twice)...")
    events = synthetic_events(args.events, args.courses)

    files: dict[str, bytes] = {}
    firehose = local_lake.LocalFirehose(files.__setitem__, buffer_seconds=0)
    started = time.perf_counter()
    for event in events:
        firehose.put(lake.record_of(event))
    firehose.close()
    ingest = time.perf_counter() - started
    size = sum(len(data) for data in files.values())
    print(
        f"ingested {len(events):,} deliveries in {ingest:.1f} s: {len(events) / ingest:,.0f} events/s, "
        f"{len(files):,} Parquet files, {size / 1e6:.1f} MB ({size / len(events):.0f} bytes/event)"
    )

    started = time.perf_counter()
    table = local_lake.lake_table(files.items())
    print(f"read the lake back: {table.num_rows:,} rows in {time.perf_counter() - started:.1f} s")
    total = 0.0
    for report in reports.REPORTS:
        started = time.perf_counter()
        result = local_lake.run_query(report.query(), table)
        elapsed = time.perf_counter() - started
        total += elapsed
        print(f"  {report.id:<32} {elapsed:6.2f} s  {len(result.rows):>8,} rows")
    print(f"every report: {total:.1f} s")


if __name__ == "__main__":
    main()
