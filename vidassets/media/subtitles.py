"""Subtitle cues: parsing SRT/WebVTT and timing plain text or word timings.

Parsing is lenient where real files are sloppy (BOM, CRLF, missing final
newline, missing hours, ``.`` instead of ``,``, cue numbers absent or wrong)
and strict where it matters: a cue whose time range is impossible (end before
start, a negative time, beyond six hours) is an error naming the cue, because
silently dropping it would publish a video with missing captions. Formatting
tags (``<i>``, ``<b>``, ``<font ...>``, VTT ``<v Speaker>``/``<c.x>``/inline
timestamps) are removed; anything else - including ``{\\b1}`` or ``\\N`` - is
kept as literal text, because text is data and the ASS writer escapes it.

Every cue can carry its words with their own times and the line each sits on
(:class:`CueWord`): word highlighting, karaoke and typewriter captions need
them. Transcripts bring real word timings; for text and SRT/VTT cues
:func:`layout_cue` spreads the cue's time over its words by reading weight.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from .errors import MediaParamError
from .textlayout import Measure, Token, char_width, join_tokens, text_width, tokenize, wrap_tokens

#: Cue times beyond this are a mistake (a typo'd hour), not a subtitle: no video we render is that long.
MAX_CUE_TIME = 6 * 3600.0


@dataclass(frozen=True)
class CueWord:
    """One word of a cue: shown (or highlighted) from ``start`` to ``end``, on line ``line``."""

    start: float
    end: float
    text: str
    line: int = 0


@dataclass(frozen=True)
class Cue:
    """One subtitle: shown from ``start`` to ``end`` seconds. ``text`` may contain newlines.

    ``words`` (optional, not part of equality) are the cue's words in order, with times and
    line numbers matching ``text``'s lines.
    """

    start: float
    end: float
    text: str
    words: tuple[CueWord, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if not (self.start >= 0 and self.end > self.start):
            raise MediaParamError(f"invalid cue time range {self.start}..{self.end}")


@dataclass(frozen=True)
class LineBox:
    """How wide one caption line may be and how to measure it.

    The default counts columns (:func:`~vidassets.media.textlayout.text_width`); the burner
    builds one in pixels from the style's font and the frame's safe area.
    """

    max_width: float
    measure: Measure = text_width

    def fits(self, text: str) -> bool:
        return self.measure(text) <= self.max_width


_TS = r"(?:(\d+):)?(\d{1,2}):(\d{1,2})(?:[.,](\d{1,3}))?"
_TIMING = re.compile(rf"^\s*{_TS}\s*-->\s*{_TS}(?:\s+(.*))?$")
_SRT_TAGS = re.compile(r"</?(?:i|b|u|s|font)(?:\s[^>]*)?>", re.IGNORECASE)
_VTT_TAGS = re.compile(
    r"</?(?:c|i|b|u|v|lang|ruby|rt)(?:[.\s][^>]*)?>|<\d{1,2}:\d{2}(?::\d{2})?[.,]\d{3}>", re.IGNORECASE
)


_LOOSE_TS = r"(-?)\s*(?:(\d+):)?(\d{1,2}):(\d{1,2})(?:[.,](\d{1,3}))?"
_LOOSE_TIMING = re.compile(rf"^\s*{_LOOSE_TS}\s*-->\s*{_LOOSE_TS}")


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


def timestamp(value: float, fmt: str = "srt") -> str:
    """``HH:MM:SS,mmm`` (SRT) or ``HH:MM:SS.mmm`` (WebVTT); negative values keep their sign."""
    sign, ms = ("-" if value < 0 else ""), round(abs(value) * 1000)
    sep = "." if fmt == "vtt" else ","
    return f"{sign}{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}{sep}{ms % 1000:03d}"


def _check_timing(line: str, fmt: str, number: int) -> None:
    """Refuse a timing line that names an impossible range: negative, reversed or beyond six hours.

    Zero-length cues and unreadable lines stay lenient (skipped), as real files have them.
    """
    match = _LOOSE_TIMING.match(line)
    if not match:
        return
    g = match.groups()
    try:
        start = _seconds(g[1], g[2], g[3], g[4]) * (-1 if g[0] else 1)
        end = _seconds(g[6], g[7], g[8], g[9]) * (-1 if g[5] else 1)
    except ValueError:
        return
    where = f"{fmt}: cue {number}"
    if start < 0 or end < 0:
        bad = start if start < 0 else end
        raise MediaParamError(f"{where}: negative time {timestamp(bad, fmt)}")
    if end < start:
        raise MediaParamError(f"{where}: end {timestamp(end, fmt)} is before start {timestamp(start, fmt)}")
    if end > MAX_CUE_TIME:
        raise MediaParamError(f"{where}: end {timestamp(end, fmt)} is beyond {MAX_CUE_TIME / 3600:g} hours")


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


def _block_cue(block: list[str], tags: re.Pattern[str], *, unescape: bool, fmt: str, number: int) -> Cue | None:
    """The cue of one block: a timing line among its first two lines (an optional id may come
    first), then the text. Shared by the SRT and WebVTT parsers; ``number`` names the cue in
    errors (its position among the file's timed blocks, counting from 1)."""
    for i, line in enumerate(block[:2]):
        if "-->" in line:
            _check_timing(line, fmt, number)
        timing = _parse_timing(line)
        if timing:
            return _cue(timing[0], timing[1], block[i + 1 :], tags, unescape=unescape)
    return None


def _is_timed(block: list[str]) -> bool:
    return any("-->" in line for line in block[:2])


def parse_srt(content: str) -> list[Cue]:
    """Parse SubRip. Blocks without a readable ``start --> end`` line are skipped; impossible
    ranges raise :class:`MediaParamError` naming the cue."""
    cues: list[Cue] = []
    number = 0
    for block in _blocks(_normalise(content)):
        number += _is_timed(block)
        cue = _block_cue(block, _SRT_TAGS, unescape=False, fmt="srt", number=number)
        if cue:
            cues.append(cue)
    return sorted(cues, key=lambda c: (c.start, c.end))


def parse_vtt(content: str) -> list[Cue]:
    """Parse WebVTT: header, NOTE/STYLE/REGION blocks, optional cue ids, cue settings ignored."""
    text = _normalise(content)
    if not text.lstrip().startswith("WEBVTT"):
        raise MediaParamError("not a WebVTT file (missing WEBVTT header)")
    cues: list[Cue] = []
    number = 0
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
        number += _is_timed(block)
        cue = _block_cue(block, _VTT_TAGS, unescape=True, fmt="vtt", number=number)
        if cue:
            cues.append(cue)
    return sorted(cues, key=lambda c: (c.start, c.end))


def parse_subtitles(content: str) -> list[Cue]:
    """Parse SRT or WebVTT, detected from the ``WEBVTT`` header (errors name the format and cue)."""
    if _normalise(content).lstrip().startswith("WEBVTT"):
        return parse_vtt(content)
    return parse_srt(content)


# ------------------------------------------------------------------ generation

_SENTENCE_END = re.compile(r"[.!?。！？…؟]['\"”’)\]]*$")
#: Most words a caption job may time (a 10-minute video holds ~1,500 spoken words).
MAX_WORDS = 20_000


def _box(box: LineBox | None, max_chars_per_line: int) -> LineBox:
    if box is not None:
        return box
    if max_chars_per_line < 4:
        raise MediaParamError("max_chars_per_line must be >= 4")
    return LineBox(max_chars_per_line)


def _wrap(tokens: list[Token], box: LineBox) -> list[list[Token]]:
    return wrap_tokens(tokens, box.max_width, box.measure)


def _words_of(tokens: list[Token]) -> float:
    return sum(t.weight for t in tokens)


def _chunks(tokens: list[Token], box: LineBox, max_lines: int, max_words: int | None) -> list[list[list[Token]]]:
    """Group tokens into readable cues (each a list of lines): fill up to ``max_lines`` lines and
    ``max_words`` words, and end early after a sentence that fills half a line or half the words."""
    chunks: list[list[list[Token]]] = []
    current: list[Token] = []

    def flush() -> None:
        if current:
            chunks.append(_wrap(current, box))
            current.clear()

    for token in tokens:
        full = max_words is not None and _words_of(current) + token.weight > max_words
        if current and (full or len(_wrap([*current, token], box)) > max_lines):
            flush()
        current.append(token)
        if _SENTENCE_END.search(token.text) and (
            box.measure(join_tokens(current)) >= box.max_width / 2
            or (max_words is not None and _words_of(current) * 2 >= max_words)
        ):
            flush()
    flush()
    return chunks


def _spread(lines: list[list[Token]], start: float, end: float) -> tuple[str, tuple[CueWord, ...]]:
    """A cue's text and words for untimed tokens: ``[start, end]`` shared out by reading weight,
    so a long word (or a CJK phrase) stays highlighted longer than a short one."""
    total = sum(_words_of(line) for line in lines) or 1.0
    words: list[CueWord] = []
    done = 0.0
    for number, line in enumerate(lines):
        for token in line:
            t0 = start + (end - start) * done / total
            done += token.weight
            words.append(CueWord(round(t0, 3), round(start + (end - start) * done / total, 3), token.text, number))
    return "\n".join(join_tokens(line) for line in lines), tuple(words)


def cues_from_text(
    text: str,
    duration: float,
    *,
    timing: tuple[float, float] | None = None,
    max_chars_per_line: int = 42,
    max_lines: int = 2,
    box: LineBox | None = None,
    max_words: int | None = None,
) -> list[Cue]:
    """Split ``text`` into readable cues timed by word count over ``[0, duration]`` or ``timing``.

    Each cue gets time proportional to its words (a CJK character counts half
    a word), so a long sentence stays up longer than a short one. ``timing``
    is clipped to the video. Lines are at most ``max_chars_per_line`` columns,
    or fit ``box`` when one is given.
    """
    if duration <= 0:
        raise MediaParamError("duration must be positive")
    if max_lines < 1 or (max_words is not None and max_words < 1):
        raise MediaParamError("max_lines and max_words must be >= 1")
    line_box = _box(box, max_chars_per_line)
    start, end = (0.0, float(duration)) if timing is None else (float(timing[0]), float(timing[1]))
    start, end = max(0.0, start), min(float(duration), end)
    if end <= start:
        raise MediaParamError(f"timing window {timing} is empty within a {duration:g}s video")
    tokens = tokenize(" ".join(text.split()), line_box.max_width, line_box.measure)
    chunks = _chunks(tokens, line_box, max_lines, max_words)
    if not chunks:
        return []
    weights = [sum(_words_of(line) for line in lines) for lines in chunks]
    total = sum(weights)
    cues: list[Cue] = []
    t = start
    done = 0.0
    for i, lines in enumerate(chunks):
        done += weights[i]
        t_end = end if i == len(chunks) - 1 else start + (end - start) * (done / total)
        cue_text, words = _spread(lines, round(t, 3), round(t_end, 3))
        cues.append(Cue(round(t, 3), round(t_end, 3), cue_text, words))
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


def joins_without_space(before: str, after: str) -> bool:
    """Whether two transcript words are written together: between two wide (CJK) characters."""
    return bool(before) and bool(after) and char_width(before[-1]) == 2 and char_width(after[0]) == 2


@dataclass(frozen=True)
class _Timed:
    token: Token
    start: float
    end: float


def _timed_tokens(words: Sequence[tuple[float, float, str]], box: LineBox) -> list[_Timed]:
    """One token per word; a word wider than a line is cut, its time shared by length."""
    out: list[_Timed] = []
    previous = ""
    for start, end, text in words:
        space = bool(out) and not joins_without_space(previous, text)
        pieces = tokenize(text, box.max_width, box.measure) or [Token(text, False, 1.0)]
        total = sum(max(1, len(p.text)) for p in pieces)
        done = 0
        for k, piece in enumerate(pieces):
            t0 = start + (end - start) * done / total
            done += max(1, len(piece.text))
            token = Token(piece.text, space if k == 0 else piece.space_before, 1.0 if k == 0 else 0.0)
            out.append(_Timed(token, t0, start + (end - start) * done / total))
        previous = text
    return out


def _timed_cue(timed: list[_Timed], box: LineBox) -> Cue | None:
    """A cue from timed tokens: wrapped to ``box``, each word keeping its own time."""
    lines = _wrap([t.token for t in timed], box)
    words: list[CueWord] = []
    index = 0
    for number, line in enumerate(lines):
        for token in line:
            item = timed[index]
            index += 1
            words.append(CueWord(round(item.start, 3), round(max(item.end, item.start), 3), token.text, number))
    text = "\n".join(join_tokens(line) for line in lines)
    start, end = words[0].start if words else 0.0, max((w.end for w in words), default=0.0)
    if not text or end <= start:
        return None
    return Cue(start, end, text, tuple(words))


def cues_from_words(
    words: Sequence[tuple[float, float, str]] | Sequence[Mapping[str, object]],
    *,
    max_chars_per_line: int = 42,
    max_lines: int = 2,
    max_gap: float = 1.0,
    max_cue_duration: float = 7.0,
    box: LineBox | None = None,
    max_words: int | None = None,
) -> list[Cue]:
    """Group word timings (e.g. Whisper's ``{"word", "start", "end"}``) into cues.

    A cue closes when its lines are full (``max_lines`` lines of ``box`` or
    ``max_chars_per_line`` columns), when it holds ``max_words`` words, after a
    sentence end, before a pause longer than ``max_gap``, or when it would last
    longer than ``max_cue_duration``. Cues keep the words' own start/end times
    and carry them (:attr:`Cue.words`) for word highlighting.
    """
    if len(words) > MAX_WORDS:
        raise MediaParamError(f"at most {MAX_WORDS} timed words (got {len(words)})")
    line_box = _box(box, max_chars_per_line)
    items = sorted((_word(w) for w in words), key=lambda w: w[0])
    cues: list[Cue] = []
    group: list[tuple[float, float, str]] = []

    def flush() -> None:
        if group:
            cue = _timed_cue(_timed_tokens(group, line_box), line_box)
            if cue:
                cues.append(cue)
            group.clear()

    for start, end, raw in items:
        text = raw.strip()
        if not text:
            continue
        if group:
            candidate = [t.token for t in _timed_tokens([*group, (start, end, text)], line_box)]
            too_long = len(_wrap(candidate, line_box)) > max_lines
            too_many = max_words is not None and len(group) >= max_words
            if too_long or too_many or start - group[-1][1] > max_gap or end - group[0][0] > max_cue_duration:
                flush()
        group.append((start, max(end, start), text))
        if _SENTENCE_END.search(text):
            flush()
    flush()
    return _without_overlaps(cues)


def _without_overlaps(cues: list[Cue]) -> list[Cue]:
    """End each cue no later than the next one starts. A transcript's last word of a cue may end
    after the next word begins; overlapping events would make libass stack the two captions."""
    out: list[Cue] = []
    for cue, following in zip(cues, [*cues[1:], None], strict=True):
        if following is not None and cue.end > following.start > cue.start:
            end = following.start
            words = tuple(replace(w, end=min(w.end, end), start=min(w.start, end)) for w in cue.words)
            cue = replace(cue, end=end, words=words)
        out.append(cue)
    return out


def layout_cue(cue: Cue, box: LineBox) -> Cue:
    """``cue`` with every line fitting ``box`` and its words known.

    The author's line breaks are kept; a line that is too wide is broken further. A cue
    without word timings (text, SRT, VTT) gets its time spread over its words by weight.
    """
    if cue.words:
        timed_lines: dict[int, list[CueWord]] = {}
        for word in cue.words:
            timed_lines.setdefault(word.line, []).append(word)
        words: list[CueWord] = []
        texts: list[str] = []
        for line_words in (timed_lines[k] for k in sorted(timed_lines)):
            timed = _timed_tokens([(w.start, w.end, w.text) for w in line_words], box)
            laid = _timed_cue(timed, box)
            if laid is None:
                continue
            base = len(texts)
            texts.extend(laid.text.split("\n"))
            words.extend(replace(w, line=w.line + base) for w in laid.words)
        return replace(cue, text="\n".join(texts), words=tuple(words)) if words else cue
    lines: list[list[Token]] = []
    for raw_line in cue.text.split("\n"):
        tokens = tokenize(raw_line, box.max_width, box.measure)
        if tokens:
            lines.extend(_wrap(tokens, box))
    if not lines:
        return cue
    text, spread = _spread(lines, cue.start, cue.end)
    return replace(cue, text=text, words=spread)


def format_srt(cues: Sequence[Cue]) -> str:
    """Serialise cues as SRT (handy for storing the subtitles next to the video)."""
    return "".join(f"{i}\n{timestamp(c.start)} --> {timestamp(c.end)}\n{c.text}\n\n" for i, c in enumerate(cues, 1))
