"""A log line for every status change of an execution or a job, written where the change is.

The repository methods that change a status read the rows' current status (and what a line
names: tenant, operation) in the same transaction, on PostgreSQL under a row lock so that the old
status is exact, and log after the commit: one line per row whose status changed, never for a
write that was rolled back. Whatever path changes a status (run worker, API action, sensor),
it is logged, and by the same code.

A job that fails while an exception is being handled (the job runner records the failure inside
its ``except``) carries that exception's stack in ``exc``. docs/OPERATIONS.md lists the fields.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from vidassets.storage.models import ExecutionJobRow, ExecutionRow

log = logging.getLogger("vidassets.status")

MAX_ERROR_CHARS = 1000


@dataclass(frozen=True)
class RowState:
    """A row's status before a write, with what its log line names."""

    execution_id: str
    tenant_id: str
    status: str | None  # None: the row is being created
    job_id: str | None = None  # None: the execution itself
    operation: str | None = None


def execution_before(session: Session, execution_id: str) -> RowState | None:
    row = session.execute(select(ExecutionRow.status, ExecutionRow.tenant_id)
                          .where(ExecutionRow.id == execution_id).with_for_update()).one_or_none()
    return RowState(execution_id, row.tenant_id, row.status) if row is not None else None


def jobs_before(session: Session, execution_id: str, job_ids: Collection[str] | None = None,
                statuses: Collection[str] | None = None) -> list[RowState]:
    """The jobs a write is about to change (all of the execution's when ``job_ids`` is None)."""
    stmt = (select(ExecutionJobRow.job_id, ExecutionJobRow.status, ExecutionJobRow.operation, ExecutionRow.tenant_id)
            .join(ExecutionRow, ExecutionRow.id == ExecutionJobRow.execution_id)
            .where(ExecutionJobRow.execution_id == execution_id).order_by(ExecutionJobRow.position)
            .with_for_update(of=ExecutionJobRow))
    if job_ids is not None:
        stmt = stmt.where(ExecutionJobRow.job_id.in_(list(job_ids)))
    if statuses is not None:
        stmt = stmt.where(ExecutionJobRow.status.in_(list(statuses)))
    return [RowState(execution_id, r.tenant_id, r.status, r.job_id, r.operation) for r in session.execute(stmt)]


def log_changes(states: Iterable[RowState | None], new_status: str, *, error_code: str | None = None,
                error: str | None = None, run_id: str | None = None) -> None:
    """One line per row whose status is now ``new_status`` and was something else."""
    for state in states:
        if state is not None and state.status != new_status:
            log_change(state, new_status, error_code=error_code, error=error, run_id=run_id)


def log_change(state: RowState, new_status: str, *, error_code: str | None = None, error: str | None = None,
               run_id: str | None = None) -> None:
    level = {"failed": logging.ERROR, "cancelled": logging.WARNING}.get(new_status, logging.INFO)
    if not log.isEnabledFor(level):
        return
    entity = "execution" if state.job_id is None else "job"
    fields = {"event": f"{entity}.status", "execution_id": state.execution_id, "job_id": state.job_id,
              "operation": state.operation, "tenant_id": state.tenant_id, "old_status": state.status,
              "new_status": new_status, "error_code": error_code,
              "error": error[:MAX_ERROR_CHARS] if error else None, "run_id": run_id}
    name = state.execution_id if state.job_id is None else f"{state.execution_id}/{state.job_id}"
    # The stack of the failure being handled, when there is one: the job runner records a failed
    # job from inside its ``except``. A cancellation or a skipped job has none.
    exc_info = sys.exc_info() if new_status == "failed" and state.job_id is not None else None
    log.log(level, "%s %s: %s -> %s%s", entity, name, state.status or "(new)", new_status,
            f" ({error_code})" if error_code else "",
            exc_info=exc_info if exc_info and exc_info[0] is not None else None,
            extra={"fields": {k: v for k, v in fields.items() if v is not None}})
