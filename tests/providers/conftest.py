"""Fixtures for the provider tests: a real mp4, fake vendor servers (see ``fakes.py``), a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.providers.fakes import FakeClock, FakeFal, FakeReplicate, FakeServer, FakeVertex


@pytest.fixture(scope="session")
def clip_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real 1 s 160x90 H.264 mp4, made once per session."""
    path = tmp_path_factory.mktemp("vendor") / "clip.mp4"
    try:
        from vidassets.media import run_ffmpeg
    except ImportError:  # the media package is optional for these tests
        import subprocess

        import imageio_ffmpeg

        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-f", "lavfi", "-i",
                        "testsrc2=size=160x90:rate=12:duration=1", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                        str(path)], check=True, capture_output=True, timeout=60)
    else:
        run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=160x90:rate=12:duration=1", "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", str(path)], timeout=60)
    return path.read_bytes()


def _serve(server: FakeServer, clip_bytes: bytes) -> Iterator[FakeServer]:
    server.files["out.mp4"] = clip_bytes
    yield server
    server.stop()


@pytest.fixture
def replicate_server(clip_bytes: bytes) -> Iterator[FakeReplicate]:
    yield from _serve(FakeReplicate(), clip_bytes)  # type: ignore[misc]


@pytest.fixture
def fal_server(clip_bytes: bytes) -> Iterator[FakeFal]:
    yield from _serve(FakeFal(), clip_bytes)  # type: ignore[misc]


@pytest.fixture
def vertex_server(clip_bytes: bytes) -> Iterator[FakeVertex]:
    yield from _serve(FakeVertex(), clip_bytes)  # type: ignore[misc]


@pytest.fixture
def plain_server(clip_bytes: bytes) -> Iterator[FakeServer]:
    yield from _serve(FakeServer(), clip_bytes)


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def small_files(tmp_path: Path) -> tuple[Path, Path]:
    """A tiny 'video' and 'audio' file to hand to lip-sync and transcription calls."""
    video, audio = tmp_path / "in.mp4", tmp_path / "voice.m4a"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"v" * 64)
    audio.write_bytes(b"\x00\x00\x00\x18ftypM4A " + b"a" * 64)
    return video, audio
