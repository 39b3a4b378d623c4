"""boto3 clients, created lazily and cached so warm Lambdas reuse them.

Product code never passes an endpoint: boto3 reads ``AWS_ENDPOINT_URL`` itself, which is how the
same code talks to AWS or to the embedded local cloud.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=30)


def region() -> str:
    """``LMS_REGION``, else the region Lambda runs in (``AWS_REGION``), else us-east-1.

    Read here rather than from :mod:`lms.settings` so that a function that only calls AWS (the
    starter) never loads pydantic.
    """
    return os.environ.get("LMS_REGION") or os.environ.get("AWS_REGION") or "us-east-1"


@functools.cache
def _session() -> boto3.session.Session:
    return boto3.session.Session(region_name=region())


@functools.cache
def client(service: str) -> Any:
    return _session().client(service, config=_CONFIG)


def dynamodb() -> Any:
    return client("dynamodb")


def reset_clients() -> None:
    client.cache_clear()
    _session.cache_clear()
