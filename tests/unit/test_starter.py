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
