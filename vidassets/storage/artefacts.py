"""Artefact store: where rendered media lives, and how clients get a URL for it.

Keys look like ``executions/{execution_id}/{job_id}/{kind}-{digest16}.mp4`` (images and audio keep
their own suffix: ``.png``, ``.mp3``...): content-addressed within a job, so a rematerialisation
writes a *new* key and earlier outputs are kept.

* :class:`LocalArtefactStore` (embedded default) keeps files under a folder and serves them
  through the API's download route with an HMAC-signed, expiring URL (like an S3 presigned URL).
* :class:`S3ArtefactStore` streams uploads with boto3's managed multipart transfer and hands out
  presigned GET URLs.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class StoredArtefact:
    key: str
    uri: str
    digest: str  # sha256 hex of the content
    size: int


def file_digest(path: Path) -> str:
    """sha256 of a file, streamed (constant memory whatever the size)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def artefact_key(execution_id: str, job_id: str, kind: str, digest: str, suffix: str = ".mp4") -> str:
    return f"executions/{execution_id}/{job_id}/{kind}-{digest[:16]}{suffix}"


class ArtefactError(RuntimeError):
    code = "storage_error"


class ArtefactStore(Protocol):
    def put_file(self, path: Path, key: str, *, digest: str | None = None) -> StoredArtefact: ...
    def fetch(self, key: str, workdir: Path) -> Path: ...
    def url_for(self, key: str, *, expires_s: int | None = None) -> str: ...
    def exists(self, key: str) -> bool: ...
    def delete_prefix(self, prefix: str) -> int: ...
    def check(self) -> None: ...


def _safe_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in key:
        raise ArtefactError(f"invalid artefact key {key!r}")
    return key


class LocalArtefactStore:
    """Artefacts in a folder; URLs point at ``{public_base_url}/api/artefacts/{key}`` with a signature."""

    def __init__(self, root: Path, public_base_url: str, signing_key: bytes, default_ttl_s: int = 3600):
        self.root = root
        self.public_base_url = public_base_url.rstrip("/")
        self._signing_key = signing_key
        self.default_ttl_s = default_ttl_s

    def path_for(self, key: str) -> Path:
        path = (self.root / _safe_key(key)).resolve()
        if self.root.resolve() not in path.parents:
            raise ArtefactError(f"invalid artefact key {key!r}")
        return path

    def put_file(self, path: Path, key: str, *, digest: str | None = None) -> StoredArtefact:
        dest = self.path_for(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        digest = digest or file_digest(path)
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
        try:
            shutil.copyfile(path, tmp)
            os.replace(tmp, dest)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise ArtefactError(f"cannot store artefact {key}: {exc}") from exc
        return StoredArtefact(key=key, uri=dest.as_uri(), digest=digest, size=dest.stat().st_size)

    def fetch(self, key: str, workdir: Path) -> Path:
        # Local artefacts are read in place: no copy, no extra disk or time.
        path = self.path_for(key)
        if not path.exists():
            raise ArtefactError(f"artefact {key} is missing from the local store")
        return path

    def sign(self, key: str, expires: int) -> str:
        return hmac.new(self._signing_key, f"{key}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def verify(self, key: str, expires: int, signature: str) -> bool:
        if expires < time.time() or not signature.isascii():
            return False
        return hmac.compare_digest(self.sign(key, expires), signature)

    def url_for(self, key: str, *, expires_s: int | None = None) -> str:
        expires = int(time.time()) + (expires_s or self.default_ttl_s)
        return (f"{self.public_base_url}/api/artefacts/{quote(_safe_key(key))}"
                f"?expires={expires}&sig={self.sign(key, expires)}")

    def exists(self, key: str) -> bool:
        return self.path_for(key).exists()

    def delete_prefix(self, prefix: str) -> int:
        target = self.path_for(prefix.rstrip("/"))
        if not target.exists():
            return 0
        count = sum(1 for p in target.rglob("*") if p.is_file())
        shutil.rmtree(target)
        return count

    def check(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK):
            raise ArtefactError(f"artefact folder {self.root} is not writable")


class S3ArtefactStore:
    """Any S3-compatible endpoint (AWS, MinIO, moto). Uploads are streamed multipart transfers."""

    def __init__(self, client, bucket: str, prefix: str = "", default_ttl_s: int = 3600):  # type: ignore[no-untyped-def]
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.default_ttl_s = default_ttl_s

    def _full(self, key: str) -> str:
        key = _safe_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put_file(self, path: Path, key: str, *, digest: str | None = None) -> StoredArtefact:
        digest = digest or file_digest(path)
        full = self._full(key)
        try:
            self.client.upload_file(
                str(path), self.bucket, full,
                ExtraArgs={"ContentType": content_type(key), "Metadata": {"sha256": digest}},
            )
        except Exception as exc:  # botocore raises many types; all mean "not stored"
            raise ArtefactError(f"cannot upload {key} to s3://{self.bucket}: {exc}") from exc
        return StoredArtefact(key=key, uri=f"s3://{self.bucket}/{full}", digest=digest, size=path.stat().st_size)

    def fetch(self, key: str, workdir: Path) -> Path:
        dest = workdir / "inputs" / _safe_key(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.client.download_file(self.bucket, self._full(key), str(dest))
        except Exception as exc:
            raise ArtefactError(f"cannot download s3://{self.bucket}/{self._full(key)}: {exc}") from exc
        return dest

    def url_for(self, key: str, *, expires_s: int | None = None) -> str:
        url: str = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self._full(key)},
            ExpiresIn=expires_s or self.default_ttl_s,
        )
        return url

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._full(key))
            return True
        except Exception:
            return False

    def delete_prefix(self, prefix: str) -> int:
        full = self._full(prefix.rstrip("/")) + "/"
        count = 0
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
            objects = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if objects:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": objects})
                count += len(objects)
        return count

    def check(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except Exception as exc:
            raise ArtefactError(f"bucket {self.bucket} not reachable: {exc}") from exc


#: What each artefact suffix is served as. Keys carry the artefact's own suffix (the artefact step
#: picks it from the probed format), so the suffix decides the type clients and browsers see.
CONTENT_TYPES: dict[str, str] = {
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp",
    ".gif": "image/gif", ".webm": "video/webm", ".mov": "video/quicktime",
    ".mp3": "audio/mpeg", ".wav": "audio/wav", ".m4a": "audio/mp4", ".ogg": "audio/ogg", ".flac": "audio/flac",
    ".aac": "audio/aac",
    ".srt": "text/plain", ".ass": "text/plain",
}


def content_type(key: str) -> str:
    """The media type an artefact key is stored and served with (its suffix, case-insensitive)."""
    return CONTENT_TYPES.get(Path(key).suffix.lower(), "application/octet-stream")


def s3_client(endpoint_url: str | None, region: str, access_key: str | None, secret_key: str | None):  # type: ignore[no-untyped-def]
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3", endpoint_url=endpoint_url, region_name=region,
        aws_access_key_id=access_key, aws_secret_access_key=secret_key,
        config=Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=60,
                      signature_version="s3v4"),
    )
