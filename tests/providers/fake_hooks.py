"""Signed webhook deliveries as the vendors send them, for the fake vendors in ``fakes.py``.

Written from the vendors' documents, not from our receiver: Replicate signs with the Standard
Webhooks scheme (``webhook-id``, ``webhook-timestamp``, ``webhook-signature: v1,<base64
HMAC-SHA256 of "{id}.{timestamp}.{body}">`` keyed with the base64 part of ``whsec_...``); fal
signs ``request id \\n user id \\n timestamp \\n sha256-hex(body)`` with ED25519 and publishes its
public keys as a JWKS (``kty`` OKP, ``crv`` Ed25519, ``x`` base64url).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


@dataclass(frozen=True)
class Sent:
    """A delivery the fake sent and what the receiver answered (None: no answer)."""

    url: str
    headers: Mapping[str, str]
    body: bytes
    status: int | None
    answer: Any


def replicate_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def standard_headers(secret: str, body: bytes, *, message_id: str | None = None,
                     timestamp: int | None = None) -> dict[str, str]:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    message_id = message_id or f"msg_{secrets.token_hex(12)}"
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(key, f"{message_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return {"content-type": "application/json", "webhook-id": message_id, "webhook-timestamp": stamp,
            "webhook-signature": f"v1,{base64.b64encode(digest).decode()}"}


@dataclass
class FalSigner:
    """fal's signing key (the fake's own) and its JWKS document."""

    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    user_id: str = "fal-user-1234"

    def jwks(self) -> dict[str, Any]:
        raw = self.key.public_key().public_bytes_raw()
        return {"keys": [{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": "fake-1",
                          "x": base64.urlsafe_b64encode(raw).decode().rstrip("=")}]}

    def headers(self, request_id: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        message = "\n".join([request_id, self.user_id, stamp, hashlib.sha256(body).hexdigest()]).encode()
        return {"content-type": "application/json", "x-fal-webhook-request-id": request_id,
                "x-fal-webhook-user-id": self.user_id, "x-fal-webhook-timestamp": stamp,
                "x-fal-webhook-signature": self.key.sign(message).hex()}


class Deliverer:
    """Posts deliveries and keeps what was sent and answered (``sent``), in order."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.lock = threading.Lock()

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Sent:
        try:
            response = httpx.post(url, content=body, headers=dict(headers), timeout=30.0)
            answer: Any = response.json() if response.content else None
            sent = Sent(url, dict(headers), body, response.status_code, answer)
        except (httpx.HTTPError, json.JSONDecodeError) as exc:
            sent = Sent(url, dict(headers), body, None, repr(exc))
        with self.lock:
            self.sent.append(sent)
        return sent


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode()
