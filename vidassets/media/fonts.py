"""Shipped fonts, their coverage, and how ffmpeg is pointed at them.

The static ffmpeg has no usable fontconfig configuration and a server may have
no fonts at all, so text rendering must never depend on the host. We ship a
small OFL/Apache set (see ``fonts/README.md``) that covers Latin, Greek,
Cyrillic, Arabic, CJK (Chinese, Japanese, Korean) and - in monochrome outlines
libass can draw - emoji and symbols, plus two styling families (Liberation Mono
and Liberation Serif, metric-compatible with Courier New and Times New Roman, so
a style naming those draws and measures as clients expect), and:

* libass gets ``fontsdir=`` plus a generated ``fonts.conf`` (``FONTCONFIG_FILE``)
  listing only this directory, so its glyph fallback finds our fonts and
  nothing else - renders are the same on every host;
* drawtext takes one ``fontfile=``; it has no fallback, so callers pick the font
  per line with :func:`pick_font`, which reads each font's ``cmap`` table
  (a tiny parser below - no fontTools dependency) to know what it covers.

Caption layout needs to know how wide a line will be *before* libass draws it
(to keep lines inside a 9:16 frame's safe area), so the same parser also reads
each font's advance widths (``hmtx``) and :func:`measure_text` adds them up per
font run, exactly as the renderer picks fonts.
"""

from __future__ import annotations

import functools
import hashlib
import os
import struct
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

FONTS_DIR = Path(__file__).resolve().parent / "fonts"


@dataclass(frozen=True)
class ShippedFont:
    """One font file we ship: the family name libass matches on and its file.

    ``fallback`` fonts may draw characters another family lacks; styling-only families
    (``fallback=False``) are used only when a style names them, so adding one never changes
    which font draws a character in text styled with another family.
    """

    family: str
    filename: str
    bold: bool = False
    fallback: bool = True

    @property
    def path(self) -> Path:
        return FONTS_DIR / self.filename


#: In fallback priority order: the first fallback font covering a character is used for it.
SHIPPED_FONTS: tuple[ShippedFont, ...] = (
    ShippedFont("Noto Sans", "NotoSans-Regular.ttf"),
    ShippedFont("Noto Sans", "NotoSans-Bold.ttf", bold=True),
    ShippedFont("Liberation Mono", "LiberationMono-Regular.ttf", fallback=False),
    ShippedFont("Liberation Mono", "LiberationMono-Bold.ttf", bold=True, fallback=False),
    ShippedFont("Liberation Serif", "LiberationSerif-Regular.ttf", fallback=False),
    ShippedFont("Liberation Serif", "LiberationSerif-Bold.ttf", bold=True, fallback=False),
    ShippedFont("Noto Sans Arabic", "NotoSansArabic-Regular.ttf"),
    ShippedFont("Noto Sans Arabic", "NotoSansArabic-Bold.ttf", bold=True),
    ShippedFont("WenQuanYi Micro Hei", "wqy-microhei.ttc"),
    ShippedFont("Symbola", "Symbola.ttf"),  # last: emoji and symbols no other font has
)

DEFAULT_FAMILY = "Noto Sans"

#: Family names clients use (lower-cased) -> the shipped family drawn for them. Liberation Mono
#: and Serif have Courier New's and Times New Roman's advance widths, so lines break where the
#: client's own renderer would break them.
FAMILY_ALIASES: dict[str, str] = {
    "liberation mono": "Liberation Mono", "courier new": "Liberation Mono", "courier": "Liberation Mono",
    "monospace": "Liberation Mono",
    "liberation serif": "Liberation Serif", "times new roman": "Liberation Serif", "times": "Liberation Serif",
    "serif": "Liberation Serif", "georgia": "Liberation Serif",
}


def fonts_dir() -> Path:
    """Directory with the shipped fonts (for ``fontsdir=``)."""
    return FONTS_DIR


def shipped_families(*, styling: bool = False) -> list[str]:
    """Shipped family names in fallback order: the families that may draw any text, plus (with
    ``styling``) those drawn only when a style names them."""
    return list(dict.fromkeys(f.family for f in SHIPPED_FONTS if f.fallback or styling))


def canonical_family(family: str) -> str:
    """The shipped family a style's ``family`` names (``Courier New`` -> ``Liberation Mono``);
    any other name unchanged (libass then falls back through our fontconfig)."""
    return FAMILY_ALIASES.get(" ".join(family.split()).lower(), family)


def font_file(family: str = DEFAULT_FAMILY, *, bold: bool = False) -> Path:
    """The file of a shipped family or an alias of one (regular when no bold cut exists)."""
    family = canonical_family(family)
    regular = None
    for font in SHIPPED_FONTS:
        if font.family.lower() != family.lower():
            continue
        if font.bold == bold:
            return font.path
        if not font.bold:
            regular = font.path
    if regular is None:
        raise KeyError(f"no shipped font family {family!r}")
    return regular


# --------------------------------------------------------------------------- cmap


def _read_cmap(data: bytes) -> frozenset[int]:
    """Code points mapped by a TrueType/OpenType font, or the first face of a collection.

    Reads cmap formats 4 (BMP) and 12 (full repertoire). The first face is the
    one FreeType (drawtext ``fontfile=``) opens by default.
    """
    directory = 0
    if data[:4] == b"ttcf":
        directory = struct.unpack_from(">I", data, 12)[0]
    num_tables = struct.unpack_from(">H", data, directory + 4)[0]
    cmap_offset = None
    for i in range(num_tables):
        tag, _checksum, offset, _length = struct.unpack_from(">4sIII", data, directory + 12 + 16 * i)
        if tag == b"cmap":
            cmap_offset = offset
            break
    if cmap_offset is None:
        return frozenset()
    _version, n_sub = struct.unpack_from(">HH", data, cmap_offset)
    subtables: list[tuple[int, int]] = []
    for i in range(n_sub):
        platform, encoding, offset = struct.unpack_from(">HHI", data, cmap_offset + 4 + 8 * i)
        if platform == 0 or (platform == 3 and encoding in (1, 10)):
            subtables.append((struct.unpack_from(">H", data, cmap_offset + offset)[0], cmap_offset + offset))
    points: set[int] = set()
    # Prefer the full-repertoire format 12 table; format 4 covers the BMP only.
    for fmt, start in sorted(subtables, key=lambda s: s[0] != 12):
        if fmt == 12:
            n_groups = struct.unpack_from(">I", data, start + 12)[0]
            for g in range(n_groups):
                first, last, glyph = struct.unpack_from(">III", data, start + 16 + 12 * g)
                if glyph or first != last:
                    points.update(range(first, last + 1))
            break
        if fmt == 4:
            seg_x2 = struct.unpack_from(">H", data, start + 6)[0]
            ends = struct.unpack_from(f">{seg_x2 // 2}H", data, start + 14)
            starts = struct.unpack_from(f">{seg_x2 // 2}H", data, start + 16 + seg_x2)
            for first, last in zip(starts, ends, strict=True):
                if first != 0xFFFF:
                    points.update(range(first, last + 1))
            break
    return frozenset(points)


def _table_directory(data: bytes) -> dict[bytes, int]:
    """Offsets of the tables of a font, or of the first face of a collection."""
    directory = struct.unpack_from(">I", data, 12)[0] if data[:4] == b"ttcf" else 0
    num_tables = struct.unpack_from(">H", data, directory + 4)[0]
    tables: dict[bytes, int] = {}
    for i in range(num_tables):
        tag, _checksum, offset, _length = struct.unpack_from(">4sIII", data, directory + 12 + 16 * i)
        tables[tag] = offset
    return tables


def _glyph_ids(data: bytes, cmap_offset: int) -> dict[int, int]:
    """Code point -> glyph index from a Unicode cmap subtable (format 12 preferred, else 4)."""
    _version, n_sub = struct.unpack_from(">HH", data, cmap_offset)
    subtables: list[tuple[int, int]] = []
    for i in range(n_sub):
        platform, encoding, offset = struct.unpack_from(">HHI", data, cmap_offset + 4 + 8 * i)
        if platform == 0 or (platform == 3 and encoding in (1, 10)):
            subtables.append((struct.unpack_from(">H", data, cmap_offset + offset)[0], cmap_offset + offset))
    glyphs: dict[int, int] = {}
    for fmt, start in sorted(subtables, key=lambda s: s[0] != 12):
        if fmt == 12:
            n_groups = struct.unpack_from(">I", data, start + 12)[0]
            for g in range(n_groups):
                first, last, glyph = struct.unpack_from(">III", data, start + 16 + 12 * g)
                for offset, code in enumerate(range(first, last + 1)):
                    glyphs[code] = glyph + offset
            return glyphs
        if fmt == 4:
            seg_x2 = struct.unpack_from(">H", data, start + 6)[0]
            segs = seg_x2 // 2
            ends = struct.unpack_from(f">{segs}H", data, start + 14)
            starts = struct.unpack_from(f">{segs}H", data, start + 16 + seg_x2)
            deltas = struct.unpack_from(f">{segs}h", data, start + 16 + 2 * seg_x2)
            range_at = start + 16 + 3 * seg_x2
            ranges = struct.unpack_from(f">{segs}H", data, range_at)
            for i, (first, last) in enumerate(zip(starts, ends, strict=True)):
                if first == 0xFFFF:
                    continue
                for code in range(first, last + 1):
                    if ranges[i] == 0:
                        glyph = (code + deltas[i]) & 0xFFFF
                    else:
                        at = range_at + 2 * i + ranges[i] + 2 * (code - first)
                        glyph = struct.unpack_from(">H", data, at)[0]
                        glyph = (glyph + deltas[i]) & 0xFFFF if glyph else 0
                    if glyph:
                        glyphs[code] = glyph
            return glyphs
    return glyphs


@dataclass(frozen=True)
class FontMetrics:
    """Horizontal advances of one font as fractions of the ASS font size.

    libass (like VSFilter) sizes a font so that its OS/2 ``winAscent + winDescent`` - not its
    em square - equals the requested size, so an advance of ``a`` font units is
    ``a / (winAscent + winDescent)`` of the font size.
    """

    advances: dict[int, float]  # code point -> advance per unit of font size
    missing: float  # the .notdef advance, for characters the font lacks

    def width(self, text: str) -> float:
        return sum(0.0 if _ignorable(ch) and ch != " " else self.advances.get(ord(ch), self.missing) for ch in text)


def _read_metrics(data: bytes) -> FontMetrics:
    tables = _table_directory(data)
    units: int = struct.unpack_from(">H", data, tables[b"head"] + 18)[0] or 1000
    if b"OS/2" in tables:
        win_ascent, win_descent = struct.unpack_from(">HH", data, tables[b"OS/2"] + 74)
        units = win_ascent + win_descent or units
    n_metrics: int = struct.unpack_from(">H", data, tables[b"hhea"] + 34)[0]
    hmtx = tables[b"hmtx"]
    widths: tuple[int, ...] = struct.unpack_from(f">{2 * n_metrics}H", data, hmtx)[0::2]

    def advance(glyph: int) -> float:
        return widths[min(glyph, n_metrics - 1)] / units

    glyphs = _glyph_ids(data, tables[b"cmap"]) if b"cmap" in tables else {}
    return FontMetrics({code: advance(glyph) for code, glyph in glyphs.items()}, advance(0))


@functools.cache
def metrics(path: Path) -> FontMetrics:
    """Advance widths of a font file (cached: read once per process)."""
    return _read_metrics(path.read_bytes())


def measure_text(text: str, family: str = DEFAULT_FAMILY, size: float = 1.0, *, bold: bool = False) -> float:
    """Width in pixels of one line of ``text`` at ``size`` px, drawn the way libass draws it
    with our fonts: each run in the shipped font :func:`split_runs` picks, bold cuts when asked.

    Kerning and Arabic contextual forms are ignored (they change widths by a few per cent), so
    callers keep a little slack. A family we do not ship is measured as the default family,
    which is what libass falls back to with our fontconfig.
    """
    primary = canonical_family(family)
    primary = primary if primary in shipped_families(styling=True) else DEFAULT_FAMILY
    total = 0.0
    for run_family, run in split_runs(text, primary):
        total += metrics(font_file(run_family, bold=bold)).width(run)
    return total * size


@functools.cache
def coverage(path: Path) -> frozenset[int]:
    """Code points a font file maps (cached: fonts are read once per process)."""
    return _read_cmap(path.read_bytes())


def _ignorable(ch: str) -> bool:
    """Characters that never decide a font: whitespace, controls, format chars."""
    return ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zs", "Zl", "Zp")


def covers(path: Path, text: str) -> bool:
    cmap = coverage(path)
    return all(_ignorable(ch) or ord(ch) in cmap for ch in text)


def font_for_char(ch: str, primary: str = DEFAULT_FAMILY) -> str | None:
    """The shipped family that should draw ``ch``: the primary one when it can, else the first that can."""
    if _ignorable(ch):
        return None
    code = ord(ch)
    try:
        if code in coverage(font_file(primary)):
            return primary
    except KeyError:
        pass
    for font in SHIPPED_FONTS:
        if font.fallback and not font.bold and code in coverage(font.path):
            return font.family
    return None


def pick_font(text: str, *, bold: bool = False) -> Path:
    """The single shipped font (for drawtext) that covers the most characters of ``text``.

    Ties go to the earlier font in :data:`SHIPPED_FONTS`, so Latin text uses
    Noto Sans. Callers split mixed-script text into lines first (see
    :func:`split_runs`) so each line is usually covered completely.
    """
    best: Path = font_file(DEFAULT_FAMILY, bold=bold)
    best_score = -1
    for family in shipped_families():
        path = font_file(family, bold=bold)
        cmap = coverage(path)
        score = sum(1 for ch in text if not _ignorable(ch) and ord(ch) in cmap)
        if score > best_score:
            best, best_score = path, score
    return best


def split_runs(text: str, primary: str = DEFAULT_FAMILY) -> list[tuple[str, str]]:
    """Split ``text`` into ``(family, run)`` pieces, each drawable by one shipped font.

    Letters use the primary family whenever it has them. Neutral characters
    (spaces, characters no font has) and non-letters the current run's font also
    has (digits, punctuation) stay with the current run, so runs are long.
    """
    runs: list[tuple[str, str]] = []
    family_now: str | None = None
    buf: list[str] = []
    for ch in text:
        # Sticky: punctuation, digits and symbols the current font has stay in its
        # run; letters go back to the primary font whenever it has them.
        sticky = not unicodedata.category(ch).startswith("L")
        if sticky and family_now is not None and not _ignorable(ch) and ord(ch) in coverage(font_file(family_now)):
            family: str | None = family_now
        else:
            family = font_for_char(ch, primary)
        if family is not None and family_now is not None and family != family_now:
            runs.append((family_now, "".join(buf)))
            buf = []
        if family is not None:
            family_now = family
        buf.append(ch)
    if buf:
        runs.append((family_now or primary, "".join(buf)))
    return runs


# ----------------------------------------------------------------- fontconfig


@functools.cache
def fontconfig_file() -> Path:
    """A minimal fonts.conf listing only the shipped fonts, written once per process.

    Lives in the system temp dir under a name derived from the fonts path, so
    concurrent processes agree on it; written atomically.
    """
    key = hashlib.sha256(str(FONTS_DIR).encode()).hexdigest()[:16]
    base = Path(tempfile.gettempdir()) / f"vidassets-fontconfig-{key}"
    (base / "cache").mkdir(parents=True, exist_ok=True)
    conf = base / "fonts.conf"
    text = (
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        f"  <dir>{xml_escape(str(FONTS_DIR))}</dir>\n"
        f"  <cachedir>{xml_escape(str(base / 'cache'))}</cachedir>\n"
        "  <alias><family>sans-serif</family><prefer>"
        + "".join(f"<family>{xml_escape(f)}</family>" for f in shipped_families())
        + "</prefer></alias>\n"
        "  <config></config>\n</fontconfig>\n"
    )
    if not conf.exists() or conf.read_text(encoding="utf-8") != text:
        fd, tmp = tempfile.mkstemp(dir=base, suffix=".conf")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, conf)
    return conf


def fontconfig_env() -> dict[str, str]:
    """Environment additions that make libass/drawtext see exactly the shipped fonts."""
    return {"FONTCONFIG_FILE": str(fontconfig_file())}
