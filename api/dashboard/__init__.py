"""The analytics dashboard at ``/dashboard``, served by the API function itself, like the ops console.

* ``/dashboard``: an admin sees the platform (revenue per day and per course, registrations, active
  learners, enrollments, completion, workflow outcomes) and every course with revenue; an instructor
  sees the list of their own courses;
* ``/dashboard/courses/<courseId>``: a course's enrollments and revenue, the lesson funnel, completion,
  question statistics and the at-risk learners, for its owner and admins.

Every page shows the figures' ``asOf`` and takes ``?from=&to=`` like the API. The figures are the
analytics API's own views (:mod:`api.routes.analytics`), drawn as server-rendered SVG
(:mod:`api.dashboard.charts`). The console's machinery serves the pages (:mod:`api.console.routes`:
Host/Origin checks, the cookie session, CSRF, the strict CSP, no CDN and no script); the session has
its own cookie, scoped to ``/dashboard``, for instructors and admins. Students are refused (403).
"""

from __future__ import annotations

from typing import Any

PREFIX = "/dashboard"


def serves(event: dict[str, Any]) -> bool:
    """Whether an API Gateway proxy event is a dashboard request (``/dashboard`` or below it)."""
    path = str(event.get("path") or "")
    return path == PREFIX or path.startswith(PREFIX + "/")


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from api.dashboard.routes import get_dashboard

    return get_dashboard().resolve(event, context)
