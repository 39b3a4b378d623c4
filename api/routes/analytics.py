"""Analytics (docs/api.md, "Analytics"): a course's figures for its owner and admins, the platform's for
admins; ``?from=&to=`` (ISO dates, default the last 30 days) and ``?format=csv``.

Each request reads the stored results once (:mod:`lms.analytics.serving`): the figures come from the
event lake through the reports workflow, never from the table. The dashboard (:mod:`api.dashboard`)
renders these same views.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from api import security
from api.models import View
from api.params import PathId
from lms.analytics import results, serving
from lms.analytics.period import Period, parse_period
from lms.courses import courses
from lms.entities import Course, Role
from lms.identity import Principal
from lms.table import Table

router = APIGatewayRouter()

IsoDate = Annotated[
    str | None,
    Query(max_length=10, description="YYYY-MM-DD (UTC), inclusive; default: the last 30 days"),
]
Format = Annotated[Literal["json", "csv"], Query(description="csv: the same figures, one section each")]
CSV = "text/csv; charset=utf-8"


class Money(View):
    amount: int = Field(description="integer minor units (cents)")
    currency: str


class DayCount(View):
    day: date
    count: int


class DayRevenue(View):
    day: date
    amount: int = Field(description="integer minor units (cents)")
    currency: str


class CourseRevenue(View):
    course_id: str
    amount: int = Field(description="integer minor units (cents)")
    currency: str


class Revenue(View):
    days: list[DayRevenue] = Field(description="per day in the range, days without revenue left out")
    totals: list[Money] = Field(description="the range's total, per currency")


class PlatformRevenue(Revenue):
    per_course: list[CourseRevenue] = Field(description="since the lake began, highest first")


class FunnelStep(View):
    position: int = Field(description="the lesson's place in the course, from 1")
    lesson_id: str
    title: str | None = None
    reached: int = Field(description="enrolled students with any progress on the lesson")
    completed: int


class AtRiskLearner(View):
    user_id: str
    name: str = Field(description="resolved at read time; the lake holds ids only")
    last_activity_at: str
    progress_percentage: int


class QuestionStatistics(View):
    question_id: str
    attempts: int = Field(description="first attempts only")
    facility_index: float | None = Field(description="mean score / maximum, 0..1 (Moodle)")
    discrimination_index: float | None = Field(description="correlation with the rest of the test (Moodle)")


class Forum(View):
    threads: int
    replies: int
    distinct_posters: int


class ActiveLearners(View):
    day: date
    daily: int
    weekly: int = Field(description="distinct learners in the 7 days ending on the day")


class WorkflowDay(View):
    day: date
    workflow: str
    succeeded: int
    outcomes: dict[str, int] = Field(description="business outcome name -> executions that ended with it")
    failed: int


class Completion(View):
    enrolled: int
    completed: int
    completion_rate: float = Field(description="completed / enrolled, 0..1")
    median_days_to_complete: float | None


class AnalyticsView(View):
    as_of: str | None = Field(
        description="when the figures were computed (UTC); null before the first refresh"
    )
    from_: date = Field(alias="from")
    to: date


class CourseAnalytics(AnalyticsView):
    course_id: str
    title: str
    enrollments: list[DayCount]
    revenue: Revenue
    funnel: list[FunnelStep]
    completion_rate: float
    median_days_to_complete: float | None
    completion: Completion
    at_risk: list[AtRiskLearner]
    questions: list[QuestionStatistics]
    forum: Forum


class PlatformAnalytics(AnalyticsView):
    revenue: PlatformRevenue
    registrations: list[DayCount]
    active_learners: list[ActiveLearners]
    enrollments: list[DayCount]
    completion_rate: float
    median_days_to_complete: float | None
    completion: Completion
    workflows: list[WorkflowDay]


# --- building the views ---------------------------------------------------------------------------


def _counts(rows: list[dict[str, Any]], column: str) -> list[DayCount]:
    return [DayCount(day=row["day"], count=row[column]) for row in rows]


def _revenue_days(rows: list[dict[str, Any]]) -> tuple[list[DayRevenue], list[Money]]:
    days = [DayRevenue(day=r["day"], amount=r["amount_cents"], currency=r["currency"]) for r in rows]
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        totals[row["currency"]] += int(row["amount_cents"])
    return days, [Money(amount=amount, currency=currency) for currency, amount in sorted(totals.items())]


def _completion(figures: serving.Figures) -> Completion:
    row = figures.one("completion") or {}
    return Completion(
        enrolled=row.get("enrolled", 0),
        completed=row.get("completed", 0),
        completion_rate=row.get("completion_rate", 0.0),
        median_days_to_complete=row.get("median_days_to_complete"),
    )


def _span(period: Period, as_of: str | None) -> dict[str, Any]:
    return {"as_of": as_of, "from": period.start, "to": period.end}


def course_view(table: Table, course: Course, period: Period) -> CourseAnalytics:
    """The course's figures: one read of stored results, then the at-risk learners' names (the caller
    manages the course: checked before this is called)."""
    figures = serving.figures(results.course_scope(course.course_id), period)
    at_risk = figures.rows("at_risk")
    names = serving.learner_names(table, [row["user_id"] for row in at_risk]) if at_risk else {}
    days, totals = _revenue_days(figures.rows("revenue_per_day"))
    completion = _completion(figures)
    forum = figures.one("forum") or {}
    return CourseAnalytics(
        **_span(period, figures.as_of),
        course_id=course.course_id,
        title=course.title,
        enrollments=_counts(figures.rows("enrollments_per_day"), "enrollments"),
        revenue=Revenue(days=days, totals=totals),
        funnel=[
            FunnelStep.model_validate(row)
            for row in sorted(figures.rows("funnel"), key=lambda r: r["position"])
        ],
        completion_rate=completion.completion_rate,
        median_days_to_complete=completion.median_days_to_complete,
        completion=completion,
        # A learner whose account is gone has no name to resolve and leaves the list.
        at_risk=[
            AtRiskLearner(
                user_id=row["user_id"],
                name=names[row["user_id"]],
                last_activity_at=row["last_activity_at"],
                progress_percentage=row["progress_percentage"],
            )
            for row in at_risk
            if row["user_id"] in names
        ],
        questions=[QuestionStatistics.model_validate(row) for row in figures.rows("questions")],
        forum=Forum(
            threads=forum.get("threads", 0),
            replies=forum.get("replies", 0),
            distinct_posters=forum.get("posters", 0),
        ),
    )


def platform_view(period: Period) -> PlatformAnalytics:
    figures = serving.figures(results.PLATFORM, period)
    days, totals = _revenue_days(figures.rows("revenue_per_day"))
    per_course = sorted(
        (
            CourseRevenue(course_id=r["course_id"], amount=r["amount_cents"], currency=r["currency"])
            for r in figures.rows("revenue_per_course")
        ),
        key=lambda r: (-r.amount, r.course_id),
    )
    completion = _completion(figures)
    return PlatformAnalytics(
        **_span(period, figures.as_of),
        revenue=PlatformRevenue(days=days, totals=totals, per_course=per_course),
        registrations=_counts(figures.rows("registrations_per_day"), "registrations"),
        active_learners=[ActiveLearners.model_validate(row) for row in figures.rows("active_learners")],
        enrollments=_counts(figures.rows("enrollments_per_day"), "enrollments"),
        completion_rate=completion.completion_rate,
        median_days_to_complete=completion.median_days_to_complete,
        completion=completion,
        workflows=[WorkflowDay.model_validate(row) for row in figures.rows("workflows")],
    )


def managed_course(table: Table, principal: Principal, course_id: str) -> Course:
    """404 for an unknown course, 403 for a caller who does not manage it (one BatchGet)."""
    return serving.managed_course(principal, table.batch_get(courses.course_keys(course_id)), course_id)


# --- CSV ------------------------------------------------------------------------------------------


def _summary(view: AnalyticsView, completion: Completion) -> tuple[str, list[str], list[list[Any]]]:
    return (
        "summary",
        ["as_of", "from", "to", "enrolled", "completed", "completion_rate", "median_days_to_complete"],
        [
            [
                view.as_of,
                view.from_.isoformat(),
                view.to.isoformat(),
                completion.enrolled,
                completion.completed,
                completion.completion_rate,
                completion.median_days_to_complete,
            ]
        ],
    )


def _revenue_section(revenue: Revenue) -> tuple[str, list[str], list[list[Any]]]:
    return (
        "revenue",
        ["day", "currency", "amount_cents"],
        [[d.day, d.currency, d.amount] for d in revenue.days],
    )


def course_csv(view: CourseAnalytics) -> str:
    return serving.csv_sections(
        [
            _summary(view, view.completion),
            ("enrollments", ["day", "enrollments"], [[d.day, d.count] for d in view.enrollments]),
            _revenue_section(view.revenue),
            (
                "funnel",
                ["position", "lesson_id", "title", "reached", "completed"],
                [[s.position, s.lesson_id, s.title, s.reached, s.completed] for s in view.funnel],
            ),
            (
                "at_risk",
                ["user_id", "name", "last_activity_at", "progress_percentage"],
                [[a.user_id, a.name, a.last_activity_at, a.progress_percentage] for a in view.at_risk],
            ),
            (
                "questions",
                ["question_id", "attempts", "facility_index", "discrimination_index"],
                [
                    [q.question_id, q.attempts, q.facility_index, q.discrimination_index]
                    for q in view.questions
                ],
            ),
            (
                "forum",
                ["threads", "replies", "distinct_posters"],
                [[view.forum.threads, view.forum.replies, view.forum.distinct_posters]],
            ),
        ]
    )


def platform_csv(view: PlatformAnalytics) -> str:
    return serving.csv_sections(
        [
            _summary(view, view.completion),
            _revenue_section(view.revenue),
            (
                "revenue_per_course",
                ["course_id", "currency", "amount_cents"],
                [[c.course_id, c.currency, c.amount] for c in view.revenue.per_course],
            ),
            ("registrations", ["day", "registrations"], [[d.day, d.count] for d in view.registrations]),
            (
                "active_learners",
                ["day", "daily", "weekly"],
                [[a.day, a.daily, a.weekly] for a in view.active_learners],
            ),
            ("enrollments", ["day", "enrollments"], [[d.day, d.count] for d in view.enrollments]),
            (
                "workflows",
                ["day", "workflow", "succeeded", "failed"],
                [[w.day, w.workflow, w.succeeded, w.failed] for w in view.workflows],
            ),
            (
                "workflow_outcomes",
                ["day", "workflow", "outcome", "executions"],
                [
                    [w.day, w.workflow, name, count]
                    for w in view.workflows
                    for name, count in sorted(w.outcomes.items())
                ],
            ),
        ]
    )


def _answer(view: AnalyticsView, csv_text: str | None, filename: str) -> Response[Any]:
    if csv_text is None:
        return Response(status_code=200, content_type="application/json", body=view)
    return Response(
        status_code=200,
        content_type=CSV,
        body=csv_text,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- routes ---------------------------------------------------------------------------------------


def _documented(model: type[AnalyticsView]) -> dict[int, Any]:
    """The 200 answer: the model as JSON, or (``?format=csv``) text/csv."""
    return {
        200: {
            "description": "the figures; with ?format=csv, the same as text/csv, one section per figure",
            "content": {"application/json": {"model": model}, "text/csv": {"schema": {"type": "string"}}},
        }
    }


@router.get(
    "/courses/<courseId>/analytics",
    responses=_documented(CourseAnalytics),
    tags=["analytics"],
    summary="A course's figures (owner instructor, admin): enrollments, revenue, funnel, completion, "
    "at-risk learners, question statistics, forum",
)
@security.allow(Role.INSTRUCTOR, Role.ADMIN)
def course_analytics(
    courseId: PathId,  # noqa: N803
    start: Annotated[
        str | None, Query(alias="from", max_length=10, description="YYYY-MM-DD (UTC), inclusive")
    ] = None,
    to: IsoDate = None,
    format: Format = "json",  # noqa: A002 - the query parameter's name
) -> Response[CourseAnalytics | str]:
    table = Table()
    principal = security.authenticated(router, table).principal
    course = managed_course(table, principal, courseId)
    view = course_view(table, course, parse_period(start, to))
    return _answer(view, course_csv(view) if format == "csv" else None, f"course-{courseId}-analytics.csv")


@router.get(
    "/admin/analytics",
    responses=_documented(PlatformAnalytics),
    tags=["analytics"],
    summary="The platform's figures (admin): revenue, registrations, active learners, enrollments, "
    "completion, workflow outcomes",
)
@security.allow(Role.ADMIN)
def platform_analytics(
    start: Annotated[
        str | None, Query(alias="from", max_length=10, description="YYYY-MM-DD (UTC), inclusive")
    ] = None,
    to: IsoDate = None,
    format: Format = "json",  # noqa: A002 - the query parameter's name
) -> Response[PlatformAnalytics | str]:
    view = platform_view(parse_period(start, to))
    return _answer(view, platform_csv(view) if format == "csv" else None, "platform-analytics.csv")
