"""Test media made by ffmpeg itself (never downloaded) and the instructor's upload over HTTP."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import requests

from tests.conftest import ApiClient


def clip(
    path: Path, *, seconds: float, size: str = "1280x720", video: bool = True, audio: bool = True
) -> Path:
    """A ``testsrc`` picture with a sine tone, keyframes every second (so a split has places to cut)."""
    if path.exists():
        return path
    inputs: list[str] = []
    if video:
        inputs += ["-f", "lavfi", "-i", f"testsrc=duration={seconds}:size={size}:rate=25"]
    if audio:
        inputs += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
    codecs = ["-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p"] if video else []
    codecs += ["-c:a", "aac"] if audio else []
    subprocess.run(  # noqa: S603
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *inputs, *codecs, "-shortest", str(path)],  # noqa: S607
        check=True,
    )
    return path


def corrupt(path: Path, good: Path) -> Path:
    """The first half of an MP4 whose index (moov) is at the end: no player can read it."""
    data = good.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def ffprobe(location: str) -> dict[str, Any]:
    out = subprocess.run(  # noqa: S603
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format", location],  # noqa: S607
        check=True,
        capture_output=True,
        timeout=120,
    ).stdout
    return dict(json.loads(out))


def video_lesson(instructor: ApiClient, category_id: str) -> tuple[str, str]:
    """A fresh draft course with one video lesson: ``(courseId, lessonId)``."""
    course = instructor.post(
        "/courses",
        json={
            "title": f"Video {uuid.uuid4().hex[:6]}",
            "description": "d",
            "categoryId": category_id,
            "priceCents": 0,
        },
    )
    assert course.status_code == 201, course.text
    course_id = course.json()["courseId"]
    lesson = instructor.post(
        "/lessons", json={"courseId": course_id, "title": "Lecture one", "type": "video"}
    )
    assert lesson.status_code == 201, lesson.text
    return course_id, lesson.json()["lessonId"]


# An upload request for a small MP4 (the size the PUT must then send).
MP4 = {"contentType": "video/mp4", "contentLength": 1000}


def upload_request(path: Path, content_type: str = "video/mp4") -> dict[str, Any]:
    """The body of ``POST /lessons/{lessonId}/video`` for this file."""
    return {"contentType": content_type, "contentLength": path.stat().st_size}


def upload(client: ApiClient, lesson_id: str, path: Path, content_type: str = "video/mp4") -> dict[str, Any]:
    """Request an upload URL and PUT the file to it, as a browser would."""
    ticket = client.post(f"/lessons/{lesson_id}/video", json=upload_request(path, content_type))
    assert ticket.status_code == 201, ticket.text
    put_file(ticket.json(), path, content_type)
    return dict(ticket.json())


def put_file(ticket: dict[str, Any], path: Path, content_type: str = "video/mp4") -> None:
    """PUT the file to the ticket's presigned URL (the upload lands, and starts its run)."""
    put = requests.put(
        ticket["uploadUrl"], data=path.read_bytes(), headers={"Content-Type": content_type}, timeout=60
    )
    assert put.status_code == 200, put.text


def lesson_view(client: ApiClient, course_id: str, lesson_id: str) -> dict[str, Any]:
    listed = client.get(f"/lessons/{course_id}")
    assert listed.status_code == 200, listed.text
    return next(item for item in listed.json()["items"] if item["lessonId"] == lesson_id)


def settled(client: ApiClient, course_id: str, lesson_id: str, *, timeout: float = 180) -> dict[str, Any]:
    """The lesson once its video is READY or FAILED (polled: a positive signal, never a bare sleep)."""
    deadline = time.monotonic() + timeout
    while (lesson := lesson_view(client, course_id, lesson_id))["videoStatus"] not in ("READY", "FAILED"):
        assert time.monotonic() < deadline, f"video still {lesson['videoStatus']}"
        time.sleep(0.3)
    return lesson
