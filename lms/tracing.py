"""X-Ray tracing of a Lambda handler through Powertools Tracer, paid for only where it traces.

Powertools' Tracer imports the X-Ray SDK when it is created (about 80 ms), even where it then turns
itself off (outside Lambda: the local cloud, tests, the CLI). So the tracer is created on the first
traced invocation, and only inside Lambda; elsewhere :func:`traced` calls the handler as it is.
Responses are never put on the trace: they can carry client secrets and tokens.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


@functools.cache
def tracer() -> Any:
    """The process's Tracer in Lambda (``LAMBDA_TASK_ROOT``, as Powertools decides), else ``None``."""
    if not os.environ.get("LAMBDA_TASK_ROOT") or os.environ.get("AWS_SAM_LOCAL"):
        return None
    from aws_lambda_powertools import Tracer

    return Tracer()


def traced(handler: F) -> F:
    @functools.wraps(handler)
    def wrapper(event: Any, context: Any) -> Any:
        active = tracer()
        if active is None:
            return handler(event, context)
        return active.capture_lambda_handler(handler, capture_response=False)(event, context)

    return wrapper  # type: ignore[return-value]
