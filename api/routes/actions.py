"""Actions on an execution: cancel, retry, webhook attempts and redelivery."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import LaunchQueueDep, ServicesDep, TenantDep
from api.errors import ApiError
from api.routes.executions import load_execution
from api.schemas import (
    ActionAccepted,
    CacheCleared,
    ErrorResponse,
    WebhookAttemptPublic,
    WebhookDeliveriesPublic,
    WebhookDeliveryPublic,
)
from vidassets.storage.repo import TERMINAL_STATUSES
from vidassets.webhooks.events import enqueue_event

router = APIRouter(tags=["executions"])
_ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}}


@router.post("/api/execute/{execution_id}/cancel", response_model=ActionAccepted, status_code=202, responses=_ERRORS,
             summary="Cancel a pending or running execution")
def cancel_execution(execution_id: str, services: ServicesDep, tenant: TenantDep) -> ActionAccepted:
    """A running execution stops cooperatively within about a second (running ffmpeg is killed);
    one that has not started is cancelled at once. Either way the webhook says ``cancelled``."""
    row = load_execution(services, execution_id, tenant)
    if row.status in TERMINAL_STATUSES:
        raise ApiError(409, f"execution is already {row.status}", "conflict", {"status": row.status})
    services.repo.request_cancel(execution_id)
    if row.run_id is None and row.status == "pending":
        if services.repo.fail_if_active(execution_id, "cancelled", "execution cancelled", "cancelled"):
            enqueue_event(services, execution_id)
    fresh = load_execution(services, execution_id, tenant)
    return ActionAccepted(id=execution_id, status=fresh.status,
                          jobs=[j.job_id for j in fresh.jobs if j.status not in ("completed",)])


@router.post("/api/execute/{execution_id}/retry", response_model=ActionAccepted, status_code=202, responses=_ERRORS,
             summary="Re-run what failed, reusing what succeeded")
def retry_execution(execution_id: str, services: ServicesDep, launches: LaunchQueueDep,
                    tenant: TenantDep) -> ActionAccepted:
    row = load_execution(services, execution_id, tenant)
    if row.status not in ("failed", "cancelled"):
        raise ApiError(409, f"only failed or cancelled executions can be retried (this one is {row.status})",
                       "conflict", {"status": row.status})
    again = services.repo.prepare_retry(execution_id)
    launches.submit(execution_id)
    return ActionAccepted(id=execution_id, status="pending", jobs=again)


@router.get("/api/execute/{execution_id}/webhooks", response_model=WebhookDeliveriesPublic, responses=_ERRORS,
            summary="Webhook deliveries of an execution, with every attempt")
def list_webhooks(execution_id: str, services: ServicesDep, tenant: TenantDep) -> WebhookDeliveriesPublic:
    load_execution(services, execution_id, tenant)
    outbox = services.webhooks
    data = [WebhookDeliveryPublic(
        id=d.id, event=d.event, url=d.url.split("?", 1)[0], status=d.status,
        attempts=[WebhookAttemptPublic(attempt=a.attempt, startedAt=a.started_at, statusCode=a.status_code,
                                       latencyMs=round(a.latency_ms, 1), error=a.error, outcome=a.outcome)
                  for a in attempts],
        nextAttemptAt=d.next_attempt_at if d.status == "pending" else None, createdAt=d.created_at,
        deliveredAt=d.delivered_at,
    ) for d, attempts in outbox.for_execution(execution_id)]
    return WebhookDeliveriesPublic(data=data, count=len(data))


@router.post("/api/execute/{execution_id}/webhooks/redeliver", response_model=WebhookDeliveriesPublic,
             status_code=202, responses=_ERRORS, summary="Send the execution's webhooks again")
def redeliver_webhooks(execution_id: str, services: ServicesDep, tenant: TenantDep) -> WebhookDeliveriesPublic:
    row = load_execution(services, execution_id, tenant)
    if not row.webhook_url:
        raise ApiError(409, "this execution has no webhook URL", "conflict")
    outbox = services.webhooks
    if not outbox.redeliver(execution_id):
        if row.status not in TERMINAL_STATUSES or enqueue_event(services, execution_id) is None:
            raise ApiError(409, "nothing to deliver yet: the execution has not ended", "conflict")
    return list_webhooks(execution_id, services, tenant)


@router.delete("/api/execute/{execution_id}/cache", response_model=CacheCleared, responses=_ERRORS,
               summary="Invalidate the result-cache entries this execution created")
def clear_cache(execution_id: str, services: ServicesDep, tenant: TenantDep) -> CacheCleared:
    load_execution(services, execution_id, tenant)
    return CacheCleared(id=execution_id, deleted=services.cache.invalidate_execution(execution_id))
