"""The S3 BlobStore against the local cloud's S3: what a browser does with presigned URLs."""

from __future__ import annotations

import uuid

import requests

from lms.blobs import S3BlobStore
from lms.settings import get_settings


def test_a_presigned_put_then_get_round_trips_and_metadata_describes_the_object(local_cloud) -> None:
    store = S3BlobStore(get_settings().bucket_name)
    key = f"uploads/{uuid.uuid4().hex}.mp4"
    assert store.metadata(key) is None

    put = requests.put(
        store.presigned_put(key, "video/mp4"),
        data=b"frames",
        headers={"Content-Type": "video/mp4"},
        timeout=10,
    )
    assert put.status_code == 200, put.text

    got = requests.get(store.presigned_get(key), timeout=10)
    assert got.status_code == 200 and got.content == b"frames"
    metadata = store.metadata(key)
    assert metadata is not None
    assert (metadata.size, metadata.content_type) == (6, "video/mp4")
    assert metadata.last_modified.tzinfo is not None
