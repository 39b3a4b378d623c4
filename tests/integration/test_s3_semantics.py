"""The local S3 answers as AWS's does: presigned URLs are SigV4, checked for signature, expiry and
every signed header, and worth exactly the rights of the role that signed them; a missing key is a
404 only for a caller that may list its prefix, a 403 for anyone else."""

from __future__ import annotations

import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from lms import aws
from lms.blobs import BlobAccessDeniedError, S3BlobStore
from lms.settings import get_settings
from tests.conftest import ApiClient
from tests.videos import video_lesson


def signer(credentials: aws.Credentials | None) -> S3BlobStore:
    """The product's store, signing with these credentials (a function's or the API's)."""
    assert credentials is not None
    client = boto3.client(
        "s3",
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
        region_name=aws.region(),
        config=Config(signature_version="s3v4", retries={"max_attempts": 1}),
    )
    return S3BlobStore(get_settings().bucket_name, client)


def admin_store() -> S3BlobStore:
    return S3BlobStore(get_settings().bucket_name)


def upload_key() -> str:
    return f"uploads/s3-semantics/{uuid.uuid4().hex}"


def put(url: str, body: bytes, content_type: str = "video/mp4") -> requests.Response:
    return requests.put(url, data=body, headers={"Content-Type": content_type}, timeout=10)


def test_the_product_signs_presigned_urls_with_sigv4_and_signs_the_length(local_cloud: Any) -> None:
    url = signer(local_cloud.api_credentials).presigned_put(upload_key(), "video/mp4", content_length=3)

    query = parse_qs(urlparse(url).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-SignedHeaders"] == ["content-length;content-type;host"]


def test_a_presigned_put_with_the_declared_length_lands(local_cloud: Any) -> None:
    key = upload_key()
    url = signer(local_cloud.api_credentials).presigned_put(key, "video/mp4", content_length=5)

    assert put(url, b"12345").status_code == 200

    metadata = admin_store().metadata(key)
    assert metadata is not None and metadata.size == 5


def test_a_presigned_put_of_another_length_is_refused_and_nothing_lands(local_cloud: Any) -> None:
    key = upload_key()
    url = signer(local_cloud.api_credentials).presigned_put(key, "video/mp4", content_length=1000)

    refused = put(url, b"\x00" * 420 * 1024)

    assert refused.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in refused.text
    assert admin_store().metadata(key) is None


def test_an_expired_presigned_url_is_refused(local_cloud: Any) -> None:
    key = upload_key()
    url = signer(local_cloud.api_credentials).presigned_put(key, "video/mp4", expires_in=1, content_length=1)
    time.sleep(2.1)

    refused = put(url, b"x")

    assert refused.status_code == 403
    assert "<Code>AccessDenied</Code>" in refused.text and "Request has expired" in refused.text
    assert admin_store().metadata(key) is None


def test_a_tampered_presigned_url_is_refused(local_cloud: Any) -> None:
    key = upload_key()
    url = signer(local_cloud.api_credentials).presigned_put(key, "video/mp4", content_length=1)
    signature = parse_qs(urlparse(url).query)["X-Amz-Signature"][0]
    tampered = url.replace(signature, ("0" if signature[0] != "0" else "1") + signature[1:])
    other_key = url.replace(key, upload_key())

    assert put(tampered, b"x").status_code == 403
    assert put(other_key, b"x").status_code == 403  # the key is signed too
    assert put(url, b"x", content_type="text/html").status_code == 403  # and the type
    assert admin_store().metadata(key) is None


def test_a_url_signed_by_a_role_without_put_object_there_is_refused_when_used(local_cloud: Any) -> None:
    """Probe reads uploads/ but may not write there: its signature is valid, its rights are not."""
    key = upload_key()
    url = signer(local_cloud.credentials["lms-video-probe"]).presigned_put(key, "video/mp4", content_length=1)

    refused = put(url, b"x")

    assert refused.status_code == 403 and "<Code>AccessDenied</Code>" in refused.text
    assert "s3:PutObject" in refused.text and "lms-video-probe" in refused.text
    assert admin_store().metadata(key) is None


def test_a_sigv2_presigned_url_is_refused(local_cloud: Any) -> None:
    legacy = boto3.client("s3", region_name=aws.region(), config=Config(signature_version="s3"))
    url = legacy.generate_presigned_url(
        "get_object", Params={"Bucket": get_settings().bucket_name, "Key": "x"}
    )

    refused = requests.get(url, timeout=10)

    assert refused.status_code == 400 and "AWS4-HMAC-SHA256" in refused.text


def test_an_unsigned_request_for_an_object_is_refused(local_cloud: Any) -> None:
    key = upload_key()
    admin_store().put(key, b"private", "text/plain")

    refused = requests.get(f"{local_cloud.endpoint}/{get_settings().bucket_name}/{key}", timeout=10)

    assert refused.status_code == 403 and "AccessDenied" in refused.text


def test_head_of_a_missing_key_is_403_without_list_bucket_and_404_with_it(local_cloud: Any) -> None:
    api = signer(local_cloud.api_credentials)  # lists media/, may not list certificates/
    client = api.client
    bucket = get_settings().bucket_name

    with pytest.raises(ClientError) as forbidden:
        client.head_object(Bucket=bucket, Key="certificates/missing.pdf")
    with pytest.raises(ClientError) as missing:
        client.head_object(Bucket=bucket, Key="media/missing/master.m3u8")

    assert forbidden.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_get_of_a_missing_key_is_access_denied_without_list_bucket_and_no_such_key_with_it(
    local_cloud: Any,
) -> None:
    api = signer(local_cloud.api_credentials)
    bucket = get_settings().bucket_name

    with pytest.raises(ClientError) as forbidden:
        api.client.get_object(Bucket=bucket, Key="certificates/missing.pdf")
    with pytest.raises(ClientError) as missing:
        api.client.get_object(Bucket=bucket, Key="media/missing/master.m3u8")

    assert forbidden.value.response["Error"]["Code"] == "AccessDenied"
    assert "s3:ListBucket" in forbidden.value.response["Error"]["Message"]
    assert missing.value.response["Error"]["Code"] == "NoSuchKey"


def test_the_blob_store_takes_a_404_for_absent_and_never_a_403(local_cloud: Any) -> None:
    api = signer(local_cloud.api_credentials)

    assert api.metadata("media/missing/master.m3u8") is None
    assert api.get("media/missing/master.m3u8") is None
    with pytest.raises(BlobAccessDeniedError, match="list=True"):
        api.metadata("certificates/missing.pdf")
    with pytest.raises(BlobAccessDeniedError):
        api.get("certificates/missing.pdf")


def test_an_upload_ticket_of_the_api_takes_its_declared_length_only(instructor: ApiClient, demo: Any) -> None:
    """Over HTTP: the URL the API hands out for contentLength 1000 refuses a 420 KB body."""
    _, lesson_id = video_lesson(instructor, demo.data.categories["Python"].category_id)
    ticket = instructor.post(
        f"/lessons/{lesson_id}/video", json={"contentType": "video/mp4", "contentLength": 1000}
    )
    assert ticket.status_code == 201, ticket.text

    refused = put(ticket.json()["uploadUrl"], b"\x00" * 420 * 1024)

    assert refused.status_code == 403
    assert admin_store().metadata(ticket.json()["key"]) is None
