"""Read the tables of docs/OPERATIONS.md: the first-column names of a section's tables."""

from __future__ import annotations

import re
from pathlib import Path

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "OPERATIONS.md"
_ROW_NAMES = re.compile(r"^\|\s*((?:`[^`]+`(?:,\s*)?)+)\s*\|")


def section(heading: str, text: str | None = None) -> str:
    """The text under the heading that starts with ``heading`` (any level), up to the next heading
    of the same or a higher level."""
    text = OPERATIONS.read_text() if text is None else text
    lines = text.splitlines()
    for i, line in enumerate(lines):
        level = len(line) - len(line.lstrip("#"))
        if level and line[level:].strip().startswith(heading):
            body = []
            for following in lines[i + 1:]:
                other = len(following) - len(following.lstrip("#"))
                if other and other <= level and following[other:other + 1] == " ":
                    break
                body.append(following)
            return "\n".join(body)
    raise LookupError(f"no heading {heading!r} in {OPERATIONS}")


def first_column(heading: str) -> set[str]:
    """The backticked names in the first column of every table row in the section."""
    names: set[str] = set()
    for line in section(heading).splitlines():
        match = _ROW_NAMES.match(line)
        if match:
            names.update(re.findall(r"`([^`]+)`", match.group(1)))
    return names
