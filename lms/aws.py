"""boto3 clients, created lazily and cached so warm Lambdas reuse them.

Product code never passes an endpoint: boto3 reads ``AWS_ENDPOINT_URL`` itself, which is how the
same code talks to AWS or to the embedded local cloud. Credentials come from the environment as in
Lambda; :func:`acting_as` lets a host that runs the API in-process (the local API) make the API's
calls with the API role's credentials while the rest of the process keeps its own.
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any, NamedTuple

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=30)
# AWS requires Signature Version 4 for presigned URLs of buckets created since 2020 (and in every
# region opened since 2014); botocore's default may still sign some with the legacy scheme.
_S3_CONFIG = _CONFIG.merge(Config(signature_version="s3v4"))


class Credentials(NamedTuple):
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


_acting_as: ContextVar[Credentials | None] = ContextVar("lms_aws_credentials", default=None)


class CallTimes:
    """Wall time spent in AWS calls of one service within a :func:`timing_calls` block."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.calls = 0
        self.seconds = 0.0


_timing: ContextVar[CallTimes | None] = ContextVar("lms_aws_call_times", default=None)
_STARTED = "lms_call_started"


def _call_started(context: dict[str, Any], **_: Any) -> None:
    if _timing.get() is not None:
        context[_STARTED] = time.perf_counter()


def _call_ended(context: dict[str, Any], **_: Any) -> None:
    times, started = _timing.get(), context.pop(_STARTED, None)
    if times is not None and started is not None:
        times.calls += 1
        times.seconds += time.perf_counter() - started


@contextlib.contextmanager
def timing_calls(service: str) -> Iterator[CallTimes]:
    """Within this block (this thread or task), add up the time of each call to ``service``: from
    botocore's ``before-call`` to its ``after-call`` (retries, signing, network and the service's own
    time included). Outside such a block the hooks cost one ContextVar read per call."""
    times = CallTimes(service)
    token = _timing.set(times)
    try:
        yield times
    finally:
        _timing.reset(token)


def region() -> str:
    """``LMS_REGION``, else the region Lambda runs in (``AWS_REGION``), else us-east-1.

    Read here rather than from :mod:`lms.settings` so that a function that only calls AWS (the
    starter) never loads pydantic.
    """
    return os.environ.get("LMS_REGION") or os.environ.get("AWS_REGION") or "us-east-1"


@functools.cache
def _session(credentials: Credentials | None) -> boto3.session.Session:
    if credentials is None:
        return boto3.session.Session(region_name=region())
    return boto3.session.Session(
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
        region_name=region(),
    )


@functools.cache
def _client(service: str, credentials: Credentials | None) -> Any:
    config = _S3_CONFIG if service == "s3" else _CONFIG
    made = _session(credentials).client(service, config=config)
    if service == "dynamodb":  # the API's Server-Timing header reports DynamoDB time (api.app)
        made.meta.events.register("before-call.dynamodb", _call_started)
        made.meta.events.register("after-call.dynamodb", _call_ended)
        made.meta.events.register("after-call-error.dynamodb", _call_ended)
    return made


def client(service: str) -> Any:
    return _client(service, _acting_as.get())


def dynamodb() -> Any:
    return client("dynamodb")


@contextlib.contextmanager
def acting_as(credentials: Credentials | None) -> Iterator[None]:
    """Within this block (this thread or task), clients sign with ``credentials``."""
    token = _acting_as.set(credentials)
    try:
        yield
    finally:
        _acting_as.reset(token)


def reset_clients() -> None:
    _client.cache_clear()
    _session.cache_clear()
