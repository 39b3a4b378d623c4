"""Video processing as deployed: the trigger matches the media bucket by name, and the media bucket
expires what the product no longer needs (infra/data.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lms import keys
from lms.video import SPENT_TAG
from workflows.video import VIDEO


@pytest.fixture(scope="module")
def deployed(synthesized) -> tuple[dict[str, Any], Any]:
    template, template_file = synthesized
    return json.loads(template_file.read_text()), template


def _media_bucket(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return next(
        (name, r["Properties"])
        for name, r in template["Resources"].items()
        if r["Type"] == "AWS::S3::Bucket" and name.startswith("DataMedia")
    )


def test_an_upload_starts_video_processing_only_from_the_media_bucket(deployed) -> None:
    template, _ = deployed
    bucket, _ = _media_bucket(template)
    patterns = [
        r["Properties"]["EventPattern"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Events::Rule"
        and r["Properties"].get("EventPattern", {}).get("source") == ["aws.s3"]
    ]
    assert patterns == [
        {
            "source": ["aws.s3"],
            "detail-type": ["Object Created"],
            "detail": {
                "bucket": {"name": [{"Ref": bucket}]},
                "object": {"key": [{"prefix": keys.UPLOADS_PREFIX}]},
            },
        }
    ]
    assert VIDEO.trigger.pattern["detail"]["bucket"]["name"] == ["${BucketName}"]  # type: ignore[union-attr]


def test_the_media_bucket_expires_old_versions_spent_media_and_left_over_uploads(deployed) -> None:
    template, _ = deployed
    _, bucket = _media_bucket(template)
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = {rule["Id"]: rule for rule in bucket["LifecycleConfiguration"]["Rules"]}
    assert all(rule["Status"] == "Enabled" for rule in rules.values())
    versions = rules["NoncurrentVersions"]
    assert versions["NoncurrentVersionExpiration"]["NoncurrentDays"] > 0
    assert "Prefix" not in versions and "TagFilters" not in versions  # every object of the bucket
    assert rules["UploadSources"]["Prefix"] == keys.UPLOADS_PREFIX
    assert rules["UploadSources"]["ExpirationInDays"] > 0
    spent = rules["SpentMedia"]
    assert spent["Prefix"] == keys.MEDIA_PREFIX
    assert spent["TagFilters"] == [{"Key": k, "Value": v} for k, v in SPENT_TAG.items()]
    assert spent["ExpirationInDays"] > 0
