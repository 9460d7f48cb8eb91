"""FastAPI dependencies as Annotated aliases, so route signatures stay short.

They are ``async def`` because they do no blocking I/O: FastAPI runs a sync dependency in the
thread pool, and on the status path that hop per dependency cost more than the request itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from api.auth import authenticate
from vidassets.runs.launch import DagsterLauncher, LaunchQueue
from vidassets.services import Services
from vidassets.storage.db import is_sqlite
from vidassets.storage.keys import Principal

T = TypeVar("T")


async def db_read(services: Services, fn: Callable[..., T], *args: Any) -> T:
    """Run a short database read for an async route.

    On SQLite (a local file in WAL mode, where readers never wait for writers and a primary-key
    read takes a fraction of a millisecond) it runs inline: the thread hop, and 40 threads taking
    turns on the GIL under load, cost several times the read itself. On PostgreSQL (a network
    round trip that can stall) it runs in the thread pool, as before.
    """
    if is_sqlite(services.repo.db_url):
        return fn(*args)
    return await run_in_threadpool(fn, *args)


# Starlette's ``app.state`` is untyped: each read names the type main.py stored there.
async def get_app_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_launcher(request: Request) -> DagsterLauncher:
    launcher: DagsterLauncher = request.app.state.launcher
    return launcher


async def get_launch_queue(request: Request) -> LaunchQueue:
    queue: LaunchQueue = request.app.state.launch_queue
    return queue


async def get_tenant(principal: Principal = Depends(authenticate)) -> str:
    """The caller's tenant. Every execution query is scoped by it (another tenant's data is a 404)."""
    return principal.tenant_id


ServicesDep = Annotated[Services, Depends(get_app_services)]
LauncherDep = Annotated[DagsterLauncher, Depends(get_launcher)]
LaunchQueueDep = Annotated[LaunchQueue, Depends(get_launch_queue)]
TenantDep = Annotated[str, Depends(get_tenant)]
