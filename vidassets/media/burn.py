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
cannot draw (CJK, Arabic) are wrapped in ``{\\fn<family>}`` tags naming the
shipped font that can, so rendering never depends on fontconfig's fallback.
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
from .fonts import fonts_dir, shipped_families, split_runs
from .probe import MediaInfo, probe
from .profile import EncoderProfile, default_profile
from .runner import ProgressCallback, run_ffmpeg
from .streams import audio_plan, square_pixels
from .subtitles import Cue

WORD_JOINER = "\u2060"
Position = Literal["bottom", "top", "center"]

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
class SubtitleStyle:
    """How burned subtitles look. ``None`` sizes are derived from the video height.

    ``relative_size`` is the font size as a fraction of the video height when
    ``font_size`` is not given; ``outline_ratio`` is the outline width as a
    fraction of the font size. ``background`` draws a box (``#000000A0`` =
    60 % black) instead of an outline.
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

    def __post_init__(self) -> None:
        parse_colour(self.color)
        parse_colour(self.outline_color)
        if self.background is not None:
            parse_colour(self.background)
        if self.position not in _ALIGNMENT:
            raise MediaParamError(f"position must be one of {', '.join(_ALIGNMENT)}, got {self.position!r}")
        if self.font_size is not None and not 4 <= self.font_size <= 1000:
            raise MediaParamError(f"font_size must be within 4..1000, got {self.font_size}")
        if self.margin is not None and not 0 <= self.margin <= 10000:
            raise MediaParamError(f"margin must be within 0..10000, got {self.margin}")
        if not 0 < self.relative_size <= 0.5 or not 0 <= self.outline_ratio <= 0.5:
            raise MediaParamError("relative_size must be in (0, 0.5] and outline_ratio in [0, 0.5]")
        if not self.font_family.strip() or any(c in self.font_family for c in ",\n\r{}\\"):
            raise MediaParamError(f"invalid font family {self.font_family!r}")

    def resolved_font_size(self, video_height: int) -> int:
        return self.font_size or max(10, round(video_height * self.relative_size))

    def resolved_margin(self, video_height: int) -> int:
        return self.margin if self.margin is not None else round(video_height * 0.06)


_PRESETS: dict[str, SubtitleStyle] = {
    "default": SubtitleStyle(),
    "minimal": SubtitleStyle(relative_size=0.045, outline_ratio=0.04),
    "bold": SubtitleStyle(bold=True, relative_size=0.065, background="#000000A0"),
}


def subtitle_style(preset: str = "default", **overrides: object) -> SubtitleStyle:
    """A preset (``default``, ``minimal``, ``bold``) with field overrides (``None`` values ignored)."""
    base = _PRESETS.get(str(preset).strip().lower())
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
    if style.font_family not in shipped_families():
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


def build_ass(cues: Sequence[Cue], style: SubtitleStyle, width: int, height: int) -> str:
    """A complete ASS document for ``cues`` on a ``width`` x ``height`` video."""
    size = style.resolved_font_size(height)
    boxed = style.background is not None
    outline = max(1, round(size * 0.25)) if boxed else round(size * style.outline_ratio, 1)
    style_line = ",".join(
        [
            "Style: Default",
            style.font_family,
            str(size),
            ass_colour(style.color),
            ass_colour(style.color),
            ass_colour(style.background if boxed else style.outline_color),  # type: ignore[arg-type]
            ass_colour(style.background if boxed else "#00000080"),  # type: ignore[arg-type]
            "-1" if style.bold else "0",
            "0",
            "0",
            "0",
            "100",
            "100",
            "0",
            "0",
            "3" if boxed else "1",
            str(outline),
            "0",
            str(_ALIGNMENT[style.position]),
            str(round(width * 0.05)),
            str(round(width * 0.05)),
            str(style.resolved_margin(height)),
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
    events = [
        f"Dialogue: 0,{_ass_time(c.start)},{_ass_time(c.end)},Default,,0,0,0,,{ass_text(c.text, style)}\n"
        for c in sorted(cues, key=lambda c: (c.start, c.end))
    ]
    return header + "".join(events)


# --------------------------------------------------------------------- command


def build_burn_command(
    info: MediaInfo, out: Path, ass_file: Path, profile: EncoderProfile | None = None, *, fonts: Path | None = None
) -> list[str]:
    """ffmpeg arguments to burn ``ass_file`` into ``info.path``; audio copied when it is AAC."""
    profile = profile or default_profile()
    audio = audio_plan(info, profile)
    ass = f"ass=filename={escape_filter_value(ass_file)}:fontsdir={escape_filter_value(fonts or fonts_dir())}"
    vf = [*square_pixels(info), f"{ass}:shaping=complex", f"format={profile.pix_fmt}"]
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
