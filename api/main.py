"""The FastAPI front door: ``create_app()`` builds the app; ``app`` is what uvicorn serves."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.routing import APIRoute

from api.errors import install_error_handlers
from api.middleware import BodySizeLimit
from api.routes import actions, artefacts, executions, health
from vidassets.launcher import DagsterLauncher
from vidassets.services import build_services
from vidassets.settings import Settings, get_settings


def _operation_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    logging.basicConfig(level=settings.log_level)
    app = FastAPI(
        title="vidassets",
        version="0.1.0",
        description="Submit AI video execution plans; they run as Dagster assets partitioned by execution.",
        generate_unique_id_function=_operation_id,
    )
    app.state.settings = settings
    app.state.services = build_services(settings)
    app.state.launcher = DagsterLauncher(settings)
    install_error_handlers(app)
    app.include_router(executions.router)
    app.include_router(actions.router)
    app.include_router(artefacts.router)
    app.include_router(health.router)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app


def __getattr__(name: str) -> FastAPI:
    # `uvicorn api.main:app` builds the app lazily, so importing this module needs no environment.
    if name == "app":
        return create_app()
    raise AttributeError(name)
