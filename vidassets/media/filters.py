"""Helpers for writing filtergraph text safely.

A filtergraph is parsed twice: once into filters (``,`` ``;`` ``[`` ``]``
``'`` ``\\`` are special) and then each filter's option string (``:`` ``'``
``\\`` are special). A value that ends up inside a graph - a path, an
expression - is escaped for both levels, innermost first, exactly as the
"Notes on filtergraph escaping" in the ffmpeg manual describe. User text never
goes through here: captions and subtitles reach ffmpeg through files
(``textfile=``, an ``.ass`` file), so this module only has to be right for
paths and numbers we produce ourselves.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

_OPTION_SPECIALS = "\\':"
_GRAPH_SPECIALS = "\\'[],;"


def _backslash(value: str, specials: str) -> str:
    return "".join("\\" + ch if ch in specials else ch for ch in value)


def escape_filter_value(value: str | Path) -> str:
    """Escape ``value`` for use as a filter option value inside a filtergraph.

    The colon in ``/tmp/a:b`` is escaped for the option parser (``a\\:b``),
    then that backslash again for the graph parser (``a\\\\:b``); a comma
    only needs the graph-level escape (``\\,``).
    """
    text = str(value)
    if "\n" in text or "\r" in text or "\x00" in text:
        # A newline cannot be escaped in a graph; refuse rather than mis-parse.
        raise ValueError("filter values cannot contain newlines or NUL bytes")
    return _backslash(_backslash(text, _OPTION_SPECIALS), _GRAPH_SPECIALS)


def fmt_num(value: float, digits: int = 6) -> str:
    """Format a number for a filter or an argv without exponent notation or noise."""
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value}")
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def fps_fraction(fps: float) -> Fraction:
    """A rational frame rate for ``fps=`` (29.97 -> 30000/1001, 24 -> 24)."""
    if fps <= 0 or not math.isfinite(fps):
        raise ValueError(f"invalid frame rate {fps}")
    frac = Fraction(fps).limit_denominator(1001)
    return frac


def fps_text(fps: float) -> str:
    frac = fps_fraction(fps)
    return str(frac.numerator) if frac.denominator == 1 else f"{frac.numerator}/{frac.denominator}"


def concat_list_entry(path: Path) -> str:
    """A line for the concat demuxer's list file (single quotes escaped the ffconcat way)."""
    text = str(path)
    if "\n" in text or "\r" in text:
        raise ValueError("paths in a concat list cannot contain newlines")
    return "file '" + text.replace("'", "'\\''") + "'"
