"""Video processing's media rules: validation of what ffprobe sees, the rendition ladder, playlists,
and a stuck ffmpeg killed at its deadline (a real ffmpeg reading an endless source)."""

from __future__ import annotations

import pytest

from lms import keys
from lms.video import media
from lms.video.media import Limits, MediaRejectedError, MediaTimeoutError, Segment, Source

LIMITS = Limits(max_bytes=1_000_000, max_duration_seconds=600, split_above_seconds=60, chunk_seconds=30)
VIDEO = {"codec_type": "video", "codec_name": "h264", "width": 1280, "height": 720, "avg_frame_rate": "25/1"}
AUDIO = {"codec_type": "audio", "codec_name": "aac"}


def probed(*streams: dict, duration: str = "12.5") -> dict:
    return {"streams": list(streams), "format": {"duration": duration, "format_name": "mov,mp4"}}


def source(width: int = 1280, height: int = 720, duration: float = 12.5) -> Source:
    return Source(duration, width, height, "h264", "aac", 25.0, 1000, "mp4")


def test_a_video_with_sound_is_accepted_with_its_metadata() -> None:
    inspected = media.inspect(probed(VIDEO, AUDIO), size=500, limits=LIMITS)
    assert (inspected.width, inspected.height, inspected.duration) == (1280, 720, 12.5)
    assert inspected.audio_codec == "aac" and inspected.frame_rate == 25.0


@pytest.mark.parametrize(
    ("streams", "duration", "size", "reason"),
    [
        ([AUDIO], "12", 500, "sound but no picture"),
        ([AUDIO, {**VIDEO, "disposition": {"attached_pic": 1}}], "12", 500, "sound but no picture"),
        ([], "12", 500, "no video stream"),
        ([VIDEO], "601", 500, "limited to 600 s"),
        ([VIDEO], "N/A", 500, "no readable duration"),
        ([VIDEO], "12", 1_000_001, "limited to 1000000"),
    ],
)
def test_media_we_cannot_use_is_rejected_with_a_reason(streams, duration, size, reason) -> None:
    with pytest.raises(MediaRejectedError, match=reason):
        media.inspect(probed(*streams, duration=duration), size=size, limits=LIMITS)


def test_the_ladder_never_upscales_and_keeps_the_aspect_ratio() -> None:
    assert [r.name for r in media.renditions_for(source(1920, 1080))] == ["360p", "540p", "720p", "1080p"]
    assert [(r.name, r.width) for r in media.renditions_for(source(1280, 720))] == [
        ("360p", 640),
        ("540p", 960),
        ("720p", 1280),
    ]
    assert [(r.name, r.width, r.height) for r in media.renditions_for(source(320, 240))] == [
        ("240p", 320, 240)
    ]


def test_long_sources_are_split_short_ones_are_not() -> None:
    assert media.is_long(source(duration=61), LIMITS) and not media.is_long(source(duration=60), LIMITS)


def test_chunk_playlists_join_into_one_continuous_vod_playlist() -> None:
    segments = [Segment("chunk_00000_00000.ts", 6.0), Segment("chunk_00001_00000.ts", 5.96)]
    text = media.media_playlist(segments)
    assert media.parse_media_playlist(text) == segments
    assert "#EXT-X-ENDLIST" in text and "#EXT-X-TARGETDURATION:6" in text and "DISCONTINUITY" not in text


def test_the_master_playlist_lists_renditions_by_bandwidth() -> None:
    text = media.master_playlist(list(reversed(media.renditions_for(source()))))
    assert [line for line in text.splitlines() if not line.startswith("#")] == [
        "360p/index.m3u8",
        "540p/index.m3u8",
        "720p/index.m3u8",
    ]
    assert "RESOLUTION=640x360" in text


def test_upload_keys_name_lesson_and_upload_and_nothing_else() -> None:
    assert keys.parse_video_upload(keys.video_upload("l1", "u1")) == ("l1", "u1")
    for other in ("uploads/l1", "uploads/l1/u1/extra", "media/l1/u1", "uploads//u1"):
        assert keys.parse_video_upload(other) is None


def test_a_stuck_ffmpeg_is_killed_at_its_deadline_and_reported() -> None:
    endless = ["ffmpeg", "-hide_banner", "-nostdin", "-re", "-f", "lavfi", "-i", "testsrc", "-f", "null", "-"]
    with pytest.raises(MediaTimeoutError, match="ffmpeg ran past its 1 s deadline"):
        media.run(endless, timeout=1)
