"""An execution's Dagster partition: is it there, and bring it back when the retention window
removed it (the API twin of ``vidassets restore``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from api.deps import LauncherDep, ServicesDep, TenantDep
from api.errors import ApiError
from api.routes.executions import load_execution
from api.schemas import ErrorResponse, PartitionPublic
from vidassets.runs.launch import LaunchError
from vidassets.runs.restore import restore
from vidassets.storage.partition_repo import PartitionRepository, PartitionState

router = APIRouter(tags=["executions"])
_ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": ErrorResponse}, 503: {"model": ErrorResponse}}


def _public(state: PartitionState, *, restored: bool = False) -> PartitionPublic:
    return PartitionPublic(id=state.execution_id, inDagster=state.live, partitionAt=state.partition_at,
                           archivedAt=state.archived_at, restored=restored)


def _state(services: ServicesDep, execution_id: str, tenant: str) -> PartitionState:
    load_execution(services, execution_id, tenant)  # 404 unless it is the caller's
    state = PartitionRepository(services.settings.resolved_database_url).state(execution_id, tenant)
    if state is None:  # deleted in between
        raise ApiError(404, f"execution {execution_id!r} not found", "not_found")
    return state


@router.get("/api/execute/{execution_id}/partition", response_model=PartitionPublic, responses=_ERRORS,
            summary="Whether the execution is a partition in Dagster or archived")
def partition_state(execution_id: str, services: ServicesDep, tenant: TenantDep) -> PartitionPublic:
    return _public(_state(services, execution_id, tenant))


@router.post("/api/execute/{execution_id}/restore", response_model=PartitionPublic, responses=_ERRORS,
             summary="Bring an archived execution back as a Dagster partition")
async def restore_partition(execution_id: str, services: ServicesDep, launcher: LauncherDep,
                            tenant: TenantDep) -> PartitionPublic:
    """Adds the execution's partition again (its materialisation history shows in the UI once
    more) and restarts its time in the retention window. Idempotent: a live execution is
    answered as it is, with its time in the window restarted."""
    await run_in_threadpool(_state, services, execution_id, tenant)
    try:
        done = await run_in_threadpool(restore, launcher, [execution_id])
    except LaunchError as exc:
        raise ApiError(503, f"Dagster is unavailable: {exc}", "dependency_unavailable",
                       {"dependency": "dagster"}) from exc
    state = await run_in_threadpool(_state, services, execution_id, tenant)
    return _public(state, restored=execution_id in done.were_archived)
