"""A transcript: timed words, cleaned so captions can trust them."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from vidassets.media.subtitles import MAX_WORDS
from vidassets.providers.base import Word

from .errors import TranscriptionError


@dataclass(frozen=True)
class Transcript:
    """What a transcriber heard: ``words`` in order, the language and the model that heard it."""

    words: tuple[Word, ...]
    language: str | None
    transcriber: str
    model: str | None

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


def clean_words(words: Iterable[Word], duration: float | None = None) -> list[Word]:
    """Words a caption can use: text stripped and non-empty, times finite, inside
    ``[0, duration]``, ``end >= start``, starts never going backwards.

    Transcribers (local or hosted) occasionally report a last word ending after the audio or a
    word starting a hair before its predecessor; captions must not inherit either.
    """
    out: list[Word] = []
    limit = float(duration) if duration is not None and duration > 0 else math.inf
    for word in sorted(words, key=lambda w: w.start):
        text = word.text.strip()
        if not text or not (math.isfinite(word.start) and math.isfinite(word.end)):
            continue
        start = min(max(0.0, word.start, out[-1].start if out else 0.0), limit)
        end = min(max(word.end, start), limit)
        out.append(Word(round(start, 3), round(end, 3), text))
    if len(out) > MAX_WORDS:
        raise TranscriptionError(f"the transcript has {len(out)} words; a caption job holds at most {MAX_WORDS}",
                                 code="transcript_too_long")
    return out
