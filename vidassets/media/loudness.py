"""Loudness of an audio track, EBU R128 / ITU-R BS.1770, measured by ffmpeg's ``ebur128`` filter.

Generated speech and music come from vendors whose levels differ by tens of dB, and a silent or
clipped file still "decodes": integrated loudness (LUFS) and true peak (dBFS) are the numbers that
tell a producer whether an audio artefact is usable before anyone listens to it. ffmpeg does the
K-weighting, gating and 4x-oversampled peak detection; we only read its end-of-run summary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .errors import FFmpegError
from .files import local_input
from .runner import run_ffmpeg

#: The absolute gate of BS.1770: blocks quieter than this never count, so an input with nothing
#: above it (silence, or less than one 400 ms block) has no integrated loudness. ffmpeg prints
#: -70.0 (older builds "-inf"); either way we report this floor.
SILENCE_LUFS = -70.0

_NUMBER = r"(-?inf|-?\d+(?:\.\d+)?)"
_INTEGRATED = re.compile(r"^\s*I:\s+" + _NUMBER + r" LUFS", re.MULTILINE)
_PEAK = re.compile(r"^\s*Peak:\s+" + _NUMBER + r" dBFS", re.MULTILINE)
# ffmpeg's final report (printed even with -nostats): how much audio was actually decoded.
_TIME = re.compile(r"time=(\d+):(\d{2}):(\d{2}(?:\.\d+)?)")


@dataclass(frozen=True)
class Loudness:
    """``integrated_lufs`` is at least :data:`SILENCE_LUFS`; ``true_peak_dbfs`` is ``-inf`` for
    digital silence and None when ffmpeg did not report it; ``duration`` is the seconds decoded."""

    integrated_lufs: float
    true_peak_dbfs: float | None
    duration: float

    @property
    def silent(self) -> bool:
        return self.integrated_lufs <= SILENCE_LUFS


def build_loudness_command(path: Path) -> list[str]:
    """Pure: decode the first audio stream through ``ebur128`` (true peak on) into the null muxer.

    ``framelog=quiet`` drops the ten-lines-a-second running log, so the summary is all the filter
    prints; ``-loglevel info`` because the summary is logged at that level."""
    return ["-loglevel", "level+info", "-i", str(path), "-map", "0:a:0", "-vn", "-sn", "-dn",
            "-af", "ebur128=peak=true:framelog=quiet", "-f", "null", "-"]


def parse_loudness(stderr: str) -> Loudness:
    """Read the last ``Summary:`` block ffmpeg's ``ebur128`` printed (raises when there is none)."""
    start = stderr.rfind("Summary:")
    if start < 0:
        raise FFmpegError("ffmpeg printed no loudness summary", stderr=stderr)
    summary = stderr[start:]
    integrated = _INTEGRATED.search(summary)
    if integrated is None:
        raise FFmpegError("ffmpeg's loudness summary has no integrated loudness", stderr=stderr)
    lufs = float(integrated.group(1))
    peak_match = _PEAK.search(summary)
    peak = float(peak_match.group(1)) if peak_match else None
    times = _TIME.findall(stderr)
    duration = 0.0
    if times:
        hours, minutes, seconds = times[-1]
        duration = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    return Loudness(integrated_lufs=max(SILENCE_LUFS, lufs), true_peak_dbfs=peak, duration=round(duration, 3))


def measure_loudness(path: Path, timeout: float = 120.0) -> Loudness:
    """Integrated loudness and true peak of ``path``'s first audio stream (decodes all of it).

    Raises :class:`~vidassets.media.errors.MediaError` subclasses: the file has no audio stream or
    does not decode (``InvalidMediaError``), ffmpeg failed or printed no summary (``FFmpegError``),
    or it ran past ``timeout`` seconds (``MediaTimeoutError``)."""
    result = run_ffmpeg(build_loudness_command(local_input(path)), timeout=timeout)
    return parse_loudness(result.stderr)
