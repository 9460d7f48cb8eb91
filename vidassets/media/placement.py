"""Where a layer sits on the canvas: the SDK's placements resolved to pixel rectangles.

Pure Python, no ffmpeg: the plan validator calls :func:`parse_placement` at submit time, so a
bad placement is a 422 naming the bad part before any job runs, and the compositor
(:mod:`vidassets.media.layer`) only ever puts the *numbers* :meth:`Placement.rect` computes
into a filter graph. The SDK documents ffmpeg expressions (``"iw/2"``, ``"(W-w)/2"``) as
custom values; we refuse them: a user string never reaches ffmpeg.

Accepted forms (case-insensitive):

* ``None`` / ``"full"``: cover the canvas (scaled to fill it, centre-cropped).
* ``"center"``: original size, centred (scaled down to fit when larger than the canvas).
* ``"pip"`` / ``"picture-in-picture"``: ``"w-1/4 bottom-right"``.
* ``"top-left-quarter"`` ... ``"bottom-right-quarter"`` (the older SDK's presets): the media
  fitted into that quarter of the canvas, flush with its corner.
* Tailwind-style tokens separated by spaces: a width ``w-n/d`` or ``w-full``, a height
  ``h-n/d`` or ``h-full`` (``1 <= n <= d <= 12``) and one position (``top-left``, ``top``,
  ``top-right``, ``left``, ``center``, ``right``, ``bottom-left``, ``bottom``,
  ``bottom-right``). One side keeps the media's aspect; both sides fit the media inside that
  box (aspect kept); no side keeps the original size (scaled down to fit). No position centres.
* A custom object ``{width, height, position: {x, y}, padding, aspectRatio}``: sizes and
  positions are pixels (``"300"``) or percentages (``"50%"``) of the canvas. A percentage
  position places the box along the free space, so ``"0%"`` is flush left/top, ``"100%"``
  flush right/bottom and ``"50%"`` centred (the docs' ``{x: "100%", y: "100%"}`` is the
  bottom-right corner); a pixel position is the box's left/top edge. No position centres.
  ``padding`` (pixels) keeps the box that far inside every edge. ``aspectRatio`` (``"1:1"``)
  gives the box that shape; the media fills it, centre-cropped.

Margins: corner and edge positions keep 3 % of the canvas's short side off the edges, so the
docs' ``"top-right"`` logo does not touch the frame; ``"center"``, size-only strings, ``"full"``
and the quarter presets have none. Every rectangle is in even pixels (yuv420p) and inside the
canvas; a box larger than the room left is scaled down, keeping its shape.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .errors import MediaParamError
from .geometry import even, even_round

#: Largest pixel value a custom placement may give (sizes, positions, padding).
MAX_PX = 16384
#: Corner and edge positions keep this share of the canvas's short side off the edges.
EDGE_MARGIN = Fraction(3, 100)
#: Widest and tallest ``aspectRatio`` accepted (20:1 and 1:20).
MAX_ASPECT = 20

_HALF = Fraction(1, 2)
#: Position name -> where the box sits along the free space (0 = left/top, 1 = right/bottom).
POSITIONS: dict[str, tuple[Fraction, Fraction]] = {
    "top-left": (Fraction(0), Fraction(0)),
    "top": (_HALF, Fraction(0)),
    "top-right": (Fraction(1), Fraction(0)),
    "left": (Fraction(0), _HALF),
    "center": (_HALF, _HALF),
    "right": (Fraction(1), _HALF),
    "bottom-left": (Fraction(0), Fraction(1)),
    "bottom": (_HALF, Fraction(1)),
    "bottom-right": (Fraction(1), Fraction(1)),
}
_POSITION_ALIASES = {
    "centre": "center",
    "top-center": "top",
    "top-centre": "top",
    "bottom-center": "bottom",
    "bottom-centre": "bottom",
    "center-left": "left",
    "centre-left": "left",
    "center-right": "right",
    "centre-right": "right",
}
_PRESET_ALIASES = {"pip": "w-1/4 bottom-right", "picture-in-picture": "w-1/4 bottom-right"}
_QUARTERS = ("top-left", "top-right", "bottom-left", "bottom-right")
_SIZE_TOKEN = re.compile(r"^([wh])-(?:(\d{1,2})/(\d{1,2})|(full))$")
_NUMBER = re.compile(r"^\s*(\d{1,6}(?:\.\d{1,6})?)\s*(%?)\s*$")
_ASPECT = re.compile(r"^\s*(\d{1,3})\s*[:/]\s*(\d{1,3})\s*$")
_CUSTOM_KEYS = frozenset({"width", "height", "position", "padding", "aspectRatio"})


@dataclass(frozen=True)
class Length:
    """A size or position: pixels, or a percentage (of the canvas side for sizes, of the free
    space for positions)."""

    value: Fraction
    percent: bool

    def __str__(self) -> str:
        text = _fraction_text(self.value)
        return text + "%" if self.percent else text


@dataclass(frozen=True)
class Rect:
    """Where one medium goes on the canvas, in even pixels. ``cover``: the medium is scaled to
    fill ``w x h`` and centre-cropped (``full``, ``aspectRatio``); otherwise it is scaled to
    exactly ``w x h`` (the rectangle already has the medium's shape, within a pixel)."""

    x: int
    y: int
    w: int
    h: int
    cover: bool = False

    def as_dict(self) -> dict[str, int | bool]:
        return {"x": self.x, "y": self.y, "w": self.w, "h": self.h, "cover": self.cover}


@dataclass(frozen=True)
class Placement:
    """A parsed placement; :meth:`rect` resolves it for a canvas and a medium's size.

    ``x``/``y`` ``None`` centre the box; ``margin`` is a share of the canvas's short side and
    ``padding`` pixels, both kept clear on every edge. ``spec`` is the canonical text (for a
    job's details and logs), never parsed again.
    """

    spec: str
    cover: bool = False
    width: Length | None = None
    height: Length | None = None
    x: Length | None = None
    y: Length | None = None
    padding: int = 0
    margin: Fraction = Fraction(0)
    aspect: Fraction | None = None

    def rect(self, canvas_w: int, canvas_h: int, media_w: int, media_h: int) -> Rect:
        """The medium's rectangle on a ``canvas_w x canvas_h`` canvas (``media_w x media_h``:
        its display size). Deterministic; always inside the (evened) canvas."""
        for name, value in (("canvas width", canvas_w), ("canvas height", canvas_h),
                            ("media width", media_w), ("media height", media_h)):
            if not isinstance(value, int) or value < 2:
                raise MediaParamError(f"{name} must be an integer of at least 2 pixels, got {value!r}")
        cw, ch = even(canvas_w), even(canvas_h)
        if self.cover:
            return Rect(0, 0, cw, ch, cover=True)
        inset = self.padding + round(self.margin * min(cw, ch))
        ix, iy = min(inset, (cw - 2) // 2), min(inset, (ch - 2) // 2)
        room_w, room_h = cw - 2 * ix, ch - 2 * iy
        w, h = self._size(cw, ch, Fraction(media_w), Fraction(media_h))
        scale = min(Fraction(1), room_w / w, room_h / h)
        width, height = min(room_w, even_round(w * scale)), min(room_h, even_round(h * scale))
        x = _offset(self.x, ix, room_w, width, cw)
        y = _offset(self.y, iy, room_h, height, ch)
        return Rect(x, y, width, height, cover=self.aspect is not None)

    def _size(self, cw: int, ch: int, mw: Fraction, mh: Fraction) -> tuple[Fraction, Fraction]:
        """The box before it is fitted into the room left by the margins (may be any size)."""
        shape = self.aspect if self.aspect is not None else mw / mh
        box_w = _resolve_size(self.width, cw)
        box_h = _resolve_size(self.height, ch)
        if box_w is not None and box_h is not None:
            scale = min(box_w / shape, box_h)  # the largest box of ``shape`` inside box_w x box_h
            return scale * shape, scale
        if box_w is not None:
            return box_w, box_w / shape
        if box_h is not None:
            return box_h * shape, box_h
        if self.aspect is None:
            return mw, mh
        # Original size cropped to the asked shape: the largest such window of the medium.
        return (mh * shape, mh) if mw / mh > shape else (mw, mw / shape)


def _resolve_size(length: Length | None, side: int) -> Fraction | None:
    if length is None:
        return None
    value = side * length.value / 100 if length.percent else length.value
    return max(Fraction(1), value)


def _offset(length: Length | None, inset: int, room: int, size: int, canvas: int) -> int:
    """Left (or top) edge of a box of ``size`` in ``room`` pixels starting at ``inset``."""
    free = room - size
    if length is None:
        pos = inset + Fraction(free, 2)
    elif length.percent:
        pos = inset + length.value / 100 * free
    else:
        pos = min(max(length.value, Fraction(inset)), Fraction(inset + free))
    return min(max(0, 2 * round(pos / 2)), canvas - size)


#: The default placement: the medium covers the canvas.
FULL = Placement(spec="full", cover=True)


# ------------------------------------------------------------------------------------ parsing


def parse_placement(value: str | Mapping[str, Any] | None) -> Placement:
    """Parse the SDK's ``placement`` (see the module doc); :class:`MediaParamError` (a
    ``ValueError``) names the bad part."""
    if value is None:
        return FULL
    if isinstance(value, str):
        return _parse_text(value)
    if isinstance(value, Mapping):
        return _parse_custom(value)
    raise MediaParamError(f"placement must be a preset string or an object, got {type(value).__name__}")


def _parse_text(value: str) -> Placement:
    text = " ".join(value.strip().lower().split())
    if len(text) > 200:
        raise MediaParamError("placement is too long")
    if text in ("", "full"):
        return FULL
    text = _PRESET_ALIASES.get(text, text)
    for corner in _QUARTERS:
        if text == f"{corner}-quarter":
            fx, fy = POSITIONS[corner]
            half = Length(Fraction(50), percent=True)
            return Placement(spec=text, width=half, height=half, x=_anchor(fx), y=_anchor(fy))
    width: Length | None = None
    height: Length | None = None
    position: str | None = None
    for token in text.split(" "):
        size = _SIZE_TOKEN.match(token)
        if size is not None:
            side, length = size.group(1), _size_token(token, size)
            if (width if side == "w" else height) is not None:
                raise MediaParamError(f"placement {value!r} gives the {'width' if side == 'w' else 'height'} twice")
            if side == "w":
                width = length
            else:
                height = length
            continue
        name = _POSITION_ALIASES.get(token, token)
        if name in POSITIONS:
            if position is not None:
                raise MediaParamError(f"placement {value!r} gives two positions ({position!r}, {token!r})")
            position = name
            continue
        if token in ("full", "pip", "picture-in-picture"):
            raise MediaParamError(f"placement preset {token!r} cannot be combined with other classes")
        raise MediaParamError(
            f"unknown placement class {token!r}; use full, center, pip, w-n/d, h-n/d, w-full, h-full or a position "
            f"({', '.join(POSITIONS)})"
        )
    fx, fy = POSITIONS[position or "center"]
    edge = position not in (None, "center")
    return Placement(spec=text, width=width, height=height, x=_anchor(fx), y=_anchor(fy),
                     margin=EDGE_MARGIN if edge else Fraction(0))


def _anchor(share: Fraction) -> Length:
    return Length(share * 100, percent=True)


def _size_token(token: str, match: re.Match[str]) -> Length:
    if match.group(4):
        return Length(Fraction(100), percent=True)
    num, den = int(match.group(2)), int(match.group(3))
    if not 1 <= num <= den <= 12:
        raise MediaParamError(f"placement class {token!r}: the fraction must be n/d with 1 <= n <= d <= 12")
    return Length(Fraction(100 * num, den), percent=True)


def _parse_custom(value: Mapping[str, Any]) -> Placement:
    unknown = sorted(str(k) for k in value if k not in _CUSTOM_KEYS)
    if unknown:
        raise MediaParamError(
            f"unknown placement field {unknown[0]!r}; a custom placement has {', '.join(sorted(_CUSTOM_KEYS))}"
        )
    width = _length(value.get("width"), "placement.width", positive=True)
    height = _length(value.get("height"), "placement.height", positive=True)
    position = value.get("position")
    x = y = None
    if position is not None:
        if not isinstance(position, Mapping):
            raise MediaParamError("placement.position must be an object {x, y}")
        extra = sorted(str(k) for k in position if k not in ("x", "y"))
        if extra:
            raise MediaParamError(f"unknown placement.position field {extra[0]!r}; use x and y")
        x = _length(position.get("x"), "placement.position.x", positive=False)
        y = _length(position.get("y"), "placement.position.y", positive=False)
    padding = _padding(value.get("padding"))
    aspect = _aspect(value.get("aspectRatio"))
    parts = [f"{k}={v}" for k, v in (("width", width), ("height", height), ("x", x), ("y", y)) if v is not None]
    if padding:
        parts.append(f"padding={padding}")
    if aspect is not None:
        parts.append(f"aspectRatio={aspect.numerator}:{aspect.denominator}")
    return Placement(spec="custom(" + ", ".join(parts) + ")", width=width, height=height, x=x, y=y,
                     padding=padding, aspect=aspect)


def _length(value: Any, field: str, *, positive: bool) -> Length | None:
    """``"300"`` / ``300`` (pixels) or ``"50%"``; anything else (an ffmpeg expression) is refused."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise MediaParamError(f"{field} must be pixels (\"300\") or a percentage (\"50%\"), got {value!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise MediaParamError(f"{field} must be a finite number, got {value!r}")
        number, percent = Fraction(value), False
    elif isinstance(value, str):
        match = _NUMBER.match(value)
        if match is None:
            raise MediaParamError(
                f"{field} must be pixels (\"300\") or a percentage (\"50%\"), got {value[:40]!r}"
            )
        number, percent = Fraction(match.group(1)), bool(match.group(2))
    else:
        raise MediaParamError(f"{field} must be pixels (\"300\") or a percentage (\"50%\"), got {type(value).__name__}")
    limit = 100 if percent else MAX_PX
    if number < 0 or number > limit or (positive and number == 0):
        unit = "%" if percent else " px"
        low = "above 0 and" if positive else "at least 0 and"
        raise MediaParamError(f"{field} must be {low} at most {limit}{unit}, got {value!r}")
    return Length(number, percent)


def _padding(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, bool):
        raise MediaParamError(f"placement.padding must be a number of pixels, got {value!r}")
    if isinstance(value, str):
        match = _NUMBER.match(value)
        if match is None or match.group(2):
            raise MediaParamError(f"placement.padding must be a number of pixels, got {value[:40]!r}")
        number = float(match.group(1))
    elif isinstance(value, int | float):
        number = float(value)
    else:
        raise MediaParamError(f"placement.padding must be a number of pixels, got {type(value).__name__}")
    if not math.isfinite(number) or not 0 <= number <= MAX_PX:
        raise MediaParamError(f"placement.padding must be within 0..{MAX_PX} px, got {value!r}")
    return round(number)


def _aspect(value: Any) -> Fraction | None:
    if value is None:
        return None
    match = _ASPECT.match(value) if isinstance(value, str) else None
    if match is None:
        raise MediaParamError(f"placement.aspectRatio must look like \"16:9\", got {str(value)[:40]!r}")
    num, den = int(match.group(1)), int(match.group(2))
    if num == 0 or den == 0 or not Fraction(1, MAX_ASPECT) <= Fraction(num, den) <= MAX_ASPECT:
        raise MediaParamError(f"placement.aspectRatio {value!r} is outside 1:{MAX_ASPECT}..{MAX_ASPECT}:1")
    return Fraction(num, den)


def _fraction_text(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.4f}".rstrip("0").rstrip(".")
