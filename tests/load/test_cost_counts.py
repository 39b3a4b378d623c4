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
    assert counts.unmeasured_calls == 0
    # Step Functions: one execution of 8 states (the priced transitions).
    assert measured.executions == {"purchase": 1}
    assert counts.executions_started == 1
    assert measured.state_transitions == 8
    # Lambda: each task once, with a measured duration priced at its configured memory.
    assert counts.lambda_invocations == {
        "lms-purchase-validate-order": 1,
        "lms-purchase-create-payment-intent": 1,
        "lms-purchase-await-payment": 1,
        "lms-purchase-enroll-student": 1,
    }
    assert all(gb_seconds > 0 for gb_seconds in counts.lambda_gb_seconds.values())
    # The API: POST /transactions, and Stripe's webhook unless the payment beat AwaitPayment and the
    # webhook came after the run had ended.
    assert counts.api_requests in (1, 2)
    # EventBridge: PurchaseCompleted and EnrollmentCreated.
    assert counts.events == 2
    # DynamoDB: the enrolment is one transaction; units computed from item sizes.
    assert counts.dynamodb_calls["TransactWriteItems"] == 1
    assert 10 <= counts.dynamodb_write_units <= 40
    assert 5 <= counts.dynamodb_read_units <= 40
    # No media: nothing in S3.
    assert (counts.s3_tier1_requests, counts.s3_tier2_requests, counts.s3_bytes_in) == (0, 0, 0)
