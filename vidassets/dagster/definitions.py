"""The code location: assets, the plan job, sensors and resources, assembled in one function."""

from __future__ import annotations

import dagster as dg

from vidassets.dagster.assets import render_plan
from vidassets.dagster.jobs import execute_plan_job
from vidassets.dagster.schedules import build_rerender_schedule
from vidassets.dagster.resources import StorageResource, VideoProviderResource
from vidassets.dagster.sensors import (
    deliver_webhooks,
    launch_unlaunched_executions,
    record_canceled_runs,
    record_failed_runs,
)


def build_definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=[render_plan],
        jobs=[execute_plan_job],
        sensors=[launch_unlaunched_executions, record_failed_runs, record_canceled_runs, deliver_webhooks],
        schedules=[build_rerender_schedule()],
        resources={"storage": StorageResource(), "provider": VideoProviderResource()},
    )


defs = build_definitions()
