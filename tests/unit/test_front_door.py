"""The front door's body rules, on API Gateway events (no network)."""

from __future__ import annotations

import base64

import pytest

from api.front_door import MAX_JSON_DEPTH, MalformedJsonError, UnsupportedMediaTypeError, check_body


def event(body: str | None, *, encoded: bool = False) -> dict[str, object]:
    return {"body": body, "isBase64Encoded": encoded}


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "Application/JSON ; charset=UTF-8"],
)
def test_json_bodies_pass_whatever_the_media_type_parameters(content_type: str) -> None:
    check_body(event('{"a": 1}'), {"content-type": content_type})


@pytest.mark.parametrize("content_type", [None, "", "text/plain", "application/jsonp", "application/xml"])
def test_other_media_types_are_415(content_type: str | None) -> None:
    with pytest.raises(UnsupportedMediaTypeError):
        check_body(event('{"a": 1}'), {"content-type": content_type} if content_type is not None else {})


def test_no_body_is_not_checked() -> None:
    check_body(event(None), {})
    check_body(event(""), {"content-type": "text/plain"})


@pytest.mark.parametrize(
    "body",
    [
        event("%%% not base64", encoded=True),
        event(base64.b64encode(b'{"a": "\xff"}').decode(), encoded=True),
        event('{"a": '),
        event("[" * 5000 + "]" * 5000),
        event("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)),
    ],
    ids=["bad-base64", "not-utf8", "truncated", "parser-bomb", "too-deep"],
)
def test_undecodable_bodies_are_malformed_json(body: dict[str, object]) -> None:
    with pytest.raises(MalformedJsonError):
        check_body(body, {"content-type": "application/json"})


def test_depth_up_to_the_limit_passes_and_base64_json_is_decoded() -> None:
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    check_body(event(at_limit), {"content-type": "application/json"})
    check_body(
        event(base64.b64encode(b'{"a": 1}').decode(), encoded=True), {"content-type": "application/json"}
    )


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/JSON", "APPLICATION/JSON; charset=UTF-8"]
)
def test_a_json_body_reaches_validation_whatever_the_case_of_its_media_type(content_type: str) -> None:
    """Given a body route behind the local API Gateway, when the media type is in upper case, then the
    body is validated like any JSON body (400 VALIDATION_ERROR for a missing field), never a 500."""
    from werkzeug.test import Client

    from infra.local.api_gateway import ApiGatewayApp

    client = Client(ApiGatewayApp())
    response = client.post("/auth/login", data='{"email": "someone@example.org"}', content_type=content_type)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.json is not None and response.json["error"]["code"] == "VALIDATION_ERROR"


def test_the_media_type_is_handed_on_in_lower_case_with_its_parameters() -> None:
    from api.front_door import normalise_content_type

    request = {
        "headers": {"Content-Type": "Application/JSON; charset=UTF-8"},
        "multiValueHeaders": {"Content-Type": ["Application/JSON; charset=UTF-8"]},
    }
    normalise_content_type(request)
    assert request["headers"] == {"Content-Type": "application/json; charset=UTF-8"}
    assert request["multiValueHeaders"] == {"Content-Type": ["application/json; charset=UTF-8"]}
