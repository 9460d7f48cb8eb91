"""Pure-ASGI middleware (no per-request task overhead): body size limit, request context."""

from __future__ import annotations

import json
import logging
import os
import random
import re
import time
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vidassets.logs import clip, log_context

if TYPE_CHECKING:
    from api.metrics import ApiMetrics

_REQUEST_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
# One line per request (docs/OPERATIONS.md, "Log lines"); uvicorn's access log is off (vidassets.logs).
REQUEST_LOG = logging.getLogger("vidassets.request")
MAX_PATH_CHARS = 512
MAX_USER_AGENT_CHARS = 256
MAX_QUERY_NAMES = 20


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_bytes
            except ValueError:
                too_big = True
            if too_big:
                await self._reject(send)
                return
        if declared is None and scope.get("method") in ("POST", "PUT", "PATCH"):
            # No Content-Length (chunked): read up to the limit here, so an oversized body is a
            # 413 before the application's body parser sees it; what fits is replayed as one message.
            chunks: list[bytes] = []
            size = 0
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                size += len(message.get("body", b""))
                if size > self.max_bytes:
                    await self._reject(send)
                    return
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
            body = b"".join(chunks)
            replayed = False

            async def replay() -> Message:
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            await self.app(scope, replay, send)
            return
        await self.app(scope, receive, send)

    async def _reject(self, send: Send) -> None:
        body = json.dumps({"error": f"request body larger than {self.max_bytes} bytes", "code": "too_large"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


# Request ids trace a request through logs; they need to be unique, not unpredictable, so they come
# from a per-process generator seeded once instead of a getrandom() syscall per request.
_IDS = random.Random(os.urandom(16))


def new_request_id() -> str:
    return f"{_IDS.getrandbits(64):016x}"


class RequestContext:
    """Request id (``X-Request-ID`` in and out), log context, and request metrics by route template."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID.match(incoming) else new_request_id()
        status = [500]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message["headers"] = list(message.get("headers", [])) + [(b"x-request-id", request_id.encode())]
            await send(message)

        started = time.perf_counter()
        with log_context(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                elapsed = time.perf_counter() - started
                template = getattr(scope.get("route"), "path", None)
                self.metrics.observe(scope["method"], template or "unmatched", status[0], elapsed)
                level = logging.ERROR if status[0] >= 500 else logging.INFO
                if REQUEST_LOG.isEnabledFor(level):
                    log_request(scope, headers, template, status[0], elapsed, request_id, level)


def log_request(scope: Scope, headers: dict[bytes, bytes], template: str | None, status: int, elapsed_s: float,
                request_id: str, level: int) -> None:
    """The request's line. Built from the scope in hand (no I/O): the raw path and the user agent
    are the client's text, so they are clipped here and escaped by the formatter; of the query
    string only parameter names are kept (values can be credentials: artefact URL signatures)."""
    state = scope.get("state") or {}
    fields: dict[str, Any] = {
        "event": "http.request", "method": scope["method"], "route": template,
        "path": clip(scope.get("path", ""), MAX_PATH_CHARS), "status": status,
        "duration_ms": round(elapsed_s * 1000, 2), "request_id": request_id,
        "user_agent": clip(headers.get(b"user-agent", b"").decode("latin-1"), MAX_USER_AGENT_CHARS),
    }
    query = scope.get("query_string")
    if query:
        fields["query_params"] = query_names(query)
    tenant = state.get("tenant_id")
    if tenant is not None:
        fields["tenant_id"], fields["key_id"] = tenant, state.get("key_id")
    # makeRecord + handle: the public Logger API without the caller lookup (a stack walk) that
    # .info() does for file and line fields this line never prints.
    record = REQUEST_LOG.makeRecord(REQUEST_LOG.name, level, __file__, 0, "%s %s %d %.1fms",
                                    (scope["method"], template or fields["path"], status, elapsed_s * 1000),
                                    None, extra={"fields": fields})
    REQUEST_LOG.handle(record)


def query_names(query: bytes) -> list[str]:
    """The names of a query string's parameters, in order, without their values."""
    names = [part.partition(b"=")[0].decode("latin-1") for part in query.split(b"&", MAX_QUERY_NAMES)[:MAX_QUERY_NAMES]]
    return [clip(name, 64) for name in names if name]
