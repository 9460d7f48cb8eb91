"""Signed webhooks: payloads, signing and the outbox deliverer (receivers verify with the SDK)."""

from vidassets.webhooks.signing import sign_headers

__all__ = ["sign_headers"]
