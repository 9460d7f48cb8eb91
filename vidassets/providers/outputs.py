"""Vendor outputs that are files of a kind: a still, speech, a video, named after what they are.

A vendor's output URL says little (``.../tmp1x2y`` with no extension, a ``.png`` that holds a
JPEG after a format change), and what comes next depends on the real format: an alpha channel
is only in a PNG or WebP, ffmpeg picks its demuxer by content but the artefact store and the
client read the suffix. So the file is downloaded under a neutral name, its first bytes decide
its type, and it is renamed ``<stem><suffix>`` in the caller's directory. A file that is not the
kind the job makes (an HTML error page, a JSON body, audio from an image model) is refused: the
model's output cannot be used, and a new paid job is the only remedy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from vidassets.providers.base import ProviderError
from vidassets.providers.http import VendorSession, first_url
from vidassets.providers.ledger import VendorRun

MediaKind = Literal["image", "audio", "video"]
_HEAD = 64


@dataclass(frozen=True)
class Sniffed:
    """What a file's first bytes say it is."""

    mime: str
    suffix: str

    @property
    def kind(self) -> str:
        return self.mime.partition("/")[0]


def _mp3_frame(head: bytes) -> bool:
    """An MPEG audio frame header, layer III (an mp3 without ID3 tags starts with one)."""
    return len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and (head[1] >> 1) & 0x3 == 0x1


def _adts(head: bytes) -> bool:
    """An ADTS AAC frame header: sync word, layer bits 00."""
    return len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0


def sniff(head: bytes) -> Sniffed | None:
    """The media type of a file from its first bytes (64 are plenty); None when unknown."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("image/png", ".png")
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed("image/jpeg", ".jpg")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed("image/webp", ".webp")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return Sniffed("image/gif", ".gif")
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return Sniffed("audio/wav", ".wav")
    if head.startswith(b"ID3") or _mp3_frame(head):
        return Sniffed("audio/mpeg", ".mp3")
    if _adts(head):
        return Sniffed("audio/aac", ".aac")
    if head.startswith(b"fLaC"):
        return Sniffed("audio/flac", ".flac")
    if head.startswith(b"OggS"):
        return Sniffed("audio/ogg", ".ogg")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B "):
            return Sniffed("audio/mp4", ".m4a")
        if brand == b"qt  ":
            return Sniffed("video/quicktime", ".mov")
        return Sniffed("video/mp4", ".mp4")
    if head.startswith(b"\x1aE\xdf\xa3"):  # EBML: Matroska, or WebM when its DocType says so
        return Sniffed("video/webm", ".webm") if b"webm" in head else Sniffed("video/x-matroska", ".mkv")
    return None


def sniff_file(path: Path) -> Sniffed | None:
    with path.open("rb") as fh:
        return sniff(fh.read(_HEAD))


def _fits(found: Sniffed, expect: MediaKind) -> Sniffed | None:
    """``found`` as the kind the job makes, or None. An MP4 container holds audio as well as
    video (a TTS model may answer AAC in MP4): a speech job reads it as ``.m4a``."""
    if found.kind == expect:
        return found
    if expect == "audio" and found.mime == "video/mp4":
        return Sniffed("audio/mp4", ".m4a")
    return None


def place(tmp: Path, out_dir: Path, stem: str, expect: MediaKind, *, vendor: str, job: str) -> tuple[Path, Sniffed]:
    """Rename the downloaded ``tmp`` to ``<stem><suffix>`` in ``out_dir`` after its content; a file
    that is not a ``expect`` is removed and refused (``provider_failed``)."""
    found = sniff_file(tmp)
    fitting = _fits(found, expect) if found is not None else None
    if fitting is None:
        tmp.unlink(missing_ok=True)
        what = found.mime if found is not None else "not a media file this server recognises"
        raise ProviderError(f"{vendor} job {job} returned {what}, not the {expect} it was asked for",
                            code="provider_failed")
    final = out_dir / f"{stem}{fitting.suffix}"
    os.replace(tmp, final)
    return final, fitting


def fetch_output(run: VendorRun[Any], session: VendorSession, *, job: str, out_dir: Path, stem: str,
                 expect: MediaKind) -> tuple[Path, int, Sniffed]:
    """Download the first media URL of a finished vendor job into ``out_dir`` as ``<stem><suffix>``:
    (its path, its size, its type). An output that cannot be used ends the ledger attempt."""
    url = first_url(run.output)
    if url is None:
        raise run.unusable(ProviderError(f"{session.vendor} job {job} returned no media URL", code="provider_failed"))
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f".{stem}.download"
    size = run.download(session, url, tmp)
    try:
        path, found = place(tmp, out_dir, stem, expect, vendor=session.vendor, job=job)
    except ProviderError as exc:
        raise run.unusable(exc) from None
    return path, size, found
