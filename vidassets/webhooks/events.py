"""What a webhook says: the payload of an execution event, fixed when it is enqueued.

Per-job webhooks (today's SDK's ``sendJobWebhook: true`` on a job) go to the execution's URL too,
signed alike, with the reference backend's ``JobWebhookPayload``: ``{executionId, jobId,
operation, status, result, error, completedAt}`` (:func:`enqueue_job_event`).

One body serves both readers. SPEC.md's fields (``executionId, status, outputs, rootUrl, error?,
createdAt, completedAt``, plus ``type``) are always there; so is the shape the TypeScript SDK's
docs (EXECUTION.md, COMPOSABLE.md) promise its users — ``{executionId, status, video: {url,
duration, aspectRatio, status}}`` — with ``video`` present once the root output exists. The
status is in the vocabulary of the wire format the plan came in (:mod:`vidassets.plan.wire`):
an SDK-format execution that was cancelled says ``failed`` (``errorCode: "cancelled"``).
"""

from __future__ import annotations

import json
from typing import Any

from vidassets.plan.wire import reported, wire_format_of
from vidassets.services import Services
from vidassets.storage.models import ExecutionRow

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
    root_url = outputs.get(final_id, {}).get("url") if final_id else None
    state = reported(wire_format_of(row.plan), row.status, row.error, row.error_code)
    payload: dict[str, Any] = {
        "type": event,
        "executionId": row.id,
        "status": state.status,
        "outputs": outputs,
        "rootUrl": root_url,
        "createdAt": _iso(row.created_at),
        "completedAt": _iso(row.completed_at),
    }
    if final_id and root_url:
        payload["video"] = sdk_video(row, final_id, root_url)
    if state.error:
        payload["error"] = state.error
        payload["errorCode"] = state.error_code
    if row.base_execution_id:
        payload["baseExecutionId"] = row.base_execution_id
    return payload


def sdk_video(row: ExecutionRow, final_id: str, url: str) -> dict[str, Any]:
    """The SDK's ``Video``: the root output's URL, length and aspect ratio (the job's own result,
    else what the execution recorded as its final result)."""
    job = next((j for j in row.jobs if j.job_id == final_id), None)
    facts = {**(row.result or {}), **((job.result or {}) if job else {})}
    return {"url": url, "duration": facts.get("duration"), "aspectRatio": facts.get("aspectRatio"),
            "status": "completed"}


def enqueue_event(services: Services, execution_id: str, event: str | None = None) -> str | None:
    """Put the execution's current state in the outbox, if it has a webhook. Returns the message id."""
    row = services.repo.get(execution_id)
    if row is None or not row.webhook_url:
        return None
    event = event or TERMINAL_EVENTS.get(row.status)
    if event is None:
        return None
    body = json.dumps(build_payload(row, services, event), separators=(",", ":"), ensure_ascii=False)
    delivery = services.webhooks.enqueue(
        execution_id=execution_id, event=event, url=row.webhook_url, payload=body)
    return delivery.id


JOB_EVENTS = {"completed": "job.completed", "failed": "job.failed"}


def job_payload(row: ExecutionRow, job_id: str, services: Services) -> dict[str, Any] | None:
    """The reference backend's per-job payload for a job that ended, or None while it runs."""
    job = next((j for j in row.jobs if j.job_id == job_id), None)
    if job is None or job.status not in JOB_EVENTS:
        return None
    result = None
    if job.status == "completed" and job.result and job.result.get("key"):
        facts = job.result
        result = {"url": services.store.url_for(facts["key"], expires_s=WEBHOOK_URL_TTL_S),
                  "type": facts.get("mediaType", "video"), "duration": facts.get("duration"),
                  "width": facts.get("width"), "height": facts.get("height"), "size": facts.get("size"),
                  "provider": facts.get("provider"), "model": facts.get("model")}
    return {"executionId": row.id, "jobId": job.job_id, "operation": job.operation, "status": job.status,
            "result": result, "error": job.error if job.status == "failed" else None,
            "completedAt": _iso(job.completed_at)}


def enqueue_job_event(services: Services, execution_id: str, job_id: str) -> str | None:
    """A job that asked for its own webhook (``params.sendJobWebhook``) ended: tell the execution's URL."""
    row = services.repo.get(execution_id)
    job = next((j for j in row.jobs if j.job_id == job_id), None) if row is not None else None
    if row is None or job is None or not row.webhook_url or (job.params or {}).get("sendJobWebhook") is not True:
        return None
    payload = job_payload(row, job_id, services)
    if payload is None:
        return None
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return services.webhooks.enqueue(execution_id=execution_id, event=JOB_EVENTS[job.status], url=row.webhook_url,
                                     payload=body).id
