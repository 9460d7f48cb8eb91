"""Counts over executions, jobs and webhook attempts: what ``/metrics`` reports.

Read from the database because the run workers that produce the figures are separate,
short-lived processes and the database is where every one of them writes its outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from vidassets.storage.db import session_scope
from vidassets.storage.models import ExecutionJobRow, ExecutionRow, WebhookAttemptRow


@dataclass
class StoreStats:
    executions: dict[str, int] = field(default_factory=dict)  # status -> count
    pending: int = 0
    jobs: dict[tuple[str, str], int] = field(default_factory=dict)  # (operation, status) -> count
    # (operation, provider) -> (seconds spent in finished jobs, how many)
    job_time: dict[tuple[str, str], tuple[float, int]] = field(default_factory=dict)
    provider_errors: dict[str, int] = field(default_factory=dict)  # error code -> count
    cache_hits: int = 0
    webhook_attempts: dict[str, int] = field(default_factory=dict)  # outcome -> count


def read_stats(db_url: str) -> StoreStats:
    stats = StoreStats()
    job = ExecutionJobRow
    with session_scope(db_url) as s:
        stats.executions = {st: n for st, n in s.execute(
            select(ExecutionRow.status, func.count()).group_by(ExecutionRow.status))}
        stats.pending = stats.executions.get("pending", 0)
        stats.jobs = {(op, st): n for op, st, n in s.execute(
            select(job.operation, job.status, func.count()).group_by(job.operation, job.status))}
        stats.job_time = {(op, provider or "ffmpeg"): (float(total or 0.0), n) for op, provider, total, n in s.execute(
            select(job.operation, job.provider, func.sum(job.elapsed_s), func.count())
            .where(job.elapsed_s.is_not(None)).group_by(job.operation, job.provider))}
        stats.provider_errors = {code: n for code, n in s.execute(
            select(job.error_code, func.count()).where(job.error_code.like("provider%")).group_by(job.error_code))
            if code is not None}  # never: LIKE matches no NULL
        stats.cache_hits = s.scalar(select(func.count()).where(job.cache_hit.is_(True))) or 0
        stats.webhook_attempts = {outcome: n for outcome, n in s.execute(
            select(WebhookAttemptRow.outcome, func.count()).group_by(WebhookAttemptRow.outcome))}
    return stats
