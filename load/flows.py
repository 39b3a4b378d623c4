"""A business flow measured as one request: start, the steps in between, done.

An asynchronous operation (a purchase: start it, pay, poll until COMPLETED) is what a user waits
for, so it is reported through Locust's request event like any endpoint, under request type
``FLOW``: its p50/p95/p99 stand beside each endpoint's in the stats, the CSVs and the HTML report.
This module has no Locust import; ``fire`` is ``environment.events.request.fire``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

FLOW = "FLOW"


class FlowError(Exception):
    """The flow did not reach its successful end (a step failed, or the outcome was not the one
    the user wanted, or it took longer than its deadline). Reported as the flow's failure."""


class Flow:
    """The flow being measured: its deadline, for the polling steps."""

    def __init__(self, name: str, deadline_seconds: float, clock: Callable[[], float]) -> None:
        self.name = name
        self._clock = clock
        self.started = clock()
        self.deadline = self.started + deadline_seconds

    def elapsed_ms(self) -> float:
        return (self._clock() - self.started) * 1000

    def check_deadline(self, what: str) -> None:
        if self._clock() > self.deadline:
            raise FlowError(f"{self.name}: still {what} after {self.elapsed_ms() / 1000:.0f} s")


@contextlib.contextmanager
def measured_flow(
    fire: Callable[..., Any],
    name: str,
    *,
    deadline_seconds: float = 120.0,
    clock: Callable[[], float] = time.perf_counter,
) -> Iterator[Flow]:
    """Measure the block as the flow ``name``: one request event when it ends, with its duration.

    A :class:`FlowError` is reported as the flow's failure and not raised further (the user goes on
    with its next task); any other exception is reported and raised. A block ended by the run
    stopping (gevent kills the user with ``GreenletExit``, a ``BaseException``) reports nothing: a
    flow cut short by the end of the run has no outcome.
    """
    flow = Flow(name, deadline_seconds, clock)

    def report(error: Exception | None) -> None:
        fire(
            request_type=FLOW,
            name=name,
            response_time=flow.elapsed_ms(),
            response_length=0,
            response=None,
            context={},
            exception=error,
        )

    try:
        yield flow
    except FlowError as failed:
        report(failed)
    except Exception as unexpected:
        report(unexpected)
        raise
    else:
        report(None)


def server_timing(header: str | None) -> dict[str, float]:
    """``Server-Timing: handler;dur=12.5, dynamodb;dur=3.1;desc="2 calls"`` -> ``{name: ms}``."""
    timings: dict[str, float] = {}
    for metric in (header or "").split(","):
        name, *parameters = (part.strip() for part in metric.split(";"))
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            if name and key.strip() == "dur":
                with contextlib.suppress(ValueError):
                    timings[name] = float(value)
    return timings


class ServerTimes:
    """Per request name: how many answers carried Server-Timing, and the sum of each duration."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}
        self.sums: dict[tuple[str, str], dict[str, float]] = {}

    def add(self, request_type: str, name: str, header: str | None) -> None:
        timings = server_timing(header)
        if not timings:
            return
        key = (request_type, name)
        self.counts[key] = self.counts.get(key, 0) + 1
        sums = self.sums.setdefault(key, {})
        for metric, ms in timings.items():
            sums[metric] = sums.get(metric, 0.0) + ms

    def means(self) -> dict[tuple[str, str], dict[str, float]]:
        return {
            key: {metric: total / self.counts[key] for metric, total in sums.items()}
            for key, sums in self.sums.items()
        }
