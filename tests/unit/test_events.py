"""Typed events: one definition gives the producer's entry, the envelope, the consumer's parse and the
trigger's pattern; the state machines that publish events name defined ones."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from lms import events
from lms.clock import FakeClock, use_clock
from lms.events import Actor, EnrollmentRevoked, Event, EventVersionError
from workflows.catalog import WORKFLOWS
from workflows.certificate import CERTIFICATE_REVOCATION
from workflows.definition import EventTrigger, Workflow


def revoked(**changes: Any) -> EnrollmentRevoked:
    return EnrollmentRevoked(
        actor=Actor.user("admin-1"),
        transaction_id="t-1",
        user_id="u-1",
        course_id="c-1",
        reason="Customer asked",
        **changes,
    )


def test_the_envelope_says_who_did_what_to_which_object_with_what_result_when_and_in_which_course() -> None:
    moment = datetime(2026, 3, 1, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    with use_clock(FakeClock(moment)):
        detail = revoked().detail()

    assert detail == {
        "eventId": detail["eventId"],
        "occurredAt": "2026-03-01T12:00:00.000Z",  # UTC, whatever the producer's zone
        "schemaVersion": 1,
        "actor": {"type": "user", "id": "admin-1"},
        "verb": "revoked",
        "object": {"type": "enrollment", "id": "t-1"},
        "result": "refunded",
        "courseId": "c-1",
        "transactionId": "t-1",
        "userId": "u-1",
        "reason": "Customer asked",
    }
    assert len(detail["eventId"]) == 32 and detail["eventId"] != revoked().detail()["eventId"]


def test_every_defined_event_has_a_complete_definition_and_a_unique_name() -> None:
    assert len({event.name for event in events.EVENTS}) == len(events.EVENTS)
    for event in events.EVENTS:
        assert event.source.startswith("lms.") and event.verb and event.object_type, event
        assert event.object_id_field in event.model_fields, event


def test_the_result_can_depend_on_the_event() -> None:
    def progress(done: bool) -> dict[str, Any]:
        return events.LessonProgressRecorded(
            actor=Actor.user("u"),
            user_id="u",
            course_id="c",
            lesson_id="l",
            is_completed=done,
            time_spent_seconds=30,
            progress_percentage=50,
        ).detail()

    assert progress(True)["result"] == "completed" and progress(False)["result"] == "in-progress"
    assert progress(True)["object"] == {"type": "lesson", "id": "l"}


def test_a_consumer_reads_back_what_the_producer_put_on_the_bus() -> None:
    sent = revoked()
    entry = sent.entry("lms")

    assert (entry["Source"], entry["DetailType"], entry["EventBusName"]) == (
        "lms.purchases",
        "EnrollmentRevoked",
        "lms",
    )
    received = EnrollmentRevoked.from_detail(json.loads(entry["Detail"]))
    assert received == sent
    assert received.occurred_at.tzinfo is not None


def test_a_consumer_refuses_another_schema_version_and_tolerates_added_fields() -> None:
    detail = revoked().detail()
    assert EnrollmentRevoked.from_detail({**detail, "addedLater": 1}).transaction_id == "t-1"
    with pytest.raises(EventVersionError):
        EnrollmentRevoked.from_detail({**detail, "schemaVersion": 2})
    with pytest.raises(ValidationError):
        EnrollmentRevoked.from_detail({k: v for k, v in detail.items() if k != "transactionId"})


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValidationError):
        revoked(occurred_at=datetime(2026, 3, 1, 12, 0))  # noqa: DTZ001 - the point of the test
    assert revoked(occurred_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC)).detail()["occurredAt"].endswith("Z")


def test_a_failed_entry_is_an_error_for_the_producer(monkeypatch: pytest.MonkeyPatch) -> None:
    class RefusingBus:
        def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803 - boto3's name
            return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "x"}]}

    monkeypatch.setattr("lms.events.aws.client", lambda _name: RefusingBus())
    with pytest.raises(events.EventNotPublishedError, match="EnrollmentRevoked: InternalFailure"):
        events.publish(revoked())
    assert events.publish_for_analytics(revoked()) is False


def test_a_trigger_takes_its_pattern_from_the_event_definition() -> None:
    trigger = CERTIFICATE_REVOCATION.trigger
    assert isinstance(trigger, EventTrigger)
    assert trigger.pattern == {
        "source": ["lms.purchases"],
        "detail-type": ["EnrollmentRevoked"],
        "detail": {"schemaVersion": [1]},
    }
    assert trigger.business_key == ("detail.transactionId",)  # one revocation per refunded purchase

    by_id = EventTrigger(event=EnrollmentRevoked, detail={"courseId": ["c-1"]})
    assert by_id.business_key == ("detail.eventId",)  # by default, each event runs once
    assert by_id.pattern["detail"] == {"schemaVersion": [1], "courseId": ["c-1"]}


@pytest.mark.parametrize(
    "arguments",
    [
        {"event": EnrollmentRevoked, "pattern": {"source": ["lms.purchases"]}},  # said twice
        {"event": EnrollmentRevoked, "bus": "default"},  # product events are on the lms bus
        {"detail": {"courseId": ["c"]}, "pattern": {"source": ["x"]}, "business_key": ("id",)},  # no event
        {"business_key": ("id",)},  # neither an event nor a pattern
    ],
)
def test_a_trigger_that_contradicts_its_event_is_refused(arguments: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        EventTrigger(**arguments)


def put_events_entries(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = []
        if node.get("Type") == "Task" and str(node.get("Resource", "")).endswith("events:putEvents"):
            found = list(node["Parameters"]["Entries"])
        return found + [e for value in node.values() for e in put_events_entries(value)]
    if isinstance(node, list):
        return [e for value in node for e in put_events_entries(value)]
    return []


DEFINED: dict[tuple[str, str], type[Event]] = {(e.source, e.name): e for e in events.EVENTS}
# State machines whose putEvents state still writes the detail field by field, without the envelope.
# Their owners move them to "Detail.$" from a task's Event.detail() (as certificate's Notify does);
# this list may only shrink.
DETAIL_WITHOUT_ENVELOPE: set[tuple[str, str]] = set()


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_what_a_state_machine_publishes_is_a_defined_event(workflow: Workflow) -> None:
    for entry in put_events_entries(json.loads(workflow.path.read_text())):
        assert (entry["Source"], entry["DetailType"]) in DEFINED, (workflow.name, entry["DetailType"])
        untyped = (workflow.name, entry["DetailType"])
        if "Detail.$" in entry:
            assert untyped not in DETAIL_WITHOUT_ENVELOPE, f"{untyped} is typed now: take it off the list"
        else:
            assert untyped in DETAIL_WITHOUT_ENVELOPE, f"{untyped}: publish a task's Event.detail()"
