"""Importing user media (an uploaded file or a downloaded URL) as a pipeline clip.

Imported media is untrusted: it may not be media at all, be truncated, or be
an image. :func:`import_media` therefore

1. probes it (cheap structural check, :func:`vidassets.media.probe.probe`),
2. picks the cheapest way to a profile-conformant MP4:

   * ``still``: an image becomes a clip of ``still_duration`` seconds with
     silent audio;
   * ``remux``: H.264/yuv420p video is stream-copied (audio copied when it is
     AAC, re-encoded otherwise, silence added when missing) with
     ``+faststart`` - but only after a full decode check, because copying
     never looks inside the packets;
   * ``transcode``: everything else is re-encoded with the profile; ffmpeg
     runs with ``-xerror`` so a decode error fails the import instead of
     yielding a half-broken clip.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .errors import InvalidMediaError, MediaParamError
from .files import atomic_output, local_input
from .filters import fmt_num
from .probe import MediaInfo, probe
from .profile import EncoderProfile, default_profile
from .runner import ProgressCallback, run_ffmpeg
from .streams import audio_plan, silence_input, square_pixels

log = logging.getLogger(__name__)

ImportMode = Literal["still", "remux", "transcode"]
STILL_FPS = 24
MAX_STILL_DURATION = 600.0
#: Share of the progress bar given to the decode check before a remux.
_CHECK_SHARE = 0.8


@dataclass(frozen=True)
class ImportCommand:
    """How an input will be imported: the mode, the argv and, for remuxes, the decode check."""

    mode: ImportMode
    argv: list[str]
    output_duration: float
    decode_check: list[str] | None = None


def decode_check_command(info: MediaInfo) -> list[str]:
    """Decode every video and audio frame, discard the output, stop at the first error."""
    return [
        "-xerror",
        "-i",
        str(info.path),
        "-map",
        "0:v:0",
        "-map",
        "0:a:0?",
        "-f",
        "null",
        "-",
    ]


def can_remux(info: MediaInfo, profile: EncoderProfile) -> bool:
    """Video can be copied when it is already what the profile would produce."""
    return (
        info.has_video
        and not info.is_still
        and info.video_codec == profile.video_codec_name
        and info.pix_fmt == profile.pix_fmt
        and info.width % 2 == 0
        and info.height % 2 == 0
        and abs(info.sample_aspect_ratio - 1.0) < 1e-3
    )


def _even_scale(info: MediaInfo) -> list[str]:
    return [*square_pixels(info), "scale=trunc(iw/2)*2:trunc(ih/2)*2"]


def build_import_command(
    info: MediaInfo, out: Path, *, still_duration: float = 5.0, profile: EncoderProfile | None = None
) -> ImportCommand:
    """Pure: the import plan for a probed input: a still becomes a clip, a file whose streams we
    can keep is remuxed (and decode-checked), anything else is transcoded."""
    profile = profile or default_profile()
    if info.is_still:
        return _still_command(info, out, still_duration, profile)
    audio = audio_plan(info, profile)
    tail = [*audio.codec, "-map_metadata", "-1", *profile.container_args(), str(out)]
    if can_remux(info, profile):
        argv = ["-i", str(info.path), *audio.inputs, "-map", "0:v:0", *audio.map, "-c:v", "copy", *tail]
        return ImportCommand("remux", argv, info.duration, decode_check=decode_check_command(info))
    argv = ["-xerror", "-i", str(info.path), *audio.inputs, "-map", "0:v:0", *audio.map,
            "-vf", ",".join([*_even_scale(info), f"format={profile.pix_fmt}"]), *profile.video_args(), *tail]
    return ImportCommand("transcode", argv, info.duration)


def _still_command(info: MediaInfo, out: Path, still_duration: float, profile: EncoderProfile) -> ImportCommand:
    """An image held for ``still_duration`` seconds, with a silent track."""
    if not 0 < still_duration <= MAX_STILL_DURATION:
        raise MediaParamError(f"still_duration must be within (0, {MAX_STILL_DURATION:g}] seconds")
    d = fmt_num(still_duration)
    argv = [
        "-xerror", "-loop", "1", "-framerate", str(STILL_FPS), "-t", d, "-i", str(info.path),
        *silence_input(profile, still_duration), "-map", "0:v:0", "-map", "1:a:0",
        "-vf", ",".join([*_even_scale(info), "setsar=1", f"format={profile.pix_fmt}"]),
        *profile.video_args(), *profile.audio_args(), "-t", d, "-map_metadata", "-1",
        *profile.container_args(), str(out),
    ]
    return ImportCommand("still", argv, still_duration)


def _sub_progress(callback: ProgressCallback | None, lo: float, hi: float) -> ProgressCallback | None:
    if callback is None:
        return None
    report: Callable[[float], None] = callback
    return lambda fraction: report(lo + (hi - lo) * fraction)


def import_media(
    src: Path,
    out: Path,
    *,
    still_duration: float = 5.0,
    profile: EncoderProfile | None = None,
    timeout: float | None = None,
    on_progress: ProgressCallback | None = None,
) -> MediaInfo:
    """Validate ``src`` and turn it into a profile-conformant clip at ``out`` (see module doc).

    Raises :class:`InvalidMediaError` (with a message naming the problem) for
    non-media, truncated or undecodable input and for files without video.
    """
    info = probe(local_input(src))
    if not info.has_video:
        raise InvalidMediaError(f"{info.path.name} has no video stream")
    with atomic_output(Path(out)) as part:
        command = build_import_command(info, part, still_duration=still_duration, profile=profile)
        progress = on_progress
        try:
            if command.decode_check is not None:
                run_ffmpeg(
                    command.decode_check,
                    timeout=timeout,
                    on_progress=_sub_progress(on_progress, 0.0, _CHECK_SHARE),
                    expected_duration=info.duration,
                )
                progress = _sub_progress(on_progress, _CHECK_SHARE, 1.0)
            log.info("importing %s (%s)", info.path.name, command.mode)
            run_ffmpeg(command.argv, timeout=timeout, on_progress=progress, expected_duration=command.output_duration)
        except InvalidMediaError as exc:
            raise InvalidMediaError(
                f"{info.path.name} failed the decode check: {exc.message}", stderr=exc.stderr
            ) from exc
    return probe(Path(out), known_rotation=info.rotation if command.mode == "remux" else 0)
