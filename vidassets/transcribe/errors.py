"""Transcription failures with stable codes (the executor reports ``code`` on the failed job)."""

from __future__ import annotations


class TranscriptionError(RuntimeError):
    """Transcription could not produce captions.

    Codes: ``no_audio`` (the video has no sound track), ``no_speech`` (nothing was said),
    ``transcriber_unavailable`` (the offline model is not installed or cannot load),
    ``unsupported_language`` (no configured transcriber handles the language),
    ``transcript_too_long`` (more timed words than a caption job may hold).
    """

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = False
