"""Pure geometry: aspect ratios, resolutions, canvases and crop rectangles.

Kept apart from the ffmpeg builders so the sizing rules - the part users notice
- are unit-tested directly. All output dimensions are even because yuv420p
subsamples chroma by two in both directions (x264 refuses odd sizes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from .errors import MediaParamError

#: Aspect ratios the product supports (same set for generation and reframing).
ASPECT_RATIOS: dict[str, Fraction] = {
    "16:9": Fraction(16, 9),
    "9:16": Fraction(9, 16),
    "1:1": Fraction(1, 1),
    "4:5": Fraction(4, 5),
    "4:3": Fraction(4, 3),
    "3:4": Fraction(3, 4),
    "21:9": Fraction(21, 9),
    "9:21": Fraction(9, 21),
}

#: Named resolutions give the length of the *short* side (720p -> 1280x720 or 720x1280).
RESOLUTIONS: dict[str, int] = {
    "360p": 360,
    "480p": 480,
    "540p": 540,
    "720p": 720,
    "1080p": 1080,
    "1440p": 1440,
    "2160p": 2160,
}

MAX_DIMENSION = 4096
_WXH = re.compile(r"^\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*$")


def parse_aspect(value: str) -> Fraction:
    """``"9:16"`` -> ``Fraction(9, 16)``; anything outside :data:`ASPECT_RATIOS` is refused."""
    key = str(value).strip().replace("/", ":")
    if key not in ASPECT_RATIOS:
        raise MediaParamError(f"unsupported aspect ratio {value!r}; use one of {', '.join(ASPECT_RATIOS)}")
    return ASPECT_RATIOS[key]


def even(value: float) -> int:
    """Round down to an even integer, never below 2."""
    return max(2, int(value) // 2 * 2)


def even_round(value: float | Fraction) -> int:
    """Round to the nearest even integer, never below 2."""
    return max(2, round(value / 2.0) * 2)


def size_for(short_side: int, aspect: Fraction) -> tuple[int, int]:
    """Even ``(w, h)`` whose short side is ``short_side`` and whose ratio is ``aspect``."""
    if aspect >= 1:
        return even_round(short_side * aspect), even_round(short_side)
    return even_round(short_side), even_round(short_side / aspect)


def parse_resolution(resolution: str, aspect_ratio: str = "16:9") -> tuple[int, int]:
    """Output size for a generation request.

    ``"720p"`` is the short side, so ``("720p", "9:16")`` is 720x1280 and
    ``("720p", "21:9")`` is 1680x720. An explicit ``"WxH"`` wins over the
    aspect ratio (which is still validated); odd numbers are rounded down to even.
    """
    aspect = parse_aspect(aspect_ratio)
    text = str(resolution).strip().lower()
    if text in RESOLUTIONS:
        width, height = size_for(RESOLUTIONS[text], aspect)
    else:
        match = _WXH.match(text)
        if not match:
            raise MediaParamError(f"unsupported resolution {resolution!r}; use one of {', '.join(RESOLUTIONS)} or WxH")
        width, height = even(int(match.group(1))), even(int(match.group(2)))
    if max(width, height) > MAX_DIMENSION or min(width, height) < 16:
        raise MediaParamError(f"resolution {width}x{height} is outside 16..{MAX_DIMENSION} pixels")
    return width, height


@dataclass(frozen=True)
class Rect:
    """A crop rectangle in source display pixels."""

    x: int
    y: int
    w: int
    h: int


def crop_size(src_w: int, src_h: int, aspect: Fraction) -> tuple[int, int]:
    """The largest even crop of ``aspect`` inside ``src_w x src_h`` (keeps full height or width)."""
    if Fraction(src_w, src_h) > aspect:
        height = even(src_h)
        return min(even(src_w), even_round(height * aspect)), height
    width = even(src_w)
    return width, min(even(src_h), even_round(width / aspect))


def crop_rect(src_w: int, src_h: int, aspect: Fraction, anchor: str) -> Rect:
    """Crop of ``aspect`` anchored ``center/top/bottom/left/right``.

    The anchor only matters along the axis being cut: ``top`` on a landscape
    source cropped to portrait (which cuts width) is centred horizontally.
    """
    width, height = crop_size(src_w, src_h, aspect)
    x = (src_w - width) // 2
    y = (src_h - height) // 2
    if anchor == "left":
        x = 0
    elif anchor == "right":
        x = src_w - width
    elif anchor == "top":
        y = 0
    elif anchor == "bottom":
        y = src_h - height
    elif anchor not in ("center", "smart"):
        raise MediaParamError(f"unknown crop anchor {anchor!r}")
    return Rect(x=max(0, x), y=max(0, y), w=width, h=height)


def canvas_size(src_w: int, src_h: int, aspect: Fraction) -> tuple[int, int]:
    """The output canvas for ``aspect``: its short side equals the source's short side.

    1920x1080 -> 9:16 gives 1080x1920, -> 1:1 gives 1080x1080, -> 21:9 gives
    2520x1080. Content placed on it by fitting (pad/blur) is never enlarged,
    because the canvas is at least as large as the source along the fitted axis.
    """
    return size_for(min(src_w, src_h), aspect)


def fit_size(src_w: int, src_h: int, box_w: int, box_h: int, *, allow_upscale: bool = True) -> tuple[int, int]:
    """Even size of ``src`` scaled to fit inside ``box`` keeping its aspect."""
    scale = min(box_w / src_w, box_h / src_h)
    if not allow_upscale:
        scale = min(scale, 1.0)
    return min(even(box_w), even_round(src_w * scale)), min(even(box_h), even_round(src_h * scale))
