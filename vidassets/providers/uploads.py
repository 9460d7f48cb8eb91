"""Inputs to vendors: how a local file, an ``s3://`` object or a large ``data:`` URI reaches a vendor.

A vendor reads its inputs from URLs. Before a create is sent, :meth:`InputResolver.resolve`
walks the model input and turns every value a vendor could not read into one it can:

* a local file (:class:`LocalInput`: a lip-sync video or audio track, media to transcribe) gets a
  short-lived signed URL of our artefact store when that store is S3 with a public endpoint (the
  executor's ``publish``); otherwise it goes inline as a ``data:`` URI when that URI is at most
  :data:`~vidassets.providers.http.INLINE_LIMIT_BYTES` (256 KiB) long, and through the vendor's
  file API (:class:`ReplicateFiles`, :class:`FalStorage`) when it is larger: the create then
  carries the URL the vendor answered;
* an ``s3://bucket/key`` (a plan's start image, say) is presigned for the life of the vendor job
  when the S3 endpoint is public, and otherwise read here and sent on like a local file;
* a ``data:`` URI over the limit is decoded and sent on like a local file.

So no ``data:`` URI longer than 256 KiB ever reaches a vendor (Replicate advises data URIs only for small
files; fal reads them only on some models). http(s) URLs pass unchanged: the vendor fetches them.
Uploads are resent like GETs on failure: they start no paid job.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import mimetypes
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote_to_bytes, urlsplit

from vidassets.net.fetch import FetchError, fetch_to_file
from vidassets.net.guard import AddressPolicy
from vidassets.providers.base import ProviderError, PublishFn
from vidassets.providers.http import INLINE_LIMIT_BYTES, VendorSession

log = logging.getLogger(__name__)

#: How long a fal upload is kept (fal's ``expiration_duration_seconds``): a day outlives any job.
FAL_UPLOAD_LIFETIME_S = 24 * 3600
# Magic numbers of the media vendors take, for files whose name says nothing (``audio.bin``).
_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (4, b"ftypM4A", "audio/mp4"), (4, b"ftyp", "video/mp4"), (0, b"ID3", "audio/mpeg"), (0, b"\xff\xfb", "audio/mpeg"),
    (0, b"fLaC", "audio/flac"), (0, b"OggS", "audio/ogg"), (0, b"\x1aE\xdf\xa3", "video/webm"),
    (0, b"\x89PNG", "image/png"), (0, b"\xff\xd8\xff", "image/jpeg"), (0, b"GIF8", "image/gif"),
)


@dataclass(frozen=True)
class LocalInput:
    """A file on this machine that a vendor must read; ``publish`` (the executor's, when the
    artefact store is S3) turns it into a signed URL of the store."""

    path: Path
    publish: PublishFn | None = field(default=None, compare=False)


class FileApi(Protocol):
    """A vendor's file API: keeps a file with the vendor and answers the URL its models read."""

    def upload(self, session: VendorSession, path: Path, mime: str) -> str: ...


def media_type(path: Path) -> str:
    """The file's media type: from its content when it is a kind vendors take, else its name."""
    with path.open("rb") as fh:
        head = fh.read(16)
    if head[:4] == b"RIFF" and head[8:12] in (b"WAVE", b"WEBP"):
        return "audio/wav" if head[8:12] == b"WAVE" else "image/webp"
    named = mimetypes.guess_type(path.name)[0]
    for offset, magic, mime in _MAGIC:
        if head[offset:offset + len(magic)] == magic:
            # An MP4 container says nothing of its tracks: a speech track we extracted to
            # ``.m4a`` is audio (vendors' transcribers reject a video/* input), as its name says.
            if mime == "video/mp4" and named and named.startswith("audio/"):
                return named
            return mime
    return named or "application/octet-stream"


def data_uri(path: Path, mime: str | None = None) -> str:
    """``path`` inline as a ``data:<type>;base64,`` URI (its type read from its content)."""
    return f"data:{mime or media_type(path)};base64,{base64.b64encode(path.read_bytes()).decode()}"


def upload_name(mime: str) -> str:
    """A neutral file name for the vendor (work files' names say nothing the vendor needs)."""
    return "input" + (mimetypes.guess_extension(mime) or ".bin")


def _url_in(answer: Any, *path: str) -> str | None:
    value = answer
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value if isinstance(value, str) and urlsplit(value).scheme in ("http", "https") else None


@dataclass(frozen=True)
class ReplicateFiles:
    """Replicate's Files API: ``POST {base}/files`` (multipart ``content``) answers the file with
    ``urls.get``, a URL Replicate's models read (with the same account's key)."""

    base_url: str

    def upload(self, session: VendorSession, path: Path, mime: str) -> str:
        def body(opened: contextlib.ExitStack[bool | None]) -> Mapping[str, Any]:
            handle = opened.enter_context(path.open("rb"))
            return {"files": {"content": (upload_name(mime), handle, mime)},
                    "data": {"metadata": json.dumps({"source": "vidassets"})}}

        answer = session.transfer("POST", f"{self.base_url.rstrip('/')}/files", body=body)
        url = _url_in(answer, "urls", "get")
        if url is None:
            raise session.error("replicate's files API answered without urls.get", code="provider_failed")
        return url


@dataclass(frozen=True)
class FalStorage:
    """fal's storage upload (as the fal client does it): ``POST {rest}/storage/upload/initiate``
    with ``{file_name, content_type}`` answers ``{upload_url, file_url}``; the file is PUT to the
    signed ``upload_url`` (without our key) and models read ``file_url``."""

    rest_url: str
    lifetime_s: int = FAL_UPLOAD_LIFETIME_S

    def upload(self, session: VendorSession, path: Path, mime: str) -> str:
        ask = json.dumps({"file_name": upload_name(mime), "content_type": mime}).encode()
        lifecycle = json.dumps({"expiration_duration_seconds": self.lifetime_s})
        answer = session.transfer("POST", f"{self.rest_url.rstrip('/')}/storage/upload/initiate?storage_type=gcs",
                                  body=lambda _: {"content": ask},
                                  headers={"Content-Type": "application/json", "Accept": "application/json",
                                           "X-Fal-Object-Lifecycle-Preference": lifecycle})
        upload_url, file_url = _url_in(answer, "upload_url"), _url_in(answer, "file_url")
        if upload_url is None or file_url is None:
            raise session.error("fal's storage API answered without upload_url and file_url", code="provider_failed")

        def content(opened: contextlib.ExitStack[bool | None]) -> Mapping[str, Any]:
            return {"content": opened.enter_context(path.open("rb"))}

        session.transfer("PUT", upload_url, body=content, headers={"Content-Type": mime}, authorised=False)
        return file_url


def publicly_reachable(url: str) -> bool:
    """Whether a vendor on the internet can reach ``url``: http(s), and every address its host
    resolves to is public (a MinIO at ``http://minio:9000`` or on loopback is not)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        AddressPolicy(allow_private=False).resolve(parts.hostname, port)
    except (ConnectionError, OSError, ValueError):
        return False
    return True


@dataclass
class InputResolver:
    """Turns a model input's unreadable values into URLs the vendor reads (module docstring).

    ``files``: the vendor's file API; ``s3``: a boto3 client factory for ``s3://`` inputs;
    ``url_ttl_s``: how long a presigned ``s3://`` URL lives (the vendor job's life, with margin);
    ``store_public``: whether URLs of our S3 endpoint are reachable from the internet (the
    registry checks the configured endpoint once; a publisher handed in directly is trusted).
    """

    files: FileApi | None
    s3: Callable[[], Any] | None = None
    url_ttl_s: int = 3600
    max_bytes: int = 2 * 1024 * 1024 * 1024
    inline_limit: int = INLINE_LIMIT_BYTES
    store_public: Callable[[], bool] = field(default=lambda: True, repr=False)

    def resolve(self, session: VendorSession, payload: Mapping[str, Any]) -> dict[str, Any]:
        """``payload`` with every local file, ``s3://`` URL and large ``data:`` URI made readable."""
        with tempfile.TemporaryDirectory(prefix="vidassets-inputs-") as scratch:
            return {key: self._value(session, value, Path(scratch)) for key, value in payload.items()}

    def _value(self, session: VendorSession, value: Any, scratch: Path) -> Any:
        if isinstance(value, LocalInput):
            return self.local(session, value.path, value.publish)
        if isinstance(value, str) and value.startswith("s3://"):
            return self._s3(session, value, scratch)
        if isinstance(value, str) and value.startswith("data:") and len(value) > self.inline_limit:
            return self.local(session, _decode_data_uri(value, scratch))
        if isinstance(value, list):
            return [self._value(session, item, scratch) for item in value]
        if isinstance(value, Mapping):
            return {key: self._value(session, item, scratch) for key, item in value.items()}
        return value

    def local(self, session: VendorSession, path: Path, publish: PublishFn | None = None) -> str:
        """A URL the vendor reads ``path`` from: the public store's, inline when small, else the file API."""
        if publish is not None and self.store_public():
            return publish(path)
        size = path.stat().st_size
        mime = media_type(path)
        if len(f"data:{mime};base64,") + 4 * -(-size // 3) <= self.inline_limit:  # the URI's length, not the file's
            return data_uri(path, mime)
        if self.files is None:
            raise ProviderError(f"{path.name} is {size} bytes, too large to inline, and {session.vendor} has no "
                                "file API here: configure an S3 artefact store with a public endpoint",
                                code="provider_unavailable")
        return self.files.upload(session, path, mime)

    def _s3(self, session: VendorSession, url: str, scratch: Path) -> str:
        if self.s3 is None:
            raise ProviderError("s3:// inputs need S3 configured on this server (VIDASSETS_S3_*)",
                                code="invalid_params")
        client = self.s3()
        parts = urlsplit(url)
        bucket, key = parts.netloc, parts.path.lstrip("/")
        try:
            client.head_object(Bucket=bucket, Key=key)
        except Exception:  # botocore raises many types; all mean "cannot be read"
            raise ProviderError(f"{url} cannot be read with this server's S3 credentials", code="invalid_params") from None
        if self.store_public():
            signed: str = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key},
                                                        ExpiresIn=self.url_ttl_s)
            return signed
        try:
            fetched = fetch_to_file(url, _scratch_file(scratch, Path(key).suffix), policy=AddressPolicy(),
                                    max_bytes=self.max_bytes, timeout_s=600.0, s3_client_factory=lambda: client)
        except FetchError as exc:
            raise ProviderError(f"cannot read {url}: {exc}", code="invalid_params") from None
        return self.local(session, fetched.path)


def _scratch_file(scratch: Path, suffix: str) -> Path:
    handle, name = tempfile.mkstemp(dir=scratch, suffix=suffix[:16])
    os.close(handle)
    return Path(name)


def _decode_data_uri(uri: str, scratch: Path) -> Path:
    """Write a ``data:`` URI's bytes to a file in ``scratch`` (named after its media type)."""
    header, _, data = uri.partition(",")
    mime = header[5:].split(";")[0] or "application/octet-stream"
    try:
        raw = base64.b64decode(data, validate=True) if header.endswith(";base64") else unquote_to_bytes(data)
    except (binascii.Error, ValueError):
        raise ProviderError("an input data: URI is not valid base64", code="invalid_params") from None
    path = _scratch_file(scratch, mimetypes.guess_extension(mime) or ".bin")
    path.write_bytes(raw)
    return path
