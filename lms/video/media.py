"""The media side of video processing: probe and validate, plan renditions, run ffmpeg, HLS playlists.

Pure functions over ffprobe output and playlist text, plus :func:`run`, the one place a media tool is
started: with a deadline, after which the tool (and anything it started) is killed and reported.
"""

from __future__ import annotations

import csv
import json
import math
import os
import signal
import subprocess  # noqa: S404 - ffmpeg and ffprobe are the job
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SEGMENT_SECONDS = 6
# Apple's HLS authoring rule allows a segment to run past the target by a little; this is our bound.
MAX_SEGMENT_SECONDS = 6.5
AUDIO_BITRATE = 128_000
PLAYLIST = "index.m3u8"
MASTER = "master.m3u8"
CONTENT_TYPES = {".m3u8": "application/vnd.apple.mpegurl", ".ts": "video/mp2t", ".jpg": "image/jpeg"}
THUMBNAIL_HEIGHT = 180
MAX_THUMBNAILS = 20


@dataclass(frozen=True)
class Rung:
    name: str
    height: int
    video_bitrate: int  # bits per second


LADDER = (
    Rung("360p", 360, 800_000),
    Rung("540p", 540, 1_600_000),
    Rung("720p", 720, 3_000_000),
    Rung("1080p", 1080, 5_500_000),
)


class MediaRejectedError(Exception):
    """The upload is not media we can process; the message is the reason the instructor reads."""


class MediaToolError(Exception):
    """ffmpeg or ffprobe failed on input that passed the probe: a fault, not the instructor's doing."""


class MediaTimeoutError(Exception):
    """A media tool ran past its deadline and was killed."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_duration_seconds: float
    split_above_seconds: float
    chunk_seconds: float


@dataclass(frozen=True)
class Source:
    duration: float
    width: int
    height: int
    video_codec: str
    audio_codec: str | None
    frame_rate: float
    size: int
    format_name: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "duration": self.duration,
            "width": self.width,
            "height": self.height,
            "videoCodec": self.video_codec,
            "audioCodec": self.audio_codec,
            "frameRate": self.frame_rate,
            "size": self.size,
            "formatName": self.format_name,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Source:
        return cls(
            duration=float(data["duration"]),
            width=int(data["width"]),
            height=int(data["height"]),
            video_codec=str(data["videoCodec"]),
            audio_codec=data.get("audioCodec"),
            frame_rate=float(data["frameRate"]),
            size=int(data["size"]),
            format_name=str(data["formatName"]),
        )


# --- running the tools -------------------------------------------------------------------------


def run(command: list[str], *, timeout: float) -> str:
    """Run a media tool; its stdout. Past ``timeout`` seconds its whole process group is killed.

    A killed tool raises :class:`MediaTimeoutError`, so a stuck ffmpeg is reported by its task rather
    than holding the function until Lambda (or the local runtime) kills it without a reason.
    """
    with subprocess.Popen(  # noqa: S603 - a fixed tool with arguments we built
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    ) as process:
        try:
            out, err = process.communicate(timeout=max(timeout, 0.1))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise MediaTimeoutError(
                f"{Path(command[0]).name} ran past its {timeout:.0f} s deadline"
            ) from None
    if process.returncode != 0:
        tail = err.decode(errors="replace").strip().splitlines()[-3:]
        raise MediaToolError(f"{Path(command[0]).name} exited {process.returncode}: {' | '.join(tail)}")
    return out.decode(errors="replace")


def probe(location: str, *, timeout: float) -> dict[str, Any]:
    """ffprobe's JSON for a path or URL; unreadable input is rejected with a reason."""
    command = ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", location]
    try:
        return dict(json.loads(run(command, timeout=timeout)))
    except MediaToolError as error:
        raise MediaRejectedError("The file is not a readable video (corrupt or not a media file).") from error


def inspect(probed: dict[str, Any], *, size: int, limits: Limits) -> Source:
    """Validate ffprobe's view of an upload against the limits it was issued with."""
    if size > limits.max_bytes:
        raise MediaRejectedError(
            f"The file is {size} bytes; uploads are limited to {limits.max_bytes} bytes."
        )
    streams = probed.get("streams") or []
    # A cover image in an audio file is a "video" stream with the attached_pic disposition.
    videos = [
        s
        for s in streams
        if s.get("codec_type") == "video" and not (s.get("disposition") or {}).get("attached_pic")
    ]
    audios = [s for s in streams if s.get("codec_type") == "audio"]
    if not videos:
        if audios:
            raise MediaRejectedError("The file has sound but no picture: upload a video, not audio only.")
        raise MediaRejectedError("The file holds no video stream.")
    video = videos[0]
    fmt = probed.get("format") or {}
    duration = _number(fmt.get("duration")) or _number(video.get("duration"))
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    if not duration or duration <= 0 or not width or not height:
        raise MediaRejectedError("The video has no readable duration or picture size (corrupt?).")
    if duration > limits.max_duration_seconds:
        raise MediaRejectedError(
            f"The video runs {duration:.0f} s; videos are limited to {limits.max_duration_seconds:.0f} s."
        )
    return Source(
        duration=duration,
        width=width,
        height=height,
        video_codec=str(video.get("codec_name", "unknown")),
        audio_codec=str(audios[0].get("codec_name")) if audios else None,
        frame_rate=_rate(str(video.get("avg_frame_rate") or video.get("r_frame_rate") or "0/1")),
        size=size,
        format_name=str(fmt.get("format_name", "unknown")),
    )


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _rate(text: str) -> float:
    numerator, _, denominator = text.partition("/")
    try:
        return float(numerator) / float(denominator or 1)
    except (ValueError, ZeroDivisionError):
        return 0.0


# --- planning ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendition:
    name: str
    width: int
    height: int
    video_bitrate: int

    @property
    def bandwidth(self) -> int:
        return self.video_bitrate + AUDIO_BITRATE

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "width": self.width,
            "height": self.height,
            "videoBitrate": self.video_bitrate,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Rendition:
        return cls(str(data["name"]), int(data["width"]), int(data["height"]), int(data["videoBitrate"]))


def renditions_for(source: Source) -> list[Rendition]:
    """The ladder's rungs up to the source's height (never upscaled); a source below the lowest rung
    gets one rendition at its own size."""
    rungs = [rung for rung in LADDER if rung.height <= source.height] or [
        Rung(f"{_even(source.height)}p", _even(source.height), LADDER[0].video_bitrate)
    ]
    return [
        Rendition(
            rung.name, _even(source.width * rung.height / source.height), rung.height, rung.video_bitrate
        )
        for rung in rungs
    ]


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def is_long(source: Source, limits: Limits) -> bool:
    """Whether the source is split into chunks rather than transcoded whole."""
    return source.duration > limits.split_above_seconds


# --- commands ----------------------------------------------------------------------------------

_FFMPEG = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]


def split_command(source: Path, directory: Path, chunk_seconds: float) -> list[str]:
    """Cut the source at keyframes (stream copy, no re-encoding) into chunks, listed in chunks.csv."""
    return [
        *_FFMPEG,
        "-i",
        str(source),
        "-map",
        "0:v:0",
        "-map",
        "0:a:0?",
        "-c",
        "copy",
        "-f",
        "segment",
        "-segment_time",
        f"{chunk_seconds:g}",
        "-reset_timestamps",
        "1",
        "-segment_list",
        str(directory / "chunks.csv"),
        "-segment_list_type",
        "csv",
        str(directory / "chunk_%05d.mkv"),
    ]


def read_chunk_list(directory: Path) -> list[tuple[str, float, float]]:
    """``(file name, start, end)`` of each chunk :func:`split_command` wrote, in order."""
    with (directory / "chunks.csv").open() as listing:
        return [(row[0], float(row[1]), float(row[2])) for row in csv.reader(listing) if row]


def hls_command(
    source: Path,
    outputs: list[tuple[Rendition, Path, str]],
    *,
    offset: float = 0.0,
    preset: str = "veryfast",
) -> list[str]:
    """One decode of ``source`` into each ``(rendition, directory, stem)`` as HLS: ``<stem>.m3u8`` and
    ``<stem>_NNNNN.ts`` (the whole source: stem ``index``; a chunk: ``chunk_NNNNN``).

    Keyframes are forced every :data:`SEGMENT_SECONDS`, so segments cut there; ``offset`` shifts the
    timestamps of a chunk to its place in the source, so chunk segments join into one timeline.
    """
    command = [*_FFMPEG, "-i", str(source)]
    for rendition, directory, stem in outputs:
        bitrate = rendition.video_bitrate
        command += [
            "-map",
            "0:v:0",
            "-map",
            "0:a:0?",
            "-vf",
            f"scale={rendition.width}:{rendition.height}",
            "-c:v",
            "libx264",
            "-preset",
            preset,
            "-profile:v",
            "main",
            "-pix_fmt",
            "yuv420p",
            "-b:v",
            str(bitrate),
            "-maxrate",
            str(bitrate * 3 // 2),
            "-bufsize",
            str(bitrate * 2),
            "-force_key_frames",
            f"expr:gte(t,n_forced*{SEGMENT_SECONDS})",
            "-sc_threshold",
            "0",
            "-c:a",
            "aac",
            "-b:a",
            str(AUDIO_BITRATE),
            "-ac",
            "2",
            "-output_ts_offset",
            f"{offset:.6f}",
            "-f",
            "hls",
            "-hls_time",
            str(SEGMENT_SECONDS),
            "-hls_playlist_type",
            "vod",
            "-hls_flags",
            "independent_segments",
            "-hls_segment_filename",
            str(directory / f"{stem}_%05d.ts"),
            str(directory / f"{stem}.m3u8"),
        ]
    return command


def poster_command(source: Path, target: Path, at: float) -> list[str]:
    return [*_FFMPEG, "-ss", f"{at:.3f}", "-i", str(source), "-frames:v", "1", "-q:v", "3", str(target)]


def thumbnail_interval(duration: float) -> int:
    """Seconds between periodic thumbnails: every 10 s, fewer for long videos (at most 20)."""
    return max(10, math.ceil(duration / MAX_THUMBNAILS))


def thumbnails_command(source: Path, directory: Path, interval: int) -> list[str]:
    # Decoding keyframes only: a thumbnail need not land on the exact second, and this is far cheaper.
    return [
        *_FFMPEG,
        "-skip_frame",
        "nokey",
        "-i",
        str(source),
        "-vf",
        f"fps=1/{interval},scale=-2:{THUMBNAIL_HEIGHT}",
        "-fps_mode",
        "vfr",
        "-frames:v",
        str(MAX_THUMBNAILS),
        "-q:v",
        "5",
        str(directory / "thumb_%04d.jpg"),
    ]


# --- playlists ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    uri: str
    duration: float


def parse_media_playlist(text: str) -> list[Segment]:
    segments: list[Segment] = []
    duration: float | None = None
    for line in (raw.strip() for raw in text.splitlines()):
        if line.startswith("#EXTINF:"):
            duration = float(line.removeprefix("#EXTINF:").split(",")[0])
        elif line and not line.startswith("#") and duration is not None:
            segments.append(Segment(line, duration))
            duration = None
    return segments


def media_playlist(segments: list[Segment]) -> str:
    """A VOD media playlist of these segments, in order, as one continuous timeline."""
    target = max((math.ceil(s.duration) for s in segments), default=SEGMENT_SECONDS)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        f"#EXT-X-TARGETDURATION:{target}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-INDEPENDENT-SEGMENTS",
    ]
    for segment in segments:
        lines += [f"#EXTINF:{segment.duration:.6f},", segment.uri]
    return "\n".join([*lines, "#EXT-X-ENDLIST", ""])


def master_playlist(renditions: list[Rendition]) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for rendition in sorted(renditions, key=lambda r: r.bandwidth):
        lines += [
            f"#EXT-X-STREAM-INF:BANDWIDTH={rendition.bandwidth},RESOLUTION={rendition.width}x{rendition.height}",
            f"{rendition.name}/{PLAYLIST}",
        ]
    return "\n".join([*lines, ""])


def content_type(path: Path) -> str:
    return CONTENT_TYPES.get(path.suffix, "application/octet-stream")
