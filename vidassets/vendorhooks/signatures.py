"""Is this delivery really from the vendor, and fresh? Nothing here reads the database.

* Replicate signs with the Standard Webhooks scheme: ``webhook-signature`` holds space-separated
  ``v1,<base64 HMAC-SHA256>`` entries over ``"{webhook-id}.{webhook-timestamp}.{raw body}"``, keyed
  with the account's signing secret (``whsec_`` + base64). ``webhook-id`` is the same when a
  delivery is retried, so it is the delivery's id.
* fal signs with ED25519: the hex ``X-Fal-Webhook-Signature`` covers ``request id \\n user id \\n
  timestamp \\n sha256-hex(raw body)``, verifiable with any key of fal's published JWKS (``x``:
  the base64url public key). The signed message's digest is the delivery's id.

Both carry a Unix timestamp; one further than the tolerance from our clock (either way) is refused,
so a captured delivery cannot be replayed later (and within the window, its id can only be used once).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

log = logging.getLogger(__name__)

#: fal says its keys may rotate: they are fetched again after this long, and at most this often
#: when a signature matches none of them.
JWKS_TTL_S = 24 * 3600.0
JWKS_REFRESH_MIN_S = 60.0
JWKS_MAX_BYTES = 64 * 1024


class Refused(Exception):
    """A delivery that changes nothing; ``status`` and ``code`` are the HTTP answer."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class Signed:
    """A verified delivery: its id (for replay refusal) and, for fal, the signed request id."""

    delivery_id: str
    request_id: str | None = None


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name) or headers.get(name.lower()) or ""
    if not value:
        raise Refused(401, "webhook_unsigned", f"the delivery has no {name} header")
    return value


def _fresh(timestamp: str, now: float, tolerance_s: float) -> None:
    try:
        stamp = int(timestamp)
    except ValueError:
        raise Refused(401, "webhook_bad_signature", "the delivery's timestamp is not a Unix time") from None
    if abs(now - stamp) > tolerance_s:
        raise Refused(401, "webhook_stale", f"the delivery's timestamp is more than {tolerance_s:g}s from now")


def standard_signature(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    """The ``v1`` signature (base64) of a Standard Webhooks delivery."""
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except binascii.Error:
        raise Refused(500, "webhook_misconfigured", "the Replicate webhook secret is not whsec_ + base64") from None
    digest = hmac.new(key, f"{delivery_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify_standard(headers: Mapping[str, str], body: bytes, secret: str, *, now: float,
                    tolerance_s: float) -> Signed:
    """A Replicate (Standard Webhooks) delivery, verified; raises :class:`Refused`."""
    delivery_id = _header(headers, "webhook-id")
    timestamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    _fresh(timestamp, now, tolerance_s)
    expected = standard_signature(secret, delivery_id, timestamp, body).encode()
    for entry in signatures.split():
        version, _, value = entry.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            return Signed(delivery_id)
    raise Refused(401, "webhook_bad_signature", "no signature of the delivery matches")


def fal_message(request_id: str, user_id: str, timestamp: str, body: bytes) -> bytes:
    """What fal signs for a delivery."""
    return "\n".join([request_id, user_id, timestamp, hashlib.sha256(body).hexdigest()]).encode()


class FalKeys:
    """fal's ED25519 public keys from its JWKS URL, cached (``fetch`` returns the JWKS document)."""

    def __init__(self, url: str, *, fetch: Callable[[str], object] | None = None, clock: Callable[[], float] = time.monotonic):
        self.url = url
        self._fetch = fetch or _get_json
        self._clock = clock
        self._keys: list[Ed25519PublicKey] = []
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def keys(self, *, refresh: bool = False) -> Sequence[Ed25519PublicKey]:
        with self._lock:
            now = self._clock()
            age = None if self._fetched_at is None else now - self._fetched_at
            if age is None or age > JWKS_TTL_S or (refresh and age > JWKS_REFRESH_MIN_S):
                try:
                    self._keys = parse_jwks(self._fetch(self.url))
                    self._fetched_at = now
                except (httpx.HTTPError, ValueError) as exc:
                    log.warning("cannot read fal's webhook keys from %s: %s", self.url, type(exc).__name__)
                    if not self._keys:
                        raise Refused(503, "webhook_keys_unavailable", "fal's webhook keys cannot be read now") from None
            return list(self._keys)


def _get_json(url: str) -> object:
    response = httpx.get(url, timeout=10.0, follow_redirects=False)
    response.raise_for_status()
    if len(response.content) > JWKS_MAX_BYTES:
        raise ValueError("the JWKS document is too large")
    return response.json()


def parse_jwks(document: object) -> list[Ed25519PublicKey]:
    """The ED25519 keys (``kty`` OKP, ``crv`` Ed25519) of a JWKS document; others are skipped."""
    entries = document.get("keys") if isinstance(document, Mapping) else None
    keys: list[Ed25519PublicKey] = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, Mapping) or entry.get("crv", "Ed25519") != "Ed25519" or not isinstance(entry.get("x"), str):
            continue
        raw = entry["x"].rstrip("=")
        try:
            keys.append(Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))))
        except (ValueError, binascii.Error):
            continue
    if not keys:
        raise ValueError("the JWKS document has no ED25519 key")
    return keys


def verify_fal(headers: Mapping[str, str], body: bytes, keys: FalKeys, *, now: float, tolerance_s: float) -> Signed:
    """A fal delivery, verified against its published keys; raises :class:`Refused`."""
    request_id = _header(headers, "x-fal-webhook-request-id")
    user_id = _header(headers, "x-fal-webhook-user-id")
    timestamp = _header(headers, "x-fal-webhook-timestamp")
    signature_hex = _header(headers, "x-fal-webhook-signature")
    _fresh(timestamp, now, tolerance_s)
    try:
        signature = bytes.fromhex(signature_hex)
    except ValueError:
        raise Refused(401, "webhook_bad_signature", "the delivery's signature is not hex") from None
    message = fal_message(request_id, user_id, timestamp, body)
    for refresh in (False, True):
        for key in keys.keys(refresh=refresh):
            try:
                key.verify(signature, message)
            except InvalidSignature:
                continue
            return Signed(hashlib.sha256(message + b"\n" + signature).hexdigest(), request_id=request_id)
    raise Refused(401, "webhook_bad_signature", "the delivery's signature matches none of fal's keys")
