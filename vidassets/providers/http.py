"""HTTP plumbing shared by the vendor clients (Replicate, fal, Vertex).

Every vendor job has the same life: submit, poll until done, download the output. What differs
is only the URLs and the JSON, so the clients describe those and this module does the rest:

* retries with exponential backoff and jitter for connection errors and 5xx, ``Retry-After`` for
  429/503, and immediate failure for auth (401/403), invalid input (other 4xx) and content policy;
* creates are never re-sent blindly (:meth:`VendorSession.create`): only when the vendor refused
  them (429, 503, 408, a connection never made); an answer that was lost (no response, a 500/502/504)
  raises :class:`CreateUnanswered` for :mod:`vidassets.providers.ledger` to resolve;
* polling whose interval grows 1.5x up to a cap, bounded by one overall deadline;
* cancellation: the caller's event wakes every wait, and a job still running at the vendor is
  cancelled there too (whatever stopped us: the event, the deadline, or an exception);
* downloads streamed to a temp file beside ``out`` with a size cap, then renamed into place.

Keys are secrets: they travel only in the ``Authorization`` header, only to the vendor's own
origin, and every message this module builds is scrubbed of them before it is raised or logged.
Time comes from :class:`Timing`, so tests drive the clock instead of waiting.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import email.utils
import functools
import logging
import mimetypes
import os
import random
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

from vidassets.net.fetch import guarded_client
from vidassets.net.guard import AddressPolicy
from vidassets.providers.base import ProgressCallback, ProviderCancelled, ProviderError, PublishFn
from vidassets.providers.usage import PriceTable

if TYPE_CHECKING:
    from vidassets.settings import Settings
    from vidassets.storage.vendor_jobs import VendorJob

log = logging.getLogger(__name__)

USER_AGENT = "vidassets-providers/1"
# The largest file sent inline as a ``data:`` URI; bigger inputs go through the vendor's file API
# or a signed URL (vidassets.providers.uploads). Replicate advises data URIs only for small files.
INLINE_LIMIT_BYTES = 256 * 1024
DEFAULT_MAX_DOWNLOAD_BYTES = 2 * 1024 * 1024 * 1024
_CHUNK = 1024 * 1024
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
# Answers that say the request was not acted on: rate limited, unavailable, request timeout.
_REFUSED = frozenset({429, 503, 408})
# Phrases vendors use when a safety system refused a prompt or an output (Replicate E005 "flagged
# as sensitive", fal "content_policy_violation", Google "Responsible AI" / "usage guidelines").
_POLICY_WORDS = ("content policy", "content_policy", "content checker", "nsfw", "flagged as sensitive",
                 "sensitive words", "sensitive content", "safety filter", "safety system", "safety check",
                 "moderation", "responsible ai", "usage guidelines", "policy violation", "inappropriate content")
_PERCENT = re.compile(r"(\d{1,3}(?:\.\d+)?)\s*%")
_STEPS = re.compile(r"(\d+)\s*/\s*(\d+)\s*\[")
_SPACE = re.compile(r"\s")
_HEADER_SAFE = re.compile(r"^[\x21-\x7e]+$")

H = TypeVar("H")
#: Builds an upload's httpx body arguments (content/files/data) for one attempt; files it opens go on the stack.
BodyFn = Callable[[contextlib.ExitStack[bool | None]], Mapping[str, Any]]


@dataclass(frozen=True)
class HttpPolicy:
    """Retry, polling and size limits for one vendor client."""

    timeout_s: float = 900.0  # overall: submit, every poll and the download
    poll_interval_s: float = 2.0
    poll_factor: float = 1.5
    poll_max_interval_s: float = 30.0
    max_retries: int = 5
    backoff_s: float = 1.0
    backoff_max_s: float = 60.0
    max_retry_after_s: float = 300.0
    request_timeout_s: float = 60.0
    cancel_timeout_s: float = 10.0
    max_download_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES
    jitter: float = 0.5  # a backoff delay is drawn from [1 - jitter, 1] x its exponential value
    lookup_settle_s: float = 5.0  # before looking for a job whose create got no answer
    ledger_wait_s: float = 1.0  # between looks at a create another live worker is sending
    claim_lease_s: float | None = None  # None: derived from the request timeout (see lease_s)
    # Webhooks in: where vendors deliver (None: polling only), to which vendors creates ask for
    # deliveries, how often a poller re-reads the ledger row a delivery lands in, and how far
    # the poll interval grows meanwhile (polling is then only the fallback).
    webhook_base_url: str | None = None
    webhook_vendors: frozenset[str] = frozenset()
    ledger_check_s: float = 1.0
    webhook_poll_max_interval_s: float = 60.0
    prices: PriceTable = field(default_factory=PriceTable)  # the operator's; a job without one has no cost
    # SSRF guard for every connection (API calls and output downloads: a vendor's reply names
    # the output URL, so it is checked like any other user-influenced address). None: unguarded.
    addresses: AddressPolicy | None = None

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> HttpPolicy:
        values: dict[str, Any] = {
            "timeout_s": settings.provider_timeout_s, "poll_interval_s": settings.provider_poll_interval_s,
            "max_retries": settings.provider_max_retries, "max_download_bytes": settings.fetch_max_bytes,
            "addresses": AddressPolicy(allow_private=settings.allow_private_urls,
                                       allowlist=tuple(settings.url_allowlist)),
            "lookup_settle_s": settings.vendor_lookup_settle_s, "ledger_wait_s": settings.vendor_ledger_wait_s,
            "claim_lease_s": settings.vendor_claim_lease_s, "webhook_base_url": settings.vendor_webhook_base_url,
            "webhook_vendors": webhook_vendors(settings), "ledger_check_s": settings.vendor_ledger_check_s,
            "webhook_poll_max_interval_s": settings.vendor_webhook_poll_max_interval_s,
            "prices": PriceTable(settings.vendor_prices),
        }
        return cls(**{**values, **overrides})

    def backoff(self, attempt: int) -> float:
        """Delay before retry ``attempt`` (0-based): backoff_s, 2x, 4x ... up to backoff_max_s, less
        a random part of up to ``jitter`` of it, so clients that failed together retry apart."""
        return min(self.backoff_s * (2.0 ** attempt), self.backoff_max_s) * (1.0 - self.jitter * random.random())

    @property
    def lease_s(self) -> float:
        """How long a claim to send a create holds without renewal (``claim_lease_s``, by default
        one request after the longest wait for a retry, with margin: it is renewed before every request)."""
        if self.claim_lease_s is not None:
            return self.claim_lease_s
        return self.request_timeout_s + self.max_retry_after_s + 30.0

    def webhook_url(self, vendor: str, token: str | None) -> str | None:
        """Where ``vendor`` delivers the outcome of the attempt whose token is ``token``; None when
        webhooks are off for it (no public URL, no way to verify its deliveries)."""
        if not self.webhook_base_url or not token or vendor not in self.webhook_vendors:
            return None
        return f"{self.webhook_base_url}/api/vendor-webhooks/{vendor}/{token}"


def webhook_vendors(settings: Settings) -> frozenset[str]:
    """Vendors whose deliveries this server can verify: fal (its public JWKS) always, Replicate
    once its account signing secret is configured; none without a public URL."""
    if not settings.vendor_webhook_base_url:
        return frozenset()
    return frozenset({"fal", *(["replicate"] if settings.replicate_webhook_secret else [])})


@dataclass(frozen=True)
class Timing:
    """Where time comes from. ``sleep=None`` waits on the cancel event, so a cancel wakes it at once;
    tests pass a fake clock and sleep so polling, backoff and timeouts take no real time."""

    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] | None = None


@dataclass(frozen=True)
class PollState:
    """One look at a vendor job. ``failure`` ends it with an error; ``done`` with ``output``."""

    done: bool = False
    output: Any = None
    progress: float | None = None
    failure: ProviderError | None = None
    vendor_status: str | None = None  # the vendor's own word (succeeded, IN_PROGRESS ...), for the ledger
    usage: Mapping[str, Any] | None = None  # what the vendor reports having used (predict time ...)


class TokenSource(Protocol):
    """Credentials that change during a session (Google OAuth tokens, see ``google_auth.py``):
    asked for the auth headers before every request, renewed once when the vendor answers 401."""

    def headers(self) -> Mapping[str, str]: ...

    def renew(self, rejected: Mapping[str, str]) -> None: ...

    def redact(self, text: str) -> str: ...


class CreateUnanswered(Exception):
    """A create request may have reached the vendor, but its answer did not reach us: the vendor
    may have started (and will bill) a job we know nothing of. Never resend it blindly."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass(frozen=True)
class _Retry:
    reason: str
    delay: float
    code: str
    refused: bool = False  # the vendor certainly did not act on the request (safe to send a create again)
    after: float | None = None  # the vendor's Retry-After
    renew: bool = False  # a 401 to a refreshable token: renew it and send again (once)


class _Progress:
    """Forwards vendor progress as fractions that only go up, below 1.0 (1.0 means 'file ready')."""

    def __init__(self, callback: ProgressCallback | None):
        self.callback = callback
        self.last = -1.0

    def __call__(self, value: float | None) -> None:
        if value is None or self.callback is None:
            return
        value = min(max(value, 0.0), 0.99)
        if value > self.last:
            self.last = value
            self.callback(value)


@functools.lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    """One verified TLS context for every session: building one loads the CA bundle (tens of ms)."""
    return httpx.create_ssl_context()


def is_policy_message(text: str) -> bool:
    lower = text.lower()
    return any(word in lower for word in _POLICY_WORDS)


def progress_from_logs(logs: str | None) -> float | None:
    """The last percentage (``45%``) or tqdm step count (``12/50 [``) in a model's log text."""
    if not logs:
        return None
    tail = logs[-4000:]
    percents = _PERCENT.findall(tail)
    steps = _STEPS.findall(tail)
    if percents and (not steps or tail.rfind("%") > tail.rfind("[")):
        return min(float(percents[-1]), 100.0) / 100.0
    if steps:
        done, total = (int(x) for x in steps[-1])
        return done / total if total else None
    return None


def describe_error(response: httpx.Response) -> tuple[str, bool]:
    """A vendor's error message and whether it reports a content-policy refusal.

    Understands the shapes the three vendors use: ``{"detail": str | [{"msg", "type"}]}``
    (Replicate, fal), ``{"error": {"message", "status"}}`` (Google), ``{"title", "detail"}``.
    """
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return (text[:500] or response.reason_phrase or "no details"), is_policy_message(text)
    messages: list[str] = []
    policy = False

    def collect(value: Any) -> None:
        nonlocal policy
        if isinstance(value, str) and value.strip():
            messages.append(value.strip())
        elif isinstance(value, Mapping):
            kind = str(value.get("type", "")) + str(value.get("status", ""))
            policy = policy or "content_policy" in kind.lower()
            for key in ("message", "msg", "detail", "error"):
                collect(value.get(key))
        elif isinstance(value, list):
            for item in value[:5]:
                collect(item)

    if isinstance(body, Mapping):
        for key in ("title", "detail", "error", "message", "error_type"):
            collect(body.get(key))
    else:
        collect(body)
    message = "; ".join(dict.fromkeys(messages))[:500] or response.reason_phrase or "no details"
    return message, policy or is_policy_message(message)


def failure_from_message(vendor: str, message: str | None, *, retryable: bool = False) -> ProviderError:
    """A vendor reported its job failed: content-policy refusals get their own code."""
    text = (message or "no reason given").strip()[:1000]
    if is_policy_message(text):
        return ProviderError(f"{vendor} refused the request (content policy): {text}", code="content_policy")
    return ProviderError(f"{vendor} job failed: {text}", code="provider_failed", retryable=retryable)


def retry_after(headers: Mapping[str, str], now: Callable[[], float] = time.time) -> float | None:
    """``Retry-After`` in seconds: delta-seconds or an HTTP date."""
    value = headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - now(), 0.0)


def first_url(output: Any) -> str | None:
    """The first http(s) URL in a model's output: a string, a list, or ``{"video": {"url"}}``."""
    if isinstance(output, str):
        return output if output.startswith(("http://", "https://")) else None
    if isinstance(output, list):
        for item in output:
            found = first_url(item)
            if found:
                return found
        return None
    if isinstance(output, Mapping):
        preferred = [k for k in ("video", "url", "output", "file", "videos") if k in output]
        for key in preferred + [k for k in output if k not in preferred]:
            found = first_url(output[key])
            if found:
                return found
    return None


def inline_or_publish(path: Path, publish: PublishFn | None, *, limit: int = INLINE_LIMIT_BYTES) -> str:
    """A URL the vendor can fetch for a local file: ``publish`` it, or inline it as a ``data:`` URI.

    Inlining keeps small jobs working without object storage; beyond ``limit`` a request body
    would get too large for the vendors, so a publisher is required.
    """
    if publish is not None:
        return publish(path)
    size = path.stat().st_size
    if size >= limit:
        raise ProviderError(f"{path.name} is {size} bytes; files of {limit} bytes or more need a publisher "
                            "(object storage) to reach the provider", code="provider_unavailable")
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port: what must match before a request may carry the vendor's key."""
    parts = urlsplit(url)
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    except ValueError:  # a malformed port never matches a real origin
        return "", "", None
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def where(url: str) -> str:
    """A URL fit for messages and logs: no query string (signatures and tokens live there)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


class VendorSession:
    """One vendor call: an HTTP client, the key, the deadline and the cancel event.

    Use as a context manager; :meth:`request` and :meth:`download` retry transient failures,
    :meth:`create` sends a create at most once unless refused, :meth:`poll` follows a job to its end.
    """

    def __init__(self, vendor: str, *, base_url: str, auth: Mapping[str, str], secret: str,
                 policy: HttpPolicy, timing: Timing, cancel: threading.Event, tokens: TokenSource | None = None):
        self.vendor = vendor
        self.base_url = base_url.rstrip("/")
        self.policy = policy
        self.timing = timing
        self.cancel = cancel
        self._auth = dict(auth)
        self._secret = secret
        self._tokens = tokens
        self._key_names = {name.lower() for name in auth} | ({"authorization"} if tokens else set())
        self._sending_to = origin(base_url)
        self.deadline = timing.clock() + policy.timeout_s
        # Set by the ledger for the create it sends (vidassets.providers.ledger): where the vendor
        # delivers this attempt's outcome, or None. ``server_key``: the call uses this server's key
        # (a Replicate delivery is signed with the secret of the account whose key made the job).
        self.webhook_url: str | None = None
        self.server_key = False
        if policy.addresses is not None:
            self._client = guarded_client(policy.addresses, policy.request_timeout_s, headers={"User-Agent": USER_AGENT})
        else:
            timeout = httpx.Timeout(policy.request_timeout_s, connect=min(policy.request_timeout_s, 10.0))
            self._client = httpx.Client(timeout=timeout, headers={"User-Agent": USER_AGENT}, verify=_tls_context())
        self._client.event_hooks["request"] = [self._key_stays_home]

    def __enter__(self) -> VendorSession:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._client.close()

    def __repr__(self) -> str:
        return f"VendorSession({self.vendor!r}, base_url={self.base_url!r})"

    # -- secrets, time and cancellation ---------------------------------------------------

    def redact(self, text: str) -> str:
        text = text.replace(self._secret, "[redacted]") if self._secret else text
        return self._tokens.redact(text) if self._tokens is not None else text

    def auth_headers(self) -> Mapping[str, str]:
        """The key's headers for the next request (a refreshable token is renewed ahead of expiry)."""
        return self._tokens.headers() if self._tokens is not None else self._auth

    def _key_stays_home(self, request: httpx.Request) -> None:
        """Drop the key from a redirect to another origin. httpx drops ``Authorization`` itself,
        but not other key headers (Google's ``x-goog-api-key``)."""
        if origin(str(request.url)) != self._sending_to:
            for name in self._key_names:
                request.headers.pop(name, None)

    def error(self, message: str, *, code: str, retryable: bool = False) -> ProviderError:
        return ProviderError(self.redact(message), code=code, retryable=retryable)

    def job_failed(self, message: Any, *, retryable: bool = False) -> ProviderError:
        """The vendor says its job failed; ``message`` is the vendor's own text (scrubbed here)."""
        text = None if message is None else self.redact(str(message))
        return failure_from_message(self.vendor, text, retryable=retryable)

    def same_origin(self, url: str) -> bool:
        return origin(url) == origin(self.base_url)

    def url(self, candidate: Any, fallback: str) -> str:
        """A vendor-supplied URL, when it points back at the vendor; otherwise ``fallback``.

        The key is sent to it, so a response can never steer the key to another host.
        """
        return candidate if isinstance(candidate, str) and self.same_origin(candidate) else fallback

    def check(self) -> None:
        if self.cancel.is_set():
            raise ProviderCancelled(f"{self.vendor} job cancelled")
        if self.timing.clock() >= self.deadline:
            raise ProviderError(f"{self.vendor} did not finish within {self.policy.timeout_s:g}s", code="timeout")

    def pause(self, seconds: float) -> None:
        """Wait up to ``seconds`` (never past the deadline), then raise if cancelled or out of time."""
        self.check()
        delay = max(min(seconds, self.deadline - self.timing.clock()), 0.0)
        if self.timing.sleep is None:
            self.cancel.wait(delay)
        else:
            self.timing.sleep(delay)
        self.check()

    # -- requests -------------------------------------------------------------------------

    def request(self, method: str, url: str, *, json: Any = None, params: Mapping[str, str] | None = None,
                idempotent: bool | None = None) -> Any:
        """Send an authorised request to the vendor and return its JSON body (``{}`` if empty)."""
        response = self._send(method, url, json=json, params=params, idempotent=idempotent)
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            raise self.error(f"{self.vendor} answered {method} {where(url)} with non-JSON content",
                             code="provider_failed") from None

    def create(self, url: str, *, json: Any, headers: Mapping[str, str] | None = None,
               params: Mapping[str, str] | None = None, before_send: Callable[[], None] | None = None) -> Any:
        """POST a request that starts a paid vendor job; return the vendor's JSON answer.

        Resent only when the vendor certainly did not act on it (429, 503, 408, no connection);
        any other failure after the request may have reached the vendor (no answer, a broken
        answer, 500/502/504) raises :class:`CreateUnanswered`. Refusals raise ProviderError.
        ``before_send`` runs before every request (the ledger counts it and renews its claim).
        """
        response = self._send("POST", url, json=json, params=params, headers=headers, create=True,
                              before_send=before_send)
        try:
            body = response.json()
        except ValueError:
            raise CreateUnanswered(f"HTTP {response.status_code} with a body that is not JSON") from None
        if not isinstance(body, Mapping):
            raise CreateUnanswered(f"HTTP {response.status_code} with an unexpected body")
        return body

    def fire(self, method: str, url: str, *, json: Any = None) -> bool:
        """One best-effort attempt, ignoring cancel and deadline (used to cancel a vendor job);
        whether the vendor accepted it."""
        try:
            self._sending_to = origin(url)
            response = self._client.request(method, url, json=json, headers=self.auth_headers(),
                                            timeout=self.policy.cancel_timeout_s)
            log.info("%s: %s %s answered HTTP %d", self.vendor, method, where(url), response.status_code)
            return response.status_code < 400
        except (httpx.HTTPError, ProviderError) as exc:
            log.warning("%s: %s %s failed: %s", self.vendor, method, where(url), type(exc).__name__)
            return False

    def transfer(self, method: str, url: str, *, body: BodyFn,
                 headers: Mapping[str, str] | None = None, authorised: bool = True) -> Any:
        """Send a file (an upload: it starts no paid job, so it is resent like a GET) and return
        the JSON answer (``{}`` if empty or not JSON: a storage PUT answers nothing the caller
        needs). ``body(stack)`` gives httpx's ``content``/``files``/``data`` arguments afresh for
        every attempt; files it opens go on ``stack``."""
        response = self._send(method, url, body=body, headers=headers, authorised=authorised, idempotent=True)
        try:
            return response.json() if response.content else {}
        except ValueError:
            return {}

    def _send(self, method: str, url: str, *, json: Any = None, params: Mapping[str, str] | None = None,
              idempotent: bool | None = None, stream: bool = False, authorised: bool = True,
              headers: Mapping[str, str] | None = None, create: bool = False,
              before_send: Callable[[], None] | None = None,
              body: BodyFn | None = None) -> httpx.Response:
        """Send with retries; return a 2xx/3xx response (open, when ``stream``) or raise ProviderError.

        A POST whose answer was lost (read timeout, dropped connection) is not resent unless
        ``idempotent``: the vendor may have created the job, and a second one costs money. With
        ``create``, neither is a 5xx other than 503 (see :meth:`create`). A 401 to a refreshable
        token renews it and sends once more (the vendor did not act on a request it refused).
        """
        safe = method.upper() in _IDEMPOTENT if idempotent is None else idempotent
        renewable = authorised and self._tokens is not None
        attempt = 0
        while True:
            self.check()
            if before_send is not None:
                before_send()
            sent_headers = {**(self.auth_headers() if authorised else {}), **(headers or {})}
            try:
                retry = self._attempt(method, url, json=json, params=params, headers=sent_headers, stream=stream,
                                      safe=safe, attempt=attempt, renewable=renewable, body=body)
            except CreateUnanswered as exc:
                if create:
                    raise
                # Not retryable either: a retry of the whole job could start (and bill) a second one.
                raise self.error(f"{self.vendor}: {method} {where(url)} got no answer ({exc}); "
                                 "not resent because the vendor may have processed it",
                                 code="provider_unavailable") from None
            if isinstance(retry, httpx.Response):
                return retry
            if retry.renew and self._tokens is not None:
                renewable = False  # once: a second 401 is about the credentials, not their age
                self._tokens.renew(sent_headers)
                continue
            if create and not retry.refused:
                raise CreateUnanswered(retry.reason, retry.after)
            attempt += 1
            if attempt > self.policy.max_retries:
                raise self.error(f"{self.vendor} unavailable: {retry.reason} from {method} {where(url)} "
                                 f"after {attempt} attempts", code=retry.code, retryable=True)
            log.warning("%s: %s from %s %s; retry %d/%d in %.1fs", self.vendor, retry.reason, method,
                        where(url), attempt, self.policy.max_retries, retry.delay)
            self.pause(retry.delay)

    def _attempt(self, method: str, url: str, *, json: Any, params: Mapping[str, str] | None,
                 headers: Mapping[str, str], stream: bool, safe: bool, attempt: int, renewable: bool = False,
                 body: BodyFn | None = None) -> httpx.Response | _Retry:
        try:
            with contextlib.ExitStack() as opened:
                extra = dict(body(opened)) if body is not None else {}
                request = self._client.build_request(method, url, json=json, params=params, headers=headers, **extra)
                self._sending_to = origin(url)
                response = self._client.send(request, stream=stream, follow_redirects=True)
        except httpx.TransportError as exc:
            connect_failed = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
            if not (safe or connect_failed):
                raise CreateUnanswered(type(exc).__name__) from None
            return _Retry(type(exc).__name__, self.policy.backoff(attempt), "provider_unavailable", refused=True)
        if response.status_code < 400:
            return response
        response.read()
        response.close()
        status = response.status_code
        if status == 429 or status == 408 or status >= 500:
            after = retry_after(response.headers)
            delay = min(after, self.policy.max_retry_after_s) if after is not None else self.policy.backoff(attempt)
            return _Retry(f"HTTP {status}", delay, "rate_limited" if status == 429 else "provider_unavailable",
                          refused=status in _REFUSED, after=after)
        if status == 401 and renewable:
            return _Retry("HTTP 401", 0.0, "provider_auth", refused=True, renew=True)
        raise self._rejection(response)

    def _rejection(self, response: httpx.Response) -> ProviderError:
        message, policy = describe_error(response)
        status = response.status_code
        # Google answers a bad API key with 400 INVALID_ARGUMENT, "API key not valid. ...".
        if status in (401, 403) or (status == 400 and "api key not valid" in message.lower()):
            return self.error(f"{self.vendor} refused the credentials (HTTP {status}): {message}", code="provider_auth")
        if policy:
            return self.error(f"{self.vendor} refused the request (content policy): {message}", code="content_policy")
        return self.error(f"{self.vendor} rejected the request (HTTP {status}): {message}", code="provider_rejected")

    # -- jobs -----------------------------------------------------------------------------

    def poll(self, handle: H, state: Callable[[H], PollState],
             on_progress: ProgressCallback | None = None, wake: Callable[[], bool] | None = None) -> PollState:
        """Poll a vendor job with a growing interval until it ends; return its last state (done,
        or ``failure``). Cancel, the deadline and errors raise: whoever submitted the job decides
        whether to cancel it at the vendor (see :mod:`vidassets.providers.ledger`).

        With ``wake`` (a webhook delivery may arrive: it says whether one did), the waits look at
        it every ``ledger_check_s`` and the next poll comes at once when it fires; polling is then
        only the fallback, its interval growing to ``webhook_poll_max_interval_s``."""
        progress = _Progress(on_progress)
        interval = self.policy.poll_interval_s
        cap = self.policy.poll_max_interval_s if wake is None else self.policy.webhook_poll_max_interval_s
        while True:
            current = state(handle)
            if current.failure is not None or current.done:
                return current
            progress(current.progress)
            if wake is None:
                self.pause(interval)
            else:
                self.wait_for(wake, interval)
            interval = min(interval * self.policy.poll_factor, cap)

    def wait_for(self, wake: Callable[[], bool], seconds: float) -> bool:
        """Wait up to ``seconds``, asking ``wake`` every ``ledger_check_s``; whether it fired."""
        end = self.timing.clock() + seconds
        while True:
            left = end - self.timing.clock()
            if left <= 0:
                return False
            self.pause(min(self.policy.ledger_check_s, left))
            if wake():
                return True

    # -- outputs --------------------------------------------------------------------------

    def download(self, url: str, out: Path, *, authorised: bool | None = None) -> int:
        """Stream ``url`` to ``out`` (temp file, then rename) under the size cap; return its size.

        The key goes along only to the vendor's own origin (``authorised=None``), never to a CDN.
        """
        if urlsplit(url).scheme.lower() not in ("http", "https"):
            raise self.error(f"{self.vendor} returned an output that is not an http(s) URL", code="provider_failed")
        send_key = self.same_origin(url) if authorised is None else authorised
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.part")
        try:
            failures = 0
            while True:
                response = self._send("GET", url, stream=True, authorised=send_key)
                try:
                    size = self._write_stream(response, tmp, url)
                    break
                except httpx.TransportError as exc:
                    failures += 1
                    if failures > self.policy.max_retries:
                        raise self.error(f"{self.vendor}: download of {where(url)} kept failing "
                                         f"({type(exc).__name__})", code="provider_unavailable",
                                         retryable=True) from None
                    log.warning("%s: download of %s broke off (%s); retrying", self.vendor, where(url),
                                type(exc).__name__)
                finally:
                    response.close()
                self.pause(self.policy.backoff(failures - 1))
            os.replace(tmp, out)
            return size
        finally:
            tmp.unlink(missing_ok=True)

    def _write_stream(self, response: httpx.Response, tmp: Path, url: str) -> int:
        cap = self.policy.max_download_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise self._too_large(url, cap)
        size = 0
        with tmp.open("wb") as fh:
            for chunk in response.iter_bytes(_CHUNK):
                size += len(chunk)
                if size > cap:
                    raise self._too_large(url, cap)
                self.check()
                fh.write(chunk)
        if size == 0:
            raise self.error(f"{self.vendor}: {where(url)} is empty", code="provider_failed")
        return size

    def _too_large(self, url: str, cap: int) -> ProviderError:
        return self.error(f"{self.vendor}: output {where(url)} is larger than {cap} bytes", code="output_too_large")

    def write_base64(self, data: str, out: Path) -> int:
        """Decode a base64 payload (Vertex inline video) to ``out`` in chunks, under the size cap."""
        return write_base64(data, out, max_bytes=self.policy.max_download_bytes, vendor=self.vendor)


def _base64_chunks(data: str, size: int) -> Iterator[bytes]:
    step = size - size % 4
    for start in range(0, len(data), step):
        yield base64.b64decode(data[start:start + step], validate=True)


def write_base64(data: str, out: Path, *, max_bytes: int, vendor: str) -> int:
    if _SPACE.search(data):
        data = "".join(data.split())
    if len(data) // 4 * 3 > max_bytes + 3:
        raise ProviderError(f"{vendor}: inline output is larger than {max_bytes} bytes", code="output_too_large")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.part")
    size = 0
    try:
        with tmp.open("wb") as fh:
            for chunk in _base64_chunks(data, 4 * _CHUNK):
                size += len(chunk)
                fh.write(chunk)
    except binascii.Error:
        tmp.unlink(missing_ok=True)
        raise ProviderError(f"{vendor}: inline output is not valid base64", code="provider_failed") from None
    if size == 0:
        tmp.unlink(missing_ok=True)
        raise ProviderError(f"{vendor}: inline output is empty", code="provider_failed")
    os.replace(tmp, out)
    return size


@dataclass(frozen=True)
class KeySource:
    """The server-side key, used only when the caller brings none. Hidden from ``repr``."""

    value: str | None = field(default=None, repr=False)

    @classmethod
    def of(cls, key: str | SecretStr | None) -> KeySource:
        if isinstance(key, SecretStr):
            key = key.get_secret_value()
        return cls(key or None)


class HttpProvider:
    """What every vendor client shares: key resolution and opening a :class:`VendorSession`."""

    name: str = "http"
    auth_scheme: str = "Bearer"
    key_setting: str = ""
    cancel_method: str = "POST"

    def __init__(self, *, base_url: str, api_key: str | SecretStr | None = None, policy: HttpPolicy | None = None,
                 timing: Timing | None = None):
        self.base_url = base_url.rstrip("/")
        self.policy = policy or HttpPolicy()
        self.timing = timing or Timing()
        self._server_key = KeySource.of(api_key)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    def session(self, api_key: str | None, cancel: threading.Event) -> VendorSession:
        key = api_key or self._server_key.value
        if not key:
            hint = f" or set {self.key_setting}" if self.key_setting else ""
            raise ProviderError(f"no API key for {self.name}: pass providerApiKeys.{self.name}{hint}",
                                code="provider_auth")
        if not _HEADER_SAFE.match(key):
            # Checked here because an HTTP library's error about a bad header would quote the key.
            raise ProviderError(f"the {self.name} API key contains characters not allowed in an HTTP header",
                                code="provider_auth")
        session = VendorSession(self.name, base_url=self.base_url, auth=self.key_headers(key),
                                secret=key, policy=self.policy, timing=self.timing, cancel=cancel)
        session.server_key = not api_key
        return session

    def key_headers(self, key: str) -> dict[str, str]:
        """How the key travels: ``Authorization: <scheme> <key>`` (Google's API keys use their own header)."""
        return {"Authorization": f"{self.auth_scheme} {key}"}

    def cancel_recorded(self, job: VendorJob, api_key: str | None) -> bool:
        """Cancel a job recorded in the vendor-job ledger (its worker is gone); whether the
        vendor accepted. The recorded URL gets the key only if it is on the vendor's origin."""
        if not job.cancel_url:
            return False
        try:
            with self.session(api_key, threading.Event()) as session:
                if not session.same_origin(job.cancel_url):
                    return False
                return session.fire(self.cancel_method, job.cancel_url)
        except ProviderError as exc:
            log.warning("%s: cannot cancel job %s: %s", self.name, job.vendor_job_id, exc)
            return False
