"""The events that announce how a lesson's upload ended: VideoReady and VideoFailed (lms/events.py).

Built from the lesson's video record once the outcome is committed there, never from what a run
believes: the id comes from the (lesson, upload) pair (:meth:`~lms.events.Event.id_for`) and the time
from the record's ``endedAt``, so every attempt that announces an outcome (a retried UpdateLesson, the
clean-up after a lost answer, a re-driven run) announces the same event, which consumers keep once.
"""

from __future__ import annotations

from typing import Any

from lms.clock import utcnow
from lms.entities import VideoStatus
from lms.events import Actor, VideoFailed, VideoReady
from lms.table import Table
from lms.video import records
from lms.video.records import Outcome

VIDEO_WORKFLOW = "video"  # the actor: the workflow that processed the upload


def outcome_event(table: Table, result: dict[str, Any]) -> VideoReady | VideoFailed | None:
    """The event announcing ``result`` (a step's answer naming lessonId, uploadId and its outcome),
    or None when the record does not say this upload ended that way (superseded, not ours)."""
    outcome, lesson_id, upload_id = result.get("outcome"), result.get("lessonId"), result.get("uploadId")
    if outcome not in (Outcome.READY, Outcome.REJECTED, Outcome.FAILED) or not lesson_id or not upload_id:
        return None
    course_id = result.get("courseId")
    record = (
        records.get_record(table, str(course_id), str(lesson_id))
        if course_id
        else records.find_record(table, str(lesson_id))
    )
    if record is None:
        return None
    actor = Actor.system(VIDEO_WORKFLOW)
    if outcome == Outcome.READY:
        if record.live_upload_id != upload_id or not record.live:
            return None
        ended = record.ended_at if record.upload_id == upload_id else None
        return VideoReady(
            event_id=VideoReady.id_for(record.lesson_id, upload_id),
            occurred_at=ended or utcnow(),
            actor=actor,
            lesson_id=record.lesson_id,
            course_id=record.course_id,
            upload_id=upload_id,
            duration_seconds=float(record.live["durationSeconds"]),
        )
    if record.upload_id != upload_id or record.status != VideoStatus.FAILED:
        return None
    return VideoFailed(
        event_id=VideoFailed.id_for(record.lesson_id, upload_id),
        occurred_at=record.ended_at or utcnow(),
        actor=actor,
        lesson_id=record.lesson_id,
        course_id=record.course_id,
        upload_id=upload_id,
        reason=record.error or str(result.get("reason") or ""),
    )
