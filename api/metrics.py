"""Prometheus metrics for ``/metrics``.

Request metrics are measured in the API process. Execution, job, provider, cache, webhook and
queue figures are read from the database at scrape time (cached briefly): the run workers that
produce them are separate, short-lived processes, and the database is where every one of them
already writes its outcome — so the figures are exact across processes and restarts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from vidassets.providers.usage import PriceTable
from vidassets.storage.stats import read_stats
from vidassets.storage.vendor_jobs import VendorJobRepository

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class StoreCollector:
    def __init__(self, db_url: str, ttl_s: float = 5.0):
        self.db_url = db_url
        self.ttl_s = ttl_s
        self._cached: tuple[float, list[Metric]] | None = None
        self._lock = threading.Lock()

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            if self._cached is None or time.monotonic() - self._cached[0] > self.ttl_s:
                try:
                    self._cached = (time.monotonic(), self._read())
                except Exception:  # database down: /metrics still answers with request metrics
                    self._cached = (time.monotonic(), [])
            yield from self._cached[1]

    def _read(self) -> list[Metric]:
        executions = GaugeMetricFamily("vidassets_executions", "Executions by status", labels=["status"])
        queue = GaugeMetricFamily("vidassets_queue_depth", "Executions accepted but not yet running")
        jobs = GaugeMetricFamily("vidassets_jobs", "Plan jobs by operation and status", labels=["operation", "status"])
        duration = CounterMetricFamily("vidassets_job_duration_seconds", "Time spent in completed jobs",
                                       labels=["operation", "provider"])
        completed = CounterMetricFamily("vidassets_jobs_completed", "Completed jobs", labels=["operation", "provider"])
        provider_errors = CounterMetricFamily("vidassets_provider_errors", "Jobs failed by a provider error",
                                              labels=["code"])
        cache_hits = CounterMetricFamily("vidassets_cache_hits", "Jobs served from the result cache")
        webhooks = CounterMetricFamily("vidassets_webhook_attempts", "Webhook delivery attempts by outcome",
                                       labels=["outcome"])
        stats = read_stats(self.db_url)
        for status, n in stats.executions.items():
            executions.add_metric([status], n)
        queue.add_metric([], stats.pending)
        for (op, status), n in stats.jobs.items():
            jobs.add_metric([op, status], n)
        for (op, provider), (total, n) in stats.job_time.items():
            duration.add_metric([op, provider], total)
            completed.add_metric([op, provider], n)
        for code, n in stats.provider_errors.items():
            provider_errors.add_metric([code], n)
        cache_hits.add_metric([], stats.cache_hits)
        for outcome, n in stats.webhook_attempts.items():
            webhooks.add_metric([outcome], n)
        return [executions, queue, jobs, duration, completed, provider_errors, cache_hits, webhooks]


class VendorUsageCollector(StoreCollector):
    """Vendor jobs that billed, the seconds vendors bill by, and their cost where a price is
    configured, per vendor and model, from the vendor-job ledger (every run worker writes there)."""

    def __init__(self, db_url: str, prices: PriceTable, ttl_s: float = 5.0):
        super().__init__(db_url, ttl_s)
        self.prices = prices

    def _read(self) -> list[Metric]:
        labels = ["vendor", "model"]
        jobs = CounterMetricFamily("vidassets_vendor_jobs", "Vendor jobs that billed (succeeded or reported usage)",
                                   labels=labels)
        seconds = CounterMetricFamily("vidassets_vendor_seconds", "Seconds vendors bill by (predict / inference "
                                      "time, seconds of video)", labels=labels)
        cost = CounterMetricFamily("vidassets_vendor_cost_usd", "Cost of vendor jobs with a configured price (USD)",
                                   labels=labels)
        for vendor, model, n, total, with_seconds in VendorJobRepository(self.db_url).usage_totals():
            jobs.add_metric([vendor, model], n)
            seconds.add_metric([vendor, model], total)
            known = self.prices.cost(vendor, model, total if with_seconds else None, jobs=n)
            if known is not None:
                cost.add_metric([vendor, model], known)
        return [jobs, seconds, cost]


class ApiMetrics:
    def __init__(self, db_url: str, prices: Mapping[str, Mapping[str, Mapping[str, float]]] | None = None):
        self.registry = CollectorRegistry()
        self.requests = Counter("vidassets_http_requests", "HTTP requests", ["method", "route", "status"],
                                registry=self.registry)
        self.latency = Histogram("vidassets_http_request_duration_seconds", "HTTP request latency",
                                 ["method", "route", "status"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.rate_limited = Counter("vidassets_rate_limit_rejections", "Requests refused by the rate limiter",
                                    registry=self.registry)
        self.registry.register(StoreCollector(db_url))
        self.registry.register(VendorUsageCollector(db_url, PriceTable(prices)))
        # Labelled children looked up once per (method, route, status): ``labels()`` validates and
        # locks on every call, a measurable share of a status request.
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            labels = (method, route, str(status))
            children = self._children.setdefault(key, (self.requests.labels(*labels), self.latency.labels(*labels)))
        children[0].inc()
        children[1].observe(seconds)
