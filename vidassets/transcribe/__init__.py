"""Captions from speech: which transcriber runs, the offline Whisper default, timed words.

This package's top level is light (the API validates plans with it): :func:`choose_transcriber`
is pure. The heavy parts are imported from their modules where they run:
``vidassets.transcribe.offline`` (the bundled Whisper model, :func:`~.offline.transcribe_offline`)
and ``vidassets.transcribe.audio`` (the speech track, extracted with our ffmpeg). Hosted
transcribers (Replicate, fal) live with the other vendor clients in ``vidassets.providers``.
"""

from __future__ import annotations

from .choice import (
    VENDOR_TRANSCRIBERS,
    TranscriberChoice,
    TranscriberProblem,
    choose_transcriber,
    configured_vendors,
)
from .errors import TranscriptionError
from .languages import (
    OFFLINE_NAME,
    WHISPER_LANGUAGES,
    normalise_language,
    offline_languages,
    offline_model_name,
)

__all__ = [
    "OFFLINE_NAME",
    "VENDOR_TRANSCRIBERS",
    "WHISPER_LANGUAGES",
    "TranscriberChoice",
    "TranscriberProblem",
    "TranscriptionError",
    "choose_transcriber",
    "configured_vendors",
    "normalise_language",
    "offline_languages",
    "offline_model_name",
]
