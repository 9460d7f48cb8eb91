"""The server's signatures against vectors computed elsewhere (tests/sdk/test_webhooks.py checks
that they verify with the SDK's verifier)."""

from __future__ import annotations

import base64

from vidassets.webhooks.signing import legacy_signature, sign_headers, standard_signature

BODY = b'{"executionId":"e1","status":"completed"}'


def test_known_vectors() -> None:
    # computed independently: printf abc | openssl dgst -sha256 -hmac k
    assert legacy_signature(b"abc", "k") == "342e519ce0ad6c03a36b98eeb3f1d130db4813b9df4d1160eda488d712dc78ee"
    # The Standard Webhooks specification's example: whsec_ secrets are base64 keys; the signed
    # content is "{id}.{ts}.{body}".
    assert standard_signature("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}',
                              "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    key = "whsec_" + base64.b64encode(b"k").decode()
    assert standard_signature("m", 1, b"abc", key) == standard_signature("m", 1, b"abc", "k")


def test_headers_signed_and_unsigned() -> None:
    headers = sign_headers(BODY, "s", "msg_1", 1700000000)
    assert headers["webhook-id"] == "msg_1" and headers["webhook-timestamp"] == "1700000000"
    assert headers["X-Webhook-Signature"] == legacy_signature(BODY, "s")
    assert headers["webhook-signature"] == standard_signature("msg_1", 1700000000, BODY, "s")
    unsigned = sign_headers(BODY, None, "msg_1")
    assert "webhook-signature" not in unsigned and "X-Webhook-Signature" not in unsigned
