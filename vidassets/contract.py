"""The names the API, the launcher and the Dagster code agree on. No Dagster import.

The API process never imports Dagster: it launches runs and backfills through the webserver's
GraphQL API *by name*, and the run worker reads the tags those launches set. Every such name is
defined here once; ``vidassets/dagster/`` builds its definitions from the same constants.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

#: The job the API launches: every video asset, one partition (execution) per run.
JOB_NAME: Final = "execute_plan"
#: The dynamic partitions definition; one partition per execution, keyed by its execution ID.
PARTITIONS_DEF_NAME: Final = "executions"
#: The asset group the video assets are shown under in the UI.
ASSET_GROUP: Final = "video"
#: The schedule that re-renders stale outputs.
RERENDER_SCHEDULE_NAME: Final = "rerender_stale_outputs"

# -- vidassets' run tags ---------------------------------------------------------------------------

#: How the run treats finished jobs: ``resume`` skips them (API and sensor launches and their
#: retries); ``rerender`` renders the selected kinds again (the UI, backfills, the schedule).
MODE_TAG: Final = "vidassets/mode"
Mode = Literal["resume", "rerender"]
MODE_RESUME: Final = "resume"
MODE_RERENDER: Final = "rerender"
#: The execution a launch is for (also the partition key).
EXECUTION_TAG: Final = "vidassets/execution"
#: Who asked for a re-render (``schedule``, ``api``, ``cli``); tag concurrency limits key on it.
RERENDER_TAG: Final = "vidassets/rerender"
#: ``host:pid`` of the process executing the run, as the run launcher records it.
RUN_WORKER_TAG: Final = "vidassets/run_worker"

# -- Dagster's own tags, read or set by vidassets --------------------------------------------------

#: The partition (execution ID) of a partitioned run.
PARTITION_TAG: Final = "dagster/partition"
#: ``true``/``false`` on a failed run when run retries are enabled: will Dagster re-execute it.
WILL_RETRY_TAG: Final = "dagster/will_retry"
#: Why a run failed (Dagster's ``RunFailureReason`` value).
FAILURE_REASON_TAG: Final = "dagster/failure_reason"
#: The data version of a runtime materialisation (``AssetMaterialization`` tags).
DATA_VERSION_TAG: Final = "dagster/data_version"


def mode_of(tags: Mapping[str, str] | None) -> Mode:
    """The run's mode from its tags: only an explicit ``resume`` resumes (a producer's
    rematerialisation from the UI carries no tag and re-renders what it selected)."""
    return MODE_RESUME if (tags or {}).get(MODE_TAG) == MODE_RESUME else MODE_RERENDER


def launch_tags(execution_id: str) -> dict[str, str]:
    """The tags of a run launched for an execution (by the API or the reconciliation sensor):
    it resumes, and names its execution."""
    return {MODE_TAG: MODE_RESUME, EXECUTION_TAG: execution_id}


def rerender_tags(origin: str) -> dict[str, str]:
    """The tags of a re-render run or backfill asked for by ``origin`` (schedule, api, cli)."""
    return {MODE_TAG: MODE_RERENDER, RERENDER_TAG: origin}
