"""Which executions have a Dagster partition: the retention window's bookkeeping.

An execution's ``partition_at`` is when its partition was added to Dagster or last brought back;
NULL means archived (no partition in Dagster; ``archived_at`` says since when). Its records,
jobs, artefacts and lineage are untouched either way. The window is the newest
``max_live`` live executions by ``partition_at`` that are also younger than ``max_age``; the
pruner (``vidassets/dagster/retention.py``) archives what falls out of it, oldest first, and
the launch, restore and re-render paths bring executions back (:meth:`mark_live`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update

from vidassets.storage.db import rowcount, session_scope
from vidassets.storage.models import ExecutionRow, utcnow

#: Executions that may still run: their partition is never removed.
ACTIVE = ("pending", "processing")


@dataclass(frozen=True)
class PartitionState:
    execution_id: str
    live: bool  # has a partition in Dagster (or will get one at launch)
    partition_at: dt.datetime | None
    archived_at: dt.datetime | None


class PartitionRepository:
    def __init__(self, db_url: str):
        self.db_url = db_url

    def cutoff(self, *, now: dt.datetime, max_age: dt.timedelta | None, max_live: int | None) -> dt.datetime | None:
        """Live executions brought in before this instant are outside the window (None: no limit
        applies). The count limit is the ``max_live``-th newest ``partition_at``: an index scan of
        ``max_live`` entries, whatever the number of executions."""
        bounds = [now - max_age] if max_age else []
        if max_live:
            with session_scope(self.db_url) as s:
                nth = s.scalar(select(ExecutionRow.partition_at).where(ExecutionRow.partition_at.is_not(None))
                               .order_by(ExecutionRow.partition_at.desc()).offset(max_live - 1).limit(1))
            if nth is not None:
                bounds.append(nth)
        return max(bounds) if bounds else None

    def expired(self, cutoff: dt.datetime, limit: int) -> list[str]:
        """Up to ``limit`` live, inactive executions brought in before ``cutoff``, oldest first."""
        with session_scope(self.db_url) as s:
            return list(s.scalars(
                select(ExecutionRow.id).where(ExecutionRow.partition_at < cutoff,
                                              ExecutionRow.status.not_in(ACTIVE))
                .order_by(ExecutionRow.partition_at).limit(limit)))

    def archive(self, execution_ids: Iterable[str], cutoff: dt.datetime, *, now: dt.datetime | None = None) -> list[str]:
        """Mark these archived, each only if it is still outside the window and inactive (a launch,
        retry or restore may have happened since it was read); returns those marked."""
        now = now or utcnow()
        done: list[str] = []
        with session_scope(self.db_url) as s:
            for execution_id in execution_ids:
                result = s.execute(update(ExecutionRow).where(
                    ExecutionRow.id == execution_id, ExecutionRow.partition_at < cutoff,
                    ExecutionRow.status.not_in(ACTIVE)).values(partition_at=None, archived_at=now))
                if rowcount(result):
                    done.append(execution_id)
        return done

    def mark_live(self, execution_ids: Sequence[str], *, touch: bool, now: dt.datetime | None = None) -> list[str]:
        """Record that these have a partition again. ``touch`` restarts their time in the window
        (a producer, a variant or a re-render asked for them); without it only archived ones are
        changed (a launch of a fresh execution costs nothing here). Returns those changed."""
        if not execution_ids:
            return []
        now = now or utcnow()
        changed: list[str] = []
        with session_scope(self.db_url) as s:
            for chunk in _chunks(list(dict.fromkeys(execution_ids)), 500):
                where = [ExecutionRow.id.in_(chunk)]
                if not touch:
                    where.append(ExecutionRow.partition_at.is_(None))
                found = list(s.scalars(select(ExecutionRow.id).where(*where)))
                if found:
                    s.execute(update(ExecutionRow).where(ExecutionRow.id.in_(found))
                              .values(partition_at=now, archived_at=None))
                changed += found
        return changed

    def archive_again(self, execution_ids: Sequence[str], *, now: dt.datetime | None = None) -> None:
        """Undo :meth:`mark_live` for these (bringing them back failed: Dagster has no partition)."""
        now = now or utcnow()
        with session_scope(self.db_url) as s:
            for chunk in _chunks(list(dict.fromkeys(execution_ids)), 500):
                s.execute(update(ExecutionRow).where(ExecutionRow.id.in_(chunk), ExecutionRow.status.not_in(ACTIVE))
                          .values(partition_at=None, archived_at=now))

    def archived(self, execution_ids: Sequence[str]) -> list[str]:
        """Those of ``execution_ids`` that have no partition in Dagster now, in the given order."""
        found: set[str] = set()
        with session_scope(self.db_url) as s:
            for chunk in _chunks(list(dict.fromkeys(execution_ids)), 500):
                found.update(s.scalars(select(ExecutionRow.id).where(ExecutionRow.id.in_(chunk),
                                                                     ExecutionRow.partition_at.is_(None))))
        return [i for i in dict.fromkeys(execution_ids) if i in found]

    def bases_of(self, execution_ids: Sequence[str]) -> list[str]:
        """The base executions of these variants: their partitions must exist when a variant
        materialises, so the lineage to them shows in the UI."""
        with session_scope(self.db_url) as s:
            bases = [b for chunk in _chunks(list(execution_ids), 500)
                     for b in s.scalars(select(ExecutionRow.base_execution_id).where(
                         ExecutionRow.id.in_(chunk), ExecutionRow.base_execution_id.is_not(None)))]
        return [b for b in dict.fromkeys(bases) if b]

    def state(self, execution_id: str, tenant_id: str | None = None) -> PartitionState | None:
        with session_scope(self.db_url) as s:
            stmt = select(ExecutionRow.partition_at, ExecutionRow.archived_at).where(ExecutionRow.id == execution_id)
            if tenant_id is not None:
                stmt = stmt.where(ExecutionRow.tenant_id == tenant_id)
            row = s.execute(stmt).one_or_none()
        if row is None:
            return None
        return PartitionState(execution_id, row.partition_at is not None, row.partition_at, row.archived_at)

    def live_count(self) -> int:
        with session_scope(self.db_url) as s:
            return int(s.scalar(select(func.count()).select_from(ExecutionRow)
                                .where(ExecutionRow.partition_at.is_not(None))) or 0)


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
