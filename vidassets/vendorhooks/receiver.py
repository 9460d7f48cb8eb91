"""A verified delivery, bound to its ledger attempt and recorded there (all or nothing).

The URL a create asked the vendor to deliver to carries the attempt's ``hook_token``
(``/api/vendor-webhooks/{vendor}/{token}``), so a delivery names exactly one attempt. It is refused,
changing nothing, when it is unsigned or badly signed, stale, a replay (its id was accepted
before), for an unknown token, or names another vendor, model or vendor job than the attempt's.
Otherwise the ledger row gets the delivery (``hook``), the vendor's status and usage, and - when
the worker had not recorded the create's answer yet (it may be dead) - the vendor's job itself.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from vidassets.providers.fal import request_urls
from vidassets.providers.usage import billed_seconds
from vidassets.settings import Settings
from vidassets.storage.vendor_jobs import Delivery, DeliveryRefused, VendorJob, VendorJobRepository, VendorRef
from vidassets.vendorhooks.signatures import FalKeys, Refused, Signed, verify_fal, verify_standard

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_VERSION = re.compile(r"^[0-9a-f]{64}$")
VENDORS = ("replicate", "fal")


@dataclass(frozen=True)
class Accepted:
    """What the receiver answers a delivery it recorded."""

    vendor_job_id: str
    status: str | None

    def body(self) -> dict[str, Any]:
        return {"accepted": True, "vendorJobId": self.vendor_job_id, "status": self.status}


class VendorWebhookReceiver:
    """Verifies, binds and records deliveries (see the module docstring); one per API process."""

    def __init__(self, settings: Settings, repo: VendorJobRepository | None = None, *,
                 clock: Callable[[], float] = time.time, fal_keys: FalKeys | None = None):
        self.settings = settings
        self.repo = repo or VendorJobRepository(settings.resolved_database_url)
        self.clock = clock
        self.fal_keys = fal_keys or FalKeys(settings.fal_webhook_jwks_url)

    def receive(self, vendor: str, token: str, headers: Mapping[str, str], body: bytes) -> Accepted:
        """Record one delivery; raises :class:`Refused` (nothing changed)."""
        if vendor not in VENDORS or not self.settings.vendor_webhook_base_url:
            raise Refused(404, "not_found", f"no webhooks are received for {vendor[:40]!r}")
        signed = self._verify(vendor, headers, body)  # before any database read: no token oracle
        payload = _json(body)
        job = self.repo.by_token(token) if _TOKEN.match(token) else None
        if job is None:
            raise Refused(404, "webhook_unknown_job", "no vendor job waits for this delivery")
        if job.vendor != vendor:
            raise Refused(409, "webhook_mismatch", "the delivery's vendor is not the job's")
        delivery = replicate_delivery(job, payload, signed) if vendor == "replicate" else \
            fal_delivery(job, payload, signed, self.settings.fal_base_url)
        try:
            recorded = self.repo.accept_delivery(job.id, delivery)
        except DeliveryRefused as exc:
            raise Refused(409, f"webhook_{exc.reason}", str(exc)) from None
        return Accepted(recorded.vendor_job_id or "", delivery.vendor_status)

    def _verify(self, vendor: str, headers: Mapping[str, str], body: bytes) -> Signed:
        tolerance = self.settings.vendor_webhook_tolerance_s
        if vendor == "fal":
            return verify_fal(headers, body, self.fal_keys, now=self.clock(), tolerance_s=tolerance)
        secret = self.settings.replicate_webhook_secret
        if secret is None:
            raise Refused(404, "not_found", "Replicate webhooks are not configured on this server")
        return verify_standard(headers, body, secret.get_secret_value(), now=self.clock(), tolerance_s=tolerance)


def _json(body: bytes) -> Mapping[str, Any]:
    try:
        payload = json.loads(body)
    except ValueError:
        raise Refused(400, "webhook_invalid", "the delivery's body is not JSON") from None
    if not isinstance(payload, Mapping):
        raise Refused(400, "webhook_invalid", "the delivery's body is not a JSON object")
    return payload


def _text(payload: Mapping[str, Any], key: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value or len(value) > 255:
        raise Refused(400, "webhook_invalid", f"the delivery has no {key}")
    return value


def _same_job(job: VendorJob, vendor_job_id: str) -> None:
    if job.vendor_job_id is not None and job.vendor_job_id != vendor_job_id:
        raise Refused(409, "webhook_mismatch", "the delivery is for another vendor job than this attempt's")


def replicate_model_matches(model: str, payload: Mapping[str, Any]) -> bool:
    """Whether a prediction's ``model`` / ``version`` is the one the attempt created: ``owner/name``,
    ``owner/name:version`` or a bare version id, as :func:`~vidassets.providers.replicate.prediction_endpoint`."""
    name, _, version = model.partition(":")
    if version:
        return payload.get("version") == version
    if _VERSION.match(model):
        return payload.get("version") == model
    return payload.get("model") == name


def replicate_delivery(job: VendorJob, payload: Mapping[str, Any], signed: Signed) -> Delivery:
    """A prediction delivered by Replicate (the body is the prediction, as its API returns it)."""
    prediction_id = _text(payload, "id")
    _same_job(job, prediction_id)
    if not replicate_model_matches(job.model, payload):
        raise Refused(409, "webhook_mismatch", "the delivery is for another model than this attempt's")
    status = payload.get("status") if isinstance(payload.get("status"), str) else None
    urls: Mapping[str, Any] = payload["urls"] if isinstance(payload.get("urls"), Mapping) else {}
    metrics = payload.get("metrics") if isinstance(payload.get("metrics"), Mapping) else None
    ref = VendorRef(prediction_id, _str(urls.get("get")), _str(urls.get("cancel")))
    return Delivery(vendor="replicate", delivery_id=signed.delivery_id, vendor_status=status, ref=ref, usage=metrics,
                    billed_seconds=billed_seconds("replicate", metrics),
                    hook={"delivery": signed.delivery_id, "vendor_job_id": prediction_id, "status": status})


def fal_delivery(job: VendorJob, payload: Mapping[str, Any], signed: Signed, base_url: str) -> Delivery:
    """A queue result delivered by fal (``request_id``, ``status`` OK / ERROR, ``payload``)."""
    request_id = _text(payload, "request_id")
    if signed.request_id != request_id:
        raise Refused(409, "webhook_mismatch", "the delivery's signed request id is not its body's")
    _same_job(job, request_id)
    status = payload.get("status") if isinstance(payload.get("status"), str) else None
    status_url, response_url, cancel_url = request_urls(base_url.rstrip("/"), job.model, request_id)
    ref = VendorRef(request_id, status_url, cancel_url, {"response_url": response_url})
    return Delivery(vendor="fal", delivery_id=signed.delivery_id, vendor_status=status, ref=ref,
                    hook={"delivery": signed.delivery_id, "vendor_job_id": request_id, "status": status})


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
