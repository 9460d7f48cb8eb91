"""Executions: submit a plan, read its status, list executions."""

from __future__ import annotations

import logging
import re
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response

from api.deps import LaunchQueueDep, ServicesDep, TenantDep, db_read
from api.errors import ApiError
from api.presenters import execution_public, execution_summary, vendor_usage
from api.schemas import ErrorResponse, ExecutionAccepted, ExecutionPublic, ExecutionsPublic, ExecutionStatus
from vidassets.plan import PlanCreate
from vidassets.plan.models import EXECUTION_ID_PATTERN
from vidassets.providers.usage import PriceTable
from vidassets.runs.submit import SubmissionError, accept
from vidassets.services import Services
from vidassets.storage.models import ExecutionRow
from vidassets.storage.repo import ExecutionView
from vidassets.storage.vendor_jobs import VendorJobRepository, VendorUsage

log = logging.getLogger(__name__)
router = APIRouter(tags=["executions"])
# Ids that cannot exist are "not found" without a database round trip (and without ever
# handing the database a NUL or other bytes it refuses).
EXECUTION_ID = re.compile(EXECUTION_ID_PATTERN)

_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}, 413: {"model": ErrorResponse},
    422: {"model": ErrorResponse}, 503: {"model": ErrorResponse}}


@router.post("/api/execute", status_code=202, response_model=ExecutionAccepted, responses=_ERRORS,
             summary="Submit an execution plan")
async def submit_execution(
    body: PlanCreate,
    request: Request,
    response: Response,
    services: ServicesDep,
    launches: LaunchQueueDep,
    tenant: TenantDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255,
                                                  pattern=r"^[\x21-\x7e]+$")] = None,
) -> ExecutionAccepted:
    """Validate and durably commit the plan, answer 202, then launch its Dagster run."""
    raw = await request.body()
    from starlette.concurrency import run_in_threadpool

    try:
        accepted = await run_in_threadpool(accept, services, body, tenant_id=tenant, raw_body=raw,
                                           idempotency_key=idempotency_key)
    except SubmissionError as exc:
        raise ApiError(exc.status, exc.message, exc.code, exc.details) from exc
    row = accepted.row
    if accepted.created and not accepted.waiting_for:
        launches.submit(row.id)  # a variant waiting for its base is launched by the sensor later
    status_url = f"{services.settings.public_base_url}/api/execute/{row.id}/status"
    response.headers["Location"] = status_url
    return ExecutionAccepted(id=row.id, executionId=row.id, status=row.status, createdAt=row.created_at,
                             statusUrl=status_url)


def load_execution(services: Services, execution_id: str, tenant: str) -> ExecutionRow:
    row = services.repo.get(execution_id, tenant) if EXECUTION_ID.match(execution_id) else None
    if row is None:
        raise ApiError(404, f"execution {execution_id!r} not found", "not_found")
    return row


def status_rows(services: Services, execution_id: str, tenant: str) -> tuple[ExecutionView | None, list[VendorUsage]]:
    """An execution and its vendor jobs, in one database hop (the status path is the hottest)."""
    view = services.repo.view(execution_id, tenant)
    return view, vendor_usage(VendorJobRepository(services.repo.db_url), view) if view is not None else []


@router.get("/api/execute/{execution_id}/status", response_model=ExecutionPublic, responses=_ERRORS,
            summary="Status of an execution (what the SDK polls)")
async def execution_status(execution_id: str, services: ServicesDep, tenant: TenantDep) -> Response:
    view, vendor_jobs = await db_read(services, status_rows, services, execution_id, tenant) \
        if EXECUTION_ID.match(execution_id) else (None, [])
    if view is None:
        raise ApiError(404, f"execution {execution_id!r} not found", "not_found")
    prices = PriceTable(services.settings.vendor_prices) if vendor_jobs else None
    # Serialised once here (the response model above documents it) rather than validated twice.
    return Response(execution_public(view, services.store, vendor_jobs, prices).model_dump_json(),
                    media_type="application/json")


@router.get("/api/execute/{execution_id}", response_model=ExecutionPublic, responses=_ERRORS,
            summary="An execution (same body as its status)")
async def get_execution(execution_id: str, services: ServicesDep, tenant: TenantDep) -> Response:
    return await execution_status(execution_id, services, tenant)


@router.get("/api/executions", response_model=ExecutionsPublic, summary="List executions, newest first")
def list_executions(
    services: ServicesDep,
    tenant: TenantDep,
    status: Annotated[list[ExecutionStatus] | None, Query(description="Filter by status (repeatable)")] = None,
    cursor: Annotated[str | None, Query(pattern=EXECUTION_ID_PATTERN, description="nextCursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ExecutionsPublic:
    rows = services.repo.list(tenant_id=tenant, statuses=status or [], before=cursor, limit=limit + 1)
    page = rows[:limit]
    return ExecutionsPublic(data=[execution_summary(r) for r in page], count=len(page),
                            nextCursor=page[-1].id if len(rows) > limit else None)
