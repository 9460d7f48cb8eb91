"""``POST /api/vendor-webhooks/{vendor}/{token}``: where Replicate and fal deliver a job's outcome.

Unauthenticated by API key (a vendor has none of ours): a delivery is trusted only once its
vendor's signature checks out, and binds to the one vendor-job attempt whose token is in the URL.
Everything else (verification, binding, the ledger write) is :mod:`vidassets.vendorhooks`; this
module adapts HTTP: the raw body (signatures cover its exact bytes), 4xx JSON for a refusal.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from api.errors import ApiError
from api.schemas import ErrorResponse
from vidassets.vendorhooks import Refused, VendorWebhookReceiver

router = APIRouter(tags=["vendor-webhooks"])


def receiver(request: Request) -> VendorWebhookReceiver:
    """One receiver per app (it caches fal's keys), made on first use."""
    found: VendorWebhookReceiver | None = getattr(request.app.state, "vendor_webhooks", None)
    if found is None:
        found = VendorWebhookReceiver(request.app.state.settings)
        request.app.state.vendor_webhooks = found
    return found


_REFUSALS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": why} for status, why in (
        (400, "not a delivery"), (401, "unsigned, badly signed or stale"), (404, "no job waits for it"),
        (409, "replayed, or for another vendor, job or model"), (503, "the vendor's keys cannot be read now"))
}


@router.post("/api/vendor-webhooks/{vendor}/{token}", summary="A vendor's signed delivery of a job's outcome",
             responses=_REFUSALS)
async def vendor_webhook(vendor: str, token: str, request: Request) -> dict[str, Any]:
    body = await request.body()
    headers = {name.lower(): value for name, value in request.headers.items()}
    try:
        accepted = await run_in_threadpool(receiver(request).receive, vendor, token, headers, body)
    except Refused as exc:
        raise ApiError(exc.status, str(exc), exc.code) from None
    return accepted.body()
