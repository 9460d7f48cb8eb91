"""What a webhook says: the payload of an execution event, fixed when it is enqueued."""

from __future__ import annotations

import json
from typing import Any

from vidassets.services import Services
from vidassets.storage.models import ExecutionRow
from vidassets.storage.webhook_repo import WebhookRepository

# Result URLs in webhooks must outlive the retry schedule (about a day and a half).
WEBHOOK_URL_TTL_S = 7 * 24 * 3600
TERMINAL_EVENTS = {"completed": "execution.completed", "failed": "execution.failed", "cancelled": "execution.cancelled"}


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def build_payload(row: ExecutionRow, services: Services, event: str) -> dict[str, Any]:
    outputs: dict[str, dict[str, Any]] = {}
    for job in row.jobs:
        if job.result and job.result.get("key") and job.status == "completed":
            outputs[job.job_id] = {"url": services.store.url_for(job.result["key"], expires_s=WEBHOOK_URL_TTL_S),
                                   "operation": job.operation}
    final_id = (row.result or {}).get("jobId")
    payload: dict[str, Any] = {
        "type": event,
        "executionId": row.id,
        "status": row.status,
        "outputs": outputs,
        "rootUrl": outputs.get(final_id, {}).get("url") if final_id else None,
        "createdAt": _iso(row.created_at),
        "completedAt": _iso(row.completed_at),
    }
    if row.error:
        payload["error"] = row.error
        payload["errorCode"] = row.error_code
    if row.base_execution_id:
        payload["baseExecutionId"] = row.base_execution_id
    return payload


def enqueue_event(services: Services, execution_id: str, event: str | None = None) -> str | None:
    """Put the execution's current state in the outbox, if it has a webhook. Returns the message id."""
    row = services.repo.get(execution_id)
    if row is None or not row.webhook_url:
        return None
    event = event or TERMINAL_EVENTS.get(row.status)
    if event is None:
        return None
    body = json.dumps(build_payload(row, services, event), separators=(",", ":"), ensure_ascii=False)
    delivery = WebhookRepository(services.settings.resolved_database_url).enqueue(
        execution_id=execution_id, event=event, url=row.webhook_url, payload=body)
    return delivery.id
