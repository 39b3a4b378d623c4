"""The analytics API over figures the lake computed: known events in, the hand-worked figures out.

Given the known event set of tests/analytics.py written the real local way (lake records, the local
Firehose's batched Parquet, every report's SQL on DuckDB after the Trino -> DuckDB transpilation) and
stored with ``results.store`` per scope, as the reports workflow stores them, when the course's
instructor and an admin ask the API, then they read exactly the figures worked out by hand, the
at-risk learner named from the table (the lake holds only the id).
"""

from __future__ import annotations

from typing import Any

import pytest

from infra.local import lake as local_lake
from lms.analytics import lake, reports, results
from lms.courses import courses
from lms.entities import Course, User
from lms.identity import user_item
from lms.table import Table
from tests import analytics as known
from tests.conftest import Demo


@pytest.fixture(scope="module")
def from_the_lake(demo: Demo, api_url: str) -> dict[str, Any]:
    firehose_files: dict[str, bytes] = {}
    firehose = local_lake.LocalFirehose(firehose_files.__setitem__, buffer_bytes=10_000, buffer_seconds=0)
    for event in known.known_events():
        firehose.put(lake.record_of(event))
    firehose.close()
    events = local_lake.lake_table(firehose_files.items())
    rows = {
        report.id: reports.parse_csv(local_lake.run_query(report.query(), events).csv())
        for report in reports.REPORTS
    }
    scoped = reports.results_by_scope(rows, known.lessons_of)
    as_of = known.noon(0)
    for scope, figures in scoped.items():
        results.store(scope, figures, as_of)

    # The course and the at-risk learner exist in the table: the API checks the one and names the other.
    table = Table()
    instructor = demo.data.users["instructor"]
    course = Course(
        course_id=known.COURSE,
        title="Known events",
        instructor_id=instructor.user_id,
        category_id=demo.data.categories["Python"].category_id,
        price_cents=1000,
    )
    table.put(courses.course_item(course))
    table.put(
        user_item(
            User(user_id="u4", email="u4@example.org", first_name="Una", last_name="Four", password_hash="-")
        )
    )
    return {"course": course, "as_of": as_of}


def test_the_course_figures_are_the_ones_worked_out_by_hand(from_the_lake, instructor) -> None:
    expected = known.expected_course()
    body = instructor.get(f"/courses/{known.COURSE}/analytics?from={known.day(365)}&to={known.day(0)}").json()

    assert body["asOf"] and body["asOf"].startswith(known.day(0))
    assert body["enrollments"] == [
        {"day": r["day"], "count": r["enrollments"]} for r in expected["enrollments_per_day"]
    ]
    assert body["revenue"]["days"] == [
        {"day": r["day"], "amount": r["amount_cents"], "currency": r["currency"]}
        for r in expected["revenue_per_day"]
    ]
    assert body["revenue"]["totals"] == [{"amount": 5000, "currency": "usd"}]
    assert [
        (s["position"], s["lessonId"], s["title"], s["reached"], s["completed"]) for s in body["funnel"]
    ] == [
        (s["position"], s["lesson_id"], s["title"], s["reached"], s["completed"]) for s in expected["funnel"]
    ]
    assert body["completionRate"] == 0.5 and body["medianDaysToComplete"] == 4.0
    assert body["atRisk"] == [
        {
            "userId": "u4",
            "name": "Una Four",
            "lastActivityAt": f"{known.day(28)}T12:00:00Z",
            "progressPercentage": 33,
        }
    ]
    assert [q["questionId"] for q in body["questions"]] == ["q1", "q2"]
    for question in body["questions"]:
        assert question["attempts"] == 3
        assert question["facilityIndex"] == pytest.approx(2 / 3)
        assert question["discriminationIndex"] == pytest.approx(-0.5)
    assert body["forum"] == {"threads": 2, "replies": 2, "distinctPosters": 3}

    # The default range (the last 30 days) cuts the day 30 days ago.
    recent = instructor.get(f"/courses/{known.COURSE}/analytics").json()
    assert [d["day"] for d in recent["enrollments"]] == [known.day(10), known.day(9)]


def test_the_platform_figures_are_the_ones_worked_out_by_hand(from_the_lake, admin) -> None:
    expected = known.expected_platform()
    body = admin.get(f"/admin/analytics?from={known.day(365)}&to={known.day(0)}").json()

    assert body["registrations"] == [
        {"day": r["day"], "count": r["registrations"]} for r in expected["registrations_per_day"]
    ]
    assert body["activeLearners"] == expected["active_learners"]
    assert body["revenue"]["perCourse"] == [{"courseId": known.COURSE, "amount": 5000, "currency": "usd"}]
    assert body["completion"] == {
        "enrolled": 5,
        "completed": 3,
        "completionRate": 0.6,
        "medianDaysToComplete": 3.0,
    }
    assert body["workflows"] == expected["workflows"]
    csv_text = admin.get(f"/admin/analytics?format=csv&from={known.day(365)}&to={known.day(0)}").text
    assert f"{known.day(10)},purchase,completed,2" in csv_text
