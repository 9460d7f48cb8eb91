"""Scheduled re-render of stale outputs, launched as partitioned backfills.

Cron, kinds and window come from Settings (``VIDASSETS_RERENDER_*``); the schedule is stopped
unless ``VIDASSETS_RERENDER_SCHEDULE_ENABLED=true`` (a producer can also start it in the UI).
"""

import dagster as dg

from vidassets.dagster.jobs import execute_plan_job
from vidassets.dagster.resources import StorageResource
from vidassets.launcher import DagsterLauncher
from vidassets.plan.operations import AssetKind
from vidassets.rerender import launch_rerender, parse_since, plan_rerender
from vidassets.settings import get_settings


def build_rerender_schedule() -> dg.ScheduleDefinition:
    settings = get_settings()

    @dg.schedule(
        name="rerender_stale_outputs",
        cron_schedule=settings.rerender_cron,
        job=execute_plan_job,
        default_status=dg.DefaultScheduleStatus.RUNNING if settings.rerender_schedule_enabled
        else dg.DefaultScheduleStatus.STOPPED,
        description="Re-render outputs made by an older renderer or from since-changed inputs.",
    )
    def rerender_stale_outputs(context: dg.ScheduleEvaluationContext, storage: StorageResource) -> dg.SkipReason:
        services = storage.services()
        s = services.settings
        plan = plan_rerender(s.resolved_database_url, [AssetKind(k) for k in s.rerender_kinds],
                             parse_since(s.rerender_window))
        if not plan.partitions:
            return dg.SkipReason("no stale outputs")
        backfills = launch_rerender(DagsterLauncher(s), plan, origin="schedule")
        context.log.info(f"launched backfills {backfills} for {len(plan.partitions)} executions")
        return dg.SkipReason(f"launched {len(backfills)} backfill(s): {', '.join(backfills)}")

    return rerender_stale_outputs
