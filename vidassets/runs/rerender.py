"""Scheduled and on-demand re-renders of stale outputs.

An output is stale when the renderer that made it has since been bumped
(``RENDERER_VERSIONS``, also the assets' code versions) or when one of its inputs was re-rendered
after it (its recorded input digests differ from the inputs' current digests) — the same two
signals Dagster's UI shows as "code version changed" and "upstream data changed". The schedule,
the CLI (``vidassets rerender``) and the API (``POST /api/rerender``) all call :func:`plan_rerender`.
The schedule runs inside Dagster and returns one run request per stale execution
(``vidassets/dagster/schedules.py``); the CLI and the API run outside it and launch partitioned
backfills through the webserver (:func:`launch_rerender`). Staleness is read from the executions
database, so executions whose partitions the retention window removed are found too; each path
brings their partitions back before it asks Dagster for runs (``plan.archived``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from vidassets.contract import rerender_tags
from vidassets.plan.operations import RENDERER_VERSIONS, AssetKind
from vidassets.runs.launch import DagsterLauncher
from vidassets.runs.restore import restore
from vidassets.storage.db import session_scope
from vidassets.storage.models import ExecutionRow, utcnow

_SINCE = re.compile(r"^(\d+)\s*([smhdw])$")
MAX_WINDOW_S = 10 * 365 * 86400
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(text: str) -> dt.timedelta:
    """``7d``, ``12h``, ``30m``, ``2w`` → timedelta."""
    match = _SINCE.match(text.strip().lower())
    if not match:
        raise ValueError(f"invalid window {text!r}: use a number and a unit s, m, h, d or w (e.g. 7d)")
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if seconds > MAX_WINDOW_S:
        raise ValueError(f"window {text!r} is longer than {MAX_WINDOW_S // 86400} days")
    return dt.timedelta(seconds=seconds)


@dataclass
class RerenderPlan:
    partitions: dict[str, set[AssetKind]] = field(default_factory=dict)  # execution id -> stale kinds
    reasons: dict[tuple[str, str], str] = field(default_factory=dict)  # (execution, job) -> why
    archived: set[str] = field(default_factory=set)  # stale executions with no partition in Dagster now

    @property
    def partition_keys(self) -> list[str]:
        return sorted(self.partitions)

    @property
    def kinds(self) -> list[str]:
        return sorted({k.value for ks in self.partitions.values() for k in ks})

    def stale_kinds(self) -> list[tuple[str, list[str]]]:
        """(execution id, its stale kinds), in execution order: what each partition re-renders."""
        return [(eid, sorted(k.value for k in kinds)) for eid, kinds in sorted(self.partitions.items())]


def stale_reason(result: dict[str, Any], kind: AssetKind, current_inputs: list[str]) -> str | None:
    version = result.get("rendererVersion")
    if version is not None and version != RENDERER_VERSIONS[kind]:
        return f"renderer {version} -> {RENDERER_VERSIONS[kind]}"
    recorded = result.get("inputDigests")
    if recorded is not None and list(recorded) != current_inputs:
        return "an input was re-rendered"
    return None


def plan_rerender(db_url: str, kinds: list[AssetKind], since: dt.timedelta, *, tenant_id: str | None = None,
                  now: dt.datetime | None = None, limit: int = 5000) -> RerenderPlan:
    cutoff = (now or utcnow()) - since
    plan = RerenderPlan()
    wanted = set(kinds)
    with session_scope(db_url) as s:
        stmt = (select(ExecutionRow).where(ExecutionRow.status == "completed", ExecutionRow.completed_at >= cutoff)
                .options(selectinload(ExecutionRow.jobs)).order_by(ExecutionRow.id.desc()).limit(limit))
        if tenant_id is not None:
            stmt = stmt.where(ExecutionRow.tenant_id == tenant_id)
        for row in s.scalars(stmt):
            digests = {j.job_id: (j.result or {}).get("digest") for j in row.jobs}
            for job in row.jobs:
                kind = AssetKind(job.kind)
                if kind not in wanted or job.status != "completed" or not job.result or job.result.get("reusedFrom"):
                    continue
                reason = stale_reason(job.result, kind, [str(digests.get(d)) for d in job.depends_on])
                if reason:
                    plan.partitions.setdefault(row.id, set()).add(kind)
                    plan.reasons[(row.id, job.job_id)] = reason
                    if row.partition_at is None:
                        plan.archived.add(row.id)
    return plan


def launch_rerender(launcher: DagsterLauncher, plan: RerenderPlan, *, origin: str) -> list[str]:
    """One backfill per distinct set of stale kinds, so nothing fresh is re-rendered. Every
    partition the backfills target is brought back (archived ones) or has its time in the
    retention window restarted first, so none is removed while the backfill runs."""
    restore(launcher, plan.partition_keys, only_archived=True)
    groups: dict[tuple[str, ...], list[str]] = {}
    for execution_id, kinds in plan.stale_kinds():
        groups.setdefault(tuple(kinds), []).append(execution_id)
    return [launcher.backfill(partitions, list(kinds), tags=rerender_tags(origin),
                              title=f"Re-render {', '.join(kinds)} ({len(partitions)} executions)")
            for kinds, partitions in groups.items()]
