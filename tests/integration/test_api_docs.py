"""The API describes itself: OpenAPI, Swagger UI, health, CORS."""

from __future__ import annotations

from tests.conftest import ApiClient


def test_openapi_document_lists_every_route(anonymous: ApiClient) -> None:
    response = anonymous.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    expected = {
        "/auth/register": {"post"},
        "/auth/login": {"post"},
        "/auth/logout": {"post"},
        "/auth/profile": {"get", "patch"},
        "/admin/users": {"get"},
        "/admin/users/{userId}": {"patch"},
        "/categories": {"get", "post"},
        "/courses": {"get", "post"},
        "/courses/{courseId}": {"get", "put", "delete"},
        "/lessons/{courseId}": {"get"},
        "/lessons": {"post"},
        "/lessons/{lessonId}": {"put", "delete"},
        "/health": {"get"},
        "/transactions": {"get", "post"},
        "/transactions/{userId}": {"get"},
        "/transactions/{userId}/{transactionId}": {"get"},
        "/transactions/{transactionId}/refund": {"post"},
        "/webhooks/stripe": {"post"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths.get(path, {})), path
    register_body = paths["/auth/register"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert register_body


def test_swagger_ui_is_served_at_docs(anonymous: ApiClient) -> None:
    response = anonymous.get("/docs")
    assert response.status_code == 200 and "text/html" in response.headers["Content-Type"]
    assert "swagger" in response.text.lower()


def test_health_reports_workflow_versions(anonymous: ApiClient) -> None:
    body = anonymous.get("/health").json()
    assert body["status"] == "ok"
    assert set(body["workflows"]) == {"purchase"} and len(body["workflows"]["purchase"]) == 12


def test_cors_allows_the_configured_origin_only(anonymous: ApiClient) -> None:
    allowed = anonymous.request(
        "OPTIONS",
        "/courses",
        headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"},
    )
    assert allowed.headers.get("Access-Control-Allow-Origin") == "http://localhost:5173"
    assert "Authorization" in allowed.headers.get("Access-Control-Allow-Headers", "")
    other = anonymous.get("/courses", headers={"Origin": "https://evil.example"})
    assert other.headers.get("Access-Control-Allow-Origin") != "https://evil.example"
