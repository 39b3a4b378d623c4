"""The API describes itself: OpenAPI, Swagger UI, health, CORS, and docs/api.md in step with them."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import requests

from tests.conftest import ApiClient, Demo
from workflows.catalog import WORKFLOWS

CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "api.md"
_METHODS = ("get", "put", "post", "delete", "patch")
# A table row of docs/api.md: | METHOD | /path | who | status | notes |
_CONTRACT_ROW = re.compile(r"^\| (GET|POST|PUT|PATCH|DELETE) \| (/\S*) \| [^|]* \| (\d{3}) \|", re.MULTILINE)


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
    assert set(body["workflows"]) == {w.name for w in WORKFLOWS}
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


def _success_statuses(document: dict[str, Any]) -> dict[tuple[str, str], int]:
    """``(METHOD, /path/{param})`` -> the 2xx status the document gives the operation (exactly one)."""
    statuses = {}
    for path, item in document["paths"].items():
        for method in _METHODS:
            if method in item:
                (status,) = [code for code in item[method]["responses"] if code.startswith("2")]
                statuses[(method.upper(), path)] = int(status)
    return statuses


def _contract_routes() -> dict[tuple[str, str], int]:
    built = CONTRACT.read_text().split("## Planned")[0]  # the planned sections list no routes
    return {(m[1], m[2]): int(m[3]) for m in _CONTRACT_ROW.finditer(built)}


def test_the_contract_page_lists_exactly_the_routes_served_with_their_statuses(anonymous: ApiClient) -> None:
    """docs/api.md, the page the code's docstrings cite, is the API: no route missing from it, no
    route in it that is not served, and the same success status on both sides."""
    served = _success_statuses(anonymous.get("/openapi.json").json())
    documented = _contract_routes()
    assert sorted(set(served) - set(documented)) == [], "served but not in docs/api.md"
    assert sorted(set(documented) - set(served)) == [], "in docs/api.md but not served"
    assert {route: status for route, status in documented.items() if served[route] != status} == {}


def test_the_document_gives_real_statuses_and_the_error_envelope(anonymous: ApiClient) -> None:
    """No operation claims Powertools' 422 HTTPValidationError (the API never answers it); each names
    its errors with the one envelope, and 204s have no body."""
    document = anonymous.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    envelope = schemas["ErrorResponse"]
    assert envelope["required"] == ["error"]
    assert envelope["properties"]["error"]["required"] == ["code", "message"]
    statuses = _success_statuses(document)
    assert {201, 202, 204} <= set(statuses.values())
    reference = {"$ref": "#/components/schemas/ErrorResponse"}
    for path, item in document["paths"].items():
        for method in _METHODS:
            if method not in item:
                continue
            operation = item[method]
            responses = operation["responses"]
            errors = {code: r for code, r in responses.items() if not code.startswith("2")}
            assert {"4XX", "5XX"} <= set(errors), (method, path)
            assert all(r["content"]["application/json"]["schema"] == reference for r in errors.values())
            if "requestBody" in operation:
                assert {"400", "415"} <= set(errors), (method, path)
            if operation.get("security"):
                assert {"401", "403"} <= set(errors), (method, path)
            if statuses[(method.upper(), path)] == 204:
                assert "content" not in responses["204"], (method, path)
    assert "ErrorResponse" in anonymous.get("/docs").text, "Swagger UI shows the same document"


def _assert_envelope(response: requests.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and isinstance(error["message"], str)


def test_errors_answer_the_documented_envelope(anonymous: ApiClient, student: ApiClient) -> None:
    _assert_envelope(anonymous.post("/auth/login", json={"email": "x"}), 400, "VALIDATION_ERROR")
    _assert_envelope(anonymous.get("/auth/profile"), 401, "UNAUTHORIZED")
    _assert_envelope(student.get("/admin/users"), 403, "FORBIDDEN")
    _assert_envelope(anonymous.get(f"/courses/{uuid.uuid4().hex}"), 404, "NOT_FOUND")
    _assert_envelope(
        anonymous.post("/auth/login", data="{}", headers={"Content-Type": "text/plain"}),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    )


def test_a_json_body_is_json_whatever_the_case_of_its_media_type(anonymous: ApiClient, demo: Demo) -> None:
    """Issue 15: `Content-Type: application/JSON` answered 500 on every JSON route."""
    body = json.dumps({"email": "student@example.com", "password": demo.password})
    for content_type in ("application/JSON", "Application/Json; charset=UTF-8"):
        login = anonymous.post("/auth/login", data=body, headers={"Content-Type": content_type})
        assert login.status_code == 200, login.text
        assert login.json()["tokenType"] == "Bearer"


def test_every_route_answers_the_success_status_its_document_states(
    anonymous: ApiClient, admin: ApiClient, instructor: ApiClient, demo: Demo, local_cloud: Any
) -> None:
    """Every operation documented with 201, 202 or 204 is called here and must answer it (the 200
    ones are asserted throughout the integration suite)."""
    from tests.purchases import execution
    from tests.throwaway import DAWDLE
    from workflows import executions

    documented = _success_statuses(anonymous.get("/openapi.json").json())
    answered: dict[tuple[str, str], int] = {}

    def call(client: ApiClient, method: str, template: str, path: str, **kwargs: Any) -> requests.Response:
        response = client.request(method, path, **kwargs)
        assert response.status_code < 300, f"{method} {path}: {response.text}"
        answered[(method, template)] = response.status_code
        return response

    email = f"docs-{uuid.uuid4().hex[:10]}@example.org"
    account = {"email": email, "password": "a long password", "firstName": "Doc", "lastName": "Reader"}
    call(anonymous, "POST", "/auth/register", "/auth/register", json=account)
    credentials = {"email": email, "password": account["password"]}
    token = call(anonymous, "POST", "/auth/login", "/auth/login", json=credentials).json()["accessToken"]
    buyer = anonymous.as_token(token)

    new_category = {"name": f"Docs {uuid.uuid4().hex[:6]}", "description": "d"}
    category = call(admin, "POST", "/categories", "/categories", json=new_category).json()["categoryId"]
    draft = {"title": "Statuses", "description": "Checked", "categoryId": category, "priceCents": 0}
    course = call(instructor, "POST", "/courses", "/courses", json=draft).json()["courseId"]
    lesson = {"courseId": course, "title": "One", "type": "text", "content": "<p>Some text.</p>"}
    filmed = {"courseId": course, "title": "Filmed", "type": "video"}
    video = call(instructor, "POST", "/lessons", "/lessons", json=filmed).json()["lessonId"]
    dropped = call(instructor, "POST", "/lessons", "/lessons", json=lesson).json()["lessonId"]
    call(
        instructor,
        "POST",
        "/lessons/{lessonId}/video",
        f"/lessons/{video}/video",
        json={"contentType": "video/mp4", "contentLength": 1000},
    )
    call(instructor, "DELETE", "/lessons/{lessonId}", f"/lessons/{dropped}")
    call(instructor, "POST", "/courses/{courseId}/publish", f"/courses/{course}/publish")
    other = call(instructor, "POST", "/courses", "/courses", json=draft).json()["courseId"]
    call(instructor, "DELETE", "/courses/{courseId}", f"/courses/{other}")

    paid = demo.data.courses["Python for Beginners"].course_id
    call(buyer, "POST", "/transactions", "/transactions", json={"courseId": paid})

    if DAWDLE.name not in local_cloud.state_machine_arns:
        local_cloud.deploy(DAWDLE)
    failed = executions.start(DAWDLE, uuid.uuid4().hex, {"seconds": 5})
    execution(failed.arn, timeout=30)
    call(
        admin,
        "POST",
        "/ops/executions/{executionName}/redrive",
        f"/ops/executions/{failed.name}/redrive",
        json={"rerun": True},
    )
    forum = call(
        instructor, "POST", "/courses/{courseId}/forums", f"/courses/{course}/forums", json={"title": "Q&A"}
    ).json()["forumId"]
    opening = {"title": "Welcome", "body": "Say *hello*."}
    thread = call(
        instructor, "POST", "/forums/{forumId}/threads", f"/forums/{forum}/threads", json=opening
    ).json()["threadId"]
    replied = call(
        admin, "POST", "/threads/{threadId}/replies", f"/threads/{thread}/replies", json={"body": "Hi"}
    )
    reply = replied.json()["postId"]
    call(instructor, "POST", "/posts/{postId}/reports", f"/posts/{reply}/reports", json={"reason": "a check"})
    # Quizzes (docs/assessments.md): a question, a published quiz, an attempt started and submitted.
    from tests.quizzes import TRUE_FALSE, enroll, published_quiz

    quiz = published_quiz(instructor, category)
    extra = call(
        instructor,
        "POST",
        "/courses/{courseId}/questions",
        f"/courses/{quiz.course_id}/questions",
        json=TRUE_FALSE,
    ).json()["questionId"]
    call(instructor, "DELETE", "/questions/{questionId}", f"/questions/{extra}")
    enroll(buyer, quiz.course_id)
    started = call(
        buyer, "POST", "/lessons/{lessonId}/attempts", f"/lessons/{quiz.lesson_id}/attempts"
    ).json()
    call(buyer, "POST", "/attempts/{attemptId}/submit", f"/attempts/{started['attemptId']}/submit")
    from types import SimpleNamespace

    from tests.workflow.test_certificate import enroll
    from tests.workflow.test_submission import assignment_course, configure

    graded_course, assignment = assignment_course(demo)
    configure(instructor, assignment)
    enroll(SimpleNamespace(client=buyer), graded_course)
    work = {"text": "Docs."}
    call(
        buyer,
        "POST",
        "/lessons/{lessonId}/submissions",
        f"/lessons/{assignment.lesson_id}/submissions",
        json=work,
    )
    call(buyer, "POST", "/auth/logout", "/auth/logout")

    assert {route: documented[route] for route in answered} == answered
    not_200 = {route for route, status in documented.items() if status != 200}
    assert sorted(not_200 - set(answered)) == [], "a 201/202/204 route this test does not call yet"
