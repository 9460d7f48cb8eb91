"""Webhook verification for receivers: the server's own functions, so the schemes cannot drift.

``verify_webhook(body, headers, secret)`` accepts the Standard Webhooks headers (``webhook-id``,
``webhook-timestamp``, ``webhook-signature``; stale timestamps rejected) and the older
``X-Webhook-Signature`` hex HMAC, and raises :class:`WebhookVerificationError` otherwise.
Pass the raw request body, not re-serialised JSON.
"""

from vidassets.webhooks.signing import WebhookVerificationError, verify_webhook

__all__ = ["WebhookVerificationError", "verify_webhook"]
