"""Every route of the OpenAPI document has an authorisation rule, and the rule holds (API1/API5).

Routes are read from /openapi.json, so a new route without a rule here fails this suite.
"""

from __future__ import annotations

import pytest

from lms.entities import Role
from tests.conftest import ApiClient

PUBLIC = {
    ("GET", "/health"),
    ("GET", "/categories"),
    ("GET", "/courses"),
    ("GET", "/courses/{courseId}"),
    ("GET", "/lessons/{courseId}"),
    ("POST", "/auth/register"),
    ("POST", "/auth/login"),
    ("POST", "/webhooks/stripe"),  # authenticated by Stripe's signature instead
    ("GET", "/certificates/verify/{code}"),  # throttled per source address instead
    # Credentials: what any verifier reads (docs/credentials.md).
    ("GET", "/credentials/status/{listId}"),
    ("GET", "/.well-known/did.json"),
    ("GET", "/did.json"),
    ("GET", "/videos/{lessonId}/{uploadId}/{playlist}"),  # authenticated by its expiring signature instead
    ("GET", "/mail/unsubscribe"),  # authenticated by the link's signed token instead
    ("POST", "/mail/unsubscribe"),  # authenticated by the link's signed token instead
}
ADMIN_ONLY = {
    ("GET", "/admin/users"),
    ("PATCH", "/admin/users/{userId}"),
    ("POST", "/categories"),
    ("GET", "/transactions"),
    ("POST", "/transactions/{transactionId}/refund"),
    ("GET", "/admin/approvals"),
    ("POST", "/admin/approvals/{approvalId}"),
    ("PUT", "/admin/instructors/{userId}/review"),
    ("GET", "/ops/executions"),
    ("GET", "/ops/executions/{executionName}"),
    ("POST", "/ops/executions/{executionName}/redrive"),
    ("GET", "/admin/analytics"),
}
STUDENT_ONLY = {("POST", "/transactions")}
# Participants who report (admins moderate instead); the course decides inside.
STUDENT_OR_INSTRUCTOR = {("POST", "/posts/{postId}/reports")}
INSTRUCTOR_OR_ADMIN = {
    ("POST", "/courses"),
    ("POST", "/lessons/{lessonId}/video"),
    # Ownership of the course is decided inside (another instructor gets 403 there).
    ("POST", "/courses/{courseId}/publish"),
    ("GET", "/courses/{courseId}/publication"),
    ("POST", "/courses/{courseId}/unpublish"),
    ("GET", "/courses/{courseId}/analytics"),  # owner or admin: tests/integration/test_analytics_api.py
    ("POST", "/courses/{courseId}/forums"),  # the course's owner or an admin (decided inside)
    ("PATCH", "/threads/{threadId}"),  # the course's owner or an admin (decided inside)
    ("GET", "/moderation/reports"),  # admins: all; an instructor: an own course's
    ("POST", "/moderation/reports/{reportId}"),  # the course's owner or an admin (decided inside)
}
# Any authenticated caller, then ownership decides (tested per route in the other suites).
AUTHENTICATED = {
    ("POST", "/auth/logout"),
    ("GET", "/auth/profile"),
    ("PATCH", "/auth/profile"),
    ("PUT", "/courses/{courseId}"),
    ("DELETE", "/courses/{courseId}"),
    ("POST", "/lessons"),
    ("PUT", "/lessons/{lessonId}"),
    ("DELETE", "/lessons/{lessonId}"),
    ("GET", "/transactions/{userId}"),
    ("GET", "/transactions/{userId}/{transactionId}"),
    ("GET", "/enrollments"),
    ("POST", "/lessons/{lessonId}/progress"),  # enrolled students: checked on the enrollment
    ("GET", "/courses/{courseId}/progress"),
    ("GET", "/certificates"),
    ("GET", "/certificates/{certificateId}"),  # owner or admin
    # Discussions: the course (enrollment, owner, admin) decides inside, per forum, thread or post.
    ("GET", "/courses/{courseId}/forums"),
    ("GET", "/forums/{forumId}/threads"),
    ("POST", "/forums/{forumId}/threads"),
    ("GET", "/threads/{threadId}"),
    ("POST", "/threads/{threadId}/replies"),
    ("PATCH", "/posts/{postId}"),
    ("DELETE", "/posts/{postId}"),
    ("PUT", "/forums/{forumId}/subscription"),
    ("GET", "/certificates/{certificateId}/credential"),  # owner or admin (others 404)
}
# Quizzes (docs/assessments.md): ownership of the course, enrollment or the attempt decided inside.
STUDENT_ONLY |= {
    ("POST", "/lessons/{lessonId}/attempts"),
    ("PUT", "/attempts/{attemptId}/answers"),
    ("POST", "/attempts/{attemptId}/submit"),
}
INSTRUCTOR_OR_ADMIN |= {
    ("GET", "/courses/{courseId}/questions"),
    ("POST", "/courses/{courseId}/questions"),
    ("PUT", "/questions/{questionId}"),
    ("DELETE", "/questions/{questionId}"),
    ("PUT", "/lessons/{lessonId}/quiz"),
    ("PUT", "/lessons/{lessonId}/overrides/{userId}"),
}
AUTHENTICATED |= {
    ("GET", "/lessons/{lessonId}/quiz"),
    ("GET", "/attempts/{attemptId}"),
    ("GET", "/lessons/{lessonId}/attempts"),
}
# Assessments, the grading half: course ownership is checked inside (another instructor gets 403).
INSTRUCTOR_OR_ADMIN |= {
    ("PUT", "/lessons/{lessonId}/assignment"),
    ("GET", "/courses/{courseId}/grading"),
    ("POST", "/grading/{gradingId}"),
    ("GET", "/courses/{courseId}/gradebook"),
}
AUTHENTICATED |= {
    ("POST", "/lessons/{lessonId}/submissions"),  # enrolled students: checked on the enrollment
    ("GET", "/submissions/{submissionId}"),  # the student, owner instructor, admin
}
RULES = PUBLIC | ADMIN_ONLY | STUDENT_ONLY | STUDENT_OR_INSTRUCTOR | INSTRUCTOR_OR_ADMIN | AUTHENTICATED

# Deliberately INVALID bodies (missing required fields, wrong types, unknown fields): access is decided
# before the body is validated, so a caller who may not use a route learns nothing about its schema.
INVALID_BODIES: list[object] = [None, {}, {"unknown": True, "title": 7}, ["not", "an", "object"]]


def concrete(path: str) -> str:
    return path.replace("{", "x-").replace("}", "")


def routes(anonymous: ApiClient) -> set[tuple[str, str]]:
    paths = anonymous.get("/openapi.json").json()["paths"]
    return {(method.upper(), path) for path, operations in paths.items() for method in operations}


def test_every_route_has_a_rule(anonymous: ApiClient) -> None:
    assert routes(anonymous) == RULES


def test_every_route_declares_its_access_rule() -> None:
    """The rule the front door enforces is declared on the route itself, and matches this matrix."""
    from api import security
    from api.app import get_app

    app = get_app()
    declared = {
        (route.method, route.openapi_path): security.rule_of(route.func)
        for route in app._static_routes + app._dynamic_routes
        if route.include_in_schema
    }
    assert None not in declared.values(), [r for r, rule in declared.items() if rule is None]
    for route, rule in declared.items():
        assert rule is not None
        expected_public = route in PUBLIC
        assert rule.authenticated != expected_public, route
        if route in ADMIN_ONLY:
            assert set(rule.roles) == {Role.ADMIN}, route
        if route in STUDENT_ONLY:
            assert set(rule.roles) == {Role.STUDENT}, route
        if route in INSTRUCTOR_OR_ADMIN:
            assert set(rule.roles) == {Role.INSTRUCTOR, Role.ADMIN}, route
        if route in STUDENT_OR_INSTRUCTOR:
            assert set(rule.roles) == {Role.STUDENT, Role.INSTRUCTOR}, route


@pytest.mark.parametrize("body", INVALID_BODIES, ids=["none", "empty", "wrong", "array"])
@pytest.mark.parametrize(("method", "path"), sorted(RULES - PUBLIC))
def test_protected_routes_refuse_anonymous_callers_whatever_the_body(
    anonymous: ApiClient, method: str, path: str, body: object
) -> None:
    response = anonymous.request(method, concrete(path), json=body)
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "UNAUTHORIZED"


@pytest.mark.parametrize(("method", "path"), sorted(RULES - PUBLIC))
def test_protected_routes_refuse_anonymous_callers_whatever_the_content_type(
    anonymous: ApiClient, method: str, path: str
) -> None:
    response = anonymous.request(
        method, concrete(path), data=b"<course/>", headers={"Content-Type": "application/xml"}
    )
    assert response.status_code == 401, response.text


# (who, method, path): a signed-in caller whose role the route's rule leaves out.
WRONG_ROLE = sorted(
    [("student", *route) for route in ADMIN_ONLY | INSTRUCTOR_OR_ADMIN]
    + [("instructor", *route) for route in ADMIN_ONLY | STUDENT_ONLY]
    + [("admin", *route) for route in STUDENT_ONLY | STUDENT_OR_INSTRUCTOR]
)


@pytest.mark.parametrize("body", INVALID_BODIES, ids=["none", "empty", "wrong", "array"])
@pytest.mark.parametrize(("role", "method", "path"), WRONG_ROLE)
def test_callers_outside_a_routes_roles_get_403_whatever_the_body(
    request, role: str, method: str, path: str, body: object
) -> None:
    client: ApiClient = request.getfixturevalue(role)
    response = client.request(method, concrete(path), json=body)
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("role", ["instructor", "admin"])
def test_only_students_buy_a_real_course(request, role: str, demo) -> None:
    client: ApiClient = request.getfixturevalue(role)
    course = demo.data.courses["Python for Beginners"].course_id
    assert client.post("/transactions", json={"courseId": course}).status_code == 403


def test_students_do_not_create_courses(student: ApiClient, demo) -> None:
    category = demo.data.categories["Python"].category_id
    response = student.post("/courses", json={"title": "Mine", "categoryId": category, "priceCents": 0})
    assert response.status_code == 403


def test_students_posting_an_incomplete_course_get_403_not_a_schema_lesson(student: ApiClient) -> None:
    response = student.post("/courses", json={"title": "x"})
    assert response.status_code == 403, response.text
    assert "details" not in response.json()["error"]
