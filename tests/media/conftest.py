"""Shared fixtures for the media tests: small clips generated with lavfi, and frame/audio readers.

Clips are made once per session (320x180 or smaller, 1-3 s) so the whole
suite stays fast on two cores. They are encoded with the default profile's
settings, so clips of equal size/rate are stream-copy compatible.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest

from tests.frames import frame_at  # the one frame reader every media test uses
from vidassets.media import default_profile, run_ffmpeg

PROFILE = default_profile()


def make_clip(
    out: Path,
    *,
    size: str = "320x180",
    rate: int = 24,
    duration: float = 2.0,
    audio: bool = True,
    source: str = "testsrc2",
    tone: int = 440,
) -> Path:
    """Encode a lavfi test pattern (+ sine) with the default profile settings."""
    argv = ["-f", "lavfi", "-i", f"{source}=s={size}:r={rate}:d={duration}"]
    if audio:
        argv += ["-f", "lavfi", "-i", f"sine=f={tone}:r=48000:d={duration}"]
    argv += ["-map", "0:v:0"]
    if audio:
        argv += ["-map", "1:a:0", *PROFILE.audio_args()]
    argv += [*PROFILE.video_args(), *PROFILE.container_args(), str(out)]
    run_ffmpeg(argv)
    return out


def make_box_clip(out: Path, *, duration: float = 3.0, speed: float = 80.0) -> Path:
    """A white 40x40 box moving left to right on black (x = 20 + speed * t)."""
    graph = (
        f"color=black:s=320x180:r=24:d={duration}[bg];color=white:s=40x40:r=24[fg];"
        f"[bg][fg]overlay=x=20+{speed}*t:y=70:shortest=1"
    )
    run_ffmpeg(["-f", "lavfi", "-i", graph, *PROFILE.video_args(), *PROFILE.container_args(), str(out)])
    return out


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def clip_av(media_dir: Path) -> Path:
    """320x180, 24 fps, 2 s, H.264 + AAC (profile settings)."""
    return make_clip(media_dir / "clip_av.mp4")


@pytest.fixture(scope="session")
def clip_av2(media_dir: Path) -> Path:
    """Same parameters as ``clip_av`` (stream-copy compatible), 1.5 s, different tone."""
    return make_clip(media_dir / "clip_av2.mp4", duration=1.5, source="testsrc", tone=660)


@pytest.fixture(scope="session")
def clip_noaudio(media_dir: Path) -> Path:
    """320x180, 24 fps, 2 s, video only."""
    return make_clip(media_dir / "clip_noaudio.mp4", audio=False, source="smptebars")


@pytest.fixture(scope="session")
def clip_square30(media_dir: Path) -> Path:
    """240x240, 30 fps, 1.5 s, with audio: differs from ``clip_av`` in size and rate."""
    return make_clip(media_dir / "clip_square30.mp4", size="240x240", rate=30, duration=1.5, tone=330)


@pytest.fixture(scope="session")
def tiny_clip(media_dir: Path) -> Path:
    """160x90, 24 fps, 0.5 s with audio: the cheapest input for exhaustive reframe runs."""
    return make_clip(media_dir / "tiny.mp4", size="160x90", duration=0.5)


@pytest.fixture(scope="session")
def box_clip(media_dir: Path) -> Path:
    return make_box_clip(media_dir / "box.mp4")


@pytest.fixture(scope="session")
def still_png(media_dir: Path) -> Path:
    out = media_dir / "still.png"
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc=s=201x113", "-frames:v", "1", "-f", "image2", str(out)])
    return out


@pytest.fixture(scope="session")
def tone_wav(media_dir: Path) -> Path:
    """3 s of a 300 Hz tone as WAV (an audio-only input)."""
    out = media_dir / "tone.wav"
    run_ffmpeg(["-f", "lavfi", "-i", "sine=f=300:r=44100:d=3", "-c:a", "pcm_s16le", "-f", "wav", str(out)])
    return out


@pytest.fixture(scope="session")
def text_file(media_dir: Path) -> Path:
    out = media_dir / "notes.mp4"  # a misleading extension on purpose
    out.write_text("this is not a video\n" * 50)
    return out


@pytest.fixture(scope="session")
def truncated_mp4(media_dir: Path, clip_av: Path) -> Path:
    """``clip_av`` (index up front, +faststart) cut in half: opens, but data stops early."""
    data = clip_av.read_bytes()
    out = media_dir / "truncated.mp4"
    out.write_bytes(data[: len(data) // 2])
    return out


@pytest.fixture(scope="session")
def truncated_no_moov(media_dir: Path) -> Path:
    """An MP4 written without faststart, cut in half: the index (moov) is missing."""
    full = media_dir / "nofaststart.mp4"
    run_ffmpeg(
        [
            "-f", "lavfi", "-i", "testsrc2=s=160x90:r=24:d=2",
            *PROFILE.video_args(), "-movflags", "0", "-f", "mp4", str(full),
        ]
    )  # fmt: skip
    data = full.read_bytes()
    out = media_dir / "truncated_no_moov.mp4"
    out.write_bytes(data[: len(data) // 2])
    return out


# ------------------------------------------------------------------- readers


def frames(path: Path) -> list[tuple[float, np.ndarray]]:
    """All frames as (time, gray uint8 array) - only for tiny test clips."""
    with av.open(str(path)) as container:
        return [(float(f.time), f.to_ndarray(format="gray")) for f in container.decode(video=0)]


def audio_rms(path: Path, start: float = 0.0, end: float | None = None) -> float:
    """RMS level of the first audio stream between ``start`` and ``end`` seconds."""
    total = 0.0
    count = 0
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            t = float(frame.time or 0.0)
            if t < start or (end is not None and t >= end):
                continue
            samples = frame.to_ndarray().astype(np.float64)
            total += float((samples**2).sum())
            count += samples.size
    return (total / count) ** 0.5 if count else 0.0


@dataclass(frozen=True)
class Helpers:
    """Helper functions handed to tests as a fixture (works under any pytest import mode)."""

    make_clip: Callable[..., Path]
    make_box_clip: Callable[..., Path]
    frame_at: Callable[[Path, float], np.ndarray]
    frames: Callable[[Path], list[tuple[float, np.ndarray]]]
    audio_rms: Callable[..., float]


@pytest.fixture(scope="session")
def helpers() -> Helpers:
    return Helpers(make_clip, make_box_clip, frame_at, frames, audio_rms)
