"""The deliverer: sends due outbox messages, at least once, with backoff over more than a day.

Each attempt has its own timeout and attempts run concurrently, so a receiver that hangs only
delays itself. The clock is injected (``now``), so tests move time instead of sleeping.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from vidassets.net.fetch import guarded_client
from vidassets.net.guard import BlockedAddressError
from vidassets.services import Services
from vidassets.storage.models import WebhookDeliveryRow, utcnow
from vidassets.webhooks.signing import sign_headers

log = logging.getLogger(__name__)

# Delay after attempt n (1-based) fails: 5 s, 30 s, 2 m, 10 m, 30 m, 1 h, 3 h, 6 h, 12 h, 12 h ≈ 35 h.
RETRY_SCHEDULE_S: tuple[float, ...] = (5, 30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 12 * 3600)
JITTER = 0.1
ATTEMPT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class AttemptResult:
    delivery_id: str
    attempt: int
    outcome: str  # delivered | retry | failed
    status_code: int | None
    error: str | None


def next_delay(attempt: int, rng: random.Random | None = None) -> float | None:
    """Seconds until the next attempt after ``attempt`` failed; None when the schedule is spent."""
    if attempt > len(RETRY_SCHEDULE_S):
        return None
    base = RETRY_SCHEDULE_S[attempt - 1]
    r = rng or random
    return base * (1 + r.uniform(-JITTER, JITTER))


class WebhookDeliverer:
    def __init__(self, services: Services, *, timeout_s: float = ATTEMPT_TIMEOUT_S, max_parallel: int = 8,
                 client_factory: Callable[[], httpx.Client] | None = None, rng: random.Random | None = None):
        self.services = services
        self.outbox = services.webhooks
        self.timeout_s = timeout_s
        self.max_parallel = max_parallel
        self.client_factory = client_factory or (lambda: guarded_client(services.policy, timeout=timeout_s))
        self.rng = rng or random.Random()

    def deliver_due(self, now: dt.datetime | None = None, limit: int = 50) -> list[AttemptResult]:
        now = now or utcnow()
        due = self.outbox.claim_due(now, lease_s=self.timeout_s * 3, limit=limit)
        if not due:
            return []
        with ThreadPoolExecutor(max_workers=min(self.max_parallel, len(due))) as pool:
            return list(pool.map(lambda d: self._attempt(d, now), due))

    def _attempt(self, delivery: WebhookDeliveryRow, now: dt.datetime) -> AttemptResult:
        attempt = delivery.attempts + 1
        secret = self._secret(delivery.execution_id)
        body = delivery.payload.encode()
        headers = sign_headers(body, secret, delivery.id, int(now.timestamp()))
        status_code: int | None = None
        error: str | None = None
        started = time.monotonic()
        try:
            with self.client_factory() as client:
                resp = client.post(delivery.url, content=body, headers=headers)
            status_code = resp.status_code
            if not 200 <= resp.status_code < 300:
                error = f"receiver answered HTTP {resp.status_code}"
        except BlockedAddressError as exc:
            error = str(exc)
        except httpx.TimeoutException:
            error = f"timed out after {self.timeout_s:g}s"
        except (httpx.HTTPError, OSError) as exc:
            error = f"{exc.__class__.__name__}: {exc}"
        latency_ms = (time.monotonic() - started) * 1000
        if error is None:
            outcome, next_at = "delivered", None
        else:
            delay = next_delay(attempt, self.rng)
            outcome = "failed" if delay is None else "retry"
            next_at = now + dt.timedelta(seconds=delay) if delay is not None else None
        self.outbox.record_attempt(delivery.id, attempt=attempt, started_at=now, status_code=status_code,
                                   latency_ms=latency_ms, error=error, outcome=outcome, next_attempt_at=next_at)
        log.info("webhook %s attempt %d to %s: %s%s", delivery.id, attempt, delivery.url.split("?")[0], outcome,
                 f" ({error})" if error else "")
        return AttemptResult(delivery.id, attempt, outcome, status_code, error)

    def _secret(self, execution_id: str) -> str | None:
        row = self.services.repo.get(execution_id, with_jobs=False)
        return self.services.box.open(row.webhook_secret_enc) if row and row.webhook_secret_enc else None
