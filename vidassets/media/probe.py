"""Probing media with PyAV (there is no ffprobe next to the static ffmpeg).

A probe reads container and stream headers, decodes exactly one video frame
(which proves the stream is decodable and is the only place PyAV exposes the
display-matrix rotation), and demuxes - without decoding - the packets of the
last second to catch a truncated file whose index still claims the full
duration (a ``+faststart`` MP4 cut in half opens fine otherwise). Cost is a few
milliseconds regardless of file size; a full decode check is
:func:`vidassets.media.importer.decode_check`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error

from .errors import InvalidMediaError, MediaTimeoutError

_IMAGE_FORMATS = ("image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe", "jpegxl_pipe", "qoi_pipe")
_TAIL_WINDOW = 1.0  # seconds before the end to re-demux
_TAIL_MAX_PACKETS = 20000


@dataclass(frozen=True)
class MediaInfo:
    """What we know about a media file. ``width``/``height`` are coded (stored) dims.

    Use :attr:`display_width` / :attr:`display_height` (rotation and sample
    aspect applied) for layout decisions: ffmpeg auto-rotates while filtering,
    so filter graphs see display dimensions.
    """

    path: Path
    duration: float
    width: int
    height: int
    fps: float
    video_codec: str | None
    audio_codec: str | None
    has_audio: bool
    rotation: int
    pix_fmt: str | None
    size_bytes: int
    format_name: str
    has_video: bool = True
    is_still: bool = False
    video_duration: float | None = None
    audio_duration: float | None = None
    sample_rate: int | None = None
    channels: int | None = None
    sample_aspect_ratio: float = 1.0
    video_profile: str | None = None

    @property
    def display_width(self) -> int:
        width = round(self.width * self.sample_aspect_ratio) if self.sample_aspect_ratio > 0 else self.width
        return self.height if self.rotation in (90, 270) else width

    @property
    def display_height(self) -> int:
        width = round(self.width * self.sample_aspect_ratio) if self.sample_aspect_ratio > 0 else self.width
        return width if self.rotation in (90, 270) else self.height

    @property
    def aspect_ratio(self) -> float:
        """Display aspect ratio (w/h) after rotation and sample aspect ratio."""
        return self.display_width / self.display_height if self.display_height else 0.0


def _seconds(value: int | None, time_base: Fraction | None) -> float | None:
    if value is None or time_base is None:
        return None
    return float(value * time_base)


def _rate(stream: Any) -> float:
    for attr in ("average_rate", "guessed_rate", "base_rate"):
        rate = getattr(stream, attr, None)
        if rate:
            return float(rate)
    return 0.0


def _first_frame_rotation(container: Any, stream: Any) -> int:
    """Decode one frame: proves decodability and yields the display rotation.

    Single-threaded: spinning up a frame-thread pool costs more than one frame.
    """
    stream.codec_context.thread_count = 1
    stream.codec_context.thread_type = "NONE"
    for frame in container.decode(stream):
        return round(getattr(frame, "rotation", 0) or 0) % 360
    raise InvalidMediaError("video stream has no decodable frame")


def _is_cover(stream: Any) -> bool:
    """Whether a video stream is attached artwork (``attached_pic`` disposition)."""
    try:
        return bool(int(stream.disposition) & int(av.stream.Disposition.attached_pic))
    except (AttributeError, TypeError, ValueError):
        return False


def _check_tail(container: Any, streams: list[Any], duration: float, fps: float) -> None:
    """Demux the last second; a file whose packets stop early is truncated."""
    if duration <= 0:
        return
    start = container.start_time or 0
    target = int(start + max(0.0, duration - _TAIL_WINDOW) * av.time_base)
    container.seek(target, backward=True, any_frame=False)
    ends: dict[int, int] = {}  # in each stream's own time base: no Fraction math per packet
    for count, packet in enumerate(container.demux(*streams)):
        if count > _TAIL_MAX_PACKETS:
            return
        pts = packet.pts
        if pts is None:
            continue
        index = packet.stream_index
        end = pts + (packet.duration or 0)
        if end > ends.get(index, -(2**62)):
            ends[index] = end
    tolerance = max(0.25, 2.0 / fps if fps else 0.0)
    for stream in streams:
        expected = _seconds(stream.duration, stream.time_base)
        stream_start = _seconds(stream.start_time, stream.time_base) or 0.0
        expected_end = stream_start + expected if expected else duration + start / av.time_base
        got = _seconds(ends[stream.index], stream.time_base) if stream.index in ends else None
        if got is None or got < expected_end - tolerance:
            raise InvalidMediaError(
                f"media is truncated: {stream.type} data ends at "
                f"{0.0 if got is None else got:.2f}s but the header says {expected_end:.2f}s"
            )


def probe(
    path: Path, timeout: float = 30.0, *, require_video: bool = True, known_rotation: int | None = None
) -> MediaInfo:
    """Read a media file's metadata.

    Raises :class:`InvalidMediaError` when the file is missing, not media,
    truncated, or (with ``require_video``) has no video stream; and
    :class:`MediaTimeoutError` if reading stalls beyond ``timeout`` seconds.

    ``known_rotation`` is for files this package just wrote: their rotation is
    known (0 after a re-encode, the input's after a stream copy) and they are
    complete, so the frame decode and the truncation check are skipped.
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidMediaError(f"file not found: {path}")
    size = path.stat().st_size
    if size == 0:
        raise InvalidMediaError(f"file is empty: {path.name}")
    started = time.monotonic()
    try:
        with av.open(str(path), mode="r", timeout=timeout) as container:
            return _probe_open(container, path, size, require_video, known_rotation)
    except InvalidMediaError:
        raise
    except av.error.ExitError as exc:
        raise MediaTimeoutError(f"probing {path.name} took longer than {timeout:g}s") from exc
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError, IndexError) as exc:
        if time.monotonic() - started > timeout:
            raise MediaTimeoutError(f"probing {path.name} took longer than {timeout:g}s") from exc
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InvalidMediaError(f"{path.name} is not a readable media file: {reason}") from exc


def _probe_open(container: Any, path: Path, size: int, require_video: bool, known_rotation: int | None) -> MediaInfo:
    format_name = container.format.name
    # An MP3's or M4A's cover art is a one-picture "video" stream: it is not the file's picture.
    pictures = [s for s in container.streams.video if not _is_cover(s)]
    video = pictures[0] if pictures else None
    audio = container.streams.audio[0] if container.streams.audio else None
    if video is None and (require_video or audio is None):
        raise InvalidMediaError(f"{path.name} has no video stream" if require_video else f"{path.name} has no streams")
    duration = container.duration / av.time_base if container.duration else 0.0
    is_still = video is not None and format_name.split(",")[0] in _IMAGE_FORMATS and (video.frames or 0) <= 1
    if is_still:
        duration = 0.0
    fps = _rate(video) if video is not None else 0.0
    video_duration = _seconds(video.duration, video.time_base) if video is not None else None
    audio_duration = _seconds(audio.duration, audio.time_base) if audio is not None else None
    if not duration:
        duration = max(video_duration or 0.0, audio_duration or 0.0)

    rotation = 0
    width = height = 0
    pix_fmt = profile = None
    sar = 1.0
    if video is not None:
        ctx = video.codec_context
        width, height = ctx.width, ctx.height
        pix_fmt = ctx.pix_fmt
        profile = ctx.profile
        if video.sample_aspect_ratio:
            sar = float(video.sample_aspect_ratio)
        if not width or not height:
            raise InvalidMediaError(f"{path.name}: video stream has no dimensions")
        rotation = known_rotation if known_rotation is not None else _first_frame_rotation(container, video)
    if not is_still and known_rotation is None:
        _check_tail(container, [s for s in (video, audio) if s is not None], duration, fps)

    return MediaInfo(
        path=path,
        duration=round(duration, 6),
        width=width,
        height=height,
        fps=round(fps, 6),
        video_codec=video.codec_context.name if video is not None else None,
        audio_codec=audio.codec_context.name if audio is not None else None,
        has_audio=audio is not None,
        rotation=rotation,
        pix_fmt=pix_fmt,
        size_bytes=size,
        format_name=format_name,
        has_video=video is not None,
        is_still=is_still,
        video_duration=video_duration,
        audio_duration=audio_duration,
        sample_rate=audio.rate if audio is not None else None,
        channels=audio.codec_context.channels if audio is not None else None,
        sample_aspect_ratio=sar,
        video_profile=profile,
    )


def keyframe_times(path: Path, *, max_bytes: int = 2 << 30, timeout: float = 30.0) -> list[float]:
    """Presentation times of the video stream's keyframes, read from the container's packets
    without decoding (a few milliseconds for a clip). Empty for files over ``max_bytes`` or
    that cannot be read: callers treat that as "keyframes unknown"."""
    path = Path(path)
    try:
        if path.stat().st_size > max_bytes:
            return []
        with av.open(str(path), mode="r", timeout=timeout) as container:
            if not container.streams.video:
                return []
            stream = container.streams.video[0]
            base = stream.time_base
            start = stream.start_time or 0
            return sorted(float((p.pts - start) * base) for p in container.demux(stream)
                          if p.is_keyframe and p.pts is not None and base is not None)
    except (OSError, av.error.FFmpegError, ValueError):
        return []
