"""The analytics API: who may read which figures, the date range, CSV, and one read of stored results.

Given results stored with the lake's own ``results.store`` (known figures, days relative to today),
when the owner, an admin, another instructor or a student asks, then each gets what docs/api.md says:
the figures cut to ``?from=&to=``, at-risk learners named at read time (a deleted account left out),
400/422 for a bad range, and the same figures as CSV. Every call reads the stored results once.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from lms.analytics import results
from tests.conftest import ApiClient, Demo, api_client

TODAY = datetime.now(UTC).date()
AS_OF = datetime.now(UTC).replace(microsecond=0)


def day(offset: int) -> str:
    return (TODAY - timedelta(days=offset)).isoformat()


def course_results(student_id: str, gone_id: str) -> dict[str, list[dict[str, Any]]]:
    return {
        "enrollments_per_day": [
            {"day": day(40), "enrollments": 9},  # outside the default 30 days
            {"day": day(3), "enrollments": 2},
            {"day": day(1), "enrollments": 5},
        ],
        "revenue_per_day": [
            {"day": day(40), "currency": "usd", "amount_cents": 99_900},
            {"day": day(3), "currency": "usd", "amount_cents": 3_998},
            {"day": day(1), "currency": "usd", "amount_cents": 9_995},
        ],
        "funnel": [
            {"position": 2, "lesson_id": "l2", "title": '=HYPERLINK("x")', "reached": 4, "completed": 1},
            {"position": 1, "lesson_id": "l1", "title": "Welcome", "reached": 7, "completed": 6},
        ],
        "completion": [
            {"enrolled": 16, "completed": 4, "completion_rate": 0.25, "median_days_to_complete": 3.5}
        ],
        "at_risk": [
            {"user_id": student_id, "last_activity_at": f"{day(20)}T08:00:00Z", "progress_percentage": 10},
            {"user_id": gone_id, "last_activity_at": f"{day(25)}T08:00:00Z", "progress_percentage": 0},
        ],
        "questions": [
            {"question_id": "q1", "attempts": 12, "facility_index": 0.75, "discrimination_index": 0.42},
            {"question_id": "q2", "attempts": 12, "facility_index": None, "discrimination_index": None},
        ],
        "forum": [{"threads": 3, "replies": 8, "posters": 5}],
    }


PLATFORM_RESULTS: dict[str, list[dict[str, Any]]] = {
    "revenue_per_day": [{"day": day(2), "currency": "usd", "amount_cents": 12_345}],
    "revenue_per_course": [
        {"course_id": "small", "currency": "usd", "amount_cents": 100},
        {"course_id": "big", "currency": "usd", "amount_cents": 12_245},
    ],
    "registrations_per_day": [{"day": day(2), "registrations": 4}, {"day": day(400), "registrations": 1}],
    "active_learners": [{"day": day(2), "daily": 3, "weekly": 6}],
    "enrollments_per_day": [{"day": day(2), "enrollments": 7}],
    "completion": [{"enrolled": 10, "completed": 5, "completion_rate": 0.5, "median_days_to_complete": 2.0}],
    "workflows": [
        {
            "day": day(2),
            "workflow": "purchase",
            "succeeded": 5,
            "outcomes": {"PaymentDeclined": 2},
            "failed": 1,
        }
    ],
}


@pytest.fixture
def course(instructor: ApiClient, demo: Demo) -> dict[str, Any]:
    """A fresh course of the demo instructor, with known stored figures."""
    category = demo.data.categories["Python"].category_id
    created = instructor.post(
        "/courses",
        json={
            "title": f"Analytics {uuid.uuid4().hex[:6]}",
            "description": "figures",
            "categoryId": category,
            "priceCents": 1999,
            "currency": "usd",
            "difficulty": "beginner",
        },
    )
    assert created.status_code == 201, created.text
    course_id = created.json()["courseId"]
    student = demo.data.users["student"]
    results.store(results.course_scope(course_id), course_results(student.user_id, "no-such-user"), AS_OF)
    return {"id": course_id, "student": student}


@pytest.fixture
def platform() -> None:
    results.store(results.PLATFORM, PLATFORM_RESULTS, AS_OF)


class S3Reads:
    def __init__(self) -> None:
        self.keys: list[str] = []

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        if model.name == "GetObject":
            self.keys.append(params["Key"])


@pytest.fixture
def s3_reads(api_url: str) -> Any:
    recorder = S3Reads()
    client = api_client("s3")
    client.meta.events.register("before-parameter-build.s3", recorder)
    yield recorder
    client.meta.events.unregister("before-parameter-build.s3", recorder)


# --- access ---------------------------------------------------------------------------------------


def test_owner_and_admin_read_a_course_others_are_refused(
    course, instructor, admin, student, anonymous, new_user
) -> None:
    path = f"/courses/{course['id']}/analytics"
    assert instructor.get(path).status_code == 200
    assert admin.get(path).status_code == 200
    assert anonymous.get(path).status_code == 401
    refused = student.get(path)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "FORBIDDEN"
    other = new_user("instructor").client.get(path)
    assert other.status_code == 403, other.text
    assert "enrollments" not in other.text


def test_unknown_course_is_404_for_owner_and_admin(instructor, admin) -> None:
    for client in (instructor, admin):
        response = client.get("/courses/no-such-course/analytics")
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "NOT_FOUND"


def test_platform_figures_are_for_admins_only(platform, admin, instructor, student, anonymous) -> None:
    assert admin.get("/admin/analytics").status_code == 200
    assert instructor.get("/admin/analytics").status_code == 403
    assert student.get("/admin/analytics").status_code == 403
    assert anonymous.get("/admin/analytics").status_code == 401


# --- figures --------------------------------------------------------------------------------------


def test_course_figures_default_to_the_last_30_days_with_as_of(course, instructor) -> None:
    body = instructor.get(f"/courses/{course['id']}/analytics").json()

    assert datetime.fromisoformat(body["asOf"]) == AS_OF
    assert body["from"] == day(29) and body["to"] == day(0)
    assert body["enrollments"] == [{"day": day(3), "count": 2}, {"day": day(1), "count": 5}]
    assert body["revenue"]["days"] == [
        {"day": day(3), "amount": 3_998, "currency": "usd"},
        {"day": day(1), "amount": 9_995, "currency": "usd"},
    ]
    assert body["revenue"]["totals"] == [{"amount": 13_993, "currency": "usd"}]
    assert [(s["position"], s["reached"], s["completed"]) for s in body["funnel"]] == [(1, 7, 6), (2, 4, 1)]
    assert body["completionRate"] == 0.25 and body["medianDaysToComplete"] == 3.5
    assert body["completion"] == {
        "enrolled": 16,
        "completed": 4,
        "completionRate": 0.25,
        "medianDaysToComplete": 3.5,
    }
    assert body["questions"][0] == {
        "questionId": "q1",
        "attempts": 12,
        "facilityIndex": 0.75,
        "discriminationIndex": 0.42,
    }
    assert body["questions"][1]["facilityIndex"] is None
    assert body["forum"] == {"threads": 3, "replies": 8, "distinctPosters": 5}


def test_at_risk_learners_are_named_at_read_time_and_a_deleted_account_is_left_out(
    course, instructor
) -> None:
    at_risk = instructor.get(f"/courses/{course['id']}/analytics").json()["atRisk"]
    student = course["student"]
    assert at_risk == [
        {
            "userId": student.user_id,
            "name": f"{student.first_name} {student.last_name}",
            "lastActivityAt": f"{day(20)}T08:00:00Z",
            "progressPercentage": 10,
        }
    ]


def test_an_explicit_range_selects_the_stored_days(course, instructor) -> None:
    body = instructor.get(f"/courses/{course['id']}/analytics?from={day(45)}&to={day(2)}").json()
    assert [d["count"] for d in body["enrollments"]] == [9, 2]
    assert body["revenue"]["totals"] == [{"amount": 99_900 + 3_998, "currency": "usd"}]


def test_platform_figures(platform, admin) -> None:
    body = admin.get("/admin/analytics").json()
    assert body["revenue"]["days"] == [{"day": day(2), "amount": 12_345, "currency": "usd"}]
    assert [c["courseId"] for c in body["revenue"]["perCourse"]] == ["big", "small"]
    assert body["registrations"] == [{"day": day(2), "count": 4}]  # the one 400 days ago is out of range
    assert body["activeLearners"] == [{"day": day(2), "daily": 3, "weekly": 6}]
    assert body["enrollments"] == [{"day": day(2), "count": 7}]
    assert body["completionRate"] == 0.5
    assert body["workflows"] == [
        {
            "day": day(2),
            "workflow": "purchase",
            "succeeded": 5,
            "outcomes": {"PaymentDeclined": 2},
            "failed": 1,
        }
    ]


def test_before_the_first_refresh_the_figures_are_empty_with_no_as_of(instructor, demo) -> None:
    category = demo.data.categories["Python"].category_id
    created = instructor.post(
        "/courses",
        json={
            "title": "Nothing yet",
            "description": "",
            "categoryId": category,
            "priceCents": 0,
            "currency": "usd",
        },
    )
    assert created.status_code == 201, created.text
    body = instructor.get(f"/courses/{created.json()['courseId']}/analytics").json()
    assert body["asOf"] is None
    assert body["enrollments"] == [] and body["funnel"] == [] and body["atRisk"] == []
    assert body["completionRate"] == 0.0


# --- the date range -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("from=yesterday", 400, "VALIDATION_ERROR"),
        ("to=2026-13-01", 400, "VALIDATION_ERROR"),
        ("from=20260101", 400, "VALIDATION_ERROR"),
        ("from=2026-01-01T00:00:00Z", 400, "VALIDATION_ERROR"),
        ("from=2026-03-02&to=2026-03-01", 400, "VALIDATION_ERROR"),
        ("from=2024-01-01&to=2025-01-01", 422, "RANGE_TOO_LONG"),  # 367 days
        ("format=xml", 400, "VALIDATION_ERROR"),
    ],
)
def test_a_bad_range_is_refused_with_a_clear_error(course, instructor, admin, query, status, code) -> None:
    for path in (f"/courses/{course['id']}/analytics", "/admin/analytics"):
        response = (admin if path.startswith("/admin") else instructor).get(f"{path}?{query}")
        assert response.status_code == status, (path, query, response.text)
        assert response.json()["error"]["code"] == code


def test_a_range_of_366_days_is_accepted(course, instructor) -> None:
    response = instructor.get(f"/courses/{course['id']}/analytics?from=2024-01-01&to=2024-12-31")
    assert response.status_code == 200, response.text
    assert response.json()["enrollments"] == []


def test_access_is_decided_before_the_range_is_read(course, student) -> None:
    assert student.get(f"/courses/{course['id']}/analytics?from=nonsense").status_code == 403


# --- CSV ------------------------------------------------------------------------------------------


def sections(text: str) -> dict[str, list[dict[str, str]]]:
    """The CSV layout of docs/dashboard.md: ``# name``, the columns, the rows; a blank line between."""
    found: dict[str, list[dict[str, str]]] = {}
    for block in text.replace("\r\n", "\n").strip().split("\n\n"):
        head, _, body = block.partition("\n")
        assert head.startswith("# "), block
        found[head[2:]] = list(csv.DictReader(io.StringIO(body)))
    return found


def test_course_csv_has_the_same_figures_one_section_each(course, instructor) -> None:
    response = instructor.get(f"/courses/{course['id']}/analytics?format=csv")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    found = sections(response.text)
    assert set(found) == {"summary", "enrollments", "revenue", "funnel", "at_risk", "questions", "forum"}
    assert found["enrollments"] == [{"day": day(3), "enrollments": "2"}, {"day": day(1), "enrollments": "5"}]
    assert [r["amount_cents"] for r in found["revenue"]] == ["3998", "9995"]
    assert found["summary"][0]["completion_rate"] == "0.25"
    # A title that a spreadsheet would run as a formula is written as text.
    assert found["funnel"][1]["title"] == '\'=HYPERLINK("x")'
    assert [r["user_id"] for r in found["at_risk"]] == [course["student"].user_id]
    assert found["forum"] == [{"threads": "3", "replies": "8", "distinct_posters": "5"}]


def test_platform_csv(platform, admin) -> None:
    response = admin.get(f"/admin/analytics?format=csv&from={day(10)}&to={day(0)}")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    found = sections(response.text)
    assert found["workflows"] == [{"day": day(2), "workflow": "purchase", "succeeded": "5", "failed": "1"}]
    assert found["workflow_outcomes"] == [
        {"day": day(2), "workflow": "purchase", "outcome": "PaymentDeclined", "executions": "2"}
    ]
    assert [r["course_id"] for r in found["revenue_per_course"]] == ["big", "small"]
    assert found["summary"][0]["from"] == day(10)


# --- budget ---------------------------------------------------------------------------------------


def test_each_call_reads_the_stored_results_once(
    course, platform, instructor, admin, s3_reads, dynamodb_calls
) -> None:
    for client, path, scope in (
        (instructor, f"/courses/{course['id']}/analytics", results.course_scope(course["id"])),
        (instructor, f"/courses/{course['id']}/analytics?format=csv", results.course_scope(course["id"])),
        (admin, "/admin/analytics", results.PLATFORM),
        (admin, "/admin/analytics?format=csv", results.PLATFORM),
    ):
        s3_reads.keys.clear()
        dynamodb_calls.reset()
        assert client.get(path).status_code == 200
        assert s3_reads.keys == [results_key(scope)], path
        # the caller (front door), the course, the at-risk learners' names: never a Scan
        assert len(dynamodb_calls.operations) <= 3 and "Scan" not in dynamodb_calls.operations, (
            dynamodb_calls.operations
        )


def results_key(scope: str) -> str:
    from lms import keys

    return keys.analytics_results(scope)


def test_dates_are_utc_days(course, instructor) -> None:
    body = instructor.get(f"/courses/{course['id']}/analytics").json()
    assert date.fromisoformat(body["to"]) == TODAY
