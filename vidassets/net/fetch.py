"""Download a user-supplied URL to a file: scheme whitelist, SSRF guard, size and time limits.

Every connection (including each redirect hop) goes through :class:`_GuardedBackend`, which
resolves the host itself, checks every address with the :class:`AddressPolicy` and connects to a
checked address; TLS still verifies the original host name.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from vidassets.net.guard import AddressPolicy, BlockedAddressError

MAX_REDIRECTS = 5
ALLOWED_SCHEMES = ("http", "https")


class FetchError(RuntimeError):
    def __init__(self, message: str, code: str = "fetch_failed"):
        super().__init__(message)
        self.code = code


class _GuardedBackend(httpcore.SyncBackend):
    def __init__(self, policy: AddressPolicy):
        self.policy = policy

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None, socket_options: Any = None) -> httpcore.NetworkStream:
        last: Exception | None = None
        for address in self.policy.resolve(host, port):
            try:
                return super().connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                           socket_options=socket_options)
            except httpcore.ConnectError as exc:
                last = exc
        raise httpcore.ConnectError(f"cannot connect to {host}:{port}: {last}")


def guarded_client(policy: AddressPolicy, timeout: float, **kwargs: Any) -> httpx.Client:
    """An httpx client whose every TCP connection is address-checked (also used for webhooks)."""
    transport = httpx.HTTPTransport(retries=0)
    transport._pool = httpcore.ConnectionPool(  # noqa: SLF001 - httpx exposes no backend hook
        ssl_context=httpx.create_ssl_context(), network_backend=_GuardedBackend(policy), retries=0,
    )
    return httpx.Client(transport=transport, timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
                        follow_redirects=False, **kwargs)


@dataclass(frozen=True)
class Fetched:
    path: Path
    size: int
    content_type: str | None


def fetch_to_file(
    url: str,
    dest: Path,
    *,
    policy: AddressPolicy,
    max_bytes: int,
    timeout_s: float,
    s3_client_factory: Callable[[], Any] | None = None,
) -> Fetched:
    """Stream ``url`` into ``dest`` (atomically). Raises :class:`FetchError` with a clear reason."""
    scheme = urlsplit(url).scheme.lower()
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.part")
    try:
        if scheme == "s3":
            if s3_client_factory is None:
                raise FetchError("s3:// URLs need the S3 artefact store to be configured", "invalid_url")
            result = _fetch_s3(url, tmp, s3_client_factory(), max_bytes)
        elif scheme in ALLOWED_SCHEMES:
            result = _fetch_http(url, tmp, policy, max_bytes, timeout_s)
        else:
            raise FetchError(f"URL scheme {scheme!r} is not allowed", "invalid_url")
        os.replace(tmp, dest)
        return Fetched(dest, result[0], result[1])
    finally:
        tmp.unlink(missing_ok=True)


def _fetch_http(url: str, tmp: Path, policy: AddressPolicy, max_bytes: int, timeout_s: float) -> tuple[int, str | None]:
    deadline = time.monotonic() + timeout_s
    with guarded_client(policy, timeout=min(timeout_s, 30.0)) as client:
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            try:
                with client.stream("GET", current, headers={"User-Agent": "vidassets/0.1"}) as resp:
                    if resp.is_redirect:
                        location = resp.headers.get("location")
                        if not location:
                            raise FetchError(f"redirect without Location from {_redact(current)}")
                        current = urljoin(current, location)
                        if urlsplit(current).scheme.lower() not in ALLOWED_SCHEMES:
                            raise FetchError("redirect to a disallowed URL scheme", "url_blocked")
                        continue
                    if resp.status_code >= 400:
                        raise FetchError(f"GET {_redact(current)} answered HTTP {resp.status_code}",
                                         "fetch_failed" if resp.status_code >= 500 else "fetch_rejected")
                    declared = resp.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) > max_bytes:
                        raise FetchError(f"{_redact(current)} is {declared} bytes; the limit is {max_bytes}", "too_large")
                    size = 0
                    with tmp.open("wb") as fh:
                        for chunk in resp.iter_bytes(1024 * 1024):
                            size += len(chunk)
                            if size > max_bytes:
                                raise FetchError(f"{_redact(current)} is larger than {max_bytes} bytes", "too_large")
                            if time.monotonic() > deadline:
                                raise FetchError(f"downloading {_redact(current)} took longer than {timeout_s:g}s", "timeout")
                            fh.write(chunk)
                    return size, resp.headers.get("content-type")
            except BlockedAddressError as exc:
                raise FetchError(str(exc), "url_blocked") from exc
            except httpx.TimeoutException as exc:
                raise FetchError(f"timed out fetching {_redact(current)}", "timeout") from exc
            except httpx.InvalidURL as exc:
                raise FetchError(f"invalid URL {_redact(current)}: {exc}", "invalid_url") from exc
            except (httpx.HTTPError, ConnectionError) as exc:
                if isinstance(exc.__cause__, BlockedAddressError) or isinstance(exc.__context__, BlockedAddressError):
                    raise FetchError(str(exc.__cause__ or exc.__context__), "url_blocked") from exc
                raise FetchError(f"cannot fetch {_redact(current)}: {exc}") from exc
        raise FetchError(f"more than {MAX_REDIRECTS} redirects from {_redact(url)}")


def _fetch_s3(url: str, tmp: Path, client: Any, max_bytes: int) -> tuple[int, str | None]:
    parts = urlsplit(url)
    bucket, key = parts.netloc, parts.path.lstrip("/")
    try:
        head = client.head_object(Bucket=bucket, Key=key)
        if head.get("ContentLength", 0) > max_bytes:
            raise FetchError(f"{url} is larger than {max_bytes} bytes", "too_large")
        client.download_file(bucket, key, str(tmp))
    except FetchError:
        raise
    except Exception as exc:
        raise FetchError(f"cannot fetch {url}: {exc}") from exc
    return tmp.stat().st_size, head.get("ContentType")


def _redact(url: str) -> str:
    """URLs go to logs and errors without their query string (it may carry signatures or tokens)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" + ("?…" if parts.query else "")
