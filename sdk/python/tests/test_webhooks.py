"""Webhook verification against vectors computed outside this package."""

from __future__ import annotations

import base64

import pytest

from vidassets_sdk import WebhookVerificationError, verify_webhook

# The Standard Webhooks specification's example (standardwebhooks.com / its reference libraries).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID, SPEC_TS, SPEC_BODY = "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
# printf abc | openssl dgst -sha256 -hmac k
LEGACY_ABC_K = "342e519ce0ad6c03a36b98eeb3f1d130db4813b9df4d1160eda488d712dc78ee"


def spec_headers(signature: str = SPEC_SIGNATURE, **extra: str) -> dict[str, str]:
    return {"webhook-id": SPEC_ID, "webhook-timestamp": str(SPEC_TS), "webhook-signature": signature, **extra}


def test_the_standard_webhooks_example_verifies() -> None:
    verify_webhook(SPEC_BODY, spec_headers(), SPEC_SECRET, now=SPEC_TS + 10)
    # Several signatures (key rotation) and any header capitalisation.
    rotated = {k.title(): v for k, v in spec_headers("v1,bm90LWl0 " + SPEC_SIGNATURE).items()}
    verify_webhook(SPEC_BODY, rotated, SPEC_SECRET, now=SPEC_TS)


def test_the_hex_signature_verifies() -> None:
    verify_webhook(b"abc", {"X-Webhook-Signature": LEGACY_ABC_K}, "k")
    with pytest.raises(WebhookVerificationError):
        verify_webhook(b"abd", {"X-Webhook-Signature": LEGACY_ABC_K}, "k")


def test_another_secret_does_not_verify() -> None:
    with pytest.raises(WebhookVerificationError, match="no matching"):
        verify_webhook(SPEC_BODY, spec_headers(), "whsec_" + base64.b64encode(b"other").decode(), now=SPEC_TS)
    with pytest.raises(WebhookVerificationError, match="no matching"):
        verify_webhook(SPEC_BODY, spec_headers(), "whsec_not base64!", now=SPEC_TS)


@pytest.mark.parametrize("body, headers, now, message", [
    (SPEC_BODY + b" ", spec_headers(), SPEC_TS, "no matching"),
    (SPEC_BODY, spec_headers("v2," + SPEC_SIGNATURE[3:]), SPEC_TS, "no matching"),
    (SPEC_BODY, spec_headers(), SPEC_TS + 301, "tolerance"),
    (SPEC_BODY, spec_headers(), SPEC_TS - 301, "tolerance"),
    (SPEC_BODY, {"webhook-signature": SPEC_SIGNATURE}, SPEC_TS, "missing webhook-id"),
    (SPEC_BODY, spec_headers(**{"webhook-timestamp": "soon"}), SPEC_TS, "missing webhook-id"),
    (SPEC_BODY, {}, SPEC_TS, "missing or invalid"),
])
def test_tampering_replays_and_missing_headers_are_rejected(body: bytes, headers: dict[str, str], now: int,
                                                            message: str) -> None:
    with pytest.raises(WebhookVerificationError, match=message):
        verify_webhook(body, headers, SPEC_SECRET, now=now)
