"""Scheduled re-render of stale outputs: one run request per stale execution, from inside Dagster.

Each tick asks the executions database which outputs are stale (:func:`~vidassets.runs.rerender.plan_rerender`)
and returns a ``RunRequest`` per execution (partition) selecting only its stale kinds, tagged to
re-render. The daemon launches them through the run queue like any run; ``vidassets/rerender``
tag limits keep them from taking every run slot. Cron, kinds and window come from Settings
(``VIDASSETS_RERENDER_*``); the schedule is stopped unless ``VIDASSETS_RERENDER_SCHEDULE_ENABLED=true``
(a producer can also start it in the UI).
"""

from __future__ import annotations

import dagster as dg

from vidassets.contract import RERENDER_SCHEDULE_NAME, rerender_tags
from vidassets.dagster.jobs import execute_plan_job
from vidassets.dagster.resources import StorageResource
from vidassets.dagster.retention import restore_in_instance
from vidassets.plan.operations import AssetKind
from vidassets.runs.rerender import RerenderPlan, parse_since, plan_rerender
from vidassets.settings import Settings
from vidassets.storage.partition_repo import PartitionRepository

ORIGIN = "schedule"


def rerender_run_requests(plan: RerenderPlan) -> list[dg.RunRequest]:
    """One run per stale execution: its partition, only its stale kinds, in re-render mode."""
    return [dg.RunRequest(run_key=execution_id, partition_key=execution_id,
                          asset_selection=[dg.AssetKey(kind) for kind in kinds], tags=rerender_tags(ORIGIN))
            for execution_id, kinds in plan.stale_kinds()]


def build_rerender_schedule(settings: Settings) -> dg.ScheduleDefinition:
    @dg.schedule(
        name=RERENDER_SCHEDULE_NAME,
        cron_schedule=settings.rerender_cron,
        job=execute_plan_job,
        default_status=dg.DefaultScheduleStatus.RUNNING if settings.rerender_schedule_enabled
        else dg.DefaultScheduleStatus.STOPPED,
        description="Re-render outputs made by an older renderer or from since-changed inputs.",
    )
    def rerender_stale_outputs(context: dg.ScheduleEvaluationContext,
                               storage: StorageResource) -> list[dg.RunRequest] | dg.SkipReason:
        plan = plan_rerender(storage.settings().resolved_database_url,
                             [AssetKind(k) for k in settings.rerender_kinds], parse_since(settings.rerender_window))
        if not plan.partitions:
            return dg.SkipReason("no stale outputs")
        context.log.info(f"re-rendering {', '.join(plan.kinds)} of {len(plan.partitions)} execution(s)")
        # Stale outputs of executions outside the retention window: their partitions come back
        # (and every target's time in the window restarts) before the runs are requested.
        back = restore_in_instance(context.instance, PartitionRepository(storage.settings().resolved_database_url),
                                   plan.partition_keys)
        if back:
            context.log.info(f"brought back {len(back)} archived execution(s) as partitions")
        return rerender_run_requests(plan)

    return rerender_stale_outputs
