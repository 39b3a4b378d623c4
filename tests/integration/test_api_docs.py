"""The API describes itself: OpenAPI, Swagger UI, health, CORS."""

from __future__ import annotations

import json

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
    assert set(body["workflows"]) == {"purchase", "video"}
    assert all(len(version) == 12 for version in body["workflows"].values())


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


def test_the_document_speaks_the_seeds_names(anonymous: ApiClient) -> None:
    from api.app import openapi_json

    document = anonymous.get("/openapi.json").json()
    assert document == json.loads(openapi_json()), "the fuzz suite reads the same document"
    schemas = document["components"]["schemas"]
    assert {"difficulty", "duration"} <= set(schemas["CourseView"]["properties"])
    assert {"difficulty", "duration"} <= set(schemas["CourseCreate"]["properties"])
    assert {"duration", "videoUrl"} <= set(schemas["LessonView"]["properties"])
    assert "level" not in json.dumps(schemas) and "durationSeconds" not in json.dumps(schemas)
    update = schemas["CourseUpdate"]["properties"]
    assert "null" in json.dumps(update["duration"]), "an optional field can be cleared with null"
    assert "null" not in json.dumps(update["title"]), "a required one cannot"


def test_every_list_documents_limit_and_cursor(anonymous: ApiClient) -> None:
    paths = anonymous.get("/openapi.json").json()["paths"]
    for path in ("/categories", "/courses", "/admin/users", "/transactions", "/transactions/{userId}"):
        names = {parameter["name"] for parameter in paths[path]["get"].get("parameters", [])}
        assert {"limit", "cursor"} <= names, path
        answer = json.dumps(paths[path]["get"]["responses"]["200"])
        assert "Page" in answer, path


def test_each_operation_documents_who_may_call_it(anonymous: ApiClient) -> None:
    paths = anonymous.get("/openapi.json").json()["paths"]
    register = paths["/auth/register"]["post"]
    assert "security" not in register and "x-roles" not in register
    assert paths["/auth/profile"]["get"]["security"] == [{"bearerAuth": []}]
    assert paths["/courses"]["post"]["x-roles"] == ["instructor", "admin"]
    assert paths["/transactions"]["post"]["x-roles"] == ["student"]
