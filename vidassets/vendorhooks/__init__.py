"""Vendor webhooks in: deliveries from Replicate and fal, verified and written to the vendor-job ledger.

:mod:`.signatures` checks a delivery came from its vendor (Standard Webhooks HMAC for Replicate,
ED25519 over fal's JWKS for fal); :mod:`.receiver` binds it to one ledger attempt (the token in
its URL) and records it; the API route (``api/routes/vendor_webhooks.py``) only adapts HTTP.
The waiting poller sees the delivery through the ledger (:mod:`vidassets.providers.ledger`).
"""

from vidassets.vendorhooks.receiver import VendorWebhookReceiver
from vidassets.vendorhooks.signatures import Refused

__all__ = ["Refused", "VendorWebhookReceiver"]
