"""Burning subtitles: style presets, the ASS writer and the ffmpeg command.

Cue text reaches libass only through an ``.ass`` file we write; the filter
string holds nothing but two escaped paths (the file and ``fontsdir``). Inside
the file, ASS's own syntax is neutralised so text renders literally:

* ``{`` / ``}`` become ``\\{`` / ``\\}`` (libass's escapes), so ``{\\b1}`` is
  shown, not obeyed;
* a backslash that would form ``\\N``, ``\\n`` or ``\\h`` (or that ends a run,
  where our own ``{\\fn...}`` tag follows) gets an invisible WORD JOINER
  (U+2060) after it, which breaks the escape without changing what is seen;
* newlines become ``\\N``.

Glyph coverage: when the style uses a shipped family, runs of text that family
cannot draw (CJK, Arabic, emoji) are wrapped in ``{\\fn<family>}`` tags naming
the shipped font that can, so rendering never depends on fontconfig's fallback.

Short-form captions: lines are broken by measured pixel width inside the
frame's safe area (phone UIs cover the bottom and right of a 9:16 frame), and
a style may highlight the word being spoken (one event per word, the current
word recoloured and, with ``highlight_scale``, enlarged), fill words karaoke-style
(``\\k``), or animate each caption in (``fade``, ``slide``, ``pop``, ``typewriter``);
a drop shadow (ASS ``Shadow``) may sit below-right of the text. Only our own override tags
sit between escaped pieces of text, so the escaping above still holds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from .errors import MediaParamError
from .files import atomic_output, local_input, scratch_dir
from .filters import escape_filter_value
from .fonts import canonical_family, fonts_dir, measure_text, shipped_families, split_runs
from .graph import FilterGraph, Stream
from .probe import MediaInfo, probe
from .profile import EncoderProfile, default_profile
from .runner import ProgressCallback, run_ffmpeg
from .streams import audio_plan, square_pixels
from .subtitles import Cue, CueWord, LineBox, layout_cue

WORD_JOINER = "\u2060"
Position = Literal["bottom", "top", "center"]
Highlight = Literal["none", "word", "karaoke"]
Animation = Literal["none", "fade", "slide", "typewriter", "pop"]
HIGHLIGHTS: tuple[str, ...] = ("none", "word", "karaoke")
ANIMATIONS: tuple[str, ...] = ("none", "fade", "slide", "typewriter", "pop")

_NAMED_COLOURS = {
    "white": "#FFFFFF",
    "black": "#000000",
    "yellow": "#FFFF00",
    "red": "#FF0000",
    "green": "#00FF00",
    "blue": "#0000FF",
    "cyan": "#00FFFF",
    "magenta": "#FF00FF",
    "gray": "#808080",
    "grey": "#808080",
    "transparent": "#00000000",
}
_HEX = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")
_ALIGNMENT = {"bottom": 2, "center": 5, "top": 8}


def parse_colour(value: str) -> tuple[int, int, int, int]:
    """``#RGB``, ``#RRGGBB``, ``#RRGGBBAA`` (AA=FF opaque) or a basic name -> (r, g, b, a)."""
    text = _NAMED_COLOURS.get(str(value).strip().lower(), str(value).strip())
    match = _HEX.match(text)
    if not match:
        raise MediaParamError(f"invalid colour {value!r}; use #RRGGBB or #RRGGBBAA")
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    if len(digits) == 6:
        digits += "FF"
    r, g, b, a = (int(digits[i : i + 2], 16) for i in range(0, 8, 2))
    return r, g, b, a


def ass_colour(value: str) -> str:
    """ASS colour ``&HAABBGGRR`` (ASS alpha is inverted: 00 is opaque)."""
    r, g, b, a = parse_colour(value)
    return f"&H{255 - a:02X}{b:02X}{g:02X}{r:02X}"


@dataclass(frozen=True)
class SafeArea:
    """Margins (px) that captions keep clear of: platform UI on phones, the edges elsewhere."""

    left: int
    right: int
    top: int
    bottom: int


def safe_area(width: int, height: int) -> SafeArea:
    """Where captions may go on a ``width`` x ``height`` frame.

    Tall frames (9:16, 9:21) are watched in TikTok/Reels/Shorts, whose buttons cover about the
    right ninth and whose description covers the bottom fifth; 4:5 and 1:1 feed posts need less;
    landscape keeps the classic 5 %/6 % title-safe margins.
    """
    ratio = height / max(1, width)
    if ratio >= 1.6:
        sides, top, bottom = 0.11, 0.12, 0.20
    elif ratio >= 1.2:
        sides, top, bottom = 0.08, 0.08, 0.10
    elif ratio >= 0.9:
        sides, top, bottom = 0.08, 0.08, 0.08
    else:
        sides, top, bottom = 0.05, 0.06, 0.06
    side = round(width * sides)
    return SafeArea(side, side, round(height * top), round(height * bottom))


@dataclass(frozen=True)
class SubtitleStyle:
    """How burned subtitles look. ``None`` sizes are derived from the frame.

    ``relative_size`` is the font size as a fraction of the frame's shorter side (the height of
    a landscape video, the width of a 9:16 one) when ``font_size`` is not given;
    ``outline_ratio`` is the outline width as a fraction of the font size. ``background`` draws
    a box (``#000000A0`` = 60 % black) instead of an outline. ``highlight`` marks the word
    being spoken (``word``: only it, in ``highlight_color``; ``karaoke``: every word spoken so
    far); ``animation`` brings each caption in. ``max_lines``/``max_words`` bound how much
    text one caption shows; ``uppercase`` shouts it.

    With highlighting, ``highlight_scale`` draws the spoken word larger (1.15 = 15 %, like the
    TypeScript SDK's ``scale`` animation) and ``inactive_color`` (when given) draws the words not
    being spoken instead of ``color``. ``shadow`` is a drop shadow offset in px (or, unset,
    ``shadow_ratio`` of the font size) drawn in ``shadow_color`` below-right of the text.
    ``font_family`` may name a shipped family or an alias of one (``Courier New``, ``serif``...).
    """

    font_family: str = "Noto Sans"
    font_size: int | None = None
    color: str = "#FFFFFF"
    outline_color: str = "#000000"
    background: str | None = None
    bold: bool = False
    position: Position = "bottom"
    margin: int | None = None
    relative_size: float = 0.055
    outline_ratio: float = 0.07
    highlight: Highlight = "none"
    highlight_color: str = "#FFE000"
    animation: Animation = "none"
    max_lines: int = 2
    max_words: int | None = None
    uppercase: bool = False
    shadow: float | None = None
    shadow_ratio: float = 0.0
    shadow_color: str = "#00000080"
    highlight_scale: float = 1.0
    inactive_color: str | None = None

    def __post_init__(self) -> None:
        for colour in (self.color, self.outline_color, self.highlight_color, self.shadow_color):
            parse_colour(colour)
        for optional in (self.background, self.inactive_color):
            if optional is not None:
                parse_colour(optional)
        if self.position not in _ALIGNMENT:
            raise MediaParamError(f"position must be one of {', '.join(_ALIGNMENT)}, got {self.position!r}")
        if self.highlight not in HIGHLIGHTS:
            raise MediaParamError(f"highlight must be one of {', '.join(HIGHLIGHTS)}, got {self.highlight!r}")
        if self.animation not in ANIMATIONS:
            raise MediaParamError(f"animation must be one of {', '.join(ANIMATIONS)}, got {self.animation!r}")
        if self.font_size is not None and not 4 <= self.font_size <= 1000:
            raise MediaParamError(f"font_size must be within 4..1000, got {self.font_size}")
        if self.margin is not None and not 0 <= self.margin <= 10000:
            raise MediaParamError(f"margin must be within 0..10000, got {self.margin}")
        if not 0 < self.relative_size <= 0.5 or not 0 <= self.outline_ratio <= 0.5:
            raise MediaParamError("relative_size must be in (0, 0.5] and outline_ratio in [0, 0.5]")
        if not 1 <= self.max_lines <= 4 or (self.max_words is not None and not 1 <= self.max_words <= 50):
            raise MediaParamError("max_lines must be within 1..4 and max_words within 1..50")
        if not self.font_family.strip() or any(c in self.font_family for c in ",\n\r{}\\"):
            raise MediaParamError(f"invalid font family {self.font_family!r}")
        if (self.shadow is not None and not 0 <= self.shadow <= 100) or not 0 <= self.shadow_ratio <= 0.5:
            raise MediaParamError("shadow must be within 0..100 px and shadow_ratio within 0..0.5")
        if not 1 <= self.highlight_scale <= 2:
            raise MediaParamError(f"highlight_scale must be within 1..2, got {self.highlight_scale}")
        # Aliases name the shipped font they draw with, so measuring, glyph fallback and libass agree.
        object.__setattr__(self, "font_family", canonical_family(self.font_family))

    def resolved_font_size(self, width: int, height: int) -> int:
        return self.font_size or max(10, round(min(width, height) * self.relative_size))

    def resolved_outline(self, width: int, height: int) -> float:
        """Outline width (px), or the box padding when the style draws a background box."""
        size = self.resolved_font_size(width, height)
        return max(1, round(size * 0.25)) if self.background is not None else round(size * self.outline_ratio, 1)

    def resolved_shadow(self, width: int, height: int) -> float:
        """Drop shadow offset (px): ``shadow``, else ``shadow_ratio`` of the font size."""
        if self.shadow is not None:
            return self.shadow
        return round(self.resolved_font_size(width, height) * self.shadow_ratio, 1)

    @property
    def rest_color(self) -> str:
        """The colour of words not being spoken: ``inactive_color`` when words are highlighted."""
        return self.inactive_color if self.inactive_color and self.highlight != "none" else self.color

    @property
    def active_scale(self) -> float:
        """How much larger the spoken word is drawn (1 when nothing is highlighted)."""
        return self.highlight_scale if self.highlight != "none" else 1.0

    def margins(self, width: int, height: int) -> SafeArea:
        """The safe area, with ``margin`` (when given) as the vertical margin."""
        area = safe_area(width, height)
        if self.margin is None:
            return area
        return SafeArea(area.left, area.right, self.margin, self.margin)

    def shown(self, text: str) -> str:
        """Text as drawn (upper-cased when the style says so)."""
        return text.upper() if self.uppercase else text


#: Kerning, Arabic joining and synthetic bold move real widths a few per cent off our sum.
_MEASURE_SLACK = 1.03


def line_box(style: SubtitleStyle, width: int, height: int) -> LineBox:
    """How wide a caption line may be on this frame: the safe area less the outline (or box
    padding) on both sides, measured with the shipped fonts at the style's size."""
    size = style.resolved_font_size(width, height)
    area = style.margins(width, height)
    room = width - area.left - area.right - 2 * style.resolved_outline(width, height)
    family, bold = style.font_family, style.bold

    def measure(text: str) -> float:
        width = measure_text(style.shown(text), family, size, bold=bold)
        if style.active_scale > 1 and text.split():  # room for the widest word when it is spoken (scaled)
            widest = max(measure_text(style.shown(word), family, size, bold=bold) for word in text.split())
            width += (style.active_scale - 1) * widest
        return width * _MEASURE_SLACK

    return LineBox(max(size * 1.5, room), measure)


_PRESETS: dict[str, SubtitleStyle] = {
    "default": SubtitleStyle(),
    "minimal": SubtitleStyle(relative_size=0.045, outline_ratio=0.04),
    "bold": SubtitleStyle(bold=True, relative_size=0.065, background="#000000A0"),
    # Short-form (TikTok / Reels / Shorts): big bold words, a thick outline, the spoken word
    # lit up, a few words at a time, each caption popping in.
    "tiktok": SubtitleStyle(bold=True, relative_size=0.075, outline_ratio=0.12, highlight="word",
                            highlight_color="#FFE000", animation="pop", max_lines=2, max_words=5),
    # Sing-along: words fill in as they are spoken and stay filled.
    "karaoke": SubtitleStyle(bold=True, relative_size=0.06, outline_ratio=0.1, highlight="karaoke",
                             highlight_color="#FFE000", max_lines=2, max_words=8),
    # The TypeScript SDK's reference presets (synthome presets.ts), sizes there in px of a
    # 1080-wide 9:16 frame, here as fractions of the short side (52/1080, 40/1080).
    # story: monospaced, three words in a 75 % black box mid-frame, the spoken word white and
    # 15 % larger, the others grey (the reference draws its cyan `color` only without highlighting).
    "story": SubtitleStyle(font_family="Liberation Mono", relative_size=0.048, color="#00FFFF",
                           background="#000000BF", position="center", highlight="word", highlight_color="#FFFFFF",
                           inactive_color="#888888", highlight_scale=1.15, max_lines=2, max_words=3),
    # cinematic: a light grey serif, no outline, a 2 px (at 40 px text) half-black drop shadow, six words.
    "cinematic": SubtitleStyle(font_family="Liberation Serif", relative_size=0.037, color="#E0E0E0",
                               outline_ratio=0.0, shadow_ratio=0.05, shadow_color="#0000007F", max_lines=2,
                               max_words=6),
}
#: Other names clients use for the presets above.
PRESET_ALIASES: dict[str, str] = {
    "highlight": "tiktok", "word-highlight": "tiktok", "wordhighlight": "tiktok", "short-form": "tiktok",
    "shortform": "tiktok", "shorts": "tiktok", "reels": "tiktok", "social": "tiktok", "viral": "tiktok",
    "capcut": "tiktok", "sing-along": "karaoke", "singalong": "karaoke", "plain": "minimal", "clean": "minimal",
    "subtle": "minimal", "boxed": "bold", "box": "bold", "standard": "default", "classic": "default",
}
PRESETS: tuple[str, ...] = tuple(_PRESETS)


def preset_name(name: str) -> str:
    """The canonical preset for ``name`` (case, spaces and underscores ignored; aliases resolved)."""
    key = str(name).strip().lower().replace("_", "-").replace(" ", "-")
    return PRESET_ALIASES.get(key, key)


def subtitle_style(preset: str = "default", **overrides: object) -> SubtitleStyle:
    """A preset (``default``, ``minimal``, ``bold``, ``tiktok``, ``karaoke``, ``story``,
    ``cinematic`` or an alias) with field overrides (``None`` values ignored)."""
    base = _PRESETS.get(preset_name(preset))
    if base is None:
        raise MediaParamError(f"unknown subtitle style {preset!r}; use one of {', '.join(_PRESETS)}")
    fields = set(SubtitleStyle.__dataclass_fields__)
    unknown = set(overrides) - fields
    if unknown:
        raise MediaParamError(f"unknown style option(s): {', '.join(sorted(unknown))}")
    try:
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except TypeError as exc:
        raise MediaParamError(f"invalid style option: {exc}") from exc


# -------------------------------------------------------------------- ASS text


def ass_escape(text: str) -> str:
    """Make ``text`` render literally inside an ASS Dialogue line."""
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch == "\\":
            nxt = text[i + 1] if i + 1 < len(text) else ""
            out.append("\\" + WORD_JOINER if nxt in ("N", "n", "h", "") else "\\")
        elif ch == "{":
            out.append("\\{")
        elif ch == "}":
            out.append("\\}")
        elif ch == "\n":
            out.append("\\N")
        elif ch == "\t":
            out.append(" ")
        elif ch != "\r":
            out.append(ch)
    return "".join(out)


def ass_text(text: str, style: SubtitleStyle) -> str:
    """Escaped text, with ``{\\fn...}`` around runs the style's (shipped) font cannot draw."""
    if style.font_family not in shipped_families(styling=True):
        return ass_escape(text)
    parts: list[str] = []
    for family, run in split_runs(text, style.font_family):
        escaped = ass_escape(run)
        if family == style.font_family:
            parts.append(escaped)
        else:
            parts.append(f"{{\\fn{family}}}{escaped}{{\\fn{style.font_family}}}")
    return "".join(parts)


def _ass_time(seconds: float) -> str:
    cs = max(0, round(seconds * 100))
    return f"{cs // 360000}:{cs // 6000 % 60:02d}:{cs // 100 % 60:02d}.{cs % 100:02d}"


def _cs(seconds: float) -> int:
    return max(0, round(seconds * 100))


def _tag_colour(value: str) -> str:
    """An override-tag colour ``&HBBGGRR&`` (alpha is a separate tag in ASS)."""
    r, g, b, _ = parse_colour(value)
    return f"&H{b:02X}{g:02X}{r:02X}&"


@dataclass(frozen=True)
class _Frame:
    """Where a caption sits: its alignment point and the slide distance, in frame pixels."""

    x: float
    y: float
    slide: float


def _frame(style: SubtitleStyle, width: int, height: int) -> _Frame:
    area = style.margins(width, height)
    x = area.left + (width - area.left - area.right) / 2
    if style.position == "top":
        return _Frame(x, area.top, -0.03 * height)
    if style.position == "center":
        return _Frame(x, height / 2, 0.03 * height)
    return _Frame(x, height - area.bottom, 0.03 * height)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _intro(style: SubtitleStyle, frame: _Frame, duration: float, *, first: bool, last: bool) -> str:
    """Animation tags for one event of a caption (``first``/``last``: it opens/closes the caption)."""
    ms = max(0, round(duration * 1000))
    fade_in = min(150, ms // 3) if first else 0
    fade_out = min(120, ms // 3) if last else 0
    tags = ""
    if style.animation == "slide":
        end = f"{_num(frame.x)},{_num(frame.y)}"
        tags += f"\\move({_num(frame.x)},{_num(frame.y + frame.slide)},{end},0,{min(220, ms)})" if first \
            else f"\\pos({end})"
        fade_out = 0
    if style.animation == "pop" and first:
        tags += _pop(ms)
    if style.animation in ("fade", "slide") and (fade_in or fade_out):
        tags += f"\\fad({fade_in},{fade_out})"
    return f"{{{tags}}}" if tags else ""


def _scale(value: float) -> str:
    percent = _num(100 * value)
    return f"\\fscx{percent}\\fscy{percent}"


def _pop(ms: int, scale: float = 1.0) -> str:
    """The ``pop`` intro: from 70 % through 108 % to full size (times ``scale``) over 160 ms."""
    grow, settle = min(90, ms // 2), min(160, ms)
    return (f"\\fscx{_num(70 * scale)}\\fscy{_num(70 * scale)}\\t(0,{grow},{_scale(1.08 * scale)})"
            f"\\t({grow},{settle},{_scale(scale)})")


def _dialogue(start: float, end: float, text: str) -> str:
    return f"Dialogue: 0,{_ass_time(start)},{_ass_time(end)},Default,,0,0,0,,{text}\n"


def _lines(cue: Cue) -> list[list[tuple[str, int, CueWord]]]:
    """The cue's lines as ``(separator before, word index, word)`` triples, the separators taken
    from the cue's own text so spacing (none between CJK characters) is exactly as laid out."""
    texts = cue.text.split("\n")
    out: list[list[tuple[str, int, CueWord]]] = [[] for _ in texts]
    cursors = [0] * len(texts)
    for index, word in enumerate(cue.words):
        line = min(word.line, len(texts) - 1)
        text, cursor = texts[line], cursors[line]
        found = text.find(word.text, cursor)
        if found < 0:
            sep = " " if out[line] else ""
        else:
            sep = text[cursor:found]
            cursors[line] = found + len(word.text)
        out[line].append((sep, index, word))
    return [line for line in out if line]


def _word_text(cue: Cue, style: SubtitleStyle, *, current: int | None, hide_after: int | None,
               fill: bool = False, pop_ms: int | None = None) -> str:
    """The cue's text with word ``current`` (and, with ``fill``, every word before it) in the
    highlight colour and words after ``hide_after`` invisible (still laid out, so nothing moves
    as they appear).

    With a ``highlight_scale``, word ``current`` alone is drawn that much larger and the words
    after it at full size again; in an event that pops in (``pop_ms``: its length), the scaled
    word runs the pop scaled and the rest the plain pop, so the whole caption still pops."""
    base, lit = _tag_colour(style.rest_color), _tag_colour(style.highlight_color)
    scale = style.active_scale
    grow = (_pop(pop_ms, scale) if pop_ms is not None else _scale(scale)) if scale != 1 else ""
    back = (_pop(pop_ms) if pop_ms is not None else _scale(1)) if scale != 1 else ""
    parts: list[str] = []
    hidden = False
    for number, line in enumerate(_lines(cue)):
        if number:
            parts.append("\\N")
        for sep, index, word in line:
            parts.append(ass_escape(sep))
            if hide_after is not None and index > hide_after and not hidden:
                parts.append("{\\alpha&HFF&}")
                hidden = True
            text = ass_text(style.shown(word.text), style)
            spoken = current is not None and (index == current or (fill and index < current))
            if spoken and index == current and grow:
                parts.append(f"{{\\1c{lit}{grow}}}{text}{{\\1c{base}{back}}}")
            else:
                parts.append(f"{{\\1c{lit}}}{text}{{\\1c{base}}}" if spoken else text)
    return "".join(parts)


def _karaoke_text(cue: Cue, style: SubtitleStyle) -> str:
    """One event: ``\\k`` syllables, one per word, each lasting until the next word starts.
    Unspoken words are drawn in the secondary colour (the text colour), spoken ones in the
    highlight colour; durations are cumulative so rounding never drifts. With a
    ``highlight_scale``, each word grows while it is spoken (``\\t`` at its start and end)."""
    parts = [f"{{\\1c{_tag_colour(style.highlight_color)}\\2c{_tag_colour(style.rest_color)}}}"]
    scale = style.active_scale
    origin = _cs(cue.start)
    clock = origin
    lead = _cs(cue.words[0].start) - origin
    if lead > 0:
        parts.append(f"{{\\k{lead}}}")
        clock += lead
    for number, line in enumerate(_lines(cue)):
        if number:
            parts.append("\\N")
        for sep, index, word in line:
            upto = _cs(cue.words[index + 1].start) if index + 1 < len(cue.words) else _cs(cue.end)
            span = max(0, upto - clock)
            grow = ""
            if scale != 1 and span:
                start_ms, end_ms = 10 * (clock - origin), 10 * (clock + span - origin)
                # libass evaluates \t in order, so each word restates full size before its own growth
                grow = (f"{_scale(1)}\\t({start_ms},{start_ms + 1},{_scale(scale)})"
                        f"\\t({end_ms},{end_ms + 1},{_scale(1)})")
            clock += span
            parts.append(f"{ass_escape(sep)}{{\\k{span}{grow}}}{ass_text(style.shown(word.text), style)}")
    return "".join(parts)


def caption_events(cue: Cue, style: SubtitleStyle, width: int, height: int) -> list[str]:
    """The ``Dialogue`` lines for one cue (already laid out, see :func:`layout_cue`).

    Plain and ``karaoke`` captions are one event. Word highlighting and the typewriter are one
    event per word, back to back (the end of one is the start of the next, so libass never
    stacks them), each showing the whole caption with the current word lit (or the words not
    yet spoken invisible); animation tags go on the caption's first (and last) event only.
    """
    frame = _frame(style, width, height)
    per_word = style.highlight == "word" or style.animation == "typewriter"
    if not cue.words or not (per_word or style.highlight == "karaoke"):
        intro = _intro(style, frame, cue.end - cue.start, first=True, last=True)
        return [_dialogue(cue.start, cue.end, intro + ass_text(style.shown(cue.text), style))]
    if style.highlight == "karaoke" and not per_word:
        intro = _intro(style, frame, cue.end - cue.start, first=True, last=True)
        return [_dialogue(cue.start, cue.end, intro + _karaoke_text(cue, style))]
    bounds = [cue.start, *(max(cue.start, min(w.start, cue.end)) for w in cue.words), cue.end]
    spans: list[tuple[float, float, int | None]] = []
    for k in range(len(bounds) - 1):
        start, end = max(bounds[k], spans[-1][1] if spans else cue.start), bounds[k + 1]
        if _cs(end) > _cs(start):
            spans.append((start, end, k - 1 if k else None))
    events: list[str] = []
    lit = style.highlight in ("word", "karaoke")
    typing = style.animation == "typewriter"
    for n, (start, end, index) in enumerate(spans):
        intro = _intro(style, frame, end - start, first=n == 0, last=n == len(spans) - 1)
        pop_ms = max(0, round((end - start) * 1000)) if style.animation == "pop" and n == 0 else None
        text = _word_text(cue, style, current=index if lit else None, fill=style.highlight == "karaoke",
                          hide_after=(index if index is not None else -1) if typing else None, pop_ms=pop_ms)
        events.append(_dialogue(start, end, intro + text))
    return events


def build_ass(cues: Sequence[Cue], style: SubtitleStyle, width: int, height: int) -> str:
    """A complete ASS document for ``cues`` on a ``width`` x ``height`` video.

    Every cue is laid out first (:func:`layout_cue` with :func:`line_box`), so each line fits
    the safe area whatever produced the cue; libass's own wrapping is only a backstop.
    """
    size = style.resolved_font_size(width, height)
    boxed = style.background is not None
    outline = style.resolved_outline(width, height)
    shadow = style.resolved_shadow(width, height)
    area = style.margins(width, height)
    vertical = area.top if style.position == "top" else area.bottom if style.position == "bottom" else 0
    style_line = ",".join(
        [
            "Style: Default",
            style.font_family,
            str(size),
            ass_colour(style.rest_color),
            ass_colour(style.rest_color),
            ass_colour(style.background if boxed else style.outline_color),  # type: ignore[arg-type]
            # BackColour: the box (BorderStyle 3) and the drop shadow; a boxed style's shadow
            # takes the shadow colour
            ass_colour(style.background if boxed and not shadow else style.shadow_color),  # type: ignore[arg-type]
            "-1" if style.bold else "0",
            "0",
            "0",
            "0",
            "100",
            "100",
            "0",
            "0",
            "3" if boxed else "1",
            _num(outline),
            _num(shadow),
            str(_ALIGNMENT[style.position]),
            str(area.left),
            str(area.right),
            str(vertical),
            "1",
        ]
    )
    header = (
        "[Script Info]\n"
        "; written by vidassets.media\n"
        "ScriptType: v4.00+\n"
        f"PlayResX: {width}\n"
        f"PlayResY: {height}\n"
        "WrapStyle: 0\n"
        "ScaledBorderAndShadow: yes\n"
        "YCbCr Matrix: None\n\n"
        "[V4+ Styles]\n"
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, "
        "Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, "
        "Alignment, MarginL, MarginR, MarginV, Encoding\n"
        f"{style_line}\n\n"
        "[Events]\n"
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
    )
    box = line_box(style, width, height)
    events: list[str] = []
    for cue in sorted(cues, key=lambda c: (c.start, c.end)):
        events.extend(caption_events(layout_cue(cue, box), style, width, height))
    return header + "".join(events)


# --------------------------------------------------------------------- command


def build_burn_command(
    info: MediaInfo, out: Path, ass_file: Path, profile: EncoderProfile | None = None, *, fonts: Path | None = None
) -> list[str]:
    """ffmpeg arguments to burn ``ass_file`` into ``info.path``; audio copied when it is AAC."""
    profile = profile or default_profile()
    audio = audio_plan(info, profile)
    vf = _burn_filters(info, ass_file, profile, fonts)
    return [
        "-i",
        str(info.path),
        *audio.inputs,
        "-map",
        "0:v:0",
        *audio.map,
        "-vf",
        ",".join(vf),
        *profile.video_args(),
        *audio.codec,
        "-map_metadata",
        "-1",
        *profile.container_args(),
        str(out),
    ]


def _burn_filters(info: MediaInfo, ass_file: Path, profile: EncoderProfile, fonts: Path | None) -> list[str]:
    ass = f"ass=filename={escape_filter_value(ass_file)}:fontsdir={escape_filter_value(fonts or fonts_dir())}"
    return [*square_pixels(info), f"{ass}:shaping=complex", f"format={profile.pix_fmt}"]


def burn_fragment(graph: FilterGraph, stream: Stream, ass_file: Path, profile: EncoderProfile | None = None, *,
                  fonts: Path | None = None) -> Stream:
    """Captions as a graph fragment: ``ass_file`` (written by :func:`build_ass` for this
    stream's size) drawn on ``stream``'s picture; its sound untouched."""
    profile = profile or default_profile()
    out = graph.label("vs")
    graph.chain([stream.video], _burn_filters(stream.info, ass_file, profile, fonts), [out])
    info = replace(stream.info, path=Path("(graph)"), width=stream.info.display_width,
                   height=stream.info.display_height, rotation=0, sample_aspect_ratio=1.0, pix_fmt=profile.pix_fmt,
                   video_codec=None, format_name="graph")
    return Stream(out, stream.audio, info, audio_source=stream.audio_source)


def burn_subtitles(
    src: Path,
    out: Path,
    *,
    cues: Sequence[Cue],
    style: SubtitleStyle | None = None,
    profile: EncoderProfile | None = None,
    timeout: float | None = None,
    on_progress: ProgressCallback | None = None,
) -> MediaInfo:
    """Burn ``cues`` into ``src``'s picture (video re-encoded, audio copied when AAC)."""
    style = style or SubtitleStyle()
    info = probe(local_input(src))
    with scratch_dir() as tmp, atomic_output(Path(out)) as part:
        ass_file = tmp / "subtitles.ass"
        ass_file.write_text(build_ass(cues, style, info.display_width, info.display_height), encoding="utf-8")
        argv = build_burn_command(info, part, ass_file, profile)
        run_ffmpeg(argv, timeout=timeout, on_progress=on_progress, expected_duration=info.duration)
    return probe(Path(out), known_rotation=0)
