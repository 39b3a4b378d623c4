"""The starter names an event-triggered execution from the event's business keys."""

from __future__ import annotations

import pytest

from tasks.starter import MissingBusinessKeyError, business_key

S3_EVENT = {"detail-type": "Object Created", "detail": {"object": {"key": "uploads/l1/u1.mp4", "size": 7}}}


def test_the_business_key_is_the_values_at_the_declared_paths_joined() -> None:
    assert business_key(S3_EVENT, ["detail.object.key"]) == "uploads/l1/u1.mp4"
    assert business_key(S3_EVENT, ["detail.object.key", "detail.object.size"]) == "uploads/l1/u1.mp4-7"


def test_an_event_without_a_declared_field_is_refused_rather_than_named_by_accident() -> None:
    with pytest.raises(MissingBusinessKeyError, match=r"detail\.object\.etag"):
        business_key(S3_EVENT, ["detail.object.etag"])
    with pytest.raises(MissingBusinessKeyError):
        business_key(S3_EVENT, ["detail-type.nested"])


def test_a_declared_prefix_is_stripped_so_an_upload_names_its_lesson_and_upload() -> None:
    event = {"detail": {"object": {"key": "uploads/lesson1/upload1"}}}
    assert business_key(event, ["detail.object.key"], strip_prefix="uploads/") == "lesson1/upload1"


# --- scheduled ticks ----------------------------------------------------------------------------------


def test_a_tick_is_named_after_its_scheduled_time_truncated_to_the_period() -> None:
    from workflows.definition import ScheduleTrigger, Workflow, period_key

    every_quarter = ScheduleTrigger(rate_seconds=900)
    assert every_quarter.period_key("2026-11-29T15:30:00Z") == "20261129T1530"
    # A late or duplicate delivery of the same tick, anywhere in the period, names the same run.
    assert every_quarter.period_key("2026-11-29T15:44:59Z") == "20261129T1530"
    assert every_quarter.period_key("2026-11-29T15:45:00Z") == "20261129T1545"
    assert period_key("2026-11-29T16:30:00+01:00", 3600) == "20261129T1500"  # UTC, whatever the offset
    workflow = Workflow(name="sweep", trigger=every_quarter)
    assert workflow.execution_name(every_quarter.period_key("2026-11-29T15:37:12Z")) == "sweep-20261129T1530"


def test_a_schedule_rate_is_whole_minutes_and_a_tick_time_carries_its_zone() -> None:
    from workflows.definition import ScheduleTrigger, period_key

    for seconds in (0, 30, 90):
        with pytest.raises(ValueError, match="whole minutes"):
            ScheduleTrigger(rate_seconds=seconds)
    with pytest.raises(ValueError, match="zone"):
        period_key("2026-11-29T15:30:00", 900)


def test_the_starter_of_a_schedule_names_the_run_after_the_tick() -> None:
    from workflows import catalog
    from workflows.definition import ScheduleTrigger, Workflow

    workflow = Workflow(name="sweep", trigger=ScheduleTrigger(rate_seconds=600))
    assert workflow.starter is not None and workflow.starter.needs.start_workflows == ("sweep",)
    variables = catalog.environment(
        workflow, workflow.starter, catalog.Resources("t", "b", "bus", None, {"sweep": "arn"})
    )
    assert variables["LMS_BUSINESS_KEY"] == "time" and variables["LMS_SCHEDULE_RATE_SECONDS"] == "600"
