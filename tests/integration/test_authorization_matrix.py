"""Every route of the OpenAPI document has an authorisation rule, and the rule holds (API1/API5).

Routes are read from /openapi.json, so a new route without a rule here fails this suite.
"""

from __future__ import annotations

import pytest

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
}
ADMIN_ONLY = {
    ("GET", "/admin/users"),
    ("PATCH", "/admin/users/{userId}"),
    ("POST", "/categories"),
    ("GET", "/transactions"),
    ("POST", "/transactions/{transactionId}/refund"),
}
STUDENT_ONLY = {("POST", "/transactions")}
INSTRUCTOR_OR_ADMIN = {("POST", "/courses")}
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
}
RULES = PUBLIC | ADMIN_ONLY | STUDENT_ONLY | INSTRUCTOR_OR_ADMIN | AUTHENTICATED

# Well-formed bodies, so the answer is about who calls, not about what was sent (the body is
# validated before the route runs; a malformed one is a 400 for anybody).
VALID_BODIES = {
    ("PATCH", "/admin/users/{userId}"): {"isActive": True},
    ("PATCH", "/auth/profile"): {"firstName": "Someone"},
    ("POST", "/categories"): {"name": "Matrix"},
    ("POST", "/courses"): {"title": "Matrix course", "categoryId": "x", "priceCents": 0},
    ("PUT", "/courses/{courseId}"): {"title": "Matrix course"},
    ("POST", "/lessons"): {"courseId": "x", "title": "Matrix lesson", "type": "text"},
    ("PUT", "/lessons/{lessonId}"): {"title": "Matrix lesson"},
    ("POST", "/transactions"): {"courseId": "x"},
    ("POST", "/transactions/{transactionId}/refund"): {},
}


def concrete(path: str) -> str:
    return path.replace("{", "x-").replace("}", "")


def routes(anonymous: ApiClient) -> set[tuple[str, str]]:
    paths = anonymous.get("/openapi.json").json()["paths"]
    return {(method.upper(), path) for path, operations in paths.items() for method in operations}


def test_every_route_has_a_rule(anonymous: ApiClient) -> None:
    assert routes(anonymous) == RULES


@pytest.mark.parametrize(("method", "path"), sorted(RULES - PUBLIC))
def test_protected_routes_refuse_anonymous_callers(anonymous: ApiClient, method: str, path: str) -> None:
    response = anonymous.request(method, concrete(path), json=VALID_BODIES.get((method, path)))
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "UNAUTHORIZED"


@pytest.mark.parametrize(("method", "path"), sorted(ADMIN_ONLY))
@pytest.mark.parametrize("role", ["student", "instructor"])
def test_admin_routes_refuse_other_roles(request, role: str, method: str, path: str) -> None:
    client: ApiClient = request.getfixturevalue(role)
    response = client.request(method, concrete(path), json=VALID_BODIES.get((method, path)))
    assert response.status_code == 403, response.text


@pytest.mark.parametrize("role", ["instructor", "admin"])
def test_only_students_buy(request, role: str, demo) -> None:
    client: ApiClient = request.getfixturevalue(role)
    course = demo.data.courses["Python for Beginners"].course_id
    assert client.post("/transactions", json={"courseId": course}).status_code == 403


def test_students_do_not_create_courses(student: ApiClient, demo) -> None:
    category = demo.data.categories["Python"].category_id
    response = student.post("/courses", json={"title": "Mine", "categoryId": category, "priceCents": 0})
    assert response.status_code == 403
