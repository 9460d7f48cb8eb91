"""Google credentials for Vertex AI and Cloud Storage: OAuth tokens that renew themselves.

A static access token stops working after an hour, so a server that runs for days needs the
credentials that make tokens instead: a service-account key file (``google_credentials_file``)
or Application Default Credentials (``GOOGLE_APPLICATION_CREDENTIALS``, gcloud's login, or the
metadata server on Google Cloud). ``google-auth`` turns them into tokens (for a service account:
a JWT signed with the key, exchanged at the key's ``token_uri``); :class:`GoogleCredentials`
decides *when*:

* ahead of expiry: a token is renewed ``margin_s`` before it runs out, measured on the caller's
  clock (the providers' :class:`~vidassets.providers.http.Timing`), so a poll never carries a
  token about to die;
* on a 401 mid-run (a token revoked or expired early): :class:`~vidassets.providers.http.VendorSession`
  calls :meth:`GoogleCredentials.renew` and sends the request once more.

One instance is shared by every job of a process (a lock keeps two threads from fetching two
tokens at once). Tokens are secrets: they travel only in ``Authorization`` headers, and
:meth:`GoogleCredentials.redact` scrubs every token issued from messages. The token endpoint is
the operator's (from the credentials file, or Google's metadata server): it is never a URL a plan
can name, so it is reached without the SSRF guard (which would refuse the metadata server).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import google.auth
import google.auth.exceptions
import google.auth.transport
import httpx

from vidassets.providers.base import ProviderError

log = logging.getLogger(__name__)

CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
#: A token is renewed this long before it expires (Google issues them for an hour).
REFRESH_MARGIN_S = 300.0
#: Assumed lifetime of a token whose expiry the credentials do not report.
UNKNOWN_LIFETIME_S = 3000.0
_REMEMBERED = 8  # tokens kept for redaction: a message may quote one a few renewals old

Loader = Callable[[], tuple[Any, str | None]]


class _Response(google.auth.transport.Response):
    """google-auth's view of an HTTP answer."""

    def __init__(self, response: httpx.Response):
        self._response = response

    @property
    def status(self) -> int:
        return self._response.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        return self._response.headers

    @property
    def data(self) -> bytes:
        return self._response.content


class HttpxRequest(google.auth.transport.Request):
    """google-auth's transport over httpx (so ``requests`` is not needed): token requests only."""

    def __init__(self, timeout_s: float = 30.0):
        self.timeout_s = timeout_s

    def __call__(self, url: str, method: str = "GET", body: bytes | None = None,
                 headers: Mapping[str, str] | None = None, timeout: float | None = None, **kwargs: Any) -> _Response:
        try:
            with httpx.Client(timeout=timeout or self.timeout_s) as client:
                return _Response(client.request(method, url, content=body, headers=headers))
        except httpx.HTTPError as exc:
            raise google.auth.exceptions.TransportError(  # type: ignore[no-untyped-call]
                f"{type(exc).__name__} from the token endpoint") from None


class GoogleCredentials:
    """Bearer tokens from google-auth credentials, renewed ahead of expiry and after a 401.

    ``loader`` returns ``(credentials, project)`` and runs once, on first use (reading a key file
    or looking for Application Default Credentials can fail: that is a job's error, not start-up's).
    """

    def __init__(self, loader: Loader, *, source: str, clock: Callable[[], float] = time.monotonic,
                 margin_s: float = REFRESH_MARGIN_S, request: google.auth.transport.Request | None = None):
        self.source = source  # for messages: which credentials these are (never their content)
        self._loader = loader
        self._clock = clock
        self._margin_s = margin_s
        self._request = request or HttpxRequest()
        self._lock = threading.Lock()
        self._credentials: Any = None
        self._project: str | None = None
        self._token: str | None = None
        self._renew_at = 0.0
        self._issued: deque[str] = deque(maxlen=_REMEMBERED)

    def __repr__(self) -> str:
        return f"GoogleCredentials(source={self.source!r})"

    @classmethod
    def from_file(cls, path: Path, **kwargs: Any) -> GoogleCredentials:
        """A service-account key (or any credentials file google-auth reads: authorized user,
        external account)."""
        def load() -> tuple[Any, str | None]:
            credentials, project = google.auth.load_credentials_from_file(  # type: ignore[no-untyped-call]
                str(path), scopes=[CLOUD_PLATFORM])
            return credentials, project

        return cls(load, source=f"credentials file {path.name}", **kwargs)

    @classmethod
    def application_default(cls, **kwargs: Any) -> GoogleCredentials:
        """Application Default Credentials, looked up on first use."""
        def load() -> tuple[Any, str | None]:
            credentials, project = google.auth.default(scopes=[CLOUD_PLATFORM])
            return credentials, project

        return cls(load, source="Application Default Credentials", **kwargs)

    # -- what sessions ask ----------------------------------------------------------------

    @property
    def project(self) -> str | None:
        """The project the credentials name (a service account's ``project_id``, ADC's project)."""
        with self._lock:
            self._load()
            return self._project

    def headers(self) -> Mapping[str, str]:
        return {"Authorization": f"Bearer {self.token()}"}

    def token(self) -> str:
        """A token valid for at least ``margin_s`` more (renewed here if not)."""
        with self._lock:
            if self._token is None or self._clock() >= self._renew_at:
                self._refresh("it expires soon" if self._token else "first use")
            assert self._token is not None
            return self._token

    def renew(self, rejected: Mapping[str, str]) -> None:
        """The vendor refused ``rejected`` (HTTP 401): fetch a new token, unless another thread
        already replaced the one refused."""
        with self._lock:
            if rejected.get("Authorization") == f"Bearer {self._token}":
                self._refresh("the vendor refused it (HTTP 401)")

    def redact(self, text: str) -> str:
        for token in list(self._issued):
            text = text.replace(token, "[redacted]")
        return text

    # -- inside ---------------------------------------------------------------------------

    def _load(self) -> None:
        if self._credentials is not None:
            return
        try:
            self._credentials, self._project = self._loader()
        except google.auth.exceptions.GoogleAuthError as exc:
            raise ProviderError(f"google-cloud: cannot load {self.source}: {_short(exc)}",
                                code="provider_auth") from None

    def _refresh(self, why: str) -> None:
        self._load()
        try:
            self._credentials.refresh(self._request)
        except google.auth.exceptions.TransportError as exc:
            raise ProviderError(f"google-cloud: the token endpoint of {self.source} is unreachable: {_short(exc)}",
                                code="provider_unavailable", retryable=True) from None
        except google.auth.exceptions.GoogleAuthError as exc:
            raise ProviderError(f"google-cloud: {self.source} did not yield a token: {_short(exc)}",
                                code="provider_auth") from None
        token = self._credentials.token
        if not isinstance(token, str) or not token:
            raise ProviderError(f"google-cloud: {self.source} yielded no token", code="provider_auth")
        self._token = token
        self._issued.append(token)
        self._renew_at = self._clock() + max(_lifetime(self._credentials.expiry) - self._margin_s, 0.0)
        log.info("google-cloud: new access token from %s (%s)", self.source, why)


def _lifetime(expiry: dt.datetime | None) -> float:
    """Seconds a token has left; google-auth keeps ``expiry`` as a naive UTC datetime."""
    if expiry is None:
        return UNKNOWN_LIFETIME_S
    if expiry.tzinfo is not None:
        expiry = expiry.astimezone(dt.UTC).replace(tzinfo=None)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return max((expiry - now).total_seconds(), 0.0)


def _short(exc: Exception) -> str:
    """google-auth's message, cut short (a token endpoint's error body can be long)."""
    return str(exc).replace("\n", " ")[:300] or type(exc).__name__


def google_credentials(*, credentials_file: Path | None, use_adc: bool, clock: Callable[[], float] = time.monotonic,
                       margin_s: float = REFRESH_MARGIN_S) -> GoogleCredentials | None:
    """The server's refreshable Google credentials from settings: a key file, else ADC when asked."""
    if credentials_file is not None:
        return GoogleCredentials.from_file(credentials_file, clock=clock, margin_s=margin_s)
    if use_adc:
        return GoogleCredentials.application_default(clock=clock, margin_s=margin_s)
    return None


def is_api_key(key: str) -> bool:
    """Whether a caller's Google key is an API key (Gemini API) rather than an OAuth access
    token (Vertex AI): Google API keys start with ``AIza``; access tokens never do."""
    return key.startswith("AIza")
