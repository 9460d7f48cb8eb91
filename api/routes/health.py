"""Liveness and readiness."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import LauncherDep, ServicesDep
from vidassets.limits.rate import redis_client
from vidassets.storage.db import ping

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness: the process answers")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready", summary="Readiness: database, Redis, object store and Dagster reachable")
def ready(services: ServicesDep, launcher: LauncherDep) -> JSONResponse:
    checks: dict[str, dict[str, str]] = {}
    probes: list[tuple[str, Callable[[], object]]] = [("database", lambda: ping(services.settings.resolved_database_url)),
              ("objectStore", services.store.check),
              ("dagster", launcher.ping)]
    redis_url = services.settings.redis_url
    if redis_url:
        probes.append(("redis", lambda: redis_client(redis_url).ping()))
    for name, probe in probes:
        try:
            probe()
            checks[name] = {"status": "ok"}
        except Exception as exc:  # noqa: BLE001 - every failure is a reason to report
            checks[name] = {"status": "down", "reason": f"{exc.__class__.__name__}: {str(exc)[:200]}"}
    ok = all(c["status"] == "ok" for c in checks.values())
    return JSONResponse({"status": "ready" if ok else "not_ready", "checks": checks}, status_code=200 if ok else 503)
