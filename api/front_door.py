"""The front door: what every request passes before Powertools validates it against the route's models.

In order: the route's access rule holds (401 / 403, whatever the body), then a body must be UTF-8 JSON
sent as ``application/json`` (415 / 400 otherwise, never a 500), and only then is the body validated
against the route's models. A route without a declared rule is refused to everybody, so a forgotten
rule fails closed.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Route
from aws_lambda_powertools.event_handler.middlewares import BaseMiddlewareHandler, NextMiddleware
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)

from api import security
from lms.errors import ForbiddenError, LmsError

JSON_MEDIA_TYPE = "application/json"
# A route marked with ``accepts_form_body`` also takes an HTML form's body, which it never parses:
# RFC 8058 one-click unsubscribe POSTs ``List-Unsubscribe=One-Click`` in one of these.
FORM_MEDIA_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
_ACCEPTS_FORM = "__lms_accepts_form_body__"


def accepts_form_body(function: Any) -> Any:
    setattr(function, _ACCEPTS_FORM, True)
    return function


# Our bodies are flat objects; a deeper document is an attack on the parser, not a request.
MAX_JSON_DEPTH = 32


class UnsupportedMediaTypeError(LmsError):
    status, code = 415, "UNSUPPORTED_MEDIA_TYPE"


class MalformedJsonError(LmsError):
    status, code = 400, "MALFORMED_JSON"


def _depth(document: Any) -> int:
    deepest, pending = 0, [(document, 1)]
    while pending:
        node, depth = pending.pop()
        deepest = max(deepest, depth)
        if depth > MAX_JSON_DEPTH:
            break
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        pending.extend((child, depth + 1) for child in children)
    return deepest


def media_type(content_type: str | None) -> str:
    """``Application/JSON; charset=UTF-8`` -> ``application/json``: media types are case-insensitive
    (RFC 9110 8.3.1), parameters aside."""
    return (content_type or "").split(";")[0].strip().lower()


def normalise_content_type(event: dict[str, Any]) -> None:
    """Write the request's media type in lower case, parameters kept, for the readers after us.

    Powertools' request validation compares the header with ``application/json`` case-sensitively:
    without this, ``Content-Type: application/JSON`` would pass our check and then fail there.
    """
    headers = event.get("headers") or {}
    for name, value in headers.items():
        if name.lower() == "content-type" and isinstance(value, str):
            _, separator, parameters = value.partition(";")
            headers[name] = media_type(value) + separator + parameters
    for name, values in (event.get("multiValueHeaders") or {}).items():
        if name.lower() == "content-type" and isinstance(values, list):
            event["multiValueHeaders"][name] = [
                media_type(v) + "".join(v.partition(";")[1:]) if isinstance(v, str) else v for v in values
            ]


def check_body(event: dict[str, Any], headers: Any) -> None:
    """Refuse a body that is not JSON, or not decodable, before anything tries to parse it."""
    body = event.get("body")
    if not body:
        return  # no body at all (an optional one, a GET): nothing to check
    if media_type(headers.get("content-type")) != JSON_MEDIA_TYPE:
        raise UnsupportedMediaTypeError("Send request bodies as 'Content-Type: application/json'.")
    malformed = MalformedJsonError("The request body is not valid UTF-8 JSON.")
    try:
        raw = base64.b64decode(body, validate=True) if event.get("isBase64Encoded") else body.encode()
        document = json.loads(raw.decode("utf-8"))
    except (binascii.Error, UnicodeError, ValueError, RecursionError) as error:
        raise malformed from error
    if _depth(document) > MAX_JSON_DEPTH:
        raise malformed


class FrontDoor(BaseMiddlewareHandler[APIGatewayRestResolver]):
    """Wraps the request validation middleware so that these checks run ahead of it."""

    def __init__(self, validation: OpenAPIRequestValidationMiddleware) -> None:
        super().__init__()
        self._validation = validation

    def handler(self, app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
        route: Route = app.context["_route"]
        if route not in app._static_routes and route not in app._dynamic_routes:
            return self._validation(app, next_middleware)  # Powertools' not-found chain: it answers 404
        rule = security.rule_of(route.func)
        if rule is None:
            raise ForbiddenError("This route has no access rule.")
        security.enforce(app, rule)
        form = media_type(app.current_event.headers.get("content-type")) in FORM_MEDIA_TYPES
        if not (form and getattr(route.func, _ACCEPTS_FORM, False)):
            check_body(app.current_event.raw_event, app.current_event.headers)
        normalise_content_type(app.current_event.raw_event)
        return self._validation(app, next_middleware)


def install(app: APIGatewayRestResolver, security_scheme: str) -> None:
    """Put the front door ahead of request validation, and publish each route's rule in OpenAPI.

    Powertools always runs its request validation first of all middlewares (before ``app.use``), so
    the only way to authorise before validating is to wrap that middleware itself.
    """
    app._request_validation_middleware = FrontDoor(app._request_validation_middleware)  # type: ignore[assignment]
    for route in app._static_routes + app._dynamic_routes:
        rule = security.rule_of(route.func)
        if rule is None or not rule.authenticated:
            continue
        route.security = [{security_scheme: []}]
        if rule.roles:
            route.openapi_extensions = {
                **(route.openapi_extensions or {}),
                "x-roles": [role.value for role in rule.roles],
            }
