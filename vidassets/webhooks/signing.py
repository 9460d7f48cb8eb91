"""Webhook signatures: the older ``X-Webhook-Signature`` and Standard Webhooks.

* ``X-Webhook-Signature``: hex HMAC-SHA256 of the raw body with the secret (as given).
* Standard Webhooks (https://www.standardwebhooks.com): ``webhook-id``, ``webhook-timestamp``
  and ``webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``. A secret of
  the form ``whsec_<base64>`` is base64-decoded to get the key; any other secret is used as UTF-8
  bytes. Receivers reject stale timestamps, which stops replays.

Receivers verify with the SDK's ``vidassets_sdk.verify_webhook`` (sdk/python), which carries its
own copy of the scheme so that it installs without the server; ``tests/sdk/test_webhooks.py``
checks that what this module signs verifies there.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time


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
