"""One error shape for every failure: ``{"error", "code", "details"?}`` with the right status."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from vidassets.plan.errors import PlanValidationError, loc_to_field

log = logging.getLogger(__name__)


class ApiError(Exception):
    """Raise from a route to answer with ``status`` and the standard body."""

    def __init__(self, status: int, error: str, code: str, details: Any = None, headers: dict[str, str] | None = None):
        super().__init__(error)
        self.status = status
        self.error = error
        self.code = code
        self.details = details
        self.headers = headers


def error_body(error: str, code: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": error, "code": code}
    if details is not None:
        body["details"] = details
    return body


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    details = []
    for err in exc.errors():
        loc = [p for p in err.get("loc", ()) if p not in ("body",)]
        message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        details.append({"field": loc_to_field(loc) or "body", "message": message})
    return details


_STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
                 422: "validation_error", 429: "rate_limited", 503: "dependency_unavailable"}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.error, exc.code, exc.details), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _request_validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = _validation_details(exc)
        first = details[0] if details else {"field": "body", "message": "invalid request"}
        return JSONResponse(error_body(f"{first['field']}: {first['message']}", "validation_error", details),
                            status_code=422)

    @app.exception_handler(PlanValidationError)
    async def _plan_validation(_: Request, exc: PlanValidationError) -> JSONResponse:
        return JSONResponse(error_body(str(exc), "invalid_plan", [i.as_dict() for i in exc.issues]), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        return JSONResponse(error_body(str(exc.detail), code), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(OperationalError)
    @app.exception_handler(DBAPIError)
    async def _db_down(_: Request, exc: Exception) -> JSONResponse:
        log.error("database error: %s", exc.__class__.__name__)
        return JSONResponse(error_body("the database is unavailable; try again shortly", "dependency_unavailable",
                                       {"dependency": "database"}),
                            status_code=503, headers={"Retry-After": "5"})
