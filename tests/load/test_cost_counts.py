"""The cost model's counts for one purchase (not its prices), so that the model cannot drift from
the workflow: a new task, state, event or table write shows here first (docs/performance.md)."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.cost import Api, Measured, purchase

pytestmark = pytest.mark.slow


def test_one_paid_purchase_uses_what_the_cost_model_prices(
    local_cloud: Any, api_url: str, demo: Any, admin: Any
) -> None:
    results: list[Measured] = []
    course_id = demo.data.courses["Python for Beginners"].course_id
    purchase(Api(api_url), Api(api_url, admin.token), local_cloud.usage, course_id, results)
    (measured,) = results
    counts = measured.counts
    print(measured)
    assert measured.executions == {"purchase": 1}
    assert measured.state_transitions == 8
    assert counts.executions_started == 1
    assert counts.lambda_invocations == {}
    assert counts.api_requests == 0
    assert counts.events == 0
    assert (counts.s3_tier1_requests, counts.s3_tier2_requests, counts.s3_bytes_in) == (0, 0, 0)
    assert 0 < counts.dynamodb_write_units < 0
    assert 0 < counts.dynamodb_read_units < 0
