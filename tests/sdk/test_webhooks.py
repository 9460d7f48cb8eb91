"""The SDK verifies exactly what the server signs, in both schemes."""

from __future__ import annotations

import json
import time

import pytest

from vidassets.sdk import WebhookVerificationError, verify_webhook
from vidassets.webhooks.signing import sign_headers

BODY = json.dumps({"executionId": "ex_ok", "status": "completed"}).encode()


@pytest.mark.parametrize("secret", ["plain-secret", "whsec_c2VjcmV0LWJ5dGVz"])
def test_standard_and_legacy_signatures_verify(secret: str) -> None:
    headers = sign_headers(BODY, secret, "msg_1")
    verify_webhook(BODY, headers, secret)
    legacy_only = {"X-Webhook-Signature": headers["X-Webhook-Signature"]}
    verify_webhook(BODY, legacy_only, secret)


def test_tampering_and_replays_are_rejected() -> None:
    headers = sign_headers(BODY, "s", "msg_1")
    with pytest.raises(WebhookVerificationError):
        verify_webhook(BODY + b" ", headers, "s")
    with pytest.raises(WebhookVerificationError):
        verify_webhook(BODY, headers, "other")
    stale = sign_headers(BODY, "s", "msg_2", timestamp=int(time.time()) - 3600)
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify_webhook(BODY, stale, "s")
