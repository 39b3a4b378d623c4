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

from pydantic import Field

from lms import keys
from lms.blobs import BlobStore
from lms.clock import new_id, utcnow
from lms.courses import courses, lessons
from lms.entities import Entity, Lesson, LessonType, UtcDatetime, VideoStatus
from lms.errors import BusinessRuleError, ForbiddenError, NotFoundError, ValidationError
from lms.expressions import Condition, Update, absent, eq, item_exists
from lms.settings import get_settings
from lms.table import Change, Table, Write
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
    replaced_upload_id: str | None = Field(
        default=None, description="the upload whose media the live one replaced (removed after the run)"
    )
    applied_duration: int | None = Field(
        default=None, description="the seconds the live video set as the lesson's duration (not the owner)"
    )

    @property
    def live_upload_id(self) -> str | None:
        return str(self.live["uploadId"]) if self.live else None

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
    content_length: int,
) -> UploadTicket:
    """A presigned PUT for a new upload of the lesson's video; the lesson's video becomes UPLOADING."""
    lesson = lessons.find_lesson(table, lesson_id)
    if not courses.can_manage(principal, courses.get_course(table, lesson.course_id)):
        raise ForbiddenError("Only the course's instructor or an administrator may upload its videos.")
    if lesson.type != LessonType.VIDEO:
        raise BusinessRuleError(
            f"The lesson is a {lesson.type.value} lesson; only video lessons take a video."
        )
    settings = get_settings()
    if content_type not in ALLOWED_CONTENT_TYPES:
        raise ValidationError(f"contentType must be one of {', '.join(ALLOWED_CONTENT_TYPES)}.")
    if content_length > settings.video_max_upload_bytes:
        raise ValidationError(f"Uploads are limited to {settings.video_max_upload_bytes} bytes.")
    upload_id = new_id()
    key = keys.video_upload(lesson_id, upload_id)
    # The live media stays: students keep watching the last READY video meanwhile.
    upload = (
        Update()
        .set(
            uploadId=upload_id,
            status=VideoStatus.UPLOADING.value,
            contentType=content_type,
            sourceKey=key,
            mediaPrefix=keys.video_media(lesson_id, upload_id),
            requestedBy=principal.user_id,
            requestedAt=utcnow().isoformat(),
            courseId=lesson.course_id,
            lessonId=lesson_id,
            limits={
                "maxBytes": settings.video_max_upload_bytes,
                "maxDurationSeconds": settings.video_max_duration_seconds,
                "splitAboveSeconds": settings.video_split_above_seconds,
                "chunkSeconds": settings.video_chunk_seconds,
            },
        )
        .remove("startedAt", "endedAt", "error", "executionName", "executionArn", "source")
    )
    record = Change(keys.lesson_video(lesson.course_id, lesson_id), upload)
    table.transact(
        [record, _lesson_status(lesson.course_id, lesson_id, VideoStatus.UPLOADING, None)],
        otherwise=NotFoundError(f"No lesson with id {lesson_id}."),
    )
    expires = settings.video_upload_url_seconds
    url = store.presigned_put(key, content_type, expires_in=expires, content_length=content_length)
    return UploadTicket(upload_id=upload_id, key=key, upload_url=url, expires_in=expires)


def _lesson_status(
    course_id: str, lesson_id: str, status: VideoStatus, error: str | None, **more: Any
) -> Change:
    # updatedAt moves too, so a lesson edit made from an older read fails its condition (409) rather
    # than writing the old status back.
    changes = Update().set(videoStatus=status.value, updatedAt=utcnow().isoformat(), videoError=error, **more)
    return Change(keys.lesson(course_id, lesson_id), changes, when=item_exists())


class Superseded(Exception):  # noqa: N818 - an outcome, raised only between these functions
    """A newer upload (or the lesson's deletion) took the record over."""


def _transact(table: Table, *writes: Write) -> None:
    if not table.transact_if(writes):
        raise Superseded


def get_record(table: Table, course_id: str, lesson_id: str) -> VideoRecord | None:
    item = table.get(keys.lesson_video(course_id, lesson_id), consistent=True)
    return VideoRecord.from_item(item) if item else None


def find_record(table: Table, lesson_id: str) -> VideoRecord | None:
    """The lesson's record, found from the lesson id alone (an upload key carries no course id)."""
    try:
        lesson = lessons.find_lesson(table, lesson_id)
    except NotFoundError:
        return None
    return get_record(table, lesson.course_id, lesson_id)


def _record_update(record: VideoRecord, changes: Update) -> Change:
    """A change to the record that holds only while this upload is still the latest."""
    key = keys.lesson_video(record.course_id, record.lesson_id)
    return Change(key, changes, when=eq("uploadId", record.upload_id))


def start_processing(table: Table, record: VideoRecord, *, execution_name: str, execution_arn: str) -> None:
    """PROCESSING, with the execution that drives it (a retry of the same run writes the same)."""
    changes = (
        Update()
        .set(status=VideoStatus.PROCESSING.value, executionName=execution_name, executionArn=execution_arn)
        .set_if_absent(startedAt=utcnow().isoformat())
    )
    _transact(
        table,
        _record_update(record, changes),
        _lesson_status(record.course_id, record.lesson_id, VideoStatus.PROCESSING, None),
    )


def record_source(table: Table, record: VideoRecord, source: dict[str, Any]) -> None:
    _transact(table, _record_update(record, Update().set(source=source)))


def record_failure(table: Table, record: VideoRecord, reason: str) -> None:
    """FAILED with the reason the instructor reads, unless a newer upload took over (Superseded)."""
    _transact(
        table,
        _record_update(record, _ended(VideoStatus.FAILED).set(error=reason)),
        _lesson_status(record.course_id, record.lesson_id, VideoStatus.FAILED, reason),
    )


def _ended(status: VideoStatus) -> Update:
    return Update().set(status=status.value, endedAt=utcnow().isoformat())


_READY_ATTEMPTS = 3


def record_ready(table: Table, record: VideoRecord, live: dict[str, Any]) -> None:
    """READY with the new live media, unless a newer upload took over (Superseded).

    The media it replaces is named on the record (``replacedUploadId``) for the run to remove. The
    lesson's ``duration`` becomes the video's length in seconds unless its owner set one (a duration
    the previous video set is the video's, not the owner's), and the course's total follows, in the
    same transaction.
    """
    seconds = max(1, round(float(live["durationSeconds"])))
    for _ in range(_READY_ATTEMPTS):
        item = table.get(keys.lesson(record.course_id, record.lesson_id), consistent=True)
        if item is None:
            raise Superseded  # the lesson was deleted meanwhile
        lesson = Lesson.from_item(item)
        writes = _ready_writes(record, live, lesson, seconds)
        if table.transact_if(writes):
            return
        if not _still_current(table, record):
            raise Superseded
        # The owner edited the lesson between the read and the write: read it again.
    raise Superseded


def _still_current(table: Table, record: VideoRecord) -> bool:
    found = get_record(table, record.course_id, record.lesson_id)
    return found is not None and found.upload_id == record.upload_id


def _ready_writes(record: VideoRecord, live: dict[str, Any], lesson: Lesson, seconds: int) -> list[Write]:
    video_set = lesson.duration is None or lesson.duration == record.applied_duration
    replaced = record.live_upload_id if record.live_upload_id != record.upload_id else None
    changes = _ended(VideoStatus.READY).set(
        live=live,
        error=None,
        replacedUploadId=replaced,
        appliedDuration=seconds if video_set else None,
    )
    duration: dict[str, Any] = {"duration": seconds} if video_set else {}
    as_read: Condition = absent("duration") if lesson.duration is None else eq("duration", lesson.duration)
    status = _lesson_status(record.course_id, record.lesson_id, VideoStatus.READY, None, **duration)
    writes: list[Write] = [
        _record_update(record, changes),
        Change(status.key, status.changes, when=item_exists() & as_read),
    ]
    delta = seconds - (lesson.duration or 0) if video_set else 0
    if delta:
        writes.append(lessons.course_seconds(record.course_id, delta))
    return writes
