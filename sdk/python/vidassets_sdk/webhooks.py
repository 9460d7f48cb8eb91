"""Webhook verification for receivers.

vidassets signs every delivery twice:

* ``X-Webhook-Signature``: hex HMAC-SHA256 of the raw body, keyed with the secret as given.
* Standard Webhooks (https://www.standardwebhooks.com): ``webhook-id``, ``webhook-timestamp`` and
  ``webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``. A secret of the
  form ``whsec_<base64>`` is base64-decoded to get the key; any other secret is used as UTF-8.

``verify_webhook(body, headers, secret)`` prefers the Standard Webhooks headers when present
(rejecting stale timestamps, which stops replays), falls back to ``X-Webhook-Signature``, and
raises :class:`WebhookVerificationError` otherwise. Pass the raw request body, not re-serialised
JSON. The server's test suite checks that what the server signs verifies here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping

DEFAULT_TOLERANCE_S = 300


class WebhookVerificationError(ValueError):
    """The signature is missing or wrong, or the timestamp is outside the tolerance."""


def _key(secret: str) -> bytes:
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret[len("whsec_"):], validate=True)
        except (binascii.Error, ValueError):
            pass
    return secret.encode()


def _standard_signature(msg_id: str, timestamp: int, body: bytes, secret: str) -> str:
    digest = hmac.new(_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _verify_standard(body: bytes, headers: Mapping[str, str], secret: str, tolerance_s: float, now: float) -> None:
    msg_id, ts_text = headers.get("webhook-id"), headers.get("webhook-timestamp")
    if not msg_id or not ts_text or not ts_text.isdigit():
        raise WebhookVerificationError("missing webhook-id or webhook-timestamp")
    ts = int(ts_text)
    if abs(now - ts) > tolerance_s:
        raise WebhookVerificationError("webhook-timestamp outside the tolerance (possible replay)")
    expected = _standard_signature(msg_id, ts, body, secret)
    for candidate in headers["webhook-signature"].split():
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return
    raise WebhookVerificationError("no matching v1 signature")


def verify_webhook(body: bytes, headers: Mapping[str, str], secret: str, *, tolerance_s: float = DEFAULT_TOLERANCE_S,
                   now: float | None = None) -> None:
    """Return if ``body`` was signed with ``secret``; raise :class:`WebhookVerificationError` if not.

    ``headers`` may use any capitalisation. ``now`` (seconds since the epoch) is for tests.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    if "webhook-signature" in lower:
        _verify_standard(body, lower, secret, tolerance_s, time.time() if now is None else now)
        return
    legacy = lower.get("x-webhook-signature")
    if legacy and hmac.compare_digest(legacy, hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()):
        return
    raise WebhookVerificationError("signature missing or invalid")


__all__ = ["DEFAULT_TOLERANCE_S", "WebhookVerificationError", "verify_webhook"]
