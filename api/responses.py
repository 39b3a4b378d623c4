"""Small helpers for consistent responses."""

from __future__ import annotations

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
