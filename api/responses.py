"""Small helpers for consistent responses, and what the OpenAPI document says about them.

A route answers 201, 202 or 204 through :func:`created`, :func:`accepted` or :func:`no_content`, and
200 otherwise; :func:`success_status` reads which from the route itself, so the document states the
status every route really answers without each route repeating it. Every error is the one envelope
``{"error": {"code", "message", "details"?}}`` (:data:`ERROR_SCHEMA`), which :func:`describe_errors`
puts in the document in place of Powertools' own 422 ``HTTPValidationError`` (never answered here).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

from lms.settings import get_settings


def created(body: Any) -> Response[Any]:
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=body)


def accepted(body: Any) -> Response[Any]:
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=body)


def no_content() -> Response[None]:
    return Response(status_code=204, body=None)


def page_limit(requested: int) -> int:
    return min(requested, get_settings().max_page_size)


# --- the OpenAPI document ------------------------------------------------------------------------

_SUCCESS_HELPERS = {created.__name__: 201, accepted.__name__: 202, no_content.__name__: 204}


def success_status(route_function: Callable[..., Any]) -> int:
    """The status a route answers when it succeeds: the helper its body calls, else 200."""
    code = inspect.unwrap(route_function).__code__
    found = {status for name, status in _SUCCESS_HELPERS.items() if name in code.co_names}
    if len(found) > 1:
        raise ValueError(
            f"{route_function.__qualname__} answers {sorted(found)}: give its route an explicit status_code"
        )
    return found.pop() if found else 200


ERROR_SCHEMA_NAME = "ErrorResponse"
ERROR_SCHEMA: dict[str, Any] = {
    "title": ERROR_SCHEMA_NAME,
    "type": "object",
    "description": "Every 4xx and 5xx answer. A 5xx never carries internal detail.",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "machine-readable, e.g. VALIDATION_ERROR"},
                "message": {"type": "string", "description": "for people"},
                "details": {"description": "optional: e.g. the invalid fields (never their values)"},
            },
        }
    },
}
_POWERTOOLS_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
_OPERATIONS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def _error(description: str) -> dict[str, Any]:
    reference = {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}
    return {"description": description, "content": {content_types.APPLICATION_JSON: {"schema": reference}}}


def _errors_of(path: str, operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The error answers an operation can give, from what the document already says about it."""
    errors: dict[str, dict[str, Any]] = {}
    takes_body = "requestBody" in operation
    if takes_body or operation.get("parameters"):
        errors["400"] = _error("VALIDATION_ERROR (the fields in details) or MALFORMED_JSON")
    if operation.get("security"):
        errors["401"] = _error("no token, or an invalid, expired or revoked one")
        errors["403"] = _error("the caller's role or ownership does not allow it (checked before the body)")
    if "{" in path:
        errors["404"] = _error("no such object (or not visible to the caller)")
    if takes_body:
        errors["415"] = _error("UNSUPPORTED_MEDIA_TYPE: a body sent as anything but application/json")
    errors["4XX"] = _error("another client error: 409 conflict, 422 business rule, 429 rate limit, ...")
    errors["5XX"] = _error("a fault on our side (logged); 503 with Retry-After when a provider is down")
    return errors


def describe_errors(document: dict[str, Any]) -> dict[str, Any]:
    """Replace Powertools' 422 ``HTTPValidationError`` with the answers the API really gives.

    Each operation keeps its success answer (204 without a body) and gets the error envelope for the
    4xx/5xx it can answer. Changes ``document`` in place and returns it.
    """
    for path, item in document.get("paths", {}).items():
        for method in _OPERATIONS:
            operation = item.get(method)
            if operation is None:
                continue
            responses = {
                status: answer
                for status, answer in operation.get("responses", {}).items()
                if status.startswith("2")
            }
            for status, answer in responses.items():
                if status == "204":
                    answer.pop("content", None)
            operation["responses"] = {**responses, **_errors_of(path, operation)}
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in _POWERTOOLS_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    schemas[ERROR_SCHEMA_NAME] = ERROR_SCHEMA
    document["components"]["schemas"] = dict(sorted(schemas.items()))
    return document
