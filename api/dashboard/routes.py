"""The dashboard's pages: each reads what an analytics route reads, and draws it with a template."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from api.console import routes as console
from api.console import session
from api.dashboard import PREFIX, charts
from api.routes import analytics
from lms.analytics import serving
from lms.analytics.period import Period, parse_period
from lms.entities import Role
from lms.errors import NotFoundError
from lms.identity import Principal
from lms.table import Table

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "lms_dashboard"
ROLES = (Role.INSTRUCTOR, Role.ADMIN)
REFUSAL = "The dashboard is for instructors and administrators."
COURSE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # ids are short and URL-safe: anything else names no course


@functools.cache
def templates() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["money"] = lambda amount, currency: charts.cents(currency)(amount)
    environment.filters["percent"] = charts.percent
    environment.filters["ratio"] = lambda value: "-" if value is None else f"{value:.2f}"
    return environment


class DashboardPage(console.Page):
    """A dashboard request: the console's page under ``/dashboard``, for instructors and admins."""

    prefix = PREFIX
    session_cookie = SESSION_COOKIE
    roles = ROLES
    refusal = REFUSAL
    assets = HERE / "static"
    asset_types = {"dashboard.css": "text/css; charset=utf-8"}

    @staticmethod
    def environment() -> Environment:
        return templates()

    def period(self) -> Period:
        return parse_period(self.arg("from") or None, self.arg("to") or None)

    def signed_in_user(self) -> Principal:
        assert self.user is not None, "pages behind the session"
        return self.user


def signed_in(request: session.Request) -> Principal | None:
    return session.member(request, SESSION_COOKIE, ROLES, REFUSAL)


def build() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver()
    site = console.Site(app, DashboardPage, signed_in, "dashboard")
    site.get("", home_page)
    site.get("/courses/<courseId>", course_page)
    site.get("/login", console.login_form, signed_in=False)
    site.post("/login", console.log_in, signed_in=False)
    site.post("/logout", console.log_out)
    site.get("/static/<asset>", console.static_asset, signed_in=False)
    return app


@functools.cache
def get_dashboard() -> APIGatewayRestResolver:
    return build()


# --- pages ----------------------------------------------------------------------------------------


def home_page(page: console.Page) -> Response[str]:
    """Admins: the platform. Instructors: their courses."""
    assert isinstance(page, DashboardPage)
    user = page.signed_in_user()
    period = page.period()
    if not user.has_role(Role.ADMIN):
        mine = serving.courses_of(Table(), user.user_id)
        return page.render("courses.html", title="Your courses", courses=mine, period=period)
    view = analytics.platform_view(period)
    titles = serving.course_titles(Table(), [c.course_id for c in view.revenue.per_course])
    return page.render(
        "platform.html",
        title="Platform",
        view=view,
        period=period,
        titles=titles,
        charts=platform_charts(view, period, titles),
        outcome_names=sorted({name for day in view.workflows for name in day.outcomes}),
    )


def course_page(page: console.Page) -> Response[str]:
    assert isinstance(page, DashboardPage)
    course_id = page.request.path.removeprefix(PREFIX + "/courses/").split("/")[0]
    if not COURSE_ID.match(course_id):
        raise NotFoundError(f"No course with id {course_id[:64]}.")
    period = page.period()
    table = Table()
    course = analytics.managed_course(table, page.signed_in_user(), course_id)
    view = analytics.course_view(table, course, period)
    return page.render(
        "course.html", title=course.title, view=view, period=period, charts=course_charts(view, period)
    )


# --- charts ---------------------------------------------------------------------------------------


def per_day(period: Period, values: dict[str, float]) -> list[charts.Point]:
    """One point per day of the range: a day the reports have no row for counted nothing (0)."""
    return [charts.Point(day.isoformat(), values.get(day.isoformat(), 0)) for day in period.each_day()]


def _counts(period: Period, days: list[analytics.DayCount]) -> list[charts.Point]:
    return per_day(period, {d.day.isoformat(): d.count for d in days})


def _currency(revenue: analytics.Revenue) -> str:
    return revenue.totals[0].currency if revenue.totals else "usd"


def _revenue_points(period: Period, revenue: analytics.Revenue) -> list[charts.Point]:
    currency = _currency(revenue)  # one currency per chart: the first one of the range
    return per_day(period, {d.day.isoformat(): d.amount for d in revenue.days if d.currency == currency})


def course_charts(view: analytics.CourseAnalytics, period: Period) -> dict[str, Any]:
    currency = _currency(view.revenue)
    return {
        "enrollments": charts.bar_chart("enrollments", _counts(period, view.enrollments)),
        "revenue": charts.line_chart(
            "revenue", _revenue_points(period, view.revenue), charts.cents(currency)
        ),
        "funnel": charts.funnel(
            "funnel",
            [charts.Step(s.title or f"Lesson {s.position}", s.reached, s.completed) for s in view.funnel],
        ),
    }


def platform_charts(
    view: analytics.PlatformAnalytics, period: Period, titles: dict[str, str]
) -> dict[str, Any]:
    currency = _currency(view.revenue)
    active = {a.day.isoformat(): a for a in view.active_learners}
    return {
        "revenue": charts.line_chart(
            "revenue", _revenue_points(period, view.revenue), charts.cents(currency)
        ),
        "revenue_per_course": charts.bar_chart(
            "revenue_per_course",
            [
                charts.Point(titles.get(c.course_id, c.course_id), c.amount)
                for c in view.revenue.per_course
                if c.currency == currency
            ][:12],
            charts.cents(currency),
        ),
        "registrations": charts.bar_chart("registrations", _counts(period, view.registrations)),
        "active_learners": charts.line_chart(
            "active_learners", per_day(period, {day: a.daily for day, a in active.items()})
        ),
        "weekly_learners": charts.line_chart(
            "weekly_learners", per_day(period, {day: a.weekly for day, a in active.items()})
        ),
        "enrollments": charts.bar_chart("enrollments", _counts(period, view.enrollments)),
    }
