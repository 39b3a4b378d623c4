from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _no_scan_on_request_paths(dynamodb_calls: Any) -> Any:
    """Every integration test runs with the Scan guard and a fresh call log."""
    dynamodb_calls.reset()
    return dynamodb_calls
