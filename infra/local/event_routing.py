"""EventBridge rule targets that moto 5.2.5 does not deliver: Lambda functions.

moto matches rules (the same patterns CDK deploys) and delivers to SQS, log groups, archives, other
buses and API destinations, but raises ``NotImplementedError`` for a Lambda target. This hook hands
each matched event for a Lambda target to the local Lambda runtime, asynchronously, as EventBridge
invokes Lambda (an ``Event`` invocation); every other target still goes through moto. S3 "Object
Created" notifications reach the same rules (moto sends them to every bus's rules, as S3 sends them
to the default bus), so an upload starts its workflow locally as it does in AWS. Schedule rules
receive no put events here (moto would match every event against their empty pattern).
"""

from __future__ import annotations

import copy
import importlib
import json
import threading
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

logger = Logger(service="lms-local-events")

Deliver = Callable[[str, bytes], None]  # (function ARN, event JSON)
DeliverToStream = Callable[[str, dict[str, Any]], None]  # (Firehose stream ARN, matched event)
_deliver: Deliver | None = None
_deliver_to_stream: DeliverToStream | None = None
_installed = False
FIREHOSE_ARN = "arn:aws:firehose:"


def install_streams(deliver: DeliverToStream) -> None:
    """Hand the events matched by rules with a Firehose target to ``deliver`` (the local lake):
    moto delivers no Firehose target. Call :func:`install` too."""
    global _deliver_to_stream
    _deliver_to_stream = deliver


def install(deliver: Deliver) -> None:
    """Route Lambda targets of matched rules to ``deliver`` (one local cloud per process)."""
    global _deliver, _installed
    _deliver = deliver
    if _installed:
        return
    _installed = True
    rule_class = importlib.import_module("moto.events.models").Rule
    original = rule_class.send_to_targets

    def send_to_targets(rule: Any, event: dict[str, Any], transform_input: bool = True) -> None:
        if getattr(rule, "scheduled_expression", None):
            # A schedule rule has no pattern, which moto takes as "matches every event"; in AWS it
            # receives only its own ticks (delivered by the local cloud, LocalCloud.fire_schedule).
            return None
        lambdas = [t for t in rule.targets if t["Arn"].startswith("arn:aws:lambda:")]
        streams = [t for t in rule.targets if t["Arn"].startswith(FIREHOSE_ARN)]
        if not lambdas and not streams:
            return original(rule, event, transform_input)  # type: ignore[no-any-return]
        if not rule.event_pattern.matches_event(event):
            return None
        others = copy.copy(rule)
        others.targets = [t for t in rule.targets if t not in lambdas and t not in streams]
        original(others, event, transform_input)
        for target in streams:
            if _deliver_to_stream is not None:
                _deliver_to_stream(target["Arn"], event)
        body = json.dumps(event, default=str).encode()
        for target in lambdas:
            threading.Thread(target=_invoke, args=(target["Arn"], body), daemon=True).start()
        return None

    rule_class.send_to_targets = send_to_targets


def _invoke(arn: str, body: bytes) -> None:
    if _deliver is None:
        return
    try:
        _deliver(arn, body)
    except Exception:  # an asynchronous invocation has no caller to report to
        logger.exception("event delivery failed", extra={"target": arn})
