"""The per-lesson video record (what AWS's Video on Demand keeps per video) and its transitions.

One item per lesson (``keys.lesson_video``) holds the latest upload (its id, status, limits, source
metadata, start/end times, error, execution) and the live media (the last upload that became READY),
which stays playable until a newer upload is READY. Every transition after the upload request is
conditional on the upload still being the latest, so an older run never overwrites a newer one, and
the lesson's ``videoStatus``/``videoError`` change in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from pydantic import Field

from lms import catalog, keys
from lms.blobs import BlobStore
from lms.clock import new_id, utcnow
from lms.entities import Entity, LessonType, UtcDatetime, VideoStatus
from lms.errors import BusinessRuleError, ForbiddenError, NotFoundError, ValidationError
from lms.settings import get_settings
from lms.table import Item, Table, is_conditional_failure, serialize, serialize_key
from lms.video.media import Limits

if TYPE_CHECKING:
    from lms.identity import Principal  # only annotations: task packages carry no argon2 or jwt

ALLOWED_CONTENT_TYPES = (
    "video/mp4",
    "video/quicktime",
    "video/webm",
    "video/x-matroska",
    "video/x-msvideo",
    "video/mpeg",
)


class Outcome(StrEnum):
    """How a run ended, as its execution output and the record say."""

    READY = "READY"
    REJECTED = "REJECTED"  # the media was refused (corrupt, audio only, too long...): lesson FAILED
    FAILED = "FAILED"  # a fault (a tool crashed or timed out, outputs incomplete): lesson FAILED
    SUPERSEDED = "SUPERSEDED"  # a newer upload of the same lesson owns the record
    ALREADY_PROCESSED = "ALREADY_PROCESSED"  # this upload's run already ended (READY or FAILED)
    UNKNOWN_UPLOAD = "UNKNOWN_UPLOAD"  # no lesson or no upload request behind this object


class VideoRecord(Entity):
    lesson_id: str
    course_id: str
    upload_id: str
    status: VideoStatus
    content_type: str
    source_key: str
    media_prefix: str
    requested_by: str
    requested_at: UtcDatetime
    limits: dict[str, float]
    started_at: UtcDatetime | None = None
    ended_at: UtcDatetime | None = None
    error: str | None = None
    execution_name: str | None = None
    execution_arn: str | None = None
    source: dict[str, Any] | None = None
    live: dict[str, Any] | None = Field(default=None, description="the media of the last READY upload")

    @property
    def upload_limits(self) -> Limits:
        return Limits(
            max_bytes=int(self.limits["maxBytes"]),
            max_duration_seconds=float(self.limits["maxDurationSeconds"]),
            split_above_seconds=float(self.limits["splitAboveSeconds"]),
            chunk_seconds=float(self.limits["chunkSeconds"]),
        )


@dataclass(frozen=True)
class UploadTicket:
    upload_id: str
    key: str
    upload_url: str
    expires_in: int


def request_upload(
    table: Table,
    store: BlobStore,
    principal: Principal,
    lesson_id: str,
    *,
    content_type: str,
    content_length: int | None,
) -> UploadTicket:
    """A presigned PUT for a new upload of the lesson's video; the lesson's video becomes UPLOADING."""
    lesson = catalog.find_lesson(table, lesson_id)
    if not catalog.can_manage(principal, catalog.get_course(table, lesson.course_id)):
        raise ForbiddenError("Only the course's instructor or an administrator may upload its videos.")
    if lesson.type != LessonType.VIDEO:
        raise BusinessRuleError(
            f"The lesson is a {lesson.type.value} lesson; only video lessons take a video."
        )
    settings = get_settings()
    if content_type not in ALLOWED_CONTENT_TYPES:
        raise ValidationError(f"contentType must be one of {', '.join(ALLOWED_CONTENT_TYPES)}.")
    if content_length is not None and content_length > settings.video_max_upload_bytes:
        raise ValidationError(f"Uploads are limited to {settings.video_max_upload_bytes} bytes.")
    upload_id = new_id()
    key = keys.video_upload(lesson_id, upload_id)
    now = utcnow().isoformat()
    upload = {
        ":upload": upload_id,
        ":status": VideoStatus.UPLOADING.value,
        ":type": content_type,
        ":key": key,
        ":media": keys.video_media(lesson_id, upload_id),
        ":by": principal.user_id,
        ":now": now,
        ":course": lesson.course_id,
        ":lesson": lesson_id,
        ":limits": {
            "maxBytes": settings.video_max_upload_bytes,
            "maxDurationSeconds": settings.video_max_duration_seconds,
            "splitAboveSeconds": settings.video_split_above_seconds,
            "chunkSeconds": settings.video_chunk_seconds,
        },
    }
    record = {
        "Update": {
            "Key": serialize_key(keys.lesson_video(lesson.course_id, lesson_id)),
            # The live media stays: students keep watching the last READY video meanwhile.
            "UpdateExpression": (
                "SET uploadId = :upload, #status = :status, contentType = :type, sourceKey = :key, "
                "mediaPrefix = :media, requestedBy = :by, requestedAt = :now, courseId = :course, "
                "lessonId = :lesson, limits = :limits "
                "REMOVE startedAt, endedAt, #error, executionName, executionArn, #source"
            ),
            "ExpressionAttributeNames": {"#status": "status", "#error": "error", "#source": "source"},
            "ExpressionAttributeValues": serialize(upload),
        }
    }
    _transact(table, record, _lesson_status(lesson.course_id, lesson_id, VideoStatus.UPLOADING, None))
    expires = settings.video_upload_url_seconds
    url = store.presigned_put(key, content_type, expires_in=expires, content_length=content_length)
    return UploadTicket(upload_id=upload_id, key=key, upload_url=url, expires_in=expires)


def _lesson_status(course_id: str, lesson_id: str, status: VideoStatus, error: str | None) -> dict[str, Any]:
    # updatedAt moves too, so a lesson edit made from an older read fails its condition (409) rather
    # than writing the old status back.
    values: Item = {":status": status.value, ":now": utcnow().isoformat()}
    expression = "SET videoStatus = :status, updatedAt = :now"
    if error is None:
        expression += " REMOVE videoError"
    else:
        expression += ", videoError = :error"
        values[":error"] = error
    return {
        "Update": {
            "Key": serialize_key(keys.lesson(course_id, lesson_id)),
            "UpdateExpression": expression,
            "ConditionExpression": "attribute_exists(PK)",
            "ExpressionAttributeValues": serialize(values),
        }
    }


class Superseded(Exception):  # noqa: N818 - an outcome, raised only between these functions
    """A newer upload (or the lesson's deletion) took the record over."""


def _transact(table: Table, *operations: dict[str, Any]) -> None:
    try:
        table.transact_write(list(operations))
    except ClientError as error:
        if is_conditional_failure(error):
            raise Superseded from error
        raise


def get_record(table: Table, course_id: str, lesson_id: str) -> VideoRecord | None:
    item = table.get(keys.lesson_video(course_id, lesson_id), consistent=True)
    return VideoRecord.from_item(item) if item else None


def find_record(table: Table, lesson_id: str) -> VideoRecord | None:
    """The lesson's record, found from the lesson id alone (an upload key carries no course id)."""
    try:
        lesson = catalog.find_lesson(table, lesson_id)
    except NotFoundError:
        return None
    return get_record(table, lesson.course_id, lesson_id)


def _is_current(upload_id: str) -> dict[str, Any]:
    return {
        "ConditionExpression": "uploadId = :upload",
        "ExpressionAttributeValues": {":upload": {"S": upload_id}},
    }


def _record_update(
    record: VideoRecord, expression: str, values: Item, names: dict[str, str]
) -> dict[str, Any]:
    condition = _is_current(record.upload_id)
    return {
        "Update": {
            "Key": serialize_key(keys.lesson_video(record.course_id, record.lesson_id)),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {**serialize(values), **condition["ExpressionAttributeValues"]},
            "ConditionExpression": condition["ConditionExpression"],
        }
    }


def start_processing(table: Table, record: VideoRecord, *, execution_name: str, execution_arn: str) -> None:
    """PROCESSING, with the execution that drives it (a retry of the same run writes the same)."""
    values = {
        ":status": VideoStatus.PROCESSING.value,
        ":now": utcnow().isoformat(),
        ":name": execution_name,
        ":arn": execution_arn,
    }
    _transact(
        table,
        _record_update(
            record,
            "SET #status = :status, startedAt = if_not_exists(startedAt, :now), "
            "executionName = :name, executionArn = :arn",
            values,
            {"#status": "status"},
        ),
        _lesson_status(record.course_id, record.lesson_id, VideoStatus.PROCESSING, None),
    )


def record_source(table: Table, record: VideoRecord, source: dict[str, Any]) -> None:
    _transact(
        table, _record_update(record, "SET #source = :source", {":source": source}, {"#source": "source"})
    )


def record_failure(table: Table, record: VideoRecord, reason: str) -> None:
    """FAILED with the reason the instructor reads, unless a newer upload took over (Superseded)."""
    _record_outcome(table, record, VideoStatus.FAILED, "#error = :error", {":error": reason}, error=reason)


def record_ready(table: Table, record: VideoRecord, live: dict[str, Any]) -> None:
    """READY with the new live media, unless a newer upload took over (Superseded)."""
    _record_outcome(table, record, VideoStatus.READY, "live = :live", {":live": live}, error=None)


def _record_outcome(
    table: Table,
    record: VideoRecord,
    status: VideoStatus,
    assignment: str,
    values: Item,
    *,
    error: str | None,
) -> None:
    """The run's end on its record (status, end time, ``assignment``) and the lesson's status, together."""
    expression = f"SET #status = :status, endedAt = :now, {assignment}" + ("" if error else " REMOVE #error")
    _transact(
        table,
        _record_update(
            record,
            expression,
            {":status": status.value, ":now": utcnow().isoformat(), **values},
            {"#status": "status", "#error": "error"},
        ),
        _lesson_status(record.course_id, record.lesson_id, status, error),
    )
