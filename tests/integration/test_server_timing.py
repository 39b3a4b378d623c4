"""Every API answer says where its time went (Server-Timing), which the load suite reports."""

from __future__ import annotations

import re

from load.flows import server_timing
from tests.conftest import ApiClient


def test_an_answer_carries_its_handler_time_and_its_dynamodb_time(anonymous: ApiClient) -> None:
    response = anonymous.get("/courses")
    assert response.status_code == 200
    header = response.headers["Server-Timing"]
    timings = server_timing(header)
    assert 0 < timings["dynamodb"] <= timings["handler"]
    assert re.search(r'dynamodb;dur=[0-9.]+;desc="[1-9][0-9]* calls"', header), header


def test_an_error_answer_carries_it_too_and_a_route_without_dynamodb_reports_none(
    anonymous: ApiClient,
) -> None:
    missing = anonymous.get("/no-such-route")
    assert missing.status_code == 404
    timings = server_timing(missing.headers["Server-Timing"])
    assert timings["handler"] > 0 and timings["dynamodb"] == 0
    assert 'desc="0 calls"' in missing.headers["Server-Timing"]
