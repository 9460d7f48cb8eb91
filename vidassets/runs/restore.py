"""Bring archived executions back as Dagster partitions, from outside Dagster (API, CLI).

The pruner (``vidassets/dagster/retention.py``) removes the partitions of executions outside
the retention window; their records, artefacts and materialisation history stay. Adding the
partition key again makes Dagster show that history once more, and lets runs and backfills
target it. The executions table is marked first, which restarts the execution's time in the
window (so the next prune tick does not remove it again), then the partitions are added through
the webserver's GraphQL API in batches. Inside Dagster (schedules, sensors) the same is done on
the instance directly (:func:`vidassets.dagster.retention.restore_in_instance`).
"""

from __future__ import annotations

from dataclasses import dataclass

from vidassets.runs.launch import DagsterLauncher, LaunchError
from vidassets.storage.partition_repo import PartitionRepository


@dataclass(frozen=True)
class Restored:
    execution_ids: list[str]  # every execution asked for, now with a partition
    were_archived: list[str]  # those of them that had none before


def restore(launcher: DagsterLauncher, execution_ids: list[str], *, partitions: PartitionRepository | None = None,
            only_archived: bool = False) -> Restored:
    """Give these executions a partition again and restart their time in the window. Every key is
    sent to Dagster (an existing partition is left as it is) unless ``only_archived``. On a
    Dagster error the archived ones are archived again and :class:`LaunchError` is raised."""
    repo = partitions or PartitionRepository(launcher.settings.resolved_database_url)
    ids = list(dict.fromkeys(execution_ids))
    archived = repo.archived(ids)
    repo.mark_live(ids, touch=True)
    try:
        launcher.add_partitions(archived if only_archived else ids)
    except LaunchError:
        repo.archive_again(archived)
        raise
    return Restored(ids, archived)
