"""Caption styles of today's TypeScript SDK (``captions({style})``) in our caption vocabulary.

The SDK names five presets (``tiktok youtube story minimal cinematic``) and an object of ASS-like
fields. Each preset maps onto our renderer's styles (:mod:`vidassets.media.burn`) with the
values the reference backend gives it (synthome ``apps/ffmpeg/captions/styles/presets.ts``):
how many words a caption shows, its box, its colours, whether the spoken word is lit, how much
larger it is drawn, its font (``story``: Courier New, drawn with the metric-compatible Liberation
Mono we ship; ``cinematic``: Times New Roman as Liberation Serif, with a drop shadow). Some fields
have no counterpart (margins, padding, outline width, the ``glow`` animation...): those are
refused with the field named, never approximated silently. The reference backend's default when
no style is given is ``tiktok``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

DEFAULT_PRESET = "tiktok"
PRESETS: dict[str, dict[str, Any]] = {
    # one word at a time, big, bold, outlined, the spoken word lit in yellow
    "tiktok": {"preset": "tiktok", "maxWords": 1},
    # a semi-transparent box, five words, no highlighting
    "youtube": {"preset": "default", "backgroundColor": "#00000080", "maxWords": 5, "highlight": "none"},
    # light grey, thin outline, four words
    "minimal": {"preset": "minimal", "fontColor": "#DDDDDD", "maxWords": 4, "highlight": "none"},
    # monospaced, three words in a dark box mid-frame; the spoken word white and 15 % larger, the
    # rest grey (all in our ``story`` preset)
    "story": {"preset": "story", "maxWords": 3},
    # a light grey serif with a drop shadow and no outline, six words, nothing lit
    "cinematic": {"preset": "cinematic", "maxWords": 6, "highlight": "none"},
}
#: Presets named by the SDK that this server cannot draw faithfully, with why (none left).
UNRENDERABLE_PRESETS: dict[str, str] = {}
# SDK field -> our SubtitleStyleParams field, values taken as they are (checked by our model)
_SAME = {"fontFamily": "fontFamily", "fontSize": "fontSize", "outlineColor": "outlineColor",
         "backgroundColor": "backgroundColor", "wordsPerCaption": "maxWords", "activeWordColor": "highlightColor",
         "inactiveWordColor": "inactiveColor"}
_COLOURS = ("color", "outlineColor", "backgroundColor", "activeWordColor", "inactiveWordColor")
_UNSUPPORTED = ("outlineWidth", "padding", "borderRadius", "marginV", "marginL", "marginR",
                "maxCaptionDuration", "maxCaptionChars")
MAX_SHADOW_PX = 20
MAX_WORD_SCALE = 2.0
_ASS_COLOUR = re.compile(r"^&H([0-9A-Fa-f]{2})?([0-9A-Fa-f]{2})([0-9A-Fa-f]{2})([0-9A-Fa-f]{2})&?$")
_POSITIONS = {"bottom": "bottom", "top": "top", "center": "center", "middle": "center"}


def ass_to_hex(value: Any) -> Any:
    """``&HAABBGGRR`` (ASS: blue first, alpha 00 = opaque) as ``#RRGGBBAA``; others unchanged."""
    if not isinstance(value, str):
        return value
    match = _ASS_COLOUR.match(value.strip())
    if not match:
        return value
    alpha, blue, green, red = match.groups()
    opacity = 255 - int(alpha or "00", 16)
    return f"#{red}{green}{blue}{opacity:02X}".upper()


def map_style(style: Any) -> tuple[dict[str, Any] | str, list[tuple[str, str]]]:
    """The SDK's ``style`` as our ``params.style``, and the (field under style, message) problems."""
    if style is None:
        return dict(PRESETS[DEFAULT_PRESET]), []
    if isinstance(style, str):
        return style, []  # the original SDK's addSubtitles({style: "bold"}): our preset names
    if not isinstance(style, Mapping):
        return {}, [("", "must be a preset name or an object")]
    problems: list[tuple[str, str]] = []
    preset = style.get("preset", DEFAULT_PRESET)
    if preset in UNRENDERABLE_PRESETS:
        problems.append(("preset", f"caption preset {preset!r} cannot be rendered faithfully by this server yet "
                                   f"({UNRENDERABLE_PRESETS[preset]}); use one of {', '.join(PRESETS)}"))
    elif preset not in PRESETS:
        problems.append(("preset", f"unknown caption preset {preset!r}; expected one of "
                                   f"{', '.join([*PRESETS, *UNRENDERABLE_PRESETS])}"))
    out = dict(PRESETS.get(preset, {}))
    colours = {k: ass_to_hex(style[k]) for k in _COLOURS if k in style}
    for key in sorted(style, key=lambda k: k == "borderStyle"):  # borderStyle is checked against the rest
        if key == "preset":
            continue
        problem = _map_field(key, colours.get(key, style[key]), out)
        if problem:
            problems.append((key, problem))
    return out, problems


def _map_field(key: str, value: Any, out: dict[str, Any]) -> str | None:
    """Put one SDK style field into ``out``; the reason it cannot be, or None."""
    if key in _SAME:
        out[_SAME[key]] = value
    elif key == "color":
        out["fontColor"] = value
    elif key == "fontWeight":
        return _font_weight(value, out)
    elif key == "alignment":
        return _alignment(value, out)
    elif key == "highlightActiveWord":
        if not isinstance(value, bool):
            return "must be true or false"
        out["highlight"] = "word" if value else "none"
    elif key == "animationStyle":
        return _animation(value, out)
    elif key == "activeWordScale":
        return _bounded(value, 1.0, MAX_WORD_SCALE, "highlightScale", out)
    elif key == "shadowDistance":
        return _bounded(value, 0.0, MAX_SHADOW_PX, "shadow", out, unit=" px")
    elif key == "borderStyle":
        return _border_style(value, out)
    elif key in _UNSUPPORTED:
        return f"{key} is not supported by this server yet"
    else:
        return f"unknown caption style field {key!r}"
    return None


def _font_weight(value: Any, out: dict[str, Any]) -> str | None:
    if value in ("bold", "bolder") or (isinstance(value, int) and not isinstance(value, bool) and value >= 600):
        out["bold"] = True
    elif value in ("normal", "lighter") or (isinstance(value, int) and not isinstance(value, bool) and value <= 500):
        out["bold"] = False
    else:
        return "must be 'normal', 'bold' or a number such as 400 or 700"
    return None


def _alignment(value: Any, out: dict[str, Any]) -> str | None:
    """ASS numpad alignment (1-3 bottom, 4-6 middle, 7-9 top) or a word; only centred text."""
    text = str(value).strip().lower()
    if text in _POSITIONS:
        out["position"] = _POSITIONS[text]
    elif text in ("2", "5", "8"):
        out["position"] = {"2": "bottom", "5": "center", "8": "top"}[text]
    elif text in ("1", "3", "4", "6", "7", "9"):
        return "left- or right-aligned captions are not supported by this server yet (2, 5 and 8 are)"
    else:
        return "must be top, center, bottom or an ASS alignment 1-9"
    return None


def _bounded(value: Any, low: float, high: float, field: str, out: dict[str, Any], unit: str = "") -> str | None:
    """A plain number within ``low..high`` as ``out[field]``; anything else is the reason it is not."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        return f"must be a number within {low:g}..{high:g}{unit}"
    out[field] = float(value)
    return None


def _animation(value: Any, out: dict[str, Any]) -> str | None:
    """How the spoken word is marked. The reference draws ``scale`` as ``color`` plus
    ``activeWordScale`` (which sets how much larger), so both light the word here."""
    if value == "none":
        out["highlight"] = "none"
    elif value in ("color", "scale"):
        out["highlight"] = "word"
    elif value == "glow":
        return "animationStyle 'glow' is not supported by this server yet ('none', 'color' and 'scale' are)"
    else:
        return "must be one of none, color, scale, glow"
    return None


def _border_style(value: Any, out: dict[str, Any]) -> str | None:
    """1 = outline only, 3 = a box: accepted when the style agrees (a box needs a colour)."""
    if value == 1 and "backgroundColor" not in out:
        return None
    if value == 3 and "backgroundColor" in out:
        return None
    if value in (1, 3):
        return "contradicts backgroundColor (a box is drawn exactly when backgroundColor is set)"
    return "must be 1 (outline) or 3 (box)"
