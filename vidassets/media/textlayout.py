"""Script-aware line breaking shared by captions and subtitles.

Widths are counted in "columns": East Asian wide/fullwidth characters count as
two (they are about twice as wide as Latin letters), combining marks as zero.
Text without spaces (Chinese, Japanese) may break between any two wide
characters; everything else breaks at spaces, and a word longer than a line is
split hard rather than overflowing the frame.

Every breaking function takes an optional ``measure`` (text -> width): the
default counts columns; captions pass the real pixel width of the shipped font
at the caption's size (:func:`vidassets.media.fonts.measure_text`) so lines fit
the frame's safe area whatever the script.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

Measure = Callable[[str], float]


def char_width(ch: str) -> int:
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def text_width(text: str) -> int:
    return sum(char_width(ch) for ch in text)


@dataclass(frozen=True)
class Token:
    """A breakable unit: ``space_before`` says whether it is joined to the previous one with a space."""

    text: str
    space_before: bool
    weight: float  # reading-time weight: 1 per word, 0.5 per CJK character


def _pieces(word: str) -> list[tuple[str, float]]:
    """Split one space-delimited word at wide characters, keeping punctuation attached."""
    pieces: list[tuple[str, float]] = []
    buf = ""
    for ch in word:
        is_punct = unicodedata.category(ch).startswith("P")
        if is_punct and not buf and pieces and pieces[-1][1] == 0.5:
            pieces[-1] = (pieces[-1][0] + ch, 0.5)  # no line may start with "。" or ","
        elif char_width(ch) == 2:
            if buf:
                pieces.append((buf, 1.0))
                buf = ""
            pieces.append((ch, 0.5))
        else:
            buf += ch
    if buf:
        pieces.append((buf, 1.0))
    return pieces


def _hard_split(piece: str, max_width: float, measure: Measure = text_width) -> list[str]:
    chunks: list[str] = []
    chunk = ""
    for ch in piece:
        if chunk and measure(chunk + ch) > max_width:
            chunks.append(chunk)
            chunk = ""
        chunk += ch
    return [*chunks, chunk] if chunk else chunks


def tokenize(text: str, max_width: float, measure: Measure = text_width) -> list[Token]:
    """Split text into breakable tokens (words; single wide characters; hard-split long words)."""
    tokens: list[Token] = []
    for word in text.split():
        for index, (piece, weight) in enumerate(_pieces(word)):
            space = index == 0 and bool(tokens)
            for chunk in _hard_split(piece, max(1, max_width), measure):
                tokens.append(Token(chunk, space, weight))
                space = False
    return tokens


def join_tokens(tokens: list[Token]) -> str:
    out = ""
    for i, token in enumerate(tokens):
        out += (" " if token.space_before and i else "") + token.text
    return out


def wrap_tokens(tokens: list[Token], max_width: float, measure: Measure = text_width) -> list[list[Token]]:
    """Greedy line filling: each line measures at most ``max_width`` (columns by default)."""
    lines: list[list[Token]] = []
    current: list[Token] = []
    for token in tokens:
        if current and measure(join_tokens([*current, token])) > max_width:
            lines.append(current)
            current = [Token(token.text, False, token.weight)]
        else:
            current.append(token)
    if current:
        lines.append(current)
    return lines


def wrap_text(text: str, max_width: float, measure: Measure = text_width) -> list[str]:
    """Wrap ``text`` into lines of at most ``max_width`` (existing newlines are kept)."""
    lines: list[str] = []
    for paragraph in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        tokens = tokenize(paragraph, max_width, measure)
        lines.extend(join_tokens(line) for line in wrap_tokens(tokens, max_width, measure))
    return [line for line in lines if line]
