"""FastAPI dependencies as Annotated aliases, so route signatures stay short.

They are ``async def`` because they do no blocking I/O: FastAPI runs a sync dependency in the
thread pool, and on the status path that hop per dependency cost more than the request itself.
"""

from __future__ import annotations

from typing import Annotated, Any, Callable, TypeVar

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from api.auth import authenticate
from vidassets.launcher import DagsterLauncher, LaunchQueue
from vidassets.storage.keys import Principal
from vidassets.services import Services
from vidassets.settings import Settings
from vidassets.storage.db import is_sqlite


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


async def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_app_services(request: Request) -> Services:
    return request.app.state.services


async def get_launcher(request: Request) -> DagsterLauncher:
    return request.app.state.launcher


async def get_launch_queue(request: Request) -> LaunchQueue:
    return request.app.state.launch_queue


async def get_tenant(principal: Principal = Depends(authenticate)) -> str:
    """The caller's tenant. Every execution query is scoped by it (another tenant's data is a 404)."""
    return principal.tenant_id


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
ServicesDep = Annotated[Services, Depends(get_app_services)]
LauncherDep = Annotated[DagsterLauncher, Depends(get_launcher)]
LaunchQueueDep = Annotated[LaunchQueue, Depends(get_launch_queue)]
TenantDep = Annotated[str, Depends(get_tenant)]
