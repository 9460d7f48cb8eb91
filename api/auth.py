"""Authentication (Bearer API keys → tenant) and per-key rate limiting, as one dependency."""

from __future__ import annotations

import threading
import time

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from api.errors import ApiError
from vidassets.limits.rate import MemoryRateLimiter, RateLimiter
from vidassets.settings import Settings
from vidassets.storage.keys import ApiKeyRepository, Principal


class KeyVerifier:
    """Verifies keys against the database, caching positive answers for ``ttl_s`` seconds."""

    def __init__(self, repo: ApiKeyRepository, ttl_s: float):
        self.repo = repo
        self.ttl_s = ttl_s
        self._cache: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def cached(self, presented: str) -> Principal | None:
        with self._lock:
            hit = self._cache.get(presented)
            return hit[0] if hit and hit[1] > time.monotonic() else None

    def verify(self, presented: str) -> Principal | None:
        now = time.monotonic()
        hit = self.cached(presented)
        if hit is not None:
            return hit
        principal = self.repo.verify(presented)
        if principal is not None:
            with self._lock:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[presented] = (principal, now + self.ttl_s)
        return principal


async def authenticate(request: Request, response: Response) -> Principal:
    """Async so the common case (a cached key, the in-process limiter) costs no thread hop; the
    database and Redis are only touched in the thread pool."""
    settings: Settings = request.app.state.settings
    if not settings.auth_enabled:
        principal = Principal("anonymous", settings.default_tenant)
    else:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "missing API key: send Authorization: Bearer <key>", "unauthorized",
                           headers={"WWW-Authenticate": "Bearer"})
        verifier: KeyVerifier = request.app.state.key_verifier
        found = verifier.cached(token.strip()) or await run_in_threadpool(verifier.verify, token.strip())
        if found is None:
            raise ApiError(401, "invalid or revoked API key", "unauthorized", headers={"WWW-Authenticate": "Bearer"})
        principal = found
    limiter: RateLimiter = request.app.state.limiter
    limit = principal.rate_limit_per_min or settings.rate_limit_per_min
    if isinstance(limiter, MemoryRateLimiter):
        decision = limiter.hit(f"key:{principal.key_id}", limit)
    else:
        decision = await run_in_threadpool(limiter.hit, f"key:{principal.key_id}", limit)
    if not decision.allowed:
        request.app.state.metrics.rate_limited.inc()
        raise ApiError(429, "rate limit exceeded; retry later", "rate_limited",
                       {"limit": decision.limit, "retryAfter": decision.headers()["Retry-After"]},
                       headers=decision.headers())
    response.headers.update(decision.headers())
    request.state.tenant_id = principal.tenant_id
    request.state.key_id = principal.key_id
    return principal
