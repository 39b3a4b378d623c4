"""The API Lambda: one Powertools REST resolver, the same handler locally and in AWS."""

from __future__ import annotations

import functools
import json
import time
import warnings
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFound
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from lms.metrics import METRICS_NAMESPACE
from lms.snapstart import before_snapshot, preload
from lms.tracing import traced

if TYPE_CHECKING:
    from lms.aws import CallTimes

logger = Logger(service="lms-api")
# Same namespace as the workflows' business metrics (tasks.runtime); flushed after every request.
metrics = Metrics(namespace=METRICS_NAMESPACE, service="lms-api")
# Most requests add no metric; Powertools would warn about that on every one of them.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)

API_TITLE = "LMS API"
_BEARER = "bearerAuth"
API_VERSION = "1.0.0"
_OPENAPI_INFO: dict[str, Any] = {
    "title": API_TITLE,
    "version": API_VERSION,
    "description": (
        "Learning Management System backend driven by AWS Step Functions.\n\n"
        "Request bodies are UTF-8 JSON sent as `application/json` (anything else is 415 "
        "UNSUPPORTED_MEDIA_TYPE; undecodable or absurdly nested JSON is 400 MALFORMED_JSON). Access is "
        "checked first: a caller who may not use a route gets 401/403 whatever the body holds, its "
        "content type included. Lists take `?limit=&cursor=` and answer `{items, nextCursor}`. In a PUT an "
        "absent field is left alone and an explicit null clears an optional field. Errors are "
        "`{error: {code, message, details?}}`; a 5xx never carries internal detail. Field names follow "
        "the seed's entities: a course has `difficulty` and `duration` (minutes), a lesson `duration` "
        "(seconds) and `videoUrl` (null until its video is READY; then a short-lived presigned URL of "
        "the HLS master playlist for enrolled students, the owner and admins)."
    ),
}


def _openapi() -> dict[str, Any]:
    """What the OpenAPI document says about the API as a whole."""
    # Powertools' OpenAPI models (a large pydantic tree) serve the document only, so they load when
    # the app is built, not with this module.
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    return {**_OPENAPI_INFO, "security_schemes": {_BEARER: HTTPBearer(bearerFormat="JWT")}}


_SERVER_SIDE = "Something went wrong on our side; it has been logged."


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> Response[Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body={"error": body}, headers=headers
    )


def _validation_details(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Never echo the rejected input back: it may be a password.
    return [
        {
            "location": [str(part) for part in error.get("loc", ())],
            "message": error.get("msg"),
            "type": error.get("type"),
        }
        for error in errors
    ]


def _build() -> APIGatewayRestResolver:
    # The routes, their models and the domain load here, when the app is built (before the SnapStart
    # snapshot, or on a cold start's first request), not when Lambda imports the handler module.
    from api import front_door, responses, security
    from api.routes import (
        analytics,
        auth,
        catalog,
        discussions,
        health,
        learning,
        ops,
        publishing,
        purchases,
        video,
    )
    from api.routes import credentials as credential_routes
    from api.routes import mail as mail_routes
    from api.routes.assessments import grading as assessment_grading
    from api.routes.assessments import quizzes as assessment_quizzes
    from lms.errors import LmsError, RateLimitedError
    from lms.payments import PaymentProviderUnavailableError, PaymentRejectedError
    from lms.settings import get_settings

    settings = get_settings()
    origins = settings.cors_origins or ["*"]
    cors = CORSConfig(
        allow_origin=origins[0],
        extra_origins=origins[1:],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        max_age=600,
    )
    app = APIGatewayRestResolver(enable_validation=True, cors=cors)
    app.include_router(auth.router)
    app.include_router(catalog.router)
    app.include_router(purchases.router)
    app.include_router(learning.router)
    app.include_router(publishing.router)
    app.include_router(video.router)
    app.include_router(ops.router)
    app.include_router(health.router)
    app.include_router(discussions.router)
    app.include_router(mail_routes.router)
    app.include_router(analytics.router)
    app.include_router(assessment_quizzes.router)
    app.include_router(assessment_grading.router)
    app.include_router(credential_routes.router)
    for route in app._static_routes + app._dynamic_routes:
        # Documented with the status the route answers (201/202/204 through api.responses), not 200,
        # unless the route's decorator says (status_code=...).
        if route.status_code == 200:
            route.status_code = responses.success_status(route.func)
    app.enable_swagger(path="/docs", **_openapi())
    # Swagger UI shows the document /openapi.json serves (Powertools reads it from this attribute).
    app._openapi_merge = _ServedDocument()  # type: ignore[assignment]
    for route in app._static_routes:
        if route.path == "/docs":
            security.public(route.func)

    @app.get("/openapi.json", include_in_schema=False)
    @security.public
    def openapi_document() -> Response[str]:
        return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=openapi_json())

    @app.exception_handler(LmsError)
    def handle_domain_error(error: LmsError) -> Response[Any]:
        headers = (
            {"Retry-After": str(error.retry_after_seconds)} if isinstance(error, RateLimitedError) else None
        )
        if error.status >= 500:
            # The detail (it may name configuration) is for the operator, not the client.
            logger.error("server-side error", extra={"code": error.code, "error_message": error.message})
            return error_response(error.status, error.code, _SERVER_SIDE, headers=headers)
        return error_response(error.status, error.code, error.message, error.details, headers)

    @app.exception_handler(PaymentRejectedError)
    def handle_payment_rejected(error: PaymentRejectedError) -> Response[Any]:
        # Stripe's own wording is logged, never relayed: it can describe other parties' data.
        logger.warning("payment provider refused", extra={"error_message": str(error)})
        return error_response(422, "PAYMENT_REJECTED", "The payment provider refused the operation.")

    @app.exception_handler(PaymentProviderUnavailableError)
    def handle_payment_provider_down(error: PaymentProviderUnavailableError) -> Response[Any]:
        logger.warning("payment provider unavailable", extra={"error_message": str(error)})
        return error_response(
            503,
            "PAYMENT_PROVIDER_UNAVAILABLE",
            "The payment provider is unavailable; retry shortly.",
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(RequestValidationError)
    def handle_validation_error(error: RequestValidationError) -> Response[Any]:
        # Undecodable bodies never get here: the front door answers them (415 / 400 MALFORMED_JSON).
        details = _validation_details(list(error.errors()))
        return error_response(400, "VALIDATION_ERROR", "The request is not valid.", details)

    @app.exception_handler(RequestUnsupportedContentType)
    def handle_unsupported_content_type(_: RequestUnsupportedContentType) -> Response[Any]:
        # A body route called without a body but with a non-JSON content type: the front door lets an
        # absent body through, Powertools then refuses the header.
        return error_response(
            415, "UNSUPPORTED_MEDIA_TYPE", "Send request bodies as 'Content-Type: application/json'."
        )

    @app.not_found
    def handle_not_found(_: RouteNotFound) -> Response[Any]:
        event = app.current_event
        return error_response(404, "ROUTE_NOT_FOUND", f"No route {event.http_method} {event.path}.")

    @app.exception_handler(Exception)
    def handle_unexpected(error: Exception) -> Response[Any]:
        logger.exception("unhandled error")
        metrics.add_metric(name="ApiUnhandledErrors", unit=MetricUnit.Count, value=1)
        return error_response(500, "INTERNAL_ERROR", _SERVER_SIDE)

    front_door.install(app, security_scheme=_BEARER)
    return app


@functools.cache
def get_app() -> APIGatewayRestResolver:
    """Built on first use, so settings are read after tests and the local cloud set the environment.

    With SnapStart it is built before the snapshot (the environment is Lambda's by then), together
    with what the first requests would load: restored environments answer without that work.
    """
    return _build()


before_snapshot(get_app)
preload("jwt", "email_validator", "stripe")


def openapi_json() -> str:
    """The OpenAPI document served at /openapi.json (and shown by Swagger UI at /docs): Powertools'
    document with the answers the API really gives (api.responses.describe_errors)."""
    from api.responses import describe_errors

    document = json.loads(get_app().get_openapi_json_schema(**_openapi()))
    return json.dumps(describe_errors(document), indent=2)


class _ServedDocument:
    """What Swagger UI reads its document from: the one /openapi.json serves."""

    def get_openapi_json_schema(self) -> str:
        return openapi_json()


def _body_too_large(event: dict[str, Any]) -> bool:
    from lms.settings import get_settings

    body = event.get("body") or ""
    size = len(body) * 3 // 4 if event.get("isBase64Encoded") else len(body.encode())
    return size > get_settings().max_body_bytes


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@traced
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if _body_too_large(event):
        # Refused before routing, so an oversized body is never parsed.
        from lms.settings import get_settings

        limit = get_settings().max_body_bytes
        error = {"code": "PAYLOAD_TOO_LARGE", "message": f"Request bodies are limited to {limit} bytes."}
        return {
            "statusCode": 413,
            "headers": {"Content-Type": content_types.APPLICATION_JSON},
            "body": json.dumps({"error": error}),
            "isBase64Encoded": False,
        }
    from api import console, dashboard
    from lms import aws  # boto3: loaded by the first request, not by Lambda's import of this module

    started = time.perf_counter()
    with aws.timing_calls("dynamodb") as dynamodb:
        if console.serves(event):  # the ops console: HTML pages, a cookie session, its own checks
            result = console.handle(event, context)
        elif dashboard.serves(event):  # the analytics dashboard: the console's machinery, its own session
            result = dashboard.handle(event, context)
        else:
            result = get_app().resolve(event, context)
    return _with_server_timing(result, time.perf_counter() - started, dynamodb)


def _with_server_timing(result: dict[str, Any], seconds: float, dynamodb: CallTimes) -> dict[str, Any]:
    """Where the request's time went, in the standard ``Server-Timing`` header: the handler's total
    and the part of it spent in DynamoDB calls (the load suite reports both beside the client's
    time, docs/performance.md). Durations only: no names, keys or other detail of the request."""
    value = (
        f"handler;dur={seconds * 1000:.1f}, "
        f'dynamodb;dur={dynamodb.seconds * 1000:.1f};desc="{dynamodb.calls} calls"'
    )
    if "multiValueHeaders" in result:
        result["multiValueHeaders"] = {**(result["multiValueHeaders"] or {}), "Server-Timing": [value]}
    else:
        result["headers"] = {**(result.get("headers") or {}), "Server-Timing": value}
    return result
