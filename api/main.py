"""The FastAPI front door: ``create_app()`` builds the app; ``app`` is what uvicorn serves."""

from __future__ import annotations

import gc
import logging

from fastapi import FastAPI, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.auth import KeyVerifier
from api.errors import install_error_handlers
from api.metrics import ApiMetrics
from api.middleware import BodySizeLimit, RequestContext
from api.routes import actions, artefacts, executions, health, partitions, rerender, vendor_webhooks
from vidassets.limits.rate import make_limiter
from vidassets.logs import configure_logging
from vidassets.runs.launch import DagsterLauncher, LaunchQueue
from vidassets.services import build_services
from vidassets.settings import Settings, get_settings
from vidassets.storage.keys import ApiKeyRepository
from vidassets.storage.partition_repo import PartitionRepository

log = logging.getLogger(__name__)


def _operation_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, json_lines=settings.log_format == "json")
    app = FastAPI(
        title="vidassets",
        version="0.1.0",
        description="Submit AI video execution plans; they run as Dagster assets partitioned by execution. "
                    "Authenticate with `Authorization: Bearer <API key>` (create keys with `vidassets keys create`). "
                    "Plans may use the operations in any order; `addSubtitles` without text captions the video's "
                    "own speech. Every operation, parameter and limit, and how requests in the TypeScript SDK's "
                    "wire format are answered, is in [PLANS.md](PLANS.md).",
        generate_unique_id_function=_operation_id,
    )
    services = build_services(settings)
    app.state.settings = settings
    app.state.services = services
    app.state.launcher = DagsterLauncher(settings)
    app.state.launch_queue = LaunchQueue(app.state.launcher, services.repo.mark_launched, services.repo.mark_launch_failed,
                                         claim=services.repo.claim_launch,
                                         partitions=PartitionRepository(settings.resolved_database_url))
    app.state.key_verifier = KeyVerifier(ApiKeyRepository(settings.resolved_database_url), settings.key_cache_s)
    app.state.limiter = make_limiter(settings.redis_url)
    app.state.metrics = ApiMetrics(settings.resolved_database_url, prices=settings.vendor_prices)
    if not settings.auth_enabled:
        log.warning("AUTHENTICATION IS DISABLED (VIDASSETS_AUTH_ENABLED=false): every request is served as "
                    "tenant %r. Never run like this where anyone else can reach the API.", settings.default_tenant)
    install_error_handlers(app)
    app.include_router(executions.router)
    app.include_router(actions.router)
    app.include_router(artefacts.router)
    app.include_router(rerender.router)
    app.include_router(partitions.router)
    app.include_router(health.router)
    app.include_router(vendor_webhooks.router)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", "Idempotency-Key"])
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContext, metrics=app.state.metrics)
    # Everything built so far (modules, SQLAlchemy/boto3/pydantic machinery, the app) lives as long
    # as the process: moved out of the collector's sight, a full collection no longer walks it, which
    # removes the collector pauses that showed up in the status endpoint's tail latency.
    gc.freeze()
    return app


def __getattr__(name: str) -> FastAPI:
    # `uvicorn api.main:app` builds the app lazily, so importing this module needs no environment.
    if name == "app":
        return create_app()
    raise AttributeError(name)
