"""Error types raised by the media layer.

Every failure carries a stable machine-readable ``code`` (what the API and the
executor map to a job error), a human ``message`` and, when ffmpeg was
involved, the tail of its stderr: that tail is the evidence an operator needs,
so it travels with the exception instead of being logged and lost (the lesson
of ``ffmpeg.Error`` in ffmpeg-python, which keeps stdout/stderr on the error).
"""

from __future__ import annotations

STDERR_TAIL_BYTES = 4096


def tail(text: str | bytes | None, limit: int = STDERR_TAIL_BYTES) -> str | None:
    """Return the last ``limit`` characters of ``text`` (decoded leniently)."""
    if text is None:
        return None
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return text[-limit:]


class MediaError(Exception):
    """Base class: ``code`` is stable, ``message`` is for people, ``stderr`` is evidence."""

    code: str = "media_error"

    def __init__(self, message: str, *, stderr: str | bytes | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.stderr = tail(stderr)
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class InvalidMediaError(MediaError):
    """The input is not decodable media: not a media file, truncated, or has no video stream."""

    code = "invalid_media"


class MediaTimeoutError(MediaError):
    """ffmpeg (or a probe) exceeded its time budget and was killed."""

    code = "timeout"


class FFmpegError(MediaError):
    """ffmpeg exited non-zero for a reason other than an invalid input."""

    code = "ffmpeg_failed"

    def __init__(
        self,
        message: str,
        *,
        stderr: str | bytes | None = None,
        returncode: int | None = None,
        argv: list[str] | None = None,
    ) -> None:
        super().__init__(message, stderr=stderr)
        self.returncode = returncode
        self.argv = argv


class MediaParamError(MediaError, ValueError):
    """The caller asked for something impossible (bad aspect, transition longer than a clip...)."""

    code = "invalid_params"
