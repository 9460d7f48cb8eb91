"""Accepting an execution: validate, resolve the base execution, commit durably.

Called by ``POST /api/execute`` (and by the demo and tests). Launching the run is a separate
step (:mod:`vidassets.runs.launch`), so acceptance never depends on Dagster being up.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from vidassets.plan import Plan, PlanCreate, PlanJob, Submission, normalize_request
from vidassets.plan.dag import topological_order
from vidassets.plan.operations import Operation
from vidassets.plan.wire import SDK
from vidassets.services import Services
from vidassets.storage.models import ExecutionRow, utcnow
from vidassets.storage.repo import ReusedJob, new_execution_id


class SubmissionError(Exception):
    def __init__(self, status: int, message: str, code: str, details: Any = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.details = details


@dataclass(frozen=True)
class Accepted:
    row: ExecutionRow
    created: bool  # False when an Idempotency-Key replay returned the earlier execution
    # The base execution this one waits for (the SDK's variants may be sent before their base
    # finishes): it is launched by the reconciliation sensor once the base completes.
    waiting_for: str | None = None


ACTIVE = ("pending", "processing")


def request_hash(raw_body: bytes) -> str:
    return hashlib.sha256(raw_body).hexdigest()


def accept(
    services: Services,
    body: PlanCreate,
    *,
    tenant_id: str,
    raw_body: bytes = b"",
    idempotency_key: str | None = None,
) -> Accepted:
    repo = services.repo
    digest = request_hash(raw_body) if raw_body else None
    if idempotency_key:
        earlier = repo.by_idempotency_key(tenant_id, idempotency_key)
        if earlier is not None:
            return _replay(earlier, digest)

    base = None
    base_id = body.base_execution_id
    if base_id:
        base = repo.get(base_id, tenant_id)
        if base is None:
            raise SubmissionError(404, f"base execution {base_id!r} not found", "base_not_found",
                                  {"field": "baseExecutionId"})
    s = services.settings
    # services.policy is the SSRF guard built from the settings (allow_private_urls, url_allowlist):
    # literal private addresses in URLs are refused at submit when the guard is on.
    submission = normalize_request(body, max_jobs=s.max_jobs, max_text_chars=s.max_text_chars,
                                   max_duration_s=s.max_duration_s, url_policy=services.policy,
                                   external_job_ids=[j.job_id for j in base.jobs] if base else (),
                                   base_output_job=base_output_job(base) if base else None)
    waits = _waits_for(base, submission, s.media_timeout_s)
    plan, reused = _reuse_from_base(submission, base)
    secrets: dict[str, Any] = {}
    if submission.provider_keys:
        secrets["providers"] = dict(submission.provider_keys)
    if submission.job_keys:
        secrets["jobs"] = dict(submission.job_keys)
    webhook = submission.webhook
    execution_id = new_execution_id()
    try:
        row = repo.create(
            execution_id=execution_id, tenant_id=tenant_id, plan=plan,
            base_execution_id=base_id, webhook_url=webhook.url if webhook else None,
            webhook_secret_enc=services.box.seal(webhook.secret) if webhook and webhook.secret else None,
            secrets_enc=services.box.seal(secrets) if secrets else None,
            idempotency_key=idempotency_key, request_hash=digest, reused=reused,
            wire_format=submission.wire_format,
        )
    except IntegrityError:
        # Two requests with the same Idempotency-Key raced; the other one won.
        if idempotency_key:
            earlier = repo.by_idempotency_key(tenant_id, idempotency_key)
            if earlier is not None:
                return _replay(earlier, digest)
        raise
    return Accepted(row=row, created=True, waiting_for=base_id if waits else None)


def _waits_for(base: ExecutionRow | None, submission: Submission, max_landing_s: float) -> bool:
    """Whether a variant waits for its base before it may launch."""
    if base is None:
        return False
    if base.status != "completed" and not (submission.wire_format == SDK and base.status in ACTIVE):
        # The SDK's contract: its variants wait for a running base (EXECUTION.md). Documented-
        # format clients, and any client whose base already failed, get the clear 409.
        raise SubmissionError(409, f"base execution {base.id!r} is {base.status}, not completed",
                              "base_not_completed", {"field": "baseExecutionId", "status": base.status})
    # A base whose result landed while its intermediates still render (docs/PLANS.md, "Rendering")
    # is waited for too, so the variant adopts those intermediates instead of rendering them again.
    return base.status != "completed" or still_landing(base, max_landing_s)


def still_landing(base: ExecutionRow, max_s: float) -> bool:
    """The base's result landed and intermediates still render — for at most ``max_s`` after it
    landed (a run that died meanwhile must not keep its variants waiting for ever)."""
    if base.status != "completed" or not any(j.status in ACTIVE for j in base.jobs):
        return False
    return base.completed_at is None or (utcnow() - base.completed_at).total_seconds() < max_s


def base_output_job(base: ExecutionRow) -> str | None:
    """The base's final job: its result's job, or (still running) its first root."""
    roots = (base.plan or {}).get("rootJobIds") or []
    return (base.result or {}).get("jobId") or (roots[0] if roots else None)


def adopt_base_outputs(services: Services, variant: ExecutionRow, base: ExecutionRow) -> list[str]:
    """Once a base that a variant waited for has completed, its matching jobs become the
    variant's (same rule as at submit: same ID, same params, every input reused). Returns the
    job IDs adopted; the executor then runs only the rest."""
    base_jobs = {j.job_id: j for j in base.jobs}
    jobs = {j.job_id: j for j in variant.jobs}
    reused = {jid for jid, j in jobs.items() if j.status == "completed" and (j.result or {}).get("reusedFrom")}
    adopted: list[ReusedJob] = []
    for jid in topological_order({j.job_id: tuple(j.depends_on) for j in variant.jobs}):
        job, b = jobs[jid], base_jobs.get(jid)
        if jid in reused or job.status != "pending" or b is None or b.status != "completed" or not b.result:
            continue
        if b.params_hash == job.params_hash and all(d in reused for d in job.depends_on):
            result = dict(b.result)
            result["originExecutionId"] = result.get("originExecutionId") or result.get("reusedFrom") or base.id
            result["reusedFrom"] = base.id
            adopted.append(ReusedJob(jid, result))
            reused.add(jid)
    services.repo.apply_reused(variant.id, adopted)
    return [r.job_id for r in adopted]


def _replay(earlier: ExecutionRow, digest: str | None) -> Accepted:
    if digest and earlier.request_hash and earlier.request_hash != digest:
        raise SubmissionError(409, "Idempotency-Key was already used with a different request body",
                              "idempotency_conflict", {"executionId": earlier.id})
    return Accepted(row=earlier, created=False)


def _reuse_from_base(submission: Submission, base: ExecutionRow | None) -> tuple[Plan, list[ReusedJob]]:
    """Jobs identical to the base's (same ID, same params, all inputs reused) are not run again.

    Dependencies that only exist in the base are copied in as reused jobs so the executor finds
    their artefacts. Reused results keep the base's key and digest (same data version) and name
    the base in ``reusedFrom`` — the lineage link the UI and API show.
    """
    plan = submission.plan
    if base is None:
        return plan, []
    base_jobs = {j.job_id: j for j in base.jobs}
    own = {j.id for j in plan.jobs}
    imported: list[PlanJob] = []
    for job in plan.jobs:
        for dep in job.depends_on:
            if dep not in own and dep in base_jobs and dep not in {j.id for j in imported}:
                base_job = base_jobs[dep]
                imported.append(PlanJob(id=base_job.job_id, operation=Operation(base_job.operation),
                                        params=dict(base_job.params), depends_on=()))
    jobs = imported + list(plan.jobs)
    edges = {j.id: j.depends_on for j in jobs}
    by_id = {j.id: j for j in jobs}
    reused: dict[str, ReusedJob] = {}
    for jid in topological_order(edges):
        job = by_id[jid]
        b = base_jobs.get(jid)
        if b is None or b.status != "completed" or not b.result:
            continue
        same = jid in {j.id for j in imported} or b.params_hash == job.params_hash
        if same and all(d in reused for d in job.depends_on):
            result = dict(b.result)
            result["originExecutionId"] = result.get("originExecutionId") or result.get("reusedFrom") or base.id
            result["reusedFrom"] = base.id
            reused[jid] = ReusedJob(jid, result)
    return Plan(jobs=tuple(jobs), root_job_ids=plan.root_job_ids, render_preset=plan.render_preset), list(reused.values())
