"""Webhook signatures: the older ``X-Webhook-Signature`` and Standard Webhooks.

* ``X-Webhook-Signature``: hex HMAC-SHA256 of the raw body with the secret (as given).
* Standard Webhooks (https://www.standardwebhooks.com): ``webhook-id``, ``webhook-timestamp``
  and ``webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``. A secret of
  the form ``whsec_<base64>`` is base64-decoded to get the key; any other secret is used as UTF-8
  bytes. Receivers reject stale timestamps, which stops replays.

The SDK's ``verify_webhook`` and the deliverer share these functions.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from typing import Mapping

DEFAULT_TOLERANCE_S = 300


def secret_key(secret: str) -> bytes:
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret[len("whsec_"):], validate=True)
        except (binascii.Error, ValueError):
            pass
    return secret.encode()


def legacy_signature(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_signature(msg_id: str, timestamp: int, body: bytes, secret: str) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def sign_headers(body: bytes, secret: str | None, msg_id: str, timestamp: int | None = None) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    headers = {"content-type": "application/json", "webhook-id": msg_id, "webhook-timestamp": str(ts),
               "user-agent": "vidassets-webhooks/1"}
    if secret:
        headers["X-Webhook-Signature"] = legacy_signature(body, secret)
        headers["webhook-signature"] = standard_signature(msg_id, ts, body, secret)
    return headers


class WebhookVerificationError(ValueError):
    pass


def verify_webhook(body: bytes, headers: Mapping[str, str], secret: str, *, tolerance_s: int = DEFAULT_TOLERANCE_S,
                   now: float | None = None) -> None:
    """Verify either scheme; Standard Webhooks is preferred when its headers are present.

    Raises :class:`WebhookVerificationError` on a bad signature or a timestamp outside the tolerance.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    if "webhook-signature" in lower:
        msg_id, ts_text = lower.get("webhook-id"), lower.get("webhook-timestamp")
        if not msg_id or not ts_text or not ts_text.isdigit():
            raise WebhookVerificationError("missing webhook-id or webhook-timestamp")
        ts = int(ts_text)
        current = time.time() if now is None else now
        if abs(current - ts) > tolerance_s:
            raise WebhookVerificationError("webhook-timestamp outside the tolerance (possible replay)")
        expected = standard_signature(msg_id, ts, body, secret).split(",", 1)[1]
        for candidate in lower["webhook-signature"].split():
            version, _, sig = candidate.partition(",")
            if version == "v1" and hmac.compare_digest(sig, expected):
                return
        raise WebhookVerificationError("no matching v1 signature")
    legacy = lower.get("x-webhook-signature")
    if legacy and hmac.compare_digest(legacy, legacy_signature(body, secret)):
        return
    raise WebhookVerificationError("signature missing or invalid")
