"""boto3 clients, created lazily and cached so warm Lambdas reuse them.

Product code never passes an endpoint: boto3 reads ``AWS_ENDPOINT_URL`` itself, which is how the
same code talks to AWS or to the embedded local cloud.
"""

from __future__ import annotations

import functools
from typing import Any

import boto3
from botocore.config import Config

from lms.settings import get_settings

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=30)


@functools.cache
def _session() -> boto3.session.Session:
    return boto3.session.Session(region_name=get_settings().region)


@functools.cache
def client(service: str) -> Any:
    return _session().client(service, config=_CONFIG)


def dynamodb() -> Any:
    return client("dynamodb")


def reset_clients() -> None:
    client.cache_clear()
    _session.cache_clear()
