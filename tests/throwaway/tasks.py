"""Handlers of the throwaway workflows (run by the local Lambda runtime in worker processes)."""

from __future__ import annotations

import os
import time
from typing import Any

from lms.blobs import S3BlobStore


def greet(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {
        "greeting": f"hello {event['name']}",
        "tableName": os.environ.get("LMS_TABLE_NAME"),
        "seesJwtSecret": "LMS_JWT_SECRET" in os.environ,
        "functionName": context.function_name,
        "pid": os.getpid(),
    }


def inspect(event: dict[str, Any], context: Any) -> dict[str, Any]:
    metadata = S3BlobStore(os.environ["LMS_BUCKET_NAME"]).metadata(event["detail"]["object"]["key"])
    if metadata is None:
        raise FileNotFoundError(event["detail"]["object"]["key"])
    return {"key": metadata.key, "size": metadata.size, "contentType": metadata.content_type}


def dawdle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    time.sleep(float(event.get("seconds", 600)))  # far past the declared 2 s
    return {"woke": True}


def pong(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"pong": event["detail"]["pingId"], "detailType": event["detail-type"]}
