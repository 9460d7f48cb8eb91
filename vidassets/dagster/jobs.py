"""The job the API launches: all the video assets, one partition, one process (in-process executor)."""

import dagster as dg

from vidassets.contract import JOB_NAME
from vidassets.dagster.assets import render_plan
from vidassets.dagster.partitions import executions_partitions

execute_plan_job = dg.define_asset_job(
    name=JOB_NAME,
    selection=dg.AssetSelection.assets(render_plan),
    partitions_def=executions_partitions,
    executor_def=dg.in_process_executor,
    description="Run one execution plan (partition = execution ID).",
)
