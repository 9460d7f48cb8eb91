"""Real speech for the transcription tests: espeak-ng says a known sentence, ffmpeg muxes it
onto a generated clip. The words the transcript must contain are the words we made it say.

espeak-ng is a system package (Debian ``espeak-ng``). Without it these tests skip on a developer
machine but fail in CI (``CI`` set), where a skip would hide that nothing was tested.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from vidassets.media import default_profile, run_ffmpeg

#: Sentences the bundled tiny.en model transcribes word for word from espeak-ng's voice.
SENTENCE_1 = "Captions help people watch videos without sound."
SENTENCE_2 = "Every video needs good captions."


def espeak() -> str:
    exe = shutil.which("espeak-ng")
    if exe is None:
        message = "espeak-ng is not installed (apt-get install espeak-ng)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return exe


def words_of(text: str) -> list[str]:
    """Lower-case words without punctuation: how transcript and script are compared."""
    return re.findall(r"[a-z0-9']+", text.lower())


@dataclass(frozen=True)
class Speech:
    video: Path  # H.264 + AAC clip with the speech on it
    wav: Path  # the speech alone, as espeak-ng wrote it
    text: str
    speech_start: float  # seconds of silence before the first word
    speech_end: float  # where the speech ends in the clip
    duration: float  # clip length
    size: tuple[int, int]


def say(text: str, out: Path) -> tuple[Path, float]:
    """Write ``text`` spoken by espeak-ng to ``out`` (WAV); returns the path and its length."""
    subprocess.run([espeak(), "-v", "en-us", "-s", "160", "-w", str(out), text], check=True, timeout=60,
                   capture_output=True)
    import wave

    with wave.open(str(out)) as wav:
        return out, wav.getnframes() / wav.getframerate()


def speech_clip(tmp: Path, text: str, *, size: str = "360x640", lead: float = 0.5, tail: float = 0.7,
                name: str = "speech.mp4") -> Speech:
    """A ``size`` test-pattern clip whose soundtrack is ``lead`` s silence, the speech, ``tail`` s silence."""
    wav, length = say(text, tmp / (Path(name).stem + ".wav"))
    duration = round(lead + length + tail, 2)
    p = default_profile()
    run_ffmpeg([
        "-f", "lavfi", "-i", f"testsrc2=s={size}:r=24:d={duration}", "-i", str(wav),
        "-filter_complex", f"[1:a]adelay={int(lead * 1000)}:all=1,apad,atrim=0:{duration},aresample=48000[a]",
        "-map", "0:v", "-map", "[a]", *p.video_args(), *p.audio_args(), *p.container_args(), str(tmp / name),
    ])  # fmt: skip
    width, height = (int(v) for v in size.split("x"))
    return Speech(tmp / name, wav, text, lead, lead + length, duration, (width, height))


@pytest.fixture(scope="session")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Speech:
    """A 9:16 clip saying two sentences (so captions split into several cues)."""
    return speech_clip(tmp_path_factory.mktemp("speech"), f"{SENTENCE_1} {SENTENCE_2}")
