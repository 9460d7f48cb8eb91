"""Re-render stale outputs of the caller's executions (the API twin of ``vidassets rerender``)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from api.deps import LauncherDep, ServicesDep, TenantDep
from api.errors import ApiError
from api.schemas import ErrorResponse, RerenderAccepted, RerenderRequest
from vidassets.plan.operations import AssetKind
from vidassets.runs.launch import LaunchError
from vidassets.runs.rerender import launch_rerender, parse_since, plan_rerender

router = APIRouter(tags=["rerender"])


@router.post("/api/rerender", response_model=RerenderAccepted, status_code=202,
             responses={503: {"model": ErrorResponse}}, summary="Re-render stale outputs as a backfill")
async def rerender(body: RerenderRequest, services: ServicesDep, launcher: LauncherDep,
                   tenant: TenantDep) -> RerenderAccepted:
    try:
        window = parse_since(body.since)
    except ValueError as exc:
        raise ApiError(422, str(exc), "validation_error", [{"field": "since", "message": str(exc)}]) from exc
    plan = await run_in_threadpool(plan_rerender, services.settings.resolved_database_url,
                                   [AssetKind(k) for k in body.kinds], window, tenant_id=tenant)
    backfills: list[str] = []
    if plan.partitions and not body.dryRun:
        try:
            backfills = await run_in_threadpool(launch_rerender, launcher, plan, origin="api")
        except LaunchError as exc:
            raise ApiError(503, f"Dagster is unavailable: {exc}", "dependency_unavailable",
                           {"dependency": "dagster"}) from exc
    return RerenderAccepted(executions=plan.partition_keys, kinds=plan.kinds, backfills=backfills,
                            reasons={f"{e}/{j}": r for (e, j), r in sorted(plan.reasons.items())})
