"""Bounded partitions: keep a window of executions in Dagster, bring older ones back on demand.

One dynamic partition per execution grows without bound (144k a day at 100 executions/min),
and Dagster's asset pages slow down with the partition count. ``prune_partitions`` removes the
partitions of executions that left the window (Settings ``partition_retention_days`` and
``partition_retention_max``), at most ``partition_prune_batch`` per tick, oldest first. Removing a
partition deletes only its entry in Dagster's partitions table: runs, materialisation events and
our own records, artefacts and lineage stay, so adding the key again
(:func:`restore_in_instance`, or the API's GraphQL path in ``vidassets/runs/restore.py``) brings
its history back in the UI.

Never removed: an execution that is pending or processing, one with a queued or in-progress
run, and one inside the window. The executions table is marked first (a conditional update that
loses to a concurrent launch or restore), then the partition is deleted, then rows that came
back meanwhile get their partition again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import dagster as dg

from vidassets.contract import JOB_NAME, PARTITION_TAG, PARTITIONS_DEF_NAME
from vidassets.dagster.resources import StorageResource
from vidassets.settings import Settings
from vidassets.storage.models import utcnow
from vidassets.storage.partition_repo import PartitionRepository

PRUNE_SENSOR_NAME = "prune_partitions"

#: Runs that still need their partition.
UNFINISHED = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
              dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING, dg.DagsterRunStatus.MANAGED,
              dg.DagsterRunStatus.SUSPENDED]


@dataclass(frozen=True)
class Window:
    max_age: dt.timedelta | None
    max_live: int | None
    batch: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Window:
        days = settings.partition_retention_days
        return cls(max_age=dt.timedelta(days=days) if days else None,
                   max_live=settings.partition_retention_max or None, batch=settings.partition_prune_batch)


@dataclass
class PruneResult:
    removed: list[str] = field(default_factory=list)
    kept_running: list[str] = field(default_factory=list)  # outside the window, but a run needs them
    restored: list[str] = field(default_factory=list)  # came back while being removed
    cutoff: dt.datetime | None = None

    def summary(self) -> str:
        if not self.removed and not self.kept_running:
            return "no partitions outside the window"
        text = f"removed {len(self.removed)} partition(s) brought in before {self.cutoff:%Y-%m-%d %H:%M:%S}"
        if self.kept_running:
            text += f"; kept {len(self.kept_running)} with unfinished runs"
        if self.restored:
            text += f"; {len(self.restored)} came back meanwhile"
        return text


def unfinished_partitions(instance: dg.DagsterInstance) -> set[str]:
    """The partitions (executions) with a queued or in-progress run of the plan job."""
    runs = instance.get_runs(dg.RunsFilter(job_name=JOB_NAME, statuses=UNFINISHED))
    return {r.tags[PARTITION_TAG] for r in runs if PARTITION_TAG in r.tags}


def prune(instance: dg.DagsterInstance, repo: PartitionRepository, window: Window,
          *, now: dt.datetime | None = None) -> PruneResult:
    """One bounded pass: archive up to ``window.batch`` executions outside the window, oldest
    first, and delete their partitions."""
    now = now or utcnow()
    result = PruneResult(cutoff=repo.cutoff(now=now, max_age=window.max_age, max_live=window.max_live))
    if result.cutoff is None:
        return result
    candidates = repo.expired(result.cutoff, window.batch)
    if not candidates:
        return result
    busy = unfinished_partitions(instance)
    if busy.intersection(candidates):
        # At most len(busy) of the oldest can be busy: reading that many more yields a full batch.
        candidates = repo.expired(result.cutoff, window.batch + len(busy))
    result.kept_running = [c for c in candidates if c in busy]
    archived = repo.archive([c for c in candidates if c not in busy][:window.batch], result.cutoff, now=now)
    for key in archived:
        instance.delete_dynamic_partition(PARTITIONS_DEF_NAME, key)
    # A launch or restore between the archive and the delete found the row archived and re-added
    # the key, or will: whatever is live again now gets its partition back.
    still = set(repo.archived(archived))
    result.restored = [k for k in archived if k not in still]
    if result.restored:
        instance.add_dynamic_partitions(PARTITIONS_DEF_NAME, result.restored)
    result.removed = [k for k in archived if k in still]
    return result


def restore_in_instance(instance: dg.DagsterInstance, repo: PartitionRepository, execution_ids: list[str],
                        *, touch: bool = True) -> list[str]:
    """Bring these executions back as partitions from inside Dagster (schedules, sensors): the
    database first, so the pruner leaves them alone, then one batched add. Returns the keys that
    were archived."""
    if not execution_ids:
        return []
    was_archived = repo.archived(execution_ids)
    repo.mark_live(execution_ids, touch=touch)
    instance.add_dynamic_partitions(PARTITIONS_DEF_NAME, list(dict.fromkeys(execution_ids)))
    return was_archived


def build_prune_sensor(settings: Settings) -> dg.SensorDefinition:
    @dg.sensor(name=PRUNE_SENSOR_NAME, minimum_interval_seconds=settings.partition_prune_interval_s,
               default_status=dg.DefaultSensorStatus.RUNNING,
               description="Remove the Dagster partitions of executions outside the retention window "
                           "(their records and artefacts stay; they come back on demand).")
    def prune_partitions(context: dg.SensorEvaluationContext, storage: StorageResource) -> dg.SkipReason:
        repo = PartitionRepository(storage.settings().resolved_database_url)
        result = prune(context.instance, repo, Window.from_settings(settings))
        if result.removed:
            context.log.info(result.summary())
        return dg.SkipReason(result.summary())

    return prune_partitions
