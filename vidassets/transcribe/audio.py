"""The speech track, extracted with our ffmpeg in the shape each transcriber wants.

Whisper works on 16 kHz mono samples; decoding the video ourselves (the hardened runner, the
imageio-ffmpeg binary) means the offline model never opens an untrusted container, and vendors
get a small audio file instead of the whole video (a 10-minute AAC track is ~2.5 MB, well
under the size at which a file must be published rather than inlined).
"""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Literal

import numpy as np

from vidassets.media.files import local_input
from vidassets.media.probe import MediaInfo, probe
from vidassets.media.runner import run_ffmpeg

from .errors import TranscriptionError

SAMPLE_RATE = 16_000


def speech_info(video: Path) -> MediaInfo:
    """Probe ``video`` and refuse one without sound: there is nothing to transcribe."""
    info = probe(local_input(video), require_video=False)
    if not info.has_audio:
        raise TranscriptionError("the video has no audio track to transcribe", code="no_audio")
    return info


def build_extract_command(video: Path, out: Path, fmt: Literal["wav", "m4a"]) -> list[str]:
    """ffmpeg arguments: the first audio stream, mono, 16 kHz, as PCM WAV or AAC in MP4."""
    codec = ["-c:a", "pcm_s16le", "-f", "wav"] if fmt == "wav" else ["-c:a", "aac", "-b:a", "48k", "-f", "mp4"]
    return ["-i", str(video), "-map", "0:a:0", "-vn", "-sn", "-dn", "-ac", "1", "-ar", str(SAMPLE_RATE),
            *codec, "-map_metadata", "-1", str(out)]


def extract_speech(video: Path, out: Path, *, fmt: Literal["wav", "m4a"] = "wav",
                   timeout: float | None = None) -> Path:
    """Write ``video``'s speech track to ``out`` (see :func:`build_extract_command`)."""
    info = speech_info(video)
    run_ffmpeg(build_extract_command(info.path, Path(out), fmt), timeout=timeout, expected_duration=info.duration)
    return Path(out)


def read_wav(path: Path) -> np.ndarray:
    """16 kHz mono 16-bit PCM WAV -> float32 samples in [-1, 1] (what Whisper consumes)."""
    with wave.open(str(path), "rb") as wav:
        if wav.getnchannels() != 1 or wav.getsampwidth() != 2 or wav.getframerate() != SAMPLE_RATE:
            raise TranscriptionError(f"{path.name} is not 16 kHz mono 16-bit PCM", code="transcription_failed")
        frames = wav.readframes(wav.getnframes())
    return np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0
