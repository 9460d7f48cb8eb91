"""All reads and writes of executions and jobs: the one home for queries (API and executor alike).

Job rows are the checkpoints of a run: a job is marked ``processing`` before its work starts and
``completed`` with its artefact only after the artefact is stored, so a resumed or retried run
skips exactly the finished work.
"""

from __future__ import annotations

import builtins
import datetime as dt
import os
import secrets
import socket
import time
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session, selectinload

from vidassets.plan.models import Plan, PlanJob
from vidassets.plan.wire import DOCUMENTED, WireFormat
from vidassets.plan.wire import PLAN_KEY as WIRE_FORMAT_KEY
from vidassets.storage.db import get_engine, rowcount, session_scope
from vidassets.storage.models import ExecutionJobRow, ExecutionRow, utcnow
from vidassets.storage.status_log import RowState, execution_before, jobs_before, log_change, log_changes
from vidassets.storage.vendor_jobs import release_unconfirmed

TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})


# The status read, built once: constructing a select per call cost more than running it;
# executions of a prebuilt statement hit the compiled cache.
_EX, _JB = ExecutionRow.__table__, ExecutionJobRow.__table__
# Only what the status body shows (no params, secrets or webhook columns to decode).
_VIEW_HEAD = select(*(_EX.c[name] for name in (
    "id", "status", "plan", "result", "error", "error_code", "base_execution_id", "run_id", "created_at",
    "started_at", "completed_at"))).where(_EX.c.id == bindparam("execution_id"))
_VIEW_HEAD_OF_TENANT = _VIEW_HEAD.where(_EX.c.tenant_id == bindparam("tenant_id"))
_VIEW_JOBS = select(*(_JB.c[name] for name in (
    "job_id", "operation", "status", "progress", "depends_on", "attempts", "result", "error", "error_code",
    "started_at", "completed_at"))).where(_JB.c.execution_id == bindparam("execution_id")).order_by(_JB.c.position)


def new_execution_id() -> str:
    """Time-ordered id (48-bit ms + 80 random bits, hex): sortable, so it doubles as a list cursor."""
    return f"{int(time.time() * 1000):012x}{secrets.token_hex(10)}"


# How long a claim to launch an execution holds before the sensor may take it over.
LAUNCH_CLAIM_S = 60.0


@dataclass(frozen=True)
class ReusedJob:
    """A job satisfied by the base execution: its result is copied, pointing at the base."""

    job_id: str
    result: dict[str, Any]


class ExecutionRepository:
    def __init__(self, db_url: str):
        self.db_url = db_url

    def session(self) -> AbstractContextManager[Session]:
        return session_scope(self.db_url)

    # -- creation ---------------------------------------------------------------------------

    def create(
        self,
        *,
        execution_id: str,
        tenant_id: str,
        plan: Plan,
        base_execution_id: str | None = None,
        webhook_url: str | None = None,
        webhook_secret_enc: str | None = None,
        secrets_enc: str | None = None,
        idempotency_key: str | None = None,
        request_hash: str | None = None,
        reused: Sequence[ReusedJob] = (),
        wire_format: WireFormat = DOCUMENTED,
    ) -> ExecutionRow:
        reused_by_id = {r.job_id: r for r in reused}
        now = utcnow()
        row = ExecutionRow(
            id=execution_id, tenant_id=tenant_id, status="pending",
            # The wire format rides in the plan JSON: it decides how the status reads (plan/wire.py).
            plan={"jobs": [_job_json(j) for j in plan.jobs], "rootJobIds": list(plan.root_job_ids),
                  WIRE_FORMAT_KEY: wire_format,
                  # Only when asked for: plans stored before presets (and standard ones) read the same.
                  **({"renderPreset": plan.render_preset} if plan.render_preset != "standard" else {})},
            base_execution_id=base_execution_id, webhook_url=webhook_url,
            webhook_secret_enc=webhook_secret_enc, secrets_enc=secrets_enc,
            idempotency_key=idempotency_key, request_hash=request_hash,
            created_at=now, updated_at=now, launch_attempts=0,
        )
        for position, job in enumerate(plan.jobs):
            reuse = reused_by_id.get(job.id)
            row.jobs.append(ExecutionJobRow(
                job_id=job.id, position=position, operation=job.operation.value, kind=job.kind.value,
                params=dict(job.params), params_hash=job.params_hash, depends_on=list(job.depends_on),
                status="completed" if reuse else "pending", result=reuse.result if reuse else None,
                attempts=0, progress=1.0 if reuse else 0.0, updated_at=now,
                completed_at=now if reuse else None,
            ))
        with self.session() as s:
            s.add(row)
        log_change(RowState(execution_id, tenant_id, None), "pending")
        return row

    # -- reads ------------------------------------------------------------------------------

    def get(self, execution_id: str, tenant_id: str | None = None, *, with_jobs: bool = True) -> ExecutionRow | None:
        with self.session() as s:
            stmt = select(ExecutionRow).where(ExecutionRow.id == execution_id)
            if tenant_id is not None:
                stmt = stmt.where(ExecutionRow.tenant_id == tenant_id)
            if with_jobs:
                stmt = stmt.options(selectinload(ExecutionRow.jobs))
            return s.scalars(stmt).one_or_none()

    def view(self, execution_id: str, tenant_id: str | None = None) -> ExecutionView | None:
        """A read-only snapshot for status answers: two prebuilt Core queries on one connection, no
        ORM session or identity map (the status endpoint is the hottest path in the API)."""
        with get_engine(self.db_url).connect() as conn:
            if tenant_id is None:
                head = conn.execute(_VIEW_HEAD, {"execution_id": execution_id}).one_or_none()
            else:
                head = conn.execute(_VIEW_HEAD_OF_TENANT, {"execution_id": execution_id,
                                                           "tenant_id": tenant_id}).one_or_none()
            if head is None:
                return None
            jobs = conn.execute(_VIEW_JOBS, {"execution_id": execution_id}).all()
        return ExecutionView(**head._asdict(), jobs=jobs)

    def by_idempotency_key(self, tenant_id: str, key: str) -> ExecutionRow | None:
        with self.session() as s:
            return s.scalars(
                select(ExecutionRow).where(ExecutionRow.tenant_id == tenant_id, ExecutionRow.idempotency_key == key)
                .options(selectinload(ExecutionRow.jobs))
            ).one_or_none()

    def list(
        self, *, tenant_id: str, statuses: Sequence[str] = (), before: str | None = None, limit: int = 50
    ) -> builtins.list[ExecutionRow]:
        """Newest first; ``before`` is the cursor (an execution id, ids sort by creation time)."""
        with self.session() as s:
            stmt = select(ExecutionRow).where(ExecutionRow.tenant_id == tenant_id)
            if statuses:
                stmt = stmt.where(ExecutionRow.status.in_(list(statuses)))
            if before:
                stmt = stmt.where(ExecutionRow.id < before)
            stmt = stmt.order_by(ExecutionRow.id.desc()).limit(limit).options(selectinload(ExecutionRow.jobs))
            return list(s.scalars(stmt))

    def jobs(self, execution_id: str) -> builtins.list[ExecutionJobRow]:
        with self.session() as s:
            return list(s.scalars(select(ExecutionJobRow).where(ExecutionJobRow.execution_id == execution_id)
                                  .order_by(ExecutionJobRow.position)))

    def unlaunched(self, older_than_s: float, limit: int = 50) -> builtins.list[ExecutionRow]:
        """Committed but never launched (API died, Dagster down), and nobody holds a live claim
        to launch it: the reconciliation sensor's work."""
        now = utcnow()
        cutoff = now - dt.timedelta(seconds=older_than_s)
        claim_cutoff = now - dt.timedelta(seconds=LAUNCH_CLAIM_S)
        with self.session() as s:
            return list(s.scalars(
                select(ExecutionRow).where(
                    ExecutionRow.status == "pending", ExecutionRow.run_id.is_(None),
                    ExecutionRow.cancel_requested_at.is_(None), ExecutionRow.created_at < cutoff,
                    or_(ExecutionRow.launched_at.is_(None), ExecutionRow.launched_at < claim_cutoff),
                ).order_by(ExecutionRow.id).limit(limit)
            ))

    # -- launch bookkeeping ---------------------------------------------------------------

    def claim_launch(self, execution_id: str, *, stale_after_s: float | None = None) -> bool:
        """Take the right to launch this execution's run; False when it has a run already or
        someone else (the API's launch queue, the reconciliation sensor) claimed it less than
        ``stale_after_s`` ago. The API and the sensor both claim before launching, so a slow
        launch is never doubled by the sensor; a claim whose holder died expires."""
        cutoff = utcnow() - dt.timedelta(seconds=LAUNCH_CLAIM_S if stale_after_s is None else stale_after_s)
        with self.session() as s:
            claimed = s.execute(update(ExecutionRow).where(
                ExecutionRow.id == execution_id, ExecutionRow.run_id.is_(None), ExecutionRow.status == "pending",
                or_(ExecutionRow.launched_at.is_(None), ExecutionRow.launched_at < cutoff),
            ).values(launched_at=utcnow()))
            return bool(rowcount(claimed))

    def mark_launched(self, execution_id: str, run_id: str) -> None:
        """Record the run, unless the run worker has already claimed the execution with its own id."""
        with self.session() as s:
            s.execute(update(ExecutionRow).where(ExecutionRow.id == execution_id, ExecutionRow.run_id.is_(None))
                      .values(run_id=run_id, launched_at=utcnow(), launch_error=None,
                              launch_attempts=ExecutionRow.launch_attempts + 1))

    def mark_launch_failed(self, execution_id: str, error: str) -> None:
        """Record the error and give up the claim, so the sensor may launch it at once."""
        with self.session() as s:
            s.execute(update(ExecutionRow).where(ExecutionRow.id == execution_id)
                      .values(launch_error=error[:2000], launch_attempts=ExecutionRow.launch_attempts + 1))
            s.execute(update(ExecutionRow).where(ExecutionRow.id == execution_id, ExecutionRow.run_id.is_(None))
                      .values(launched_at=None))

    # -- run lifecycle (run worker) -------------------------------------------------------

    def start_run(self, execution_id: str, run_id: str) -> ExecutionRow:
        """The run worker claims the execution: status processing, run id recorded."""
        with self.session() as s:
            row = s.get(ExecutionRow, execution_id, options=[selectinload(ExecutionRow.jobs)])
            if row is None:
                raise LookupError(f"execution {execution_id} does not exist")
            row.run_id = run_id
            row.worker = f"{socket.gethostname()}:{os.getpid()}"
            before = RowState(execution_id, row.tenant_id, row.status)
            if row.status not in TERMINAL_STATUSES or row.status == "failed":
                row.status = "processing"
                row.error = None
                row.error_code = None
                row.completed_at = None
            row.started_at = row.started_at or utcnow()
            row.launched_at = row.launched_at or utcnow()
        log_changes([before], row.status, run_id=run_id)
        return row

    def finish(self, execution_id: str, status: str, *, error: str | None = None,
               error_code: str | None = None, result: dict[str, Any] | None = None) -> None:
        with self.session() as s:
            values: dict[str, Any] = {"status": status, "error": error, "error_code": error_code,
                                      "completed_at": utcnow()}
            if result is not None:
                values["result"] = result
            before = execution_before(s, execution_id)
            s.execute(update(ExecutionRow).where(ExecutionRow.id == execution_id).values(**values))
        log_changes([before], status, error_code=error_code, error=error)

    def apply_reused(self, execution_id: str, reused: Sequence[ReusedJob]) -> None:
        """Mark pending jobs done with results taken from a base execution (see ``create``)."""
        if not reused:
            return
        now = utcnow()
        with self.session() as s:
            before = jobs_before(s, execution_id, [j.job_id for j in reused], statuses=["pending"])
            for job in reused:
                s.execute(update(ExecutionJobRow).where(
                    ExecutionJobRow.execution_id == execution_id, ExecutionJobRow.job_id == job.job_id,
                    ExecutionJobRow.status == "pending",
                ).values(status="completed", result=job.result, progress=1.0, completed_at=now, updated_at=now))
        log_changes(before, "completed")

    def fail_if_active(self, execution_id: str, status: str, error: str, error_code: str) -> bool:
        """Terminal state from outside the run (run crashed, was cancelled): only if still active."""
        job_status = "cancelled" if status == "cancelled" else "failed"
        with self.session() as s:
            before = execution_before(s, execution_id)
            jobs = jobs_before(s, execution_id, statuses=["pending", "processing"])
            res = s.execute(update(ExecutionRow)
                            .where(ExecutionRow.id == execution_id,
                                   ExecutionRow.status.in_(["pending", "processing"]))
                            .values(status=status, error=error, error_code=error_code, completed_at=utcnow()))
            s.execute(update(ExecutionJobRow)
                      .where(ExecutionJobRow.execution_id == execution_id,
                             ExecutionJobRow.status.in_(["pending", "processing"]))
                      .values(status=job_status, error=error, error_code=error_code))
            changed = rowcount(res) > 0
        if changed:
            log_changes([before], status, error_code=error_code, error=error)
            log_changes(jobs, job_status, error_code=error_code, error=error)
        return changed

    def prepare_retry(self, execution_id: str) -> builtins.list[str]:
        """Failed/cancelled jobs back to pending and the execution back to pending with no run,
        so it is launched again; completed jobs keep their artefacts and are not redone."""
        with self.session() as s:
            row = s.get(ExecutionRow, execution_id, options=[selectinload(ExecutionRow.jobs)])
            if row is None:
                raise LookupError(execution_id)
            again = [j.job_id for j in row.jobs if j.status in ("failed", "cancelled")]
            before = [RowState(execution_id, row.tenant_id, row.status)] + [
                RowState(execution_id, row.tenant_id, j.status, j.job_id, j.operation) for j in row.jobs
                if j.job_id in again]
            release_unconfirmed(s, execution_id, again)  # a deliberate retry may create vendor jobs anew
            for job in row.jobs:
                if job.job_id in again:
                    job.status, job.error, job.error_code, job.progress = "pending", None, None, 0.0
                    job.completed_at = None
            row.status, row.error, row.error_code, row.completed_at = "pending", None, None, None
            row.run_id, row.launched_at, row.cancel_requested_at = None, None, None
        log_changes(before, "pending")
        return again

    def request_cancel(self, execution_id: str) -> None:
        with self.session() as s:
            s.execute(update(ExecutionRow).where(ExecutionRow.id == execution_id)
                      .values(cancel_requested_at=utcnow()))

    def cancel_requested(self, execution_id: str) -> bool:
        with self.session() as s:
            return s.scalar(select(ExecutionRow.cancel_requested_at).where(ExecutionRow.id == execution_id)) is not None

    # -- job checkpoints ------------------------------------------------------------------

    def job_started(self, execution_id: str, job_id: str, run_id: str | None) -> None:
        with self.session() as s:
            before = jobs_before(s, execution_id, [job_id])
            s.execute(update(ExecutionJobRow)
                      .where(ExecutionJobRow.execution_id == execution_id, ExecutionJobRow.job_id == job_id)
                      .values(status="processing", run_id=run_id, started_at=utcnow(), completed_at=None,
                              error=None, error_code=None, progress=0.0,
                              attempts=ExecutionJobRow.attempts + 1))
        log_changes(before, "processing", run_id=run_id)

    def job_progress(self, execution_id: str, job_id: str, progress: float) -> None:
        with self.session() as s:
            s.execute(update(ExecutionJobRow)
                      .where(ExecutionJobRow.execution_id == execution_id, ExecutionJobRow.job_id == job_id,
                             ExecutionJobRow.status == "processing")
                      .values(progress=max(0.0, min(1.0, progress))))

    def job_completed(self, execution_id: str, job_id: str, result: dict[str, Any]) -> None:
        with self.session() as s:
            before = jobs_before(s, execution_id, [job_id])
            s.execute(update(ExecutionJobRow)
                      .where(ExecutionJobRow.execution_id == execution_id, ExecutionJobRow.job_id == job_id)
                      .values(status="completed", result=result, progress=1.0, completed_at=utcnow(),
                              error=None, error_code=None, elapsed_s=result.get("elapsedS"),
                              provider=result.get("provider"), cache_hit=bool(result.get("cacheHit"))))
        log_changes(before, "completed")

    def job_result(self, execution_id: str, job_id: str, result: dict[str, Any]) -> None:
        """Replace a completed job's stored result, leaving its status and times alone (the
        executor stamps a fused job's input digests once its input jobs have landed)."""
        with self.session() as s:
            s.execute(update(ExecutionJobRow)
                      .where(ExecutionJobRow.execution_id == execution_id, ExecutionJobRow.job_id == job_id)
                      .values(result=result))

    def job_failed(self, execution_id: str, job_id: str, *, status: str, error: str, error_code: str) -> None:
        with self.session() as s:
            before = jobs_before(s, execution_id, [job_id])
            s.execute(update(ExecutionJobRow)
                      .where(ExecutionJobRow.execution_id == execution_id, ExecutionJobRow.job_id == job_id)
                      .values(status=status, error=error[:4000], error_code=error_code, completed_at=utcnow()))
        log_changes(before, status, error_code=error_code, error=error)

    def reset_jobs(self, execution_id: str, job_ids: Iterable[str]) -> None:
        """Make jobs runnable again (retry): back to pending, result kept until replaced."""
        ids = list(job_ids)
        if not ids:
            return
        with self.session() as s:
            before = jobs_before(s, execution_id, ids)
            s.execute(update(ExecutionJobRow)
                      .where(ExecutionJobRow.execution_id == execution_id, ExecutionJobRow.job_id.in_(ids))
                      .values(status="pending", error=None, error_code=None, progress=0.0, completed_at=None))
        log_changes(before, "pending")


class JobView(Protocol):
    """The job columns a status answer reads (``_VIEW_JOBS``): an ORM job row, or a row of that query."""

    @property
    def job_id(self) -> str: ...
    @property
    def operation(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def progress(self) -> float: ...
    @property
    def depends_on(self) -> builtins.list[str]: ...
    @property
    def attempts(self) -> int: ...
    @property
    def result(self) -> dict[str, Any] | None: ...
    @property
    def error(self) -> str | None: ...
    @property
    def error_code(self) -> str | None: ...
    @property
    def started_at(self) -> dt.datetime | None: ...
    @property
    def completed_at(self) -> dt.datetime | None: ...


class ExecutionView:
    """Attribute access to an execution row and its job rows, like the ORM objects presenters use."""

    # The columns of ``_VIEW_HEAD``, typed as on ExecutionRow.
    id: str
    status: str
    plan: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    error_code: str | None
    base_execution_id: str | None
    run_id: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    completed_at: dt.datetime | None

    def __init__(self, jobs: Sequence[JobView], **columns: Any):
        self.__dict__.update(columns)
        self.jobs = list(jobs)


def _job_json(job: PlanJob) -> dict[str, Any]:
    return {"id": job.id, "operation": job.operation.value, "params": dict(job.params),
            "dependsOn": list(job.depends_on)}
