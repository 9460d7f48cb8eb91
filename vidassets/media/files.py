"""Atomic outputs and scratch space.

A half-written MP4 at the final path would look like a finished artefact to
anything watching the directory (and to a retry that checks for existence), so
every operation renders into a temp file next to ``out`` (same filesystem, so
:func:`os.replace` is atomic) and only renames on success. Auxiliary files we
write for ffmpeg (ASS subtitles, caption text, concat lists) go into a private
scratch directory that is removed whatever happens.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import InvalidMediaError, MediaParamError


@contextlib.contextmanager
def atomic_output(out: Path) -> Iterator[Path]:
    """Yield a temp path beside ``out``; move it onto ``out`` only if the block succeeds."""
    out = Path(out)
    if out.exists() and out.is_dir():
        raise MediaParamError(f"output path is a directory: {out}")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.stem}.{secrets.token_hex(6)}.part{out.suffix or '.mp4'}"
    try:
        yield tmp
        os.replace(tmp, out)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


@contextlib.contextmanager
def scratch_dir() -> Iterator[Path]:
    """A private temp directory (mode 0700) for files we hand to ffmpeg."""
    path = Path(tempfile.mkdtemp(prefix="vidassets-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def local_input(path: Path | str) -> Path:
    """Resolve an input to an absolute local path that exists.

    Absolute paths always start with ``/``, so ffmpeg can never read one as a
    protocol URL such as ``concat:`` even if a file is named that way.
    """
    if isinstance(path, str) and "://" in path:
        raise MediaParamError(f"refusing input {path!r}: only local files are accepted")
    resolved = Path(path).expanduser().resolve()
    if not resolved.is_file():
        raise InvalidMediaError(f"input file not found: {path}")
    return resolved
