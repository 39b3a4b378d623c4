"""The ops console in AWS: a route of the API function, packaged with its templates and Jinja2,
answering on the stage URL (``/v1/console``) under API Gateway's domain name."""

from __future__ import annotations

import json
from typing import Any

from api.console.routes import HERE, STATIC
from infra.bundling import locked_closure
from infra.constants import API_PACKAGE, PROJECT_ROOT


def test_the_stack_routes_every_path_to_the_api_function_and_outputs_the_console_url(synthesized) -> None:
    _, template_file = synthesized
    document = json.loads(template_file.read_text())
    resources = document["Resources"]
    (proxy,) = [r for r in resources.values() if r["Type"] == "AWS::ApiGateway::Resource"]
    assert proxy["Properties"]["PathPart"] == "{proxy+}"  # /console and below reach the API function
    methods = [r for r in resources.values() if r["Type"] == "AWS::ApiGateway::Method"]
    assert all(m["Properties"]["Integration"]["Type"] == "AWS_PROXY" for m in methods)
    outputs = {key: value for key, value in document["Outputs"].items() if key.startswith("ApiConsoleUrl")}
    (console,) = outputs.values()
    assert json.dumps(console["Value"]).endswith('"/console"]]}')  # the stage URL plus /console


def test_the_api_package_carries_jinja2_and_the_console_templates_and_assets() -> None:
    pins = locked_closure(API_PACKAGE.dependencies)
    assert any(p.startswith("jinja2==") for p in pins) and any(p.startswith("markupsafe==") for p in pins)
    assert "api" in API_PACKAGE.source_packages  # the zip holds api/ whole: templates and static files too
    assert {p.name for p in (HERE / "templates").glob("*.html")} >= {
        "base.html",
        "execution.html",
        "login.html",
    }
    for asset in STATIC:
        assert (HERE / "static" / asset).is_file()
    assert (HERE / "templates").is_relative_to(PROJECT_ROOT / "api")


def stage_event(path: str, **headers: str) -> dict[str, Any]:
    """A request as API Gateway hands it over on the stage URL https://<id>.execute-api.../v1/<path>."""
    domain = "abc123.execute-api.eu-west-1.amazonaws.com"
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": "GET",
        "headers": {"Host": domain, "X-Forwarded-Proto": "https", **headers},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "requestContext": {
            "path": f"/v1{path}",
            "stage": "v1",
            "domainName": domain,
            "httpMethod": "GET",
            "requestId": "r-1",
            "resourcePath": "/{proxy+}",
            "identity": {"sourceIp": "203.0.113.9"},
        },
        "body": None,
        "isBase64Encoded": False,
    }


class Context:
    function_name = "lms-api"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:lms-api"
    aws_request_id = "r-1"


def test_on_the_stage_url_links_and_cookies_carry_the_stage_and_a_foreign_host_is_refused() -> None:
    from api.app import handler

    login = handler(stage_event("/console/login"), Context())
    assert login["statusCode"] == 200
    assert 'href="/v1/console/static/console.css"' in login["body"]
    (cookie,) = login["multiValueHeaders"]["Set-Cookie"]
    assert "Path=/v1/console/login" in cookie and "Secure" in cookie and "HttpOnly" in cookie

    redirected = handler(stage_event("/console"), Context())
    assert redirected["statusCode"] == 303
    assert redirected["multiValueHeaders"]["Location"] == ["/v1/console/login"]

    rebound = handler(stage_event("/console/login", Host="rebind.example"), Context())
    assert rebound["statusCode"] == 403
