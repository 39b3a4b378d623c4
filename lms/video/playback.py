"""Playback for those who may watch: HLS playlists whose every URL is signed and short-lived.

A presigned URL of ``master.m3u8`` alone would not play from a private bucket: the player resolves
the variant playlists and segments relative to it, without a signature. So the API serves the
playlists (``GET /videos/{lessonId}/{uploadId}/{playlist}``), authorised by an expiring HMAC
signature in the query like a presigned URL: the master lists signed rendition playlists, and a
rendition playlist lists presigned segment URLs with the same expiry.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from typing import Any
from urllib.parse import urlencode

from lms import keys
from lms.blobs import BlobStore
from lms.clock import epoch_seconds
from lms.courses.lessons import CourseOutline
from lms.errors import ForbiddenError, NotFoundError
from lms.settings import get_settings
from lms.tokens import signing_secret
from lms.video import media

MASTER = "master"
PLAYLIST_NAME = re.compile(r"^[0-9]{2,4}p$")


def _signature(lesson_id: str, upload_id: str, expires: int) -> str:
    # Domain-separated from the JWTs signed with the same secret.
    message = f"video-playback:{lesson_id}:{upload_id}:{expires}".encode()
    return hmac.new(signing_secret().encode(), message, hashlib.sha256).hexdigest()


def _query(lesson_id: str, upload_id: str, expires: int) -> str:
    return urlencode({"expires": expires, "signature": _signature(lesson_id, upload_id, expires)})


def lesson_media(store: BlobStore, outline: CourseOutline, api_base: str) -> dict[str, dict[str, Any]]:
    """lessonId -> the lesson's playable video, as short-lived signed URLs.

    The one place media URLs are made, and only for a caller who may watch: an enrolled student, the
    course's instructor or an admin (``outline.full_content``); anyone else gets nothing.
    """
    if not outline.full_content:
        return {}
    lifetime = get_settings().video_playback_url_seconds
    sign = functools.partial(store.presigned_get, expires_in=lifetime)
    expires = epoch_seconds() + lifetime
    found = {}
    for lesson_id, item in outline.videos.items():
        live = item.get("live")
        if not live:
            continue
        upload_id = str(live["uploadId"])
        master = f"{api_base}/videos/{lesson_id}/{upload_id}/{MASTER}"
        found[lesson_id] = {
            "videoUrl": f"{master}?{_query(lesson_id, upload_id, expires)}",
            "posterUrl": sign(str(live["posterKey"])),
            "thumbnailUrls": [sign(str(key)) for key in live["thumbnailKeys"]],
            "duration": float(live["durationSeconds"]),
            "renditions": [str(r["name"]) for r in live["renditions"]],
            "expiresIn": lifetime,
        }
    return found


def signed_playlist(
    store: BlobStore, lesson_id: str, upload_id: str, playlist: str, *, expires: int, signature: str
) -> str:
    """The playlist with every URL in it signed until ``expires``; a bad or old signature is a 403."""
    good = hmac.compare_digest(signature, _signature(lesson_id, upload_id, expires))
    if not good or expires < epoch_seconds():
        raise ForbiddenError("This playback link is invalid or has expired; reload the lesson.")
    prefix = keys.video_media(lesson_id, upload_id)
    if playlist == MASTER:
        text = store.get(f"{prefix}{media.MASTER}")
        rewrite = lambda uri: f"{uri.split('/')[0]}?{_query(lesson_id, upload_id, expires)}"  # noqa: E731
    elif PLAYLIST_NAME.match(playlist):
        text = store.get(f"{prefix}{playlist}/{media.PLAYLIST}")
        lifetime = max(expires - epoch_seconds(), 1)
        rewrite = lambda uri: store.presigned_get(f"{prefix}{playlist}/{uri}", expires_in=lifetime)  # noqa: E731
    else:
        text = None
    if text is None:
        raise NotFoundError("No such playlist.")
    lines = text.decode().splitlines()
    return "\n".join(line if not line or line.startswith("#") else rewrite(line) for line in lines) + "\n"
