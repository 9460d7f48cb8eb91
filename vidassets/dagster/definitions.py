"""The code location: assets, the plan job, sensors, the re-render schedule and the resources
they use, assembled in one function from Settings."""

from __future__ import annotations

import dagster as dg

from vidassets.dagster.assets import render_plan
from vidassets.dagster.jobs import execute_plan_job
from vidassets.dagster.resources import StorageResource, VideoProviderResource
from vidassets.dagster.retention import build_prune_sensor
from vidassets.dagster.schedules import build_rerender_schedule
from vidassets.dagster.sensors import (
    deliver_webhooks,
    launch_unlaunched_executions,
    record_canceled_runs,
    record_failed_runs,
)
from vidassets.settings import Settings, get_settings


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    settings = settings or get_settings()
    return dg.Definitions(
        assets=[render_plan],
        jobs=[execute_plan_job],
        sensors=[launch_unlaunched_executions, record_failed_runs, record_canceled_runs, deliver_webhooks,
                 build_prune_sensor(settings)],
        schedules=[build_rerender_schedule(settings)],
        resources={"storage": StorageResource.from_settings(settings),
                   "provider": VideoProviderResource.from_settings(settings)},
    )


defs = build_definitions()
