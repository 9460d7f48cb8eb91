"""Subtitle cues: parsing SRT/WebVTT and timing plain text or word timings.

Parsing is lenient where real files are sloppy (BOM, CRLF, missing final
newline, missing hours, ``.`` instead of ``,``, cue numbers absent or wrong)
and strict where it matters (a cue must have a valid time range). Formatting
tags (``<i>``, ``<b>``, ``<font ...>``, VTT ``<v Speaker>``/``<c.x>``/inline
timestamps) are removed; anything else - including ``{\\b1}`` or ``\\N`` - is
kept as literal text, because text is data and the ASS writer escapes it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .errors import MediaParamError
from .textlayout import Token, join_tokens, text_width, tokenize, wrap_tokens


@dataclass(frozen=True)
class Cue:
    """One subtitle: shown from ``start`` to ``end`` seconds. ``text`` may contain newlines."""

    start: float
    end: float
    text: str

    def __post_init__(self) -> None:
        if not (self.start >= 0 and self.end > self.start):
            raise MediaParamError(f"invalid cue time range {self.start}..{self.end}")


_TS = r"(?:(\d+):)?(\d{1,2}):(\d{1,2})(?:[.,](\d{1,3}))?"
_TIMING = re.compile(rf"^\s*{_TS}\s*-->\s*{_TS}(?:\s+(.*))?$")
_SRT_TAGS = re.compile(r"</?(?:i|b|u|s|font)(?:\s[^>]*)?>", re.IGNORECASE)
_VTT_TAGS = re.compile(
    r"</?(?:c|i|b|u|v|lang|ruby|rt)(?:[.\s][^>]*)?>|<\d{1,2}:\d{2}(?::\d{2})?[.,]\d{3}>", re.IGNORECASE
)


def _seconds(hours: str | None, minutes: str, seconds: str, millis: str | None) -> float:
    if int(seconds) >= 60 or (hours is not None and int(minutes) >= 60):
        raise ValueError("minutes/seconds out of range")
    frac = int((millis or "0").ljust(3, "0")) / 1000
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + frac


def _parse_timing(line: str) -> tuple[float, float] | None:
    match = _TIMING.match(line)
    if not match:
        return None
    g = match.groups()
    try:
        return _seconds(g[0], g[1], g[2], g[3]), _seconds(g[4], g[5], g[6], g[7])
    except ValueError:
        return None


def _normalise(content: str) -> str:
    return content.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _blocks(content: str) -> list[list[str]]:
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in content.split("\n"):
        if line.strip():
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _cue(start: float, end: float, lines: list[str], tags: re.Pattern[str], unescape: bool) -> Cue | None:
    text = "\n".join(tags.sub("", line) for line in lines)
    if unescape:
        text = html.unescape(text)
    text = "\n".join(line.strip() for line in text.split("\n")).strip()
    if not text or end <= start:
        return None
    return Cue(start, end, text)


def _block_cue(block: list[str], tags: re.Pattern[str], *, unescape: bool) -> Cue | None:
    """The cue of one block: a timing line among its first two lines (an optional id may come
    first), then the text. Shared by the SRT and WebVTT parsers."""
    for i, line in enumerate(block[:2]):
        timing = _parse_timing(line)
        if timing:
            return _cue(timing[0], timing[1], block[i + 1 :], tags, unescape=unescape)
    return None


def parse_srt(content: str) -> list[Cue]:
    """Parse SubRip. Blocks without a valid ``start --> end`` line are skipped."""
    cues: list[Cue] = []
    for block in _blocks(_normalise(content)):
        cue = _block_cue(block, _SRT_TAGS, unescape=False)
        if cue:
            cues.append(cue)
    return sorted(cues, key=lambda c: (c.start, c.end))


def parse_vtt(content: str) -> list[Cue]:
    """Parse WebVTT: header, NOTE/STYLE/REGION blocks, optional cue ids, cue settings ignored."""
    text = _normalise(content)
    if not text.lstrip().startswith("WEBVTT"):
        raise MediaParamError("not a WebVTT file (missing WEBVTT header)")
    cues: list[Cue] = []
    for index, block in enumerate(_blocks(text)):
        if index == 0 and block[0].lstrip().startswith("WEBVTT"):
            # Header block; a cue can follow the header without a blank line in sloppy files.
            rest = block[1:]
            timing_at = next((k for k, ln in enumerate(rest) if _parse_timing(ln)), None)
            if timing_at is None:
                continue
            block = rest[timing_at:]
        if block[0].split(" ", 1)[0] in ("NOTE", "STYLE", "REGION") and "-->" not in block[0]:
            continue
        cue = _block_cue(block, _VTT_TAGS, unescape=True)
        if cue:
            cues.append(cue)
    return sorted(cues, key=lambda c: (c.start, c.end))


def parse_subtitles(content: str) -> list[Cue]:
    """Parse SRT or WebVTT, detected from the ``WEBVTT`` header."""
    if _normalise(content).lstrip().startswith("WEBVTT"):
        return parse_vtt(content)
    return parse_srt(content)


# ------------------------------------------------------------------ generation

_SENTENCE_END = re.compile(r"[.!?。！？…]['\"”’)\]]*$")


def _chunks(tokens: list[Token], max_chars_per_line: int, max_lines: int) -> list[tuple[list[Token], str]]:
    """Group tokens into readable cues: fill up to ``max_lines`` lines, end early after a sentence."""
    chunks: list[tuple[list[Token], str]] = []
    current: list[Token] = []

    def flush() -> None:
        if current:
            lines = wrap_tokens(current, max_chars_per_line)
            chunks.append((list(current), "\n".join(join_tokens(line) for line in lines)))
            current.clear()

    for token in tokens:
        candidate = [*current, token]
        if current and len(wrap_tokens(candidate, max_chars_per_line)) > max_lines:
            flush()
            token = Token(token.text, False, token.weight)
        current.append(token)
        # A sentence end closes the cue once it holds at least a few words.
        if _SENTENCE_END.search(token.text) and text_width(join_tokens(current)) >= max_chars_per_line // 2:
            flush()
    flush()
    return chunks


def cues_from_text(
    text: str,
    duration: float,
    *,
    timing: tuple[float, float] | None = None,
    max_chars_per_line: int = 42,
    max_lines: int = 2,
) -> list[Cue]:
    """Split ``text`` into readable cues timed by word count over ``[0, duration]`` or ``timing``.

    Each cue gets time proportional to its words (a CJK character counts half
    a word), so a long sentence stays up longer than a short one. ``timing``
    is clipped to the video.
    """
    if duration <= 0:
        raise MediaParamError("duration must be positive")
    if max_chars_per_line < 4 or max_lines < 1:
        raise MediaParamError("max_chars_per_line must be >= 4 and max_lines >= 1")
    start, end = (0.0, float(duration)) if timing is None else (float(timing[0]), float(timing[1]))
    start, end = max(0.0, start), min(float(duration), end)
    if end <= start:
        raise MediaParamError(f"timing window {timing} is empty within a {duration:g}s video")
    tokens = tokenize(" ".join(text.split()), max_chars_per_line)
    chunks = _chunks(tokens, max_chars_per_line, max_lines)
    if not chunks:
        return []
    weights = [sum(t.weight for t in toks) for toks, _ in chunks]
    total = sum(weights)
    cues: list[Cue] = []
    t = start
    done = 0.0
    for i, (_, chunk_text) in enumerate(chunks):
        done += weights[i]
        t_end = end if i == len(chunks) - 1 else start + (end - start) * (done / total)
        cues.append(Cue(round(t, 3), round(t_end, 3), chunk_text))
        t = t_end
    return cues


def _word(item: tuple[float, float, str] | Mapping[str, object]) -> tuple[float, float, str]:
    if isinstance(item, Mapping):
        text = item.get("word", item.get("text"))
        start, end = item.get("start"), item.get("end")
        if text is None or start is None or end is None:
            raise MediaParamError("word timings need start, end and word/text")
        return float(start), float(end), str(text)  # type: ignore[arg-type]
    start, end, text = item
    return float(start), float(end), str(text)


def cues_from_words(
    words: Sequence[tuple[float, float, str]] | Sequence[Mapping[str, object]],
    *,
    max_chars_per_line: int = 42,
    max_lines: int = 2,
    max_gap: float = 1.0,
    max_cue_duration: float = 7.0,
) -> list[Cue]:
    """Group word timings (e.g. Whisper's ``{"word", "start", "end"}``) into cues.

    A cue closes when its lines are full, after a sentence end, before a pause
    longer than ``max_gap``, or when it would last longer than
    ``max_cue_duration``. Cues keep the words' own start/end times.
    """
    items = sorted((_word(w) for w in words), key=lambda w: w[0])
    cues: list[Cue] = []
    group: list[tuple[float, float, str]] = []

    def flush() -> None:
        if group:
            tokens = tokenize(" ".join(w[2].strip() for w in group), max_chars_per_line)
            text = "\n".join(join_tokens(line) for line in wrap_tokens(tokens, max_chars_per_line))
            start, end = group[0][0], max(w[1] for w in group)
            if text and end > start:
                cues.append(Cue(round(start, 3), round(end, 3), text))
            group.clear()

    for start, end, text in items:
        if not text.strip():
            continue
        if group:
            joined = " ".join(w[2].strip() for w in [*group, (start, end, text)])
            too_long = len(wrap_tokens(tokenize(joined, max_chars_per_line), max_chars_per_line)) > max_lines
            if too_long or start - group[-1][1] > max_gap or end - group[0][0] > max_cue_duration:
                flush()
        group.append((start, end, text))
        if _SENTENCE_END.search(text.strip()):
            flush()
    flush()
    return cues


def format_srt(cues: Sequence[Cue]) -> str:
    """Serialise cues as SRT (handy for storing the subtitles next to the video)."""

    def ts(value: float) -> str:
        ms = round(value * 1000)
        return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"

    return "".join(f"{i}\n{ts(c.start)} --> {ts(c.end)}\n{c.text}\n\n" for i, c in enumerate(cues, 1))
