"""Caching shims for moto's Step Functions engine (moto 5.2.5). They change no behaviour.

Profiling the local cloud under load (``make bench``) showed the engine spending a large share of
its time rebuilding things it could reuse:

* every JSONPath evaluation builds a new PLY parser (``jsonpath_ng.ext.parse``), and
* every task state creates a new boto3 client (``boto_client_for``) with its own connection pool,
  SSL context and DNS lookup.

Compiled JSONPath expressions are immutable and boto3 clients are thread-safe, so both are cached
here. Each shim replaces a module attribute only if it is there and still the original, so a moto
upgrade that moves things simply leaves the engine as it is.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

_CLIENT_USERS = (
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_dynamodb",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_events",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sqs",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_unsupported",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk",
)
_applied = False


def apply() -> None:
    global _applied
    if _applied:
        return
    _applied = True
    json_path = importlib.import_module("moto.stepfunctions.parser.asl.utils.json_path")
    if hasattr(json_path, "parse"):
        setattr(json_path, "parse", functools.lru_cache(maxsize=4096)(json_path.parse))  # noqa: B010

    boto_client = importlib.import_module("moto.stepfunctions.parser.asl.utils.boto_client")
    original = boto_client.boto_client_for

    moto_settings = importlib.import_module("moto.settings")

    @functools.lru_cache(maxsize=64)
    def cached(region: str, service: str, port: str) -> Any:
        return original(region=region, service=service)

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        # moto's engine signs every call with fixed local credentials, so the client depends
        # only on region, service and the port of the local cloud it calls (a later local cloud
        # in the same process listens on another one).
        return cached(region, service, moto_settings.moto_server_port())

    for name in _CLIENT_USERS:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if getattr(module, "boto_client_for", None) is original:
            setattr(module, "boto_client_for", boto_client_for)  # noqa: B010
