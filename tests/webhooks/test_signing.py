from __future__ import annotations

import base64
import time

import pytest

from vidassets.webhooks.signing import (
    WebhookVerificationError,
    legacy_signature,
    sign_headers,
    standard_signature,
    verify_webhook,
)

BODY = b'{"executionId":"e1","status":"completed"}'


@pytest.mark.parametrize("secret", ["plain-secret", "whsec_" + base64.b64encode(b"0123456789abcdef").decode()])
def test_both_schemes_verify_and_reject_tampering(secret: str) -> None:
    headers = sign_headers(BODY, secret, "msg_1")
    verify_webhook(BODY, headers, secret)
    verify_webhook(BODY, {"X-Webhook-Signature": headers["X-Webhook-Signature"]}, secret)  # older scheme alone
    with pytest.raises(WebhookVerificationError):
        verify_webhook(BODY + b" ", headers, secret)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(BODY, headers, secret + "x")
    with pytest.raises(WebhookVerificationError):
        verify_webhook(BODY, {}, secret)


def test_known_vectors() -> None:
    # computed independently: printf abc | openssl dgst -sha256 -hmac k
    assert legacy_signature(b"abc", "k") == "342e519ce0ad6c03a36b98eeb3f1d130db4813b9df4d1160eda488d712dc78ee"
    # Standard Webhooks: whsec_ secrets are base64 keys; the signed content is "{id}.{ts}.{body}".
    key = "whsec_" + base64.b64encode(b"k").decode()
    assert standard_signature("m", 1, b"abc", key) == standard_signature("m", 1, b"abc", "k")


def test_stale_timestamps_are_replays() -> None:
    old = int(time.time()) - 3600
    headers = sign_headers(BODY, "s", "msg_2", old)
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify_webhook(BODY, headers, "s")
    verify_webhook(BODY, headers, "s", now=old + 10)
