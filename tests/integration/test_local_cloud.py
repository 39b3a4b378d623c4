"""The local cloud's own endpoints: fault injection over HTTP, and the Lambda Invoke API."""

from __future__ import annotations

import json
from typing import Any

import requests

from lms import aws


def test_a_fault_posted_over_http_fails_the_next_invocation_only(local_cloud) -> None:
    faults = f"{local_cloud.endpoint}/_local/faults"
    lambda_ = aws.client("lambda")  # signed: the local cloud refuses an unsigned Invoke, as AWS does

    def invoke(event: dict[str, str]) -> dict[str, Any]:
        response = lambda_.invoke(FunctionName="lms-purchase-validate-order", Payload=json.dumps(event))
        return {"error": response.get("FunctionError"), **json.loads(response["Payload"].read())}

    marker = {"transactionId": "fault-over-http"}

    assert requests.post(faults, json={"function": "nope", "errorType": "X"}, timeout=10).status_code == 404
    assert requests.post(faults, data=b"{not json", timeout=10).status_code == 400
    posted = requests.post(
        faults,
        json={"function": "lms-purchase-validate-order", "errorType": "OrderNotValidError", "match": marker},
        timeout=10,
    )
    assert posted.status_code == 204

    failed = invoke(marker)
    assert failed["error"] == "Unhandled"
    assert failed["errorType"] == "OrderNotValidError"
    again = invoke(marker)  # the fault is used up: the handler runs
    assert again["errorType"] != "OrderNotValidError"
