"""The analytics dashboard in headless Chromium: what an instructor and an admin see, checked against the API.

Given stored results (the lake's ``results.store``) for a demo course and the platform, served by the
local API (the very handler Lambda runs, on a port) over the local cloud: the instructor logs in at
``/dashboard``, sees their courses, opens one and sees its funnel, enrollments and revenue charted,
the question statistics and the at-risk learners (named), with ``asOf``; every charted number is the
one ``GET /courses/{courseId}/analytics`` answers. An admin sees the platform's charts, equal to
``GET /admin/analytics``. A student is refused, and so is an instructor on another's course.
Screenshots are kept under ``test-artifacts/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lms.analytics import results
from tests.conftest import ApiClient, Demo

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
TODAY = datetime.now(UTC).date()
COURSE = "Python for Beginners"


def day(offset: int) -> str:
    return (TODAY - timedelta(days=offset)).isoformat()


@pytest.fixture(scope="module")
def figures(demo: Demo, api_url: str) -> dict[str, Any]:
    """Known figures for the demo instructor's course and the platform, stored as the reports store them."""
    course = demo.data.courses[COURSE]
    student = demo.data.users["student"]
    as_of = datetime.now(UTC).replace(microsecond=0)
    results.store(
        results.course_scope(course.course_id),
        {
            "enrollments_per_day": [{"day": day(n), "enrollments": (n * 7) % 5 + 1} for n in range(0, 20, 2)],
            "revenue_per_day": [
                {"day": day(n), "currency": "usd", "amount_cents": 1999 * ((n * 3) % 4 + 1)}
                for n in range(0, 20, 3)
            ],
            "funnel": [
                {
                    "position": 1,
                    "lesson_id": "l1",
                    "title": "Welcome to Python",
                    "reached": 40,
                    "completed": 36,
                },
                {
                    "position": 2,
                    "lesson_id": "l2",
                    "title": "Variables and types",
                    "reached": 31,
                    "completed": 25,
                },
                {"position": 3, "lesson_id": "l3", "title": "Control flow", "reached": 22, "completed": 12},
                {"position": 4, "lesson_id": "l4", "title": "Final quiz", "reached": 10, "completed": 7},
            ],
            "completion": [
                {"enrolled": 40, "completed": 7, "completion_rate": 0.175, "median_days_to_complete": 9.5}
            ],
            "at_risk": [
                {
                    "user_id": student.user_id,
                    "last_activity_at": f"{day(21)}T09:30:00Z",
                    "progress_percentage": 20,
                }
            ],
            "questions": [
                {
                    "question_id": "q-loops",
                    "attempts": 18,
                    "facility_index": 0.61,
                    "discrimination_index": 0.48,
                },
                {
                    "question_id": "q-types",
                    "attempts": 18,
                    "facility_index": 0.89,
                    "discrimination_index": 0.12,
                },
            ],
            "forum": [{"threads": 6, "replies": 21, "posters": 9}],
        },
        as_of,
    )
    results.store(
        results.PLATFORM,
        {
            "revenue_per_day": [
                {"day": day(n), "currency": "usd", "amount_cents": 4999 + 1000 * (n % 3)}
                for n in range(0, 25, 2)
            ],
            "revenue_per_course": [
                {"course_id": course.course_id, "currency": "usd", "amount_cents": 51_948},
                {
                    "course_id": demo.data.courses["Django Deep Dive (draft)"].course_id,
                    "currency": "usd",
                    "amount_cents": 9_998,
                },
            ],
            "registrations_per_day": [{"day": day(n), "registrations": n % 4 + 1} for n in range(10)],
            "active_learners": [{"day": day(n), "daily": n % 5 + 2, "weekly": n % 5 + 8} for n in range(10)],
            "enrollments_per_day": [{"day": day(n), "enrollments": n % 3 + 1} for n in range(0, 10, 2)],
            "completion": [
                {"enrolled": 55, "completed": 11, "completion_rate": 0.2, "median_days_to_complete": 8.0}
            ],
            "workflows": [
                {
                    "day": day(1),
                    "workflow": "purchase",
                    "succeeded": 9,
                    "outcomes": {"PaymentDeclined": 2},
                    "failed": 1,
                },
                {
                    "day": day(1),
                    "workflow": "publish",
                    "succeeded": 3,
                    "outcomes": {"ChecklistFailed": 1},
                    "failed": 0,
                },
            ],
        },
        as_of,
    )
    return {"course": course, "student": student, "as_of": as_of}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("Chromium and chromedriver are needed (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1800"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    ARTIFACTS.mkdir(exist_ok=True)
    yield driver
    driver.quit()


def navigate(browser: Any, control: Any) -> None:
    """Click a link or submit button and wait for the page it loads (a click returns before that)."""
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    page = browser.find_element("tag name", "html")
    control.click()
    WebDriverWait(browser, 30).until(expected_conditions.staleness_of(page))
    WebDriverWait(browser, 30).until(lambda b: b.execute_script("return document.readyState") == "complete")


def log_in(browser: Any, api: str, email: str, password: str) -> None:
    from selenium.webdriver.common.by import By

    browser.delete_all_cookies()
    browser.get(f"{api}/dashboard")
    assert browser.current_url.endswith("/dashboard/login"), browser.current_url
    browser.find_element(By.NAME, "email").send_keys(email)
    browser.find_element(By.NAME, "password").send_keys(password)
    navigate(browser, browser.find_element(By.CSS_SELECTOR, "#login button"))


def marks(browser: Any, figure: str) -> list[tuple[str, float]]:
    """What a chart draws: each mark's label and value, in order."""
    from selenium.webdriver.common.by import By

    return [
        (mark.get_attribute("data-label"), float(mark.get_attribute("data-value")))
        for mark in browser.find_elements(By.CSS_SELECTOR, f"svg[data-figure='{figure}'] .mark")
    ]


def every_day(api: dict[str, Any], rows: list[dict[str, Any]], value: str) -> list[tuple[str, float]]:
    """What a per-day chart of the API's ``rows`` draws: every day of the answer's range, 0 where the
    reports stored no row."""
    start, end = date.fromisoformat(api["from"]), date.fromisoformat(api["to"])
    by_day = {row["day"]: row[value] for row in rows}
    days = [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]
    return [(day, float(by_day.get(day, 0))) for day in days]


def fits_the_window(browser: Any) -> bool:
    return bool(browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth"))


def test_an_instructor_sees_their_course_charted_as_the_api_answers(
    api_url, demo, figures, browser, instructor: ApiClient
) -> None:
    from selenium.webdriver.common.by import By

    log_in(browser, api_url, "instructor@example.com", demo.password)
    assert browser.current_url.rstrip("/").endswith("/dashboard"), browser.current_url
    session = browser.get_cookie("lms_dashboard")
    assert session and session["httpOnly"] and session["sameSite"] == "Strict"
    listed = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#courses a")]
    assert COURSE in listed
    browser.save_screenshot(str(ARTIFACTS / "dashboard-instructor-courses.png"))

    navigate(browser, browser.find_element(By.LINK_TEXT, COURSE))
    api = instructor.get(f"/courses/{figures['course'].course_id}/analytics").json()
    assert browser.find_element(By.ID, "course-title").text == COURSE
    shown_as_of = browser.find_element(By.CSS_SELECTOR, "#as-of time").get_attribute("datetime")
    assert shown_as_of == api["asOf"] and datetime.fromisoformat(shown_as_of) == figures["as_of"]

    # The funnel: every lesson in order, reached and completed as the API says.
    steps = [
        (
            g.get_attribute("data-label"),
            int(g.get_attribute("data-reached")),
            int(g.get_attribute("data-completed")),
        )
        for g in browser.find_elements(By.CSS_SELECTOR, "svg[data-figure='funnel'] g.step")
    ]
    assert steps == [(s["title"], s["reached"], s["completed"]) for s in api["funnel"]]
    assert len(steps) == 4
    # The completed bar is drawn shorter than the reached one, in proportion.
    widths = browser.execute_script(
        "return [...document.querySelectorAll(\"svg[data-figure='funnel'] g.step\")].map(g =>"
        " [g.querySelector('.reached').getBBox().width, g.querySelector('.completed').getBBox().width]);"
    )
    for (reached_w, completed_w), (_, reached, completed) in zip(widths, steps, strict=True):
        assert completed_w == pytest.approx(reached_w * completed / reached, rel=0.01)

    assert marks(browser, "enrollments") == every_day(api, api["enrollments"], "count")
    assert marks(browser, "revenue") == every_day(api, api["revenue"]["days"], "amount")
    assert len(marks(browser, "enrollments")) == 30  # the default range: the last 30 days
    assert len(api["enrollments"]) == 10  # the chart is not trivially empty

    stat = browser.find_element(By.ID, "stat-completion-rate").text
    assert f"{api['completionRate'] * 100:.0f} %" in stat
    questions = {
        row.get_attribute("data-question"): (
            int(row.find_element(By.CSS_SELECTOR, ".attempts").text),
            float(row.find_element(By.CSS_SELECTOR, ".facility").text),
            float(row.find_element(By.CSS_SELECTOR, ".discrimination").text),
        )
        for row in browser.find_elements(By.CSS_SELECTOR, "#questions tr[data-question]")
    }
    assert questions == {
        q["questionId"]: (q["attempts"], q["facilityIndex"], q["discriminationIndex"])
        for q in api["questions"]
    }
    at_risk = [
        (row.get_attribute("data-user"), row.find_element(By.TAG_NAME, "td").text)
        for row in browser.find_elements(By.CSS_SELECTOR, "#at-risk tr[data-user]")
    ]
    assert (
        at_risk
        == [(a["userId"], a["name"]) for a in api["atRisk"]]
        == [(figures["student"].user_id, "Sam Student")]
    )
    assert fits_the_window(browser)
    browser.save_screenshot(str(ARTIFACTS / "dashboard-course.png"))

    # A shorter range: the page and the API cut the same days.
    browser.get(f"{api_url}/dashboard/courses/{figures['course'].course_id}?from={day(6)}&to={day(0)}")
    ranged = instructor.get(
        f"/courses/{figures['course'].course_id}/analytics?from={day(6)}&to={day(0)}"
    ).json()
    assert marks(browser, "enrollments") == every_day(ranged, ranged["enrollments"], "count")
    assert len(marks(browser, "enrollments")) == 7
    assert 0 < len(ranged["enrollments"]) < len(api["enrollments"])
    browser.get(f"{api_url}/dashboard/courses/{figures['course'].course_id}?from=2020-01-01&to=2026-13-01")
    assert "ISO date" in browser.find_element(By.ID, "error").text

    # Another instructor's course is refused.
    other = demo.data.courses["Django Deep Dive (draft)"]
    assert other.instructor_id == figures["course"].instructor_id  # the demo has one instructor
    browser.get(f"{api_url}/dashboard/courses/no-such-course")
    assert "No course" in browser.find_element(By.ID, "error").text
    browser.get(f"{api_url}/dashboard/courses/{'x' * 3000}")
    assert "No course" in browser.find_element(By.ID, "error").text


def test_another_instructor_is_refused_a_course_that_is_not_theirs(
    api_url, figures, browser, new_user
) -> None:
    from selenium.webdriver.common.by import By

    someone = new_user("instructor")
    log_in(browser, api_url, someone.email, someone.password)
    assert browser.find_element(By.CSS_SELECTOR, ".notice").text == "You have no courses yet."
    browser.get(f"{api_url}/dashboard/courses/{figures['course'].course_id}")
    assert "Only the course's instructor" in browser.find_element(By.ID, "error").text
    assert not browser.find_elements(By.CSS_SELECTOR, "svg.chart")


def test_an_admin_sees_the_platform_charted_as_the_api_answers(
    api_url, demo, figures, browser, admin
) -> None:
    from selenium.webdriver.common.by import By

    log_in(browser, api_url, "admin@example.com", demo.password)
    api = admin.get("/admin/analytics").json()
    assert browser.find_element(By.CSS_SELECTOR, "#as-of time").get_attribute("datetime") == api["asOf"]
    assert marks(browser, "revenue") == every_day(api, api["revenue"]["days"], "amount")
    assert marks(browser, "registrations") == every_day(api, api["registrations"], "count")
    assert marks(browser, "enrollments") == every_day(api, api["enrollments"], "count")
    assert marks(browser, "active_learners") == every_day(api, api["activeLearners"], "daily")
    assert marks(browser, "weekly_learners") == every_day(api, api["activeLearners"], "weekly")
    assert (
        sum(v for _, v in marks(browser, "registrations"))
        == sum(d["count"] for d in api["registrations"])
        > 0
    )
    assert [v for _, v in marks(browser, "revenue_per_course")] == [
        c["amount"] for c in api["revenue"]["perCourse"]
    ]
    assert marks(browser, "revenue_per_course")[0][0] == COURSE  # named, not an id
    rows = {
        row.get_attribute("data-workflow"): (
            int(row.find_element(By.CSS_SELECTOR, ".succeeded").text),
            {
                cell.get_attribute("data-outcome"): int(cell.text)
                for cell in row.find_elements(By.CSS_SELECTOR, ".outcome")
                if cell.text != "0"
            },
            int(row.find_element(By.CSS_SELECTOR, ".failed").text),
        )
        for row in browser.find_elements(By.CSS_SELECTOR, "#workflows tr[data-workflow]")
    }
    assert rows == {w["workflow"]: (w["succeeded"], w["outcomes"], w["failed"]) for w in api["workflows"]}
    assert fits_the_window(browser)
    browser.save_screenshot(str(ARTIFACTS / "dashboard-platform.png"))

    # From the platform to a course, which an admin may read too.
    navigate(
        browser,
        browser.find_element(By.CSS_SELECTOR, f"#courses tr[data-course='{figures['course'].course_id}'] a"),
    )
    assert browser.find_element(By.ID, "course-title").text == COURSE
    assert browser.find_elements(By.CSS_SELECTOR, "svg[data-figure='funnel'] g.step")


def test_a_student_is_refused_and_cross_site_posts_are_too(api_url, demo, figures, browser) -> None:
    import requests
    from selenium.webdriver.common.by import By

    log_in(browser, api_url, "student@example.com", demo.password)
    assert "for instructors and administrators" in browser.find_element(By.ID, "error").text
    assert browser.get_cookie("lms_dashboard") is None
    browser.save_screenshot(str(ARTIFACTS / "dashboard-student-refused.png"))

    # A login form posted from another site is refused before the password is checked.
    refused = requests.post(
        f"{api_url}/dashboard/login",
        data={"email": "admin@example.com", "password": demo.password, "nonce": "x"},
        headers={"Origin": "https://evil.example"},
        timeout=30,
    )
    assert refused.status_code == 403 and "lms_dashboard" not in refused.headers.get("Set-Cookie", "")
    page = requests.get(f"{api_url}/dashboard/login", timeout=30)
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "<script" not in page.text
