"""Rate limits: GCRA (a token bucket without a refill timer), in Redis or in-process.

One implementation serves the API's per-key limits and the per-provider request limits, so
the semantics (a burst of ``limit`` then one request every ``period/limit``) are the same
everywhere. Redis keeps one float per key and evaluates atomically in a Lua script using the
server's clock, so all API processes and run workers share the bucket.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import redis

log = logging.getLogger(__name__)

_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
if new_tat - now > period then
  return {0, tostring(new_tat - now - period), tostring(tat - now)}
end
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil((new_tat - now) * 1000))
return {1, tostring(period - (new_tat - now)), tostring(new_tat - now)}
"""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after_s: float  # 0 when allowed
    reset_s: float  # until the bucket is full again

    def headers(self) -> dict[str, str]:
        out = {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(max(0, self.remaining)),
               "X-RateLimit-Reset": str(math.ceil(self.reset_s))}
        if not self.allowed:
            out["Retry-After"] = str(max(1, math.ceil(self.retry_after_s)))
        return out


class RateLimiter(Protocol):
    def hit(self, key: str, limit: int, period_s: float = 60.0) -> Decision: ...


def _decide(allowed: bool, limit: int, period_s: float, value: float, pending: float) -> Decision:
    interval = period_s / limit
    if allowed:
        return Decision(True, limit, int(value // interval), 0.0, pending)
    return Decision(False, limit, 0, value, pending)


class MemoryRateLimiter:
    """In-process GCRA for the embedded default (one API process)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._tat: dict[str, float] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def hit(self, key: str, limit: int, period_s: float = 60.0) -> Decision:
        interval = period_s / limit
        with self._lock:
            now = self._clock()
            tat = max(self._tat.get(key, now), now)
            new_tat = tat + interval
            if new_tat - now > period_s:
                return _decide(False, limit, period_s, new_tat - now - period_s, tat - now)
            self._tat[key] = new_tat
            return _decide(True, limit, period_s, period_s - (new_tat - now), new_tat - now)


class RedisRateLimiter:
    """Shared GCRA in Redis. If Redis is unreachable the request is allowed (fail open) and the
    failure logged: limits protect capacity, they must not take the service down with Redis."""

    def __init__(self, client, prefix: str = "vidassets:rl:"):  # type: ignore[no-untyped-def]
        self.client = client
        self.prefix = prefix
        self._script = client.register_script(_GCRA)

    def hit(self, key: str, limit: int, period_s: float = 60.0) -> Decision:
        try:
            allowed, value, pending = self._script(keys=[self.prefix + key], args=[period_s / limit, period_s])
        except Exception as exc:  # redis.ConnectionError, TimeoutError, ...
            log.warning("rate limiter unavailable (allowing request): %s", exc.__class__.__name__)
            return Decision(True, limit, limit, 0.0, 0.0)
        return _decide(bool(int(allowed)), limit, period_s, float(value), float(pending))


def redis_client(url: str) -> redis.Redis:
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=1.0, health_check_interval=30)


def make_limiter(redis_url: str | None) -> RateLimiter:
    return RedisRateLimiter(redis_client(redis_url)) if redis_url else MemoryRateLimiter()
