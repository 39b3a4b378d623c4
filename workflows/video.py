"""Video processing: an upload under ``uploads/<lessonId>/<uploadId>`` becomes HLS renditions,
thumbnails and a master playlist under ``media/<lessonId>/<uploadId>/``, and a READY lesson.

Started by the media bucket's S3 Object Created event (the rule names the bucket, filled from the
catalog's Resources) through the catalog's starter, which names the execution
``video-<lessonId>-<uploadId>``: a redelivered event, or the same upload again, starts nothing new.
UpdateLesson only commits the outcome; RemoveSpentFiles then removes the source and the media nobody
plays any more, best effort (the bucket's lifecycle rules catch what it leaves).
The media tasks are container-image Lambdas with ffmpeg (``containers/video/Dockerfile``); locally
they run in the platform's workers with Debian's ffmpeg and their declared timeouts enforced.
"""

from __future__ import annotations

from lms import keys
from workflows import records
from workflows.definition import (
    Access,
    BucketAccess,
    BusinessRecord,
    ContainerImage,
    EventTrigger,
    Needs,
    TaskFunction,
    Workflow,
    settled_when,
)

_IMAGE = ContainerImage("containers/video/Dockerfile")
_READ_SOURCE = BucketAccess(Access.READ, keys.UPLOADS_PREFIX)
# Listing lets S3 answer 404 rather than 403 for a missing key: Probe must tell an upload that is
# gone from one it may not read, the transcoders look for renditions a retry already wrote.
_CHECK_SOURCE = BucketAccess(Access.READ, keys.UPLOADS_PREFIX, list=True)
_WRITE_MEDIA = BucketAccess(Access.WRITE, keys.MEDIA_PREFIX)
_MEDIA = BucketAccess(Access.READ_WRITE, keys.MEDIA_PREFIX, list=True)
_TIDY_MEDIA = BucketAccess(Access.READ_WRITE, keys.MEDIA_PREFIX, list=True, delete=True)
# Lambda's ceiling: 15 minutes. Sources above the split threshold (Settings.video_split_above_seconds,
# 10 minutes by default) are cut into chunks of Settings.video_chunk_seconds so no task runs longer.
_MAX_SECONDS = 900
_LARGEST_MEMORY_MB = 10240  # also the most vCPUs (6) Lambda gives
_LARGEST_STORAGE_MB = 10240

VIDEO = Workflow(
    name="video",
    trigger=EventTrigger(
        pattern={
            "source": ["aws.s3"],
            "detail-type": ["Object Created"],
            # The media bucket by its deployed name (filled from the catalog's Resources, as the ASL's
            # placeholders are), so another bucket's uploads/ never start a run.
            "detail": {
                "bucket": {"name": ["${BucketName}"]},
                "object": {"key": [{"prefix": keys.UPLOADS_PREFIX}]},
            },
        },
        business_key=("detail.object.key",),
        bus="default",
        strip_prefix=keys.UPLOADS_PREFIX,
    ),
    functions=(
        TaskFunction(
            "Probe",
            Needs(table=Access.READ_WRITE, bucket=_CHECK_SOURCE, event_bus_put=True),  # VideoFailed
            memory_mb=1024,
            timeout_seconds=120,
            packaging=_IMAGE,
        ),
        TaskFunction("PlanRenditions", timeout_seconds=10),
        TaskFunction(
            "Transcode",
            Needs(bucket=(_READ_SOURCE, _MEDIA)),
            memory_mb=_LARGEST_MEMORY_MB,
            timeout_seconds=_MAX_SECONDS,
            ephemeral_storage_mb=_LARGEST_STORAGE_MB,
            packaging=_IMAGE,
        ),
        TaskFunction(
            "Split",
            Needs(bucket=(_READ_SOURCE, _WRITE_MEDIA)),
            memory_mb=2048,
            timeout_seconds=_MAX_SECONDS,
            ephemeral_storage_mb=_LARGEST_STORAGE_MB,
            packaging=_IMAGE,
        ),
        TaskFunction(
            "TranscodeChunk",
            Needs(bucket=_MEDIA),
            memory_mb=_LARGEST_MEMORY_MB,
            timeout_seconds=_MAX_SECONDS,
            ephemeral_storage_mb=4096,
            packaging=_IMAGE,
        ),
        TaskFunction("JoinChunks", Needs(bucket=_TIDY_MEDIA), timeout_seconds=120),
        TaskFunction(
            "Thumbnails",
            Needs(bucket=(_READ_SOURCE, _WRITE_MEDIA)),
            memory_mb=2048,
            timeout_seconds=_MAX_SECONDS,
            ephemeral_storage_mb=_LARGEST_STORAGE_MB,
            packaging=_IMAGE,
        ),
        TaskFunction("WriteMasterPlaylist", Needs(bucket=_WRITE_MEDIA), timeout_seconds=30),
        TaskFunction(
            "VerifyOutputs",
            Needs(bucket=BucketAccess(Access.READ, keys.MEDIA_PREFIX, list=True)),
            timeout_seconds=300,
        ),
        TaskFunction(
            "UpdateLesson", Needs(table=Access.READ_WRITE, event_bus_put=True), timeout_seconds=120
        ),  # VideoReady
        TaskFunction(
            "RemoveSpentFiles",
            Needs(
                table=Access.READ,
                bucket=(BucketAccess(Access.READ, keys.UPLOADS_PREFIX, delete=True), _TIDY_MEDIA),
            ),
            timeout_seconds=300,
        ),
        TaskFunction(
            "CleanUpFailed",
            Needs(table=Access.READ_WRITE, bucket=_TIDY_MEDIA, event_bus_put=True),  # VideoFailed
            timeout_seconds=120,
        ),
    ),
    # A four-hour source in 5-minute chunks: the Map runs them in parallel, so well under this.
    timeout_seconds=3 * 3600,
    error_alarms=("VideoProcessingFailed", "VideoCleanupFailed"),
    record=BusinessRecord("lesson video", records.lesson_video, settled=(settled_when("status", "READY"),)),
)
