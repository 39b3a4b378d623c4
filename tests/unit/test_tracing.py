"""Tracing costs nothing where it cannot trace, and wraps every handler where it can (in Lambda)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lms import tracing


def test_outside_lambda_the_xray_sdk_is_not_even_imported() -> None:
    code = "import sys, api.app, tasks.purchase; print('aws_xray_sdk.core' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"
    assert tracing.tracer() is None


def test_in_lambda_the_handler_runs_inside_the_tracer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")  # no X-Ray daemon to send to here
    tracing.tracer.cache_clear()
    try:
        from aws_lambda_powertools import Tracer

        assert isinstance(tracing.tracer(), Tracer)
        handled = tracing.traced(lambda event, context: {"seen": event["n"]})
        assert handled({"n": 7}, None) == {"seen": 7}
    finally:
        tracing.tracer.cache_clear()
