"""The media layer's process-wide knobs, set once from Settings by whoever builds the process.

``media`` stays free of the application (no Settings, no environment reads): the service
builder calls :func:`configure` with values from :class:`vidassets.settings.Settings`
(``VIDASSETS_FFMPEG``, ``VIDASSETS_FFMPEG_SLOTS``, ``..._PRESET``, ``..._CRF``, ``..._TIMEOUT``),
and code that uses ``media`` on its own (tests, benchmarks) gets the defaults below.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class MediaConfig:
    ffmpeg: str | None = None  # the binary; None: ffmpeg on PATH, else the imageio-ffmpeg wheel's
    slots: int | None = None  # ffmpeg processes at once; None: one per two cores
    preset: str | None = None  # x264 speed/size trade-off; None: EncoderProfile's default
    crf: int | None = None  # x264 quality (lower is better and larger); None: EncoderProfile's
    timeout_s: float | None = None  # ceiling per ffmpeg run; None: 2 min + 30 s per second of media


_lock = threading.Lock()
_current = MediaConfig()
_listeners: list[Callable[[], None]] = []


def configure(config: MediaConfig) -> None:
    """Replace the process's media configuration (caches that depend on it are dropped)."""
    global _current
    with _lock:
        _current = config
        for drop in _listeners:
            drop()


def current() -> MediaConfig:
    return _current


def on_change(drop_cache: Callable[[], None]) -> None:
    """Register a cache to clear when the configuration changes."""
    _listeners.append(drop_cache)
