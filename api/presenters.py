"""Rows → API payloads. URLs are minted at read time (presigned URLs expire).

Statuses are reported in the vocabulary of the wire format the execution was submitted in
(:mod:`vidassets.plan.wire`): the TypeScript SDK's format has no ``cancelled``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from api.schemas import ExecutionPublic, ExecutionResult, ExecutionSummary, JobPublic, UsageTotals, VendorJobUsage
from vidassets.plan.vendor_inputs import VENDORS
from vidassets.plan.wire import reported, wire_format_of
from vidassets.providers.usage import PriceTable
from vidassets.storage.artefacts import ArtefactStore
from vidassets.storage.models import ExecutionRow
from vidassets.storage.repo import ExecutionView, JobView
from vidassets.storage.vendor_jobs import SUCCEEDED, VendorJobRepository, VendorUsage

_PUBLIC_RESULT_KEYS = ("duration", "width", "height", "fps", "hasAudio", "aspectRatio", "size", "digest",
                       "provider", "model", "details", "reusedFrom", "cacheHit", "cachedFrom", "elapsedS",
                       "checks", "rendererVersion", "mediaType", "sampleRate", "channels", "loudnessLufs")


def job_result(job: JobView, store: ArtefactStore) -> dict[str, Any] | None:
    if not job.result or not job.result.get("key"):
        return None
    out = {k: job.result[k] for k in _PUBLIC_RESULT_KEYS if k in job.result}
    out["url"] = store.url_for(job.result["key"])
    if job.result.get("sheetKey"):
        out["previewUrl"] = store.url_for(job.result["sheetKey"])
    out["operation"] = job.operation
    return out


#: Operations that may call a paid vendor (generate, lip sync, captions from a transcriber, and
#: today's SDK's images, speech and background removal).
VENDOR_OPERATIONS = frozenset({"generate", "lipSync", "addSubtitles", "generateImage", "generateAudio",
                               "removeBackground", "removeImageBackground"})


def may_have_vendor_jobs(job: JobView) -> bool:
    """Whether a job may have vendor jobs in the ledger, from what the status answer already read:
    a vendor operation that started and has no result yet (in flight, failed), or whose result
    came from a vendor (its provider, or its transcriber for captions). A pending job, or one a
    local renderer finished, has none, so polling such an execution costs no extra query."""
    if job.operation not in VENDOR_OPERATIONS or job.status == "pending":
        return False
    result = job.result
    if not result:
        return True
    details = result.get("details") or {}
    return result.get("provider") in VENDORS or (isinstance(details, dict) and details.get("transcriber") in VENDORS)


def vendor_usage(repo: VendorJobRepository, row: ExecutionRow | ExecutionView) -> list[VendorUsage]:
    """The execution's vendor jobs; no database read for a plan that cannot have any."""
    if not any(may_have_vendor_jobs(j) for j in row.jobs):
        return []
    return repo.usage_of_execution(row.id)


def usage_public(rows: Sequence[VendorUsage], prices: PriceTable) -> tuple[dict[str, list[VendorJobUsage]],
                                                                            UsageTotals | None]:
    """Vendor jobs per plan job, and the execution's totals (None without vendor jobs). A job that
    billed but has no price (or reported no usage for a per-second price) has no cost: counted
    as unpriced, never estimated."""
    per_job: dict[str, list[VendorJobUsage]] = {}
    seconds, cost, priced, unpriced = 0.0, 0.0, 0, 0
    for r in rows:
        billed = r.status == SUCCEEDED or r.billed_seconds is not None
        job_cost = prices.cost(r.vendor, r.model, r.billed_seconds) if billed else None
        if billed and job_cost is None:
            unpriced += 1
        elif job_cost is not None:
            priced, cost = priced + 1, cost + job_cost
        seconds += r.billed_seconds or 0.0
        per_job.setdefault(r.job_id, []).append(VendorJobUsage.model_construct(
            vendor=r.vendor, model=r.model, status=r.status, attempt=r.vendor_attempt, billedSeconds=r.billed_seconds,
            costUsd=job_cost, usage=dict(r.usage) if r.usage else None))
    if not rows:
        return per_job, None
    return per_job, UsageTotals.model_construct(vendorJobs=len(rows), billedSeconds=round(seconds, 6),
                                                costUsd=round(cost, 6) if priced else None, unpricedJobs=unpriced)


def execution_public(row: ExecutionRow | ExecutionView, store: ArtefactStore,
                     vendor_jobs: Sequence[VendorUsage] = (), prices: PriceTable | None = None) -> ExecutionPublic:
    jobs: list[JobView] = list(row.jobs)
    per_job, usage = usage_public(vendor_jobs, prices or PriceTable())
    wire = wire_format_of(row.plan)
    head = reported(wire, row.status, row.error, row.error_code)
    job_states = {j.job_id: reported(wire, j.status, j.error, j.error_code) for j in jobs}
    total = len(jobs)
    completed = sum(1 for j in jobs if j.status == "completed")
    failed = sum(1 for state in job_states.values() if state.status == "failed")
    running = [j for j in jobs if j.status == "processing"]
    if row.status == "completed":
        progress = 100.0
    else:
        partial = sum(min(max(j.progress or 0.0, 0.0), 1.0) for j in running)
        progress = round(100.0 * (completed + partial) / total, 1) if total else 0.0
        progress = min(progress, 99.0) if row.status in ("pending", "processing") else progress
    results = {j.job_id: job_result(j, store) for j in jobs}
    outputs = {jid: res for jid, res in results.items() if res}
    result = None
    if outputs:
        final_id = (row.result or {}).get("jobId") or next(
            (r for r in (row.plan.get("rootJobIds") or []) if r in outputs), None)
        final = outputs.get(final_id) if final_id else None
        result = ExecutionResult.model_construct(
            url=final["url"] if final else None, jobId=final_id if final else None, outputs=outputs,
            aspectRatio=final.get("aspectRatio") if final else None,
            duration=final.get("duration") if final else None,
            type=final.get("mediaType", "video") if final else None,
            format=_format(final["url"]) if final else None,
            size=final.get("size") if final else None,
        )
    # model_construct: every field is given and comes from our own rows, so validation would only
    # re-check what the database guarantees (it was a fifth of a status request's time).
    return ExecutionPublic.model_construct(
        id=row.id, executionId=row.id, status=head.status,  # type: ignore[arg-type]
        jobs=[JobPublic.model_construct(
            id=j.job_id, operation=j.operation, status=job_states[j.job_id].status,  # type: ignore[arg-type]
            progress=round(100.0 * (j.progress or 0.0), 1), dependsOn=list(j.depends_on or []), attempts=j.attempts,
            result=results[j.job_id], error=job_states[j.job_id].error, errorCode=job_states[j.job_id].error_code,
            startedAt=j.started_at, completedAt=j.completed_at, vendorJobs=per_job.get(j.job_id, []),
        ) for j in jobs],
        progress=progress, totalJobs=total, completedJobs=completed, failedJobs=failed,
        currentJob=running[0].job_id if running else None, result=result,
        error=head.error, errorCode=head.error_code, baseExecutionId=row.base_execution_id, runId=row.run_id,
        createdAt=row.created_at, startedAt=row.started_at, completedAt=row.completed_at, usage=usage,
        landing=landing(row),
    )


def _format(url: str) -> str | None:
    """The file format of a result (``mp4``, ``png``, ``mp3``...) from its key's suffix."""
    path = url.split("?", 1)[0].rsplit("/", 1)[-1]
    return path.rsplit(".", 1)[-1].lower() if "." in path else None


def landing(row: ExecutionRow | ExecutionView) -> list[str]:
    """Intermediates still rendering after the result landed (it is ``completed`` already)."""
    if row.status != "completed":
        return []
    return [j.job_id for j in row.jobs if j.status in ("pending", "processing")]


def execution_summary(row: ExecutionRow) -> ExecutionSummary:
    jobs = list(row.jobs)
    return ExecutionSummary(
        id=row.id, status=row.status, totalJobs=len(jobs),
        completedJobs=sum(1 for j in jobs if j.status == "completed"), baseExecutionId=row.base_execution_id,
        error=row.error, createdAt=row.created_at, completedAt=row.completed_at,
    )
