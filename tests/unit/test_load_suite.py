"""The load suite's own logic: flows measured as one request, Server-Timing, the verdict, the target
checks. No Locust here (it monkey-patches the process), no network."""

from __future__ import annotations

from typing import Any

import pytest

from load.flows import FLOW, FlowError, ServerTimes, measured_flow, server_timing
from load.summary import Budgets, format_table, judge
from load.target import RefusedError, find_target


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Recorder:
    def __init__(self) -> None:
        self.fired: list[dict[str, Any]] = []

    def __call__(self, **event: Any) -> None:
        self.fired.append(event)


def test_a_flow_that_ends_well_is_one_request_lasting_from_start_to_done() -> None:
    clock, fire = Clock(), Recorder()
    with measured_flow(fire, "purchase", clock=clock):
        clock.now += 2.5  # start, pay, poll...
    assert len(fire.fired) == 1
    event = fire.fired[0]
    assert (event["request_type"], event["name"], event["exception"]) == (FLOW, "purchase", None)
    assert event["response_time"] == pytest.approx(2500)


def test_a_failed_flow_is_reported_as_a_failure_and_the_user_goes_on() -> None:
    clock, fire = Clock(), Recorder()
    with measured_flow(fire, "purchase", clock=clock):
        clock.now += 1
        raise FlowError("purchase ended FAILED")
    assert isinstance(fire.fired[0]["exception"], FlowError)
    assert fire.fired[0]["response_time"] == pytest.approx(1000)


def test_an_unexpected_error_fails_the_flow_and_is_raised() -> None:
    fire = Recorder()
    with pytest.raises(KeyError), measured_flow(fire, "publish", clock=Clock()):
        raise KeyError("transactionId")
    assert isinstance(fire.fired[0]["exception"], KeyError)


class RunStopped(BaseException):
    """What gevent's GreenletExit is: not an Exception."""


def test_a_flow_cut_short_by_the_end_of_the_run_reports_nothing() -> None:
    fire = Recorder()
    with pytest.raises(RunStopped), measured_flow(fire, "purchase", clock=Clock()):
        raise RunStopped
    assert fire.fired == []


def test_a_flow_past_its_deadline_fails_with_what_it_was_waiting_for() -> None:
    clock, fire = Clock(), Recorder()
    with measured_flow(fire, "purchase", deadline_seconds=120, clock=clock) as flow:
        clock.now += 119
        flow.check_deadline("PENDING")
        clock.now += 2
        flow.check_deadline("PENDING")
    assert "still PENDING after 121 s" in str(fire.fired[0]["exception"])


def test_server_timing_is_read_per_metric_and_averaged_per_request_name() -> None:
    assert server_timing('handler;dur=12.5, dynamodb;dur=3.1;desc="2 calls"') == {
        "handler": 12.5,
        "dynamodb": 3.1,
    }
    assert server_timing(None) == {}
    assert server_timing("garbage, x;dur=abc") == {}
    times = ServerTimes()
    times.add("GET", "/courses", "handler;dur=10, dynamodb;dur=4")
    times.add("GET", "/courses", "handler;dur=20, dynamodb;dur=6")
    times.add("GET", "/courses", None)  # a Stripe call: no header, not counted
    assert times.means() == {("GET", "/courses"): {"handler": 15.0, "dynamodb": 5.0}}


def _summary(requests: int, failures: int, flow_p95: float, exceptions: int = 0) -> dict[str, Any]:
    row = {
        "type": FLOW,
        "name": "purchase",
        "requests": 10,
        "failures": 0,
        "rps": 0.5,
        "mean_ms": 900.0,
        "p50_ms": 800.0,
        "p95_ms": flow_p95,
        "p99_ms": flow_p95,
        "handler_ms": None,
        "dynamodb_ms": None,
    }
    endpoint = {
        **row,
        "type": "GET",
        "name": "/courses",
        "handler_ms": 20.0,
        "dynamodb_ms": 5.0,
        "mean_ms": 50.0,
    }
    return {
        "seconds": 20,
        "requests": requests,
        "failures": failures,
        "exceptions": exceptions,
        "rows": [row, endpoint],
    }


def test_the_run_fails_over_one_percent_of_failures_or_a_flow_over_its_p95_budget() -> None:
    budgets = Budgets(max_failure_ratio=0.01, flow_p95_ms={"purchase": 5000})
    assert judge(_summary(1000, 10, 4000), budgets) == []
    assert judge(_summary(1000, 11, 4000), budgets) == ["11 of 1000 requests failed (1.1%, allowed 1.0%)"]
    assert judge(_summary(1000, 0, 6000), budgets) == ["flow purchase: p95 6,000 ms over its budget 5,000 ms"]
    assert judge(_summary(0, 0, 0), budgets) == ["no request was made"]
    assert "errors in the load suite" in judge(_summary(10, 0, 1, exceptions=2), budgets)[0]


def test_the_table_shows_where_the_time_went() -> None:
    table = format_table(_summary(1000, 0, 4000))
    row = next(line for line in table.splitlines() if "/courses" in line)
    # mean 50 ms: 20 in the handler (5 of them in DynamoDB), 30 outside it
    assert row.split()[-4:] == ["50", "20", "5", "30"]


LOCAL = {"LOAD_URL": "http://127.0.0.1:3000", "LOAD_STRIPE_URL": "http://127.0.0.1:8420"}


def test_a_production_stripe_key_or_a_remote_api_is_refused_without_load_i_mean_it() -> None:
    assert find_target(LOCAL).api_url == "http://127.0.0.1:3000"
    with pytest.raises(RefusedError, match="live"):
        find_target({**LOCAL, "STRIPE_SECRET_KEY": "sk_live_abc"})
    with pytest.raises(RefusedError, match="not on this machine"):
        find_target({"LOAD_URL": "https://api.example.com"})
    assert find_target({"LOAD_URL": "https://api.example.com", "LOAD_I_MEAN_IT": "1"}).api_url == (
        "https://api.example.com"
    )
