"""Task handlers of video processing (``state-machines/video.asl.json``): thin, over :mod:`lms.video.steps`.

Media tools get the function's remaining time less a margin, so a stuck ffmpeg is killed and
reported as ``MediaTimeoutError`` by its task before Lambda itself would kill the function.

Cold start: importing this module loads only Powertools, :mod:`tasks.runtime` and
:mod:`lms.snapstart`; each handler imports the domain inside its body, and
:func:`lms.snapstart.preload` loads it before a SnapStart snapshot (see :mod:`tasks.purchase`).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from lms.snapstart import preload
from tasks.runtime import metrics, task_handler

if TYPE_CHECKING:
    from lms.blobs import S3BlobStore
    from lms.table import Table

# Faults that mean a tool ran out of time: ours (the media deadline), Lambda's, Step Functions'.
TIMEOUT_ERRORS = frozenset({"MediaTimeoutError", "Sandbox.Timedout", "States.Timeout"})
logger = Logger(service="lms-video")
preload("lms.blobs", "lms.table", "lms.video.steps", "lms.video.announcements")
_MARGIN_SECONDS = 5.0


def _store() -> S3BlobStore:
    from lms.blobs import S3BlobStore

    return S3BlobStore(os.environ["LMS_BUCKET_NAME"])


def _deadline(context: LambdaContext) -> float:
    return max(context.get_remaining_time_in_millis() / 1000 - _MARGIN_SECONDS, 1.0)


def _announce(table: Table, result: dict[str, Any]) -> None:
    """Publish VideoReady or VideoFailed once the step committed that outcome.

    Analytics only: nothing waits for these events, so a failure to build or publish one is logged
    and the step still answers its committed outcome (the run ends in its named terminal state). A
    retried step announces the same event again (same id, same time), which consumers keep once.
    """
    from lms.events import publish_for_analytics
    from lms.video.announcements import outcome_event

    try:
        event = outcome_event(table, result)
    except Exception:  # noqa: BLE001 - the record could not be read: the outcome stands
        logger.warning("video outcome not announced", extra={"outcome": result.get("outcome")})
        return
    if event is not None:
        publish_for_analytics(event)


@task_handler(logger)
def probe(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.table import Table
    from lms.video import steps

    table = Table()
    job = steps.probe(table, _store(), event, timeout=_deadline(context))
    logger.info("probed", extra={"outcome": job["outcome"], "reason": job.get("reason")})
    if job["outcome"] == "REJECTED":
        metrics.add_metric(name="VideoUploadsRejected", unit=MetricUnit.Count, value=1)
        _announce(table, job)  # VideoFailed
    return job


@task_handler(logger)
def plan_renditions(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.video import steps

    return steps.plan_renditions(event)


@task_handler(logger)
def transcode(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.video import steps

    return steps.transcode(_store(), event, timeout=_deadline(context))


@task_handler(logger)
def split(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.video import steps

    return steps.split(_store(), event, timeout=_deadline(context))


@task_handler(logger)
def transcode_chunk(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.video import steps

    return steps.transcode_chunk(_store(), event, timeout=_deadline(context))


@task_handler(logger)
def join_chunks(event: dict[str, Any], context: LambdaContext) -> list[dict[str, Any]] | dict[str, Any]:
    from lms.video import steps

    return steps.join_chunks(_store(), event)


@task_handler(logger)
def thumbnails(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.video import steps

    return steps.thumbnails(_store(), event, timeout=_deadline(context))


@task_handler(logger)
def write_master_playlist(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.video import steps

    return steps.write_master_playlist(_store(), event)


@task_handler(logger)
def verify_outputs(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.video import steps

    return steps.verify_outputs(_store(), event)


@task_handler(logger)
def update_lesson(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.table import Table
    from lms.video import steps

    table = Table()
    result = steps.update_lesson(table, event)
    if result["outcome"] == "READY":
        seconds = float(event["source"]["duration"])
        metrics.add_metric(name="VideoSecondsProcessed", unit=MetricUnit.Seconds, value=seconds)
        _announce(table, result)  # VideoReady
    return result


@task_handler(logger)
def clean_up_failed(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.table import Table
    from lms.video import steps

    table = Table()
    result = steps.clean_up_failed(table, _store(), event, timed_out=TIMEOUT_ERRORS.__contains__)
    logger.warning("processing failed", extra={"error": result.get("error"), "outcome": result["outcome"]})
    metrics.add_metric(name="VideoProcessingFailed", unit=MetricUnit.Count, value=1)
    # VideoFailed once the lesson is FAILED; VideoReady again when the fault came after the lesson
    # became READY (UpdateLesson's answer lost, perhaps before it announced): the same event either way.
    _announce(table, result)
    return result


@task_handler(logger)
def remove_spent_files(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lms.table import Table
    from lms.video import steps

    result = steps.remove_spent_files(Table(), _store(), event)
    if result["left"]:
        # Never a failure of the run: the lifecycle rule expires what was tagged; the rest is named here.
        logger.error("spent files left", extra={"left": result["left"], "untagged": result["untagged"]})
    return result
