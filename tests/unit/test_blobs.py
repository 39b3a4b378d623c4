"""The BlobStore fake behaves like S3 where workflows and the API depend on it."""

from __future__ import annotations

import pytest

from lms.blobs import InMemoryBlobStore


def test_an_upload_through_a_presigned_put_has_metadata() -> None:
    store = InMemoryBlobStore()
    assert store.metadata("uploads/a.mp4") is None
    url = store.presigned_put("uploads/a.mp4", "video/mp4")
    assert url.startswith("memory://") and "PUT" in url

    store.upload("uploads/a.mp4", b"\x00" * 10, "video/mp4")

    metadata = store.metadata("uploads/a.mp4")
    assert metadata is not None and metadata.size == 10 and metadata.content_type == "video/mp4"
    assert metadata.last_modified.tzinfo is not None
    assert "GET" in store.presigned_get("uploads/a.mp4")


def test_an_upload_without_a_presigned_put_or_with_another_type_is_refused() -> None:
    store = InMemoryBlobStore()
    with pytest.raises(PermissionError):
        store.upload("uploads/a.mp4", b"x", "video/mp4")
    store.presigned_put("uploads/a.mp4", "video/mp4")
    with pytest.raises(PermissionError):
        store.upload("uploads/a.mp4", b"x", "text/html")
    assert store.metadata("uploads/a.mp4") is None


def test_delete_objects_refusing_some_keys_is_an_error_naming_them() -> None:
    import boto3
    from botocore.stub import Stubber

    from lms.blobs import BlobsNotDeletedError, S3BlobStore

    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    store = S3BlobStore("media", client=client)
    with Stubber(client) as stub:
        # S3 answers 200 with per-key errors: a delete that "succeeded" but left objects behind.
        stub.add_response(
            "delete_objects",
            {"Errors": [{"Key": "media/l/u/a.ts", "Code": "AccessDenied", "Message": "Access Denied"}]},
            {
                "Bucket": "media",
                "Delete": {"Objects": [{"Key": "media/l/u/a.ts"}, {"Key": "media/l/u/b.ts"}], "Quiet": True},
            },
        )
        with pytest.raises(BlobsNotDeletedError) as refused:
            store.delete_keys(["media/l/u/a.ts", "media/l/u/b.ts"])
    assert refused.value.refused == {"media/l/u/a.ts": "AccessDenied"}
