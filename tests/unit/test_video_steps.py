"""VerifyOutputs refuses incomplete or inconsistent renditions (fake blob store, real step logic)."""

from __future__ import annotations

from typing import Any

import pytest

from lms.blobs import BlobsNotDeletedError, InMemoryBlobStore
from lms.video import SPENT_TAG, media, steps
from lms.video.media import Segment
from lms.video.steps import OutputsIncompleteError

PREFIX = "media/l1/u1/"


def store_with(segments: list[Segment], *, missing: str | None = None) -> InMemoryBlobStore:
    store = InMemoryBlobStore()
    store.put(
        f"{PREFIX}360p/index.m3u8", media.media_playlist(segments).encode(), "application/vnd.apple.mpegurl"
    )
    for segment in segments:
        if segment.uri != missing:
            store.put(f"{PREFIX}360p/{segment.uri}", b"ts", "video/mp2t")
    for key in ("master.m3u8", "thumbnails/poster.jpg", "thumbnails/thumb_0001.jpg"):
        store.put(f"{PREFIX}{key}", b"x", "application/octet-stream")
    return store


def job(duration: float) -> dict[str, Any]:
    return {
        "mediaPrefix": PREFIX,
        "source": {"duration": duration},
        "master": {"result": {"masterPlaylistKey": f"{PREFIX}master.m3u8"}},
        "outputs": {
            "renditions": [{"name": "360p", "playlistKey": f"{PREFIX}360p/index.m3u8"}],
            "thumbnails": {
                "posterKey": f"{PREFIX}thumbnails/poster.jpg",
                "thumbnailKeys": [f"{PREFIX}thumbnails/thumb_0001.jpg"],
            },
        },
    }


SEGMENTS = [Segment("index_00000.ts", 6.0), Segment("index_00001.ts", 3.0)]


def test_complete_outputs_pass_with_each_renditions_length() -> None:
    assert steps.verify_outputs(store_with(SEGMENTS), job(9.0)) == {"renditionSeconds": {"360p": 9.0}}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("segments", "missing", "duration", "message"),
    [
        (SEGMENTS, "index_00001.ts", 9.0, "segments missing"),
        (SEGMENTS, None, 20.0, "runs 9.00 s, the source 20.00 s"),
        ([Segment("index_00000.ts", 7.5)], None, 7.5, "a segment runs 7.50 s"),
    ],
)
def test_missing_segments_wrong_lengths_and_long_segments_fail_verification(
    segments: list[Segment], missing: str | None, duration: float, message: str
) -> None:
    with pytest.raises(OutputsIncompleteError, match=message):
        steps.verify_outputs(store_with(segments, missing=missing), job(duration))  # type: ignore[arg-type]


def test_a_failure_recorded_inside_the_parallel_steps_is_reported_before_any_playlist_is_written() -> None:
    store = store_with(SEGMENTS)
    fault = {"Error": "MediaTimeoutError", "Cause": "stuck"}
    failed = {**job(9.0), "outputs": {"renditions": [{"name": "360p"}, {"fault": fault}], "thumbnails": {}}}
    assert steps.write_master_playlist(store, failed) == {"fault": fault}  # type: ignore[arg-type]
    assert store.get(f"{PREFIX}master.m3u8") == b"x"  # unchanged


class RefusingStore(InMemoryBlobStore):
    """S3 answering DeleteObjects with per-key errors for ``refused`` (a fake, like the rest)."""

    def __init__(self, refused: set[str]) -> None:
        super().__init__()
        self.refused = refused
        self.tags: dict[str, dict[str, str]] = {}

    def delete_keys(self, keys: list[str]) -> None:
        for key in keys:
            if key not in self.refused:
                self.blobs.pop(key, None)
        if refused := {key: "AccessDenied" for key in keys if key in self.refused}:
            raise BlobsNotDeletedError(refused)

    def tag(self, keys: list[str], tags: dict[str, str]) -> list[str]:
        self.tags.update(dict.fromkeys(keys, tags))
        return []


def test_spent_media_s3_refuses_to_delete_is_tagged_for_the_lifecycle_rule_and_named() -> None:
    store = RefusingStore(refused={"media/l1/old/360p/seg_00001.ts"})
    for key in ("media/l1/old/master.m3u8", "media/l1/old/360p/seg_00001.ts", "uploads/l1/new"):
        store.put(key, b"x", "application/octet-stream")
    ready = {"lessonId": "l1", "uploadId": "new", "outcome": "READY", "replacedUploadId": "old"}

    result = steps.remove_spent_files(None, store, {**ready, "sourceKey": "uploads/l1/new"})  # type: ignore[arg-type]

    assert result == {"removed": 2, "left": ["media/l1/old/360p/seg_00001.ts"], "untagged": []}
    assert store.tags == {"media/l1/old/360p/seg_00001.ts": SPENT_TAG}
    assert store.keys("") == ["media/l1/old/360p/seg_00001.ts"]
