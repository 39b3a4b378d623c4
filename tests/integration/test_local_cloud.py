"""The local cloud's own endpoints: fault injection over HTTP, and the Lambda Invoke API."""

from __future__ import annotations

import json

import requests


def test_a_fault_posted_over_http_fails_the_next_invocation_only(local_cloud) -> None:
    faults = f"{local_cloud.endpoint}/_local/faults"
    invoke = f"{local_cloud.endpoint}/2015-03-31/functions/lms-purchase-validate-order/invocations"
    marker = {"transactionId": "fault-over-http"}

    assert requests.post(faults, json={"function": "nope", "errorType": "X"}, timeout=10).status_code == 404
    assert requests.post(faults, data=b"{not json", timeout=10).status_code == 400
    posted = requests.post(
        faults,
        json={"function": "lms-purchase-validate-order", "errorType": "OrderNotValidError", "match": marker},
        timeout=10,
    )
    assert posted.status_code == 204

    failed = requests.post(invoke, json=marker, timeout=30)
    assert failed.headers["X-Amz-Function-Error"] == "Unhandled"
    assert json.loads(failed.content)["errorType"] == "OrderNotValidError"
    again = requests.post(invoke, json=marker, timeout=30)  # the fault is used up: the handler runs
    assert json.loads(again.content)["errorType"] != "OrderNotValidError"
