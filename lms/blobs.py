"""The BlobStore port: presigned uploads and downloads, and object metadata.

Clients never send media through the API: they PUT to a presigned URL and GET from one. Workflows
(video processing, certificates) read an object's metadata by key. :class:`S3BlobStore` is the
real store (S3 in AWS, the local cloud's S3 locally); :class:`InMemoryBlobStore` is the fake for
unit tests.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote

from botocore.exceptions import ClientError

from lms import aws
from lms.clock import utcnow

DEFAULT_EXPIRY_SECONDS = 15 * 60
_MISSING = ("404", "NoSuchKey", "NotFound")
_FORBIDDEN = ("403", "AccessDenied", "Forbidden")


class BlobAccessDeniedError(PermissionError):
    """S3 refused to say whether the object exists.

    Without ``s3:ListBucket`` on the key's prefix, S3 answers a GET or HEAD of a missing key with
    403, exactly as for a key the caller may not read: "absent" and "forbidden" look the same. A
    function that must tell them apart declares ``BucketAccess(..., list=True)`` for that prefix.
    """

    def __init__(self, key: str) -> None:
        super().__init__(
            f"access denied to {key}: either it is outside this function's grants, or it is missing "
            "and the function may not list its prefix (declare list=True on the bucket grant)"
        )
        self.key = key


class BlobsNotDeletedError(Exception):
    """S3 refused to delete some objects: key -> its error code."""

    def __init__(self, refused: dict[str, str]) -> None:
        sample = ", ".join(f"{key} ({code})" for key, code in list(refused.items())[:3])
        super().__init__(f"{len(refused)} objects not deleted: {sample}")
        self.refused = refused


@dataclass(frozen=True)
class BlobMetadata:
    key: str
    size: int  # bytes
    content_type: str
    etag: str
    last_modified: datetime  # UTC


class BlobStore(Protocol):
    def presigned_put(
        self,
        key: str,
        content_type: str,
        expires_in: int = DEFAULT_EXPIRY_SECONDS,
        content_length: int | None = None,
    ) -> str:
        """A URL a client PUTs the object to, with exactly this ``Content-Type`` (and length, if given)."""
        ...

    def presigned_get(self, key: str, expires_in: int = DEFAULT_EXPIRY_SECONDS) -> str:
        """A URL a client GETs the object from."""
        ...

    def metadata(self, key: str) -> BlobMetadata | None:
        """The object's size, type and version tag, or None if there is no such object.

        Raises :class:`BlobAccessDeniedError` where S3 will not say (no ``s3:ListBucket``)."""
        ...

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store an object the product made itself (e.g. a certificate), encrypted at rest."""
        ...

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None if there is no such object (:meth:`metadata`'s caveat)."""
        ...

    def keys(self, prefix: str) -> list[str]:
        """Every key under ``prefix``, sorted."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under ``prefix``; returns how many there were."""
        ...


class S3BlobStore:
    def __init__(self, bucket: str, client: Any = None) -> None:
        self._bucket = bucket
        self._client = client

    @property
    def client(self) -> Any:
        return self._client or aws.client("s3")

    def presigned_put(
        self,
        key: str,
        content_type: str,
        expires_in: int = DEFAULT_EXPIRY_SECONDS,
        content_length: int | None = None,
    ) -> str:
        params: dict[str, Any] = {"Bucket": self._bucket, "Key": key, "ContentType": content_type}
        if content_length is not None:
            params["ContentLength"] = content_length  # signed: S3 refuses a body of another size
        return str(self.client.generate_presigned_url("put_object", Params=params, ExpiresIn=expires_in))

    def presigned_get(self, key: str, expires_in: int = DEFAULT_EXPIRY_SECONDS) -> str:
        return str(
            self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=expires_in
            )
        )

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(
            Bucket=self._bucket, Key=key, Body=data, ContentType=content_type, ServerSideEncryption="AES256"
        )

    def metadata(self, key: str) -> BlobMetadata | None:
        try:
            head = self.client.head_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            _raise_unless_missing(error, key)
            return None
        return BlobMetadata(
            key=key,
            size=int(head["ContentLength"]),
            content_type=str(head.get("ContentType", "binary/octet-stream")),
            etag=str(head["ETag"]).strip('"'),
            last_modified=head["LastModified"],
        )

    def get(self, key: str) -> bytes | None:
        try:
            return bytes(self.client.get_object(Bucket=self._bucket, Key=key)["Body"].read())
        except ClientError as error:
            _raise_unless_missing(error, key)
            return None

    def upload_file(self, path: str, key: str, content_type: str) -> None:
        self.client.upload_file(path, self._bucket, key, ExtraArgs={"ContentType": content_type})

    def download_file(self, key: str, path: str) -> None:
        self.client.download_file(self._bucket, key, path)

    def keys(self, prefix: str) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self._bucket, Prefix=prefix)
        return sorted(str(o["Key"]) for page in pages for o in page.get("Contents", []))

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under ``prefix``; :class:`BlobsNotDeletedError` names any S3 refused."""
        found = self.keys(prefix)
        self.delete_keys(found)
        return len(found)

    def delete_keys(self, keys: list[str]) -> None:
        """Delete these objects. DeleteObjects answers 200 even when it refused some keys (its
        per-key ``Errors``): those are raised as :class:`BlobsNotDeletedError`."""
        refused: dict[str, str] = {}
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1,000 keys
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            try:
                response = self.client.delete_objects(
                    Bucket=self._bucket, Delete={"Objects": batch, "Quiet": True}
                )
            except ClientError as error:  # the whole batch refused (throttled, denied)
                refused.update(dict.fromkeys(keys[start : start + 1000], error.response["Error"]["Code"]))
                continue
            refused.update({str(e["Key"]): str(e.get("Code", "Unknown")) for e in response.get("Errors", [])})
        if refused:
            raise BlobsNotDeletedError(refused)

    def tag(self, keys: list[str], tags: dict[str, str]) -> list[str]:
        """Put ``tags`` on each object (replacing its tags); the keys that could not be tagged."""
        tag_set = {"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}
        untagged = []
        for key in keys:
            try:
                self.client.put_object_tagging(Bucket=self._bucket, Key=key, Tagging=tag_set)
            except ClientError:
                untagged.append(key)
        return untagged


def _raise_unless_missing(error: ClientError, key: str) -> None:
    """Returns for a missing object (a 404, which S3 gives only to a caller allowed to list); a 403
    raises :class:`BlobAccessDeniedError`, never taken for "absent"; anything else is re-raised."""
    code = error.response["Error"]["Code"]
    if code in _MISSING:
        return
    if code in _FORBIDDEN:
        raise BlobAccessDeniedError(key) from error
    raise error


@dataclass
class _Blob:
    data: bytes
    content_type: str
    last_modified: datetime


@dataclass
class InMemoryBlobStore:
    """The fake: URLs are ``memory://`` references; :meth:`upload` plays the client's PUT."""

    bucket: str = "fake-bucket"
    blobs: dict[str, _Blob] = field(default_factory=dict)
    expected_types: dict[str, str] = field(default_factory=dict)

    def presigned_put(
        self,
        key: str,
        content_type: str,
        expires_in: int = DEFAULT_EXPIRY_SECONDS,
        content_length: int | None = None,
    ) -> str:
        self.expected_types[key] = content_type
        return f"memory://{self.bucket}/{quote(key)}?method=PUT&expires={expires_in}"

    def presigned_get(self, key: str, expires_in: int = DEFAULT_EXPIRY_SECONDS) -> str:
        return f"memory://{self.bucket}/{quote(key)}?method=GET&expires={expires_in}"

    def upload(self, key: str, data: bytes, content_type: str) -> None:
        """What a client's PUT to the presigned URL does; a different type is refused as S3 does."""
        expected = self.expected_types.get(key)
        if expected is None or expected != content_type:
            raise PermissionError(f"no presigned PUT of {key} for {content_type}")
        self.blobs[key] = _Blob(data, content_type, utcnow())

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.blobs[key] = _Blob(data, content_type, utcnow())

    def metadata(self, key: str) -> BlobMetadata | None:
        blob = self.blobs.get(key)
        if blob is None:
            return None
        return BlobMetadata(
            key=key,
            size=len(blob.data),
            content_type=blob.content_type,
            etag=hashlib.md5(blob.data, usedforsecurity=False).hexdigest(),
            last_modified=blob.last_modified,
        )

    def get(self, key: str) -> bytes | None:
        blob = self.blobs.get(key)
        return blob.data if blob else None

    def keys(self, prefix: str) -> list[str]:
        return sorted(key for key in self.blobs if key.startswith(prefix))

    def delete_prefix(self, prefix: str) -> int:
        found = self.keys(prefix)
        for key in found:
            del self.blobs[key]
        return len(found)
