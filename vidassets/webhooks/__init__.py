"""Signed webhooks: payloads, the outbox deliverer and signature verification."""

from vidassets.webhooks.signing import WebhookVerificationError, sign_headers, verify_webhook

__all__ = ["WebhookVerificationError", "sign_headers", "verify_webhook"]
