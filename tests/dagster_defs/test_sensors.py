"""The run-failure sensor ends an execution whose run died, unless Dagster will retry the run
(its ``dagster/will_retry`` decision, made by a real instance with or without run retries)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from tests.helpers import submit
from vidassets.contract import PARTITION_TAG, WILL_RETRY_TAG
from vidassets.dagster.resources import StorageResource
from vidassets.dagster.sensors import record_failed_runs, will_retry
from vidassets.services import get_services
from vidassets.settings import get_settings

pytestmark = pytest.mark.usefixtures("settings_in_env")


@pytest.fixture
def backend() -> str:
    return "embedded"


@dg.op
def noop() -> None:
    pass


@dg.job
def stand_in() -> None:  # the failed run: only its tags and status matter
    noop()


def _failed_run(instance: dg.DagsterInstance, eid: str,
                tags: dict[str, str]) -> tuple[dg.DagsterRun, dg.DagsterEvent]:
    run = instance.create_run_for_job(job_def=stand_in, tags={PARTITION_TAG: eid, **tags})
    instance.report_run_failed(run)
    event = next(e.dagster_event for e in instance.all_logs(run.run_id)
                 if e.dagster_event is not None and e.dagster_event.is_run_failure)
    failed = instance.get_run_by_id(run.run_id)
    assert failed is not None
    return failed, event


@pytest.mark.parametrize(("retries", "run_tags", "retried"), [
    (True, {}, True),
    (True, {"dagster/max_retries": "0"}, False),
    (False, {}, False),
], ids=["retries-left", "no-retries-left", "run-retries-off"])
def test_a_failed_run_ends_its_execution_unless_dagster_will_retry_it(
        tmp_path: Path, retries: bool, run_tags: dict[str, str], retried: bool) -> None:
    eid = submit(get_services(), {"jobs": [
        {"id": "g", "type": "generate", "params": {"prompt": "x", "duration": 1, "resolution": "160x90"}}]})
    overrides = {"run_retries": {"enabled": retries, "max_retries": 2}}
    with dg.instance_for_test(temp_dir=str(tmp_path), overrides=overrides) as instance:
        run, event = _failed_run(instance, eid, run_tags)
        assert (WILL_RETRY_TAG in run.tags) is retries  # decided by the instance as it stored the failure
        get_services().repo.mark_launched(eid, run.run_id)
        context = dg.build_run_status_sensor_context(
            sensor_name="record_failed_runs", dagster_event=event, dagster_instance=instance, dagster_run=run,
            resources={"storage": StorageResource.from_settings(get_settings())},
        ).for_run_failure()
        assert will_retry(context, wait_s=0) is retried
        record_failed_runs(context)
    row = get_services().repo.get(eid, with_jobs=False)
    assert row is not None
    if retried:
        assert row.status == "pending"  # the retry resumes it
    else:
        assert (row.status, row.error_code) == ("failed", "run_failed")
