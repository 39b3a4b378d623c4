"""Video uploads over HTTP (docs/api.md, "Catalog"): who may ask for an upload URL, what it allows, and
signed playback links. Processing itself is in tests/workflow/test_video.py."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from tests.conftest import ApiClient
from tests.videos import MP4, lesson_view, video_lesson


@pytest.fixture
def lesson(instructor: ApiClient, demo: Any) -> tuple[str, str]:
    return video_lesson(instructor, demo.data.categories["Python"].category_id)


def test_the_owner_gets_a_presigned_put_for_this_lesson_and_the_lesson_is_uploading(
    instructor: ApiClient, lesson: tuple[str, str]
) -> None:
    course_id, lesson_id = lesson
    response = instructor.post(f"/lessons/{lesson_id}/video", json=MP4)

    assert response.status_code == 201, response.text
    ticket = response.json()
    assert ticket["key"] == f"uploads/{lesson_id}/{ticket['uploadId']}"
    assert ticket["expiresIn"] == 900
    query = parse_qs(urlparse(ticket["uploadUrl"]).query)
    assert (
        ticket["key"] in urlparse(ticket["uploadUrl"]).path
        and "Signature" in query
        or "X-Amz-Signature" in query
    )
    assert lesson_view(instructor, course_id, lesson_id)["videoStatus"] == "UPLOADING"


def test_the_upload_url_takes_only_the_declared_content_type(
    instructor: ApiClient, lesson: tuple[str, str]
) -> None:
    _, lesson_id = lesson
    ticket = instructor.post(f"/lessons/{lesson_id}/video", json=MP4).json()
    refused = requests.put(
        ticket["uploadUrl"],
        data=b"x" * MP4["contentLength"],
        headers={"Content-Type": "text/html"},
        timeout=10,
    )
    assert refused.status_code == 403


def test_the_upload_url_takes_only_the_declared_size(instructor: ApiClient, lesson: tuple[str, str]) -> None:
    _, lesson_id = lesson
    ticket = instructor.post(f"/lessons/{lesson_id}/video", json=MP4).json()
    headers = {"Content-Type": "video/mp4"}

    larger = requests.put(ticket["uploadUrl"], data=b"x" * 420_000, headers=headers, timeout=10)

    assert larger.status_code == 403, larger.text
    assert requests.put(ticket["uploadUrl"], data=b"x" * 1000, headers=headers, timeout=10).status_code == 200


@pytest.mark.parametrize("who", ["anonymous", "student", "another_instructor"])
def test_only_the_owner_or_an_admin_may_upload_and_nothing_changes_otherwise(
    request: pytest.FixtureRequest,
    new_user: Any,
    instructor: ApiClient,
    admin: ApiClient,
    lesson: tuple[str, str],
    who: str,
) -> None:
    course_id, lesson_id = lesson
    client = new_user("instructor").client if who == "another_instructor" else request.getfixturevalue(who)

    response = client.post(f"/lessons/{lesson_id}/video", json=MP4)

    assert response.status_code == (401 if who == "anonymous" else 403), response.text
    assert lesson_view(instructor, course_id, lesson_id)["videoStatus"] is None
    assert admin.post(f"/lessons/{lesson_id}/video", json=MP4).status_code == 201


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"contentType": "text/plain"}, 400, "VALIDATION_ERROR"),
        ({"contentType": "video/mp4", "contentLength": 10 * 1024**4}, 400, "VALIDATION_ERROR"),
        ({"contentType": "video/mp4", "contentLength": 6 * 1024**3}, 400, "VALIDATION_ERROR"),
        ({**MP4, "extra": 1}, 400, "VALIDATION_ERROR"),
        ({"contentType": "video/mp4"}, 400, "VALIDATION_ERROR"),  # the size the URL is signed with
        ({"contentType": "video/mp4", "contentLength": 0}, 400, "VALIDATION_ERROR"),
        ({}, 400, "VALIDATION_ERROR"),
    ],
)
def test_bad_upload_requests_are_refused_and_change_nothing(
    instructor: ApiClient, lesson: tuple[str, str], body: dict[str, Any], status: int, code: str
) -> None:
    course_id, lesson_id = lesson
    response = instructor.post(f"/lessons/{lesson_id}/video", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert lesson_view(instructor, course_id, lesson_id)["videoStatus"] is None


def test_only_video_lessons_take_a_video_and_unknown_lessons_are_404(
    instructor: ApiClient, demo: Any
) -> None:
    course_id, _ = video_lesson(instructor, demo.data.categories["Python"].category_id)
    text = instructor.post(
        "/lessons", json={"courseId": course_id, "title": "Reading", "type": "text"}
    ).json()
    assert instructor.post(f"/lessons/{text['lessonId']}/video", json=MP4).status_code == 422
    unknown = instructor.post(f"/lessons/{uuid.uuid4().hex}/video", json=MP4)
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        {"expires": "9999999999", "signature": "0" * 64},
        {"expires": "1", "signature": "0" * 64},
    ],
)
def test_a_playback_link_with_a_wrong_signature_is_403(anonymous: ApiClient, query: dict[str, str]) -> None:
    response = anonymous.get(f"/videos/{uuid.uuid4().hex}/{uuid.uuid4().hex}/master", params=query)
    assert response.status_code == 403, response.text


@pytest.mark.parametrize(
    ("playlist", "query"),
    [
        ("master", {}),
        ("master", {"expires": "x", "signature": "0" * 64}),
        ("../etc", {"expires": "1", "signature": "0" * 64}),
    ],
)
def test_a_malformed_playback_link_is_400_or_404_never_500(
    anonymous: ApiClient, playlist: str, query: dict[str, str]
) -> None:
    response = anonymous.get(f"/videos/{uuid.uuid4().hex}/{uuid.uuid4().hex}/{playlist}", params=query)
    assert response.status_code in (400, 404), response.text


def test_deleting_a_lesson_or_its_course_deletes_its_video_record(instructor: ApiClient, demo: Any) -> None:
    from lms import keys
    from lms.table import Table

    course_id, first = video_lesson(instructor, demo.data.categories["Python"].category_id)
    second = instructor.post("/lessons", json={"courseId": course_id, "title": "Two", "type": "video"}).json()
    for lesson_id in (first, second["lessonId"]):
        assert instructor.post(f"/lessons/{lesson_id}/video", json=MP4).status_code == 201

    assert instructor.delete(f"/lessons/{first}").status_code == 204
    assert Table().get(keys.lesson_video(course_id, first), consistent=True) is None
    assert instructor.delete(f"/courses/{course_id}").status_code == 204
    assert Table().get(keys.lesson_video(course_id, second["lessonId"]), consistent=True) is None


@pytest.mark.parametrize(("bucket", "starts"), [("media", True), ("another-bucket", False)])
def test_only_an_upload_to_the_media_bucket_matches_the_rule_that_starts_processing(
    local_cloud: Any, bucket: str, starts: bool
) -> None:
    from moto.events.models import EventPattern

    from lms import aws
    from lms.settings import get_settings
    from workflows.video import VIDEO

    events = aws.client("events")
    deployed = events.describe_rule(Name=f"{VIDEO.state_machine_name}-trigger", EventBusName="default")
    name = get_settings().bucket_name if bucket == "media" else bucket
    upload = {  # what S3 sends EventBridge for a PUT under uploads/
        "id": str(uuid.uuid4()),
        "source": "aws.s3",
        "detail-type": "Object Created",
        "account": "123456789012",
        "region": "us-east-1",
        "time": "2026-01-01T00:00:00Z",
        "resources": [f"arn:aws:s3:::{name}"],
        "detail": {
            "bucket": {"name": name},
            "object": {"key": f"uploads/{uuid.uuid4().hex}/{uuid.uuid4().hex}"},
        },
    }

    # The local cloud's own matcher (moto implements no TestEventPattern), on the rule as deployed.
    matched = EventPattern.load(deployed["EventPattern"]).matches_event(upload)

    assert matched is starts
