"""The steps of video processing, one function per task of ``state-machines/video.asl.json``.

Each takes the job (a small dict of keys and ids: payloads stay far below 256 KB) and returns what
the state machine keeps. Work is idempotent per upload: a retried transcode finds its playlist
already written and does nothing, because the playlist is uploaded after its segments.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from lms import keys
from lms.blobs import BlobsNotDeletedError, S3BlobStore
from lms.entities import VideoStatus
from lms.table import Table
from lms.video import SPENT_TAG, media, records
from lms.video.media import MediaRejectedError, Rendition, Segment, Source
from lms.video.records import Outcome, Superseded

Job = dict[str, Any]
PRESET = "veryfast"
# The reasons an instructor reads when processing failed for a reason that is not their file.
TOO_SLOW = "Processing took too long and was stopped. Try again, or upload a shorter video."
FAULT = "Processing failed on our side ({error}); operators have been alerted. Try uploading again."


class OutputsIncompleteError(Exception):
    """VerifyOutputs found a playlist or segment missing, or durations that disagree with the source."""


def probe(table: Table, store: S3BlobStore, job: Job, *, timeout: float) -> Job:
    """Claim the upload for this run and validate the media before any compute is spent on it."""
    parsed = keys.parse_video_upload(job["sourceKey"])
    record = records.find_record(table, parsed[0]) if parsed else None
    if parsed is None or record is None:
        return {**job, "outcome": Outcome.UNKNOWN_UPLOAD.value}
    lesson_id, upload_id = parsed
    job = {
        **job,
        "lessonId": lesson_id,
        "courseId": record.course_id,
        "uploadId": upload_id,
        "mediaPrefix": keys.video_media(lesson_id, upload_id),
    }
    if record.upload_id != upload_id:
        return {**job, "outcome": Outcome.SUPERSEDED.value}
    if record.status in (VideoStatus.READY, VideoStatus.FAILED):
        return {**job, "outcome": Outcome.ALREADY_PROCESSED.value}
    metadata = store.metadata(job["sourceKey"])
    if metadata is None:
        return {**job, "outcome": Outcome.UNKNOWN_UPLOAD.value}
    try:
        records.start_processing(
            table, record, execution_name=job["executionName"], execution_arn=job["executionArn"]
        )
        try:
            # Read over a presigned URL: a file we reject is never downloaded whole.
            probed = media.probe(store.presigned_get(job["sourceKey"], expires_in=300), timeout=timeout)
            source = media.inspect(probed, size=metadata.size, limits=record.upload_limits)
        except MediaRejectedError as rejected:
            records.record_failure(table, record, str(rejected))
            return {**job, "outcome": Outcome.REJECTED.value, "reason": str(rejected)}
        records.record_source(table, record, source.as_dict())
    except Superseded:
        return {**job, "outcome": Outcome.SUPERSEDED.value}
    limits = record.upload_limits
    return {
        **job,
        "outcome": "PROCEED",
        "source": source.as_dict(),
        "splitAboveSeconds": limits.split_above_seconds,
        "chunkSeconds": limits.chunk_seconds,
    }


def plan_renditions(job: Job) -> Job:
    source = Source.from_dict(job["source"])
    limits = media.Limits(0, 0, float(job["splitAboveSeconds"]), float(job["chunkSeconds"]))
    return {
        **job,
        "renditions": [r.as_dict() for r in media.renditions_for(source)],
        "long": media.is_long(source, limits),
    }


def _upload_directory(store: S3BlobStore, directory: Path, prefix: str, *, last: str | None = None) -> None:
    """Upload every file; ``last`` (a playlist) goes after the segments it lists."""
    files = sorted(p for p in directory.iterdir() if p.is_file() and p.suffix in media.CONTENT_TYPES)
    for path in sorted(files, key=lambda p: p.name == last):
        store.upload_file(str(path), f"{prefix}{path.name}", media.content_type(path))


def _rendition_prefix(job: Job, rendition: Rendition) -> str:
    return f"{job['mediaPrefix']}{rendition.name}/"


@contextlib.contextmanager
def _scratch_copy(store: S3BlobStore, key: str, output: str) -> Iterator[tuple[Path, Path]]:
    """A scratch directory (gone afterwards) with the object ``key`` as ``source`` and an empty
    ``output`` directory for the tool to write into."""
    with tempfile.TemporaryDirectory() as work:
        source = Path(work) / "source"
        store.download_file(key, str(source))
        out = Path(work) / output
        out.mkdir()
        yield source, out


def transcode(store: S3BlobStore, job: Job, *, timeout: float, preset: str = PRESET) -> Job:
    """One rendition of the whole source (short sources)."""
    rendition = Rendition.from_dict(job["rendition"])
    prefix = _rendition_prefix(job, rendition)
    playlist_key = f"{prefix}{media.PLAYLIST}"
    if store.metadata(playlist_key) is None:
        with _scratch_copy(store, job["sourceKey"], "out") as (source, out):
            media.run(media.hls_command(source, [(rendition, out, "index")], preset=preset), timeout=timeout)
            _upload_directory(store, out, prefix, last=media.PLAYLIST)
    return {**rendition.as_dict(), "playlistKey": playlist_key}


def split(store: S3BlobStore, job: Job, *, timeout: float) -> Job:
    """Cut a long source at keyframes into chunks (no re-encoding) under the run's media prefix."""
    prefix = f"{job['mediaPrefix']}chunks/"
    with _scratch_copy(store, job["sourceKey"], "chunks") as (source, out):
        media.run(media.split_command(source, out, float(job["chunkSeconds"])), timeout=timeout)
        chunks = []
        for index, (name, start, end) in enumerate(media.read_chunk_list(out)):
            key = f"{prefix}{name}"
            store.upload_file(str(out / name), key, "video/x-matroska")
            chunks.append({"index": index, "key": key, "start": start, "end": end})
    return {**job, "chunks": chunks}


def _chunk_stem(index: int) -> str:
    return f"chunk_{index:05d}"


def transcode_chunk(store: S3BlobStore, job: Job, *, timeout: float, preset: str = PRESET) -> Job:
    """Every rendition of one chunk, its timestamps placed where the chunk starts in the source."""
    chunk = job["chunk"]
    stem = _chunk_stem(int(chunk["index"]))
    renditions = [Rendition.from_dict(r) for r in job["renditions"]]
    pending = [r for r in renditions if store.metadata(f"{_rendition_prefix(job, r)}{stem}.m3u8") is None]
    if pending:
        with tempfile.TemporaryDirectory() as work:
            source = Path(work) / "chunk.mkv"
            store.download_file(chunk["key"], str(source))
            outputs = []
            for rendition in pending:
                (Path(work) / rendition.name).mkdir()
                outputs.append((rendition, Path(work) / rendition.name, stem))
            command = media.hls_command(source, outputs, offset=float(chunk["start"]), preset=preset)
            media.run(command, timeout=timeout)
            for rendition, directory, _ in outputs:
                _upload_directory(store, directory, _rendition_prefix(job, rendition), last=f"{stem}.m3u8")
    return {"index": chunk["index"]}


def first_fault(results: Any) -> dict[str, Any] | None:
    """The first failure a task inside a Map or Parallel recorded as its result (``{"fault": ...}``)."""
    for result in results if isinstance(results, list) else [results]:
        if isinstance(result, dict) and isinstance(result.get("fault"), dict):
            return dict(result["fault"])
    return None


def join_chunks(store: S3BlobStore, job: Job) -> list[Job] | Job:
    """Each rendition's chunk playlists joined, in order, into one continuous playlist."""
    fault = first_fault(job.get("chunkResults"))
    if fault:
        return {"fault": fault}
    joined = []
    for rendition in (Rendition.from_dict(r) for r in job["renditions"]):
        prefix = _rendition_prefix(job, rendition)
        segments: list[Segment] = []
        chunk_playlists = [f"{prefix}{_chunk_stem(int(c['index']))}.m3u8" for c in job["chunks"]]
        for key in chunk_playlists:
            text = store.get(key)
            if text is None:
                raise OutputsIncompleteError(f"{key} is missing")
            segments += media.parse_media_playlist(text.decode())
        playlist_key = f"{prefix}{media.PLAYLIST}"
        store.put(playlist_key, media.media_playlist(segments).encode(), media.CONTENT_TYPES[".m3u8"])
        for key in chunk_playlists:
            store.delete_prefix(key)
        joined.append({**rendition.as_dict(), "playlistKey": playlist_key})
    store.delete_prefix(f"{job['mediaPrefix']}chunks/")
    return joined


def thumbnails(store: S3BlobStore, job: Job, *, timeout: float) -> Job:
    """A poster image and periodic thumbnails."""
    duration = float(job["source"]["duration"])
    prefix = f"{job['mediaPrefix']}thumbnails/"
    with _scratch_copy(store, job["sourceKey"], "thumbnails") as (source, out):
        media.run(media.poster_command(source, out / "poster.jpg", min(1.0, duration / 2)), timeout=timeout)
        interval = media.thumbnail_interval(duration)
        media.run(media.thumbnails_command(source, out, interval), timeout=timeout)
        _upload_directory(store, out, prefix)
        names = sorted(p.name for p in out.glob("thumb_*.jpg"))
    return {
        "posterKey": f"{prefix}poster.jpg",
        "thumbnailKeys": [f"{prefix}{name}" for name in names],
        "thumbnailIntervalSeconds": interval,
    }


def write_master_playlist(store: S3BlobStore, job: Job) -> Job:
    """The master playlist, or the first failure a transcode or thumbnail task recorded."""
    outputs = job["outputs"]
    fault = first_fault(outputs["renditions"]) or first_fault(outputs["thumbnails"])
    if fault:
        return {"fault": fault}
    renditions = [Rendition.from_dict(r) for r in outputs["renditions"]]
    key = f"{job['mediaPrefix']}{media.MASTER}"
    store.put(key, media.master_playlist(renditions).encode(), media.CONTENT_TYPES[".m3u8"])
    return {"masterPlaylistKey": key}


def verify_outputs(store: S3BlobStore, job: Job) -> Job:
    """Every playlist and segment present, segments within bounds, durations matching the source."""
    present = set(store.keys(job["mediaPrefix"]))
    expected = float(job["source"]["duration"])
    tolerance = max(1.0, expected * 0.02)
    thumbs = job["outputs"]["thumbnails"]
    for key in (job["master"]["result"]["masterPlaylistKey"], thumbs["posterKey"], *thumbs["thumbnailKeys"]):
        if key not in present:
            raise OutputsIncompleteError(f"{key} is missing")
    durations = {}
    for rendition in job["outputs"]["renditions"]:
        text = store.get(rendition["playlistKey"])
        if text is None:
            raise OutputsIncompleteError(f"{rendition['playlistKey']} is missing")
        segments = media.parse_media_playlist(text.decode())
        folder = rendition["playlistKey"].rsplit("/", 1)[0] + "/"
        missing = [s.uri for s in segments if f"{folder}{s.uri}" not in present]
        if not segments or missing:
            raise OutputsIncompleteError(f"{rendition['name']}: segments missing {missing[:3]}")
        longest = max(s.duration for s in segments)
        if longest > media.MAX_SEGMENT_SECONDS:
            raise OutputsIncompleteError(f"{rendition['name']}: a segment runs {longest:.2f} s")
        total = sum(s.duration for s in segments)
        if abs(total - expected) > tolerance:
            raise OutputsIncompleteError(
                f"{rendition['name']} runs {total:.2f} s, the source {expected:.2f} s"
            )
        durations[rendition["name"]] = round(total, 3)
    return {"renditionSeconds": durations}


def update_lesson(table: Table, job: Job) -> Job:
    """READY with the new media, unless a newer upload took over (SUPERSEDED: this run's media is then
    spent). Removing files is left to :func:`remove_spent_files`, after the outcome is committed."""
    record = records.get_record(table, job["courseId"], job["lessonId"])
    if record is None or record.upload_id != job["uploadId"]:
        return {**_summary(job), "outcome": Outcome.SUPERSEDED.value}
    if record.status == VideoStatus.READY and record.live_upload_id == job["uploadId"]:
        return _ready(job, record)  # a retry after the commit: the same answer
    thumbs = job["outputs"]["thumbnails"]
    live = {
        "uploadId": job["uploadId"],
        "masterPlaylistKey": job["master"]["result"]["masterPlaylistKey"],
        "durationSeconds": float(job["source"]["duration"]),
        "renditions": job["outputs"]["renditions"],
        "posterKey": thumbs["posterKey"],
        "thumbnailKeys": thumbs["thumbnailKeys"],
    }
    try:
        records.record_ready(table, record, live)
    except Superseded:
        return {**_summary(job), "outcome": Outcome.SUPERSEDED.value}
    committed = records.get_record(table, job["courseId"], job["lessonId"])
    return _ready(job, committed or record)


def _ready(job: Job, record: records.VideoRecord) -> Job:
    live = record.live or {}
    return {
        **_summary(job),
        "outcome": Outcome.READY.value,
        "masterPlaylistKey": live.get("masterPlaylistKey"),
        "replacedUploadId": record.replaced_upload_id,
    }


def fault_error(job: Job) -> str:
    """The error name of the fault that sent the run to clean-up (from the Catch, or a chunk's result)."""
    fault = job.get("fault") or job.get("master", {}).get("result", {}).get("fault") or {}
    return str(fault.get("Error", "Unknown"))


def _summary(job: Job) -> Job:
    return {k: job[k] for k in ("sourceKey", "lessonId", "courseId", "uploadId", "mediaPrefix") if k in job}


def clean_up_failed(
    table: Table, store: S3BlobStore, job: Job, *, timed_out: Callable[[str], bool] = lambda _: False
) -> Job:
    """After a fault: this run's outputs removed, the lesson FAILED with a reason (unless superseded).

    A fault after UpdateLesson committed READY (its answer lost, say) finds this upload live: its
    media is what students watch, so nothing is removed and the run ends READY.
    ``timed_out`` tells, from the fault's error name, whether a tool ran out of time (the names are
    the orchestrator's, so the task adapter knows them, not the domain).
    """
    error = fault_error(job)
    reason = TOO_SLOW if timed_out(error) else FAULT.format(error=error)
    parsed = keys.parse_video_upload(job["sourceKey"])
    if parsed is None:
        return {**job, "outcome": Outcome.FAILED.value}
    lesson_id, upload_id = parsed
    summary = {**_summary(job), "lessonId": lesson_id, "uploadId": upload_id}
    record = (
        records.get_record(table, job["courseId"], lesson_id)
        if "courseId" in job
        else records.find_record(table, lesson_id)
    )
    if record is not None and record.live_upload_id == upload_id:
        return {**_ready(summary, record), "error": error}
    outcome = Outcome.FAILED
    if record is None or record.upload_id != upload_id:
        outcome = Outcome.SUPERSEDED
    else:
        try:
            records.record_failure(table, record, reason)
        except Superseded:
            outcome = Outcome.SUPERSEDED
    # The outcome first: media that cannot be removed now is tagged for the lifecycle rule.
    left, untagged = _remove(store, store.keys(keys.video_media(lesson_id, upload_id)))
    return {**summary, "outcome": outcome.value, "error": error, "reason": reason, "left": left[:20]}


def _remove(store: S3BlobStore, found: list[str]) -> tuple[list[str], list[str]]:
    """Delete ``found``; what S3 refuses is tagged for the lifecycle rule that expires spent media.
    Returns the keys left and, of those, the media keys that could not be tagged either."""
    try:
        store.delete_keys(found)
    except BlobsNotDeletedError as refused:
        left = sorted(refused.refused)
        return left, store.tag([key for key in left if key.startswith(keys.MEDIA_PREFIX)], SPENT_TAG)
    return [], []


def remove_spent_files(table: Table, store: S3BlobStore, job: Job) -> Job:
    """After the outcome is committed: remove the upload's source and the media nobody plays any more.

    Best effort, never a failure of the run: what S3 refuses to delete is tagged for the lifecycle
    rule that expires spent media, and named in the answer (and the log) for operators. The live
    media of the lesson is never touched, whatever the job says.
    """
    lesson_id, upload_id = job["lessonId"], job["uploadId"]
    record = records.get_record(table, job["courseId"], lesson_id) if "courseId" in job else None
    live = record.live_upload_id if record else None
    spent = []
    if job["outcome"] == Outcome.SUPERSEDED.value and upload_id != live:
        spent.append(keys.video_media(lesson_id, upload_id))  # this run's own media
    replaced = job.get("replacedUploadId")
    if job["outcome"] == Outcome.READY.value and replaced and replaced != live:
        spent.append(keys.video_media(lesson_id, str(replaced)))
    found = [key for prefix in spent for key in store.keys(prefix)]
    # The source is spent once the outcome is on the record; the uploads/ lifecycle rule expires it
    # anyway, and a run that failed on our side keeps it for operators until then.
    if job["outcome"] in (Outcome.READY.value, Outcome.REJECTED.value, Outcome.SUPERSEDED.value):
        found.append(job["sourceKey"])
    left, untagged = _remove(store, found)
    return {"removed": len(found) - len(left), "left": left[:20], "untagged": untagged[:20]}
