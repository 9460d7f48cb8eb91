"""Clips and helpers for the render tests: small lavfi clips encoded with the default profile
(so cuts of equal clips are stream-copy compatible), a voice track, and an encode counter."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from vidassets import media
from vidassets.media import default_profile, run_ffmpeg, runner
from vidassets.render.compiler import Step

PROFILE = default_profile()


def make_clip(out: Path, *, size: str = "320x180", rate: int = 24, duration: float = 1.0,
              source: str = "testsrc2", tone: int = 440) -> Path:
    run_ffmpeg(["-f", "lavfi", "-t", str(duration), "-i", f"{source}=s={size}:r={rate}",
                "-f", "lavfi", "-i", f"sine=f={tone}:r=48000:d={duration}", "-map", "0:v:0", "-map", "1:a:0",
                *PROFILE.audio_args(), *PROFILE.video_args(), *PROFILE.container_args(), str(out)])
    return out


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three 320x180 24 fps clips with audio (detailed patterns, different tones)."""
    folder = tmp_path_factory.mktemp("render-clips")
    return [make_clip(folder / f"c{i}.mp4", duration=d, source=s, tone=t)
            for i, (d, s, t) in enumerate([(1.0, "testsrc2", 440), (1.2, "testsrc", 550), (1.0, "mandelbrot", 660)])]


@pytest.fixture(scope="session")
def voice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 s of a 300 Hz tone as AAC (longer than the merged clips)."""
    out = tmp_path_factory.mktemp("render-voice") / "voice.m4a"
    run_ffmpeg(["-f", "lavfi", "-i", "sine=f=300:r=44100:d=3", "-c:a", "aac", "-f", "mp4", str(out)])
    return out


@dataclass
class LocalInputs:
    """The outside inputs of a recipe's steps, from local files and given text (the operation
    runner fetches the same things from URLs)."""

    voice: Path
    text: str = "hello there"
    style: media.SubtitleStyle = field(default_factory=lambda: media.subtitle_style("bold"))

    def audio(self, step: Step) -> Path:
        return self.voice

    def cues(self, step: Step, video: media.MediaInfo) -> tuple[Sequence[media.Cue], media.SubtitleStyle,
                                                                 Mapping[str, Any]]:
        box = media.burn.line_box(self.style, video.display_width, video.display_height)
        return media.cues_from_text(self.text, video.duration, box=box, max_lines=2), self.style, {"source": "text"}


@dataclass
class Encodes:
    """Every ffmpeg run that wrote an MP4, with its argv."""

    runs: list[list[str]] = field(default_factory=list)

    def video_encodes(self) -> int:
        return sum(1 for argv in self.runs if "libx264" in argv)


@pytest.fixture
def encodes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Encodes]:
    """Counts the ffmpeg processes that write an MP4: every render, whichever module built it,
    starts its process through ``vidassets.media.runner._run``."""
    seen = Encodes()
    real = runner._run

    def counting(full: list[str], *args: Any, **kwargs: Any) -> Any:
        if any(a == "-f" and b == "mp4" for a, b in zip(full, full[1:], strict=False)):
            seen.runs.append(list(full))
        return real(full, *args, **kwargs)

    monkeypatch.setattr(runner, "_run", counting)
    yield seen
