"""What the server signs verifies with the SDK's verifier (the SDK carries its own copy of the
scheme so that it installs without the server)."""

from __future__ import annotations

import base64
import json
import time

import pytest

from vidassets.webhooks.signing import sign_headers
from vidassets_sdk import WebhookVerificationError, verify_webhook

BODY = json.dumps({"executionId": "ex_ok", "status": "completed"}).encode()


@pytest.mark.parametrize("secret", ["plain-secret", "whsec_" + base64.b64encode(b"0123456789abcdef").decode(),
                                    "whsec_not base64!"])
def test_server_signatures_verify_in_both_schemes(secret: str) -> None:
    headers = sign_headers(BODY, secret, "msg_1")
    verify_webhook(BODY, headers, secret)
    verify_webhook(BODY, {"X-Webhook-Signature": headers["X-Webhook-Signature"]}, secret)  # the older scheme alone
    standard_only = {k: v for k, v in headers.items() if k != "X-Webhook-Signature"}
    verify_webhook(BODY, standard_only, secret)


def test_tampering_other_secrets_and_replays_are_rejected() -> None:
    headers = sign_headers(BODY, "s", "msg_1")
    with pytest.raises(WebhookVerificationError):
        verify_webhook(BODY + b" ", headers, "s")
    with pytest.raises(WebhookVerificationError):
        verify_webhook(BODY, headers, "other")
    with pytest.raises(WebhookVerificationError):
        verify_webhook(BODY, sign_headers(BODY, None, "msg_1"), "s")  # unsigned delivery
    old = int(time.time()) - 3600
    stale = sign_headers(BODY, "s", "msg_2", timestamp=old)
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify_webhook(BODY, stale, "s")
    verify_webhook(BODY, stale, "s", now=old + 10)
