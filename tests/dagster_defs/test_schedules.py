"""The re-render schedule, evaluated as the daemon evaluates it: on a real instance, from the
executions database, each run request resolved against the instance's partitions."""

from __future__ import annotations

from typing import Any

import dagster as dg
import pytest

from tests.dagster_defs.test_assets import _materialize
from tests.helpers import submit
from vidassets.contract import MODE_RERENDER, MODE_RESUME, MODE_TAG, PARTITION_TAG, RERENDER_TAG
from vidassets.dagster.definitions import defs
from vidassets.dagster.resources import StorageResource
from vidassets.dagster.schedules import build_rerender_schedule
from vidassets.services import get_services
from vidassets.settings import get_settings

pytestmark = pytest.mark.usefixtures("settings_in_env")


@pytest.fixture
def backend() -> str:
    return "embedded"  # the staleness queries run on both backends in tests/execution/test_rerender.py


def _rendered(instance: dg.DagsterInstance) -> str:
    """A completed generate → reframe execution, run through Dagster."""
    eid = submit(get_services(), {"jobs": [
        {"id": "g", "type": "generate", "params": {"prompt": "tick", "duration": 1, "resolution": "160x90"}},
        {"id": "r", "type": "reframe", "params": {"aspectRatio": "1:1"}, "dependsOn": ["g"]}]})
    assert _materialize(instance, eid, tags={MODE_TAG: MODE_RESUME}).success
    return eid


def _made_by_an_older_renderer(eid: str, job_id: str) -> None:
    repo = get_services().repo
    job = next(j for j in repo.jobs(eid) if j.job_id == job_id)
    repo.job_completed(eid, job_id, {**job.result, "rendererVersion": "0"})


def _tick(instance: dg.DagsterInstance) -> Any:  # ScheduleExecutionData (not exported by dagster)
    schedule = build_rerender_schedule(get_settings())
    with dg.build_schedule_context(instance=instance, repository_def=defs.get_repository_def(),
                                   resources={"storage": StorageResource.from_settings(get_settings())}) as context:
        return schedule.evaluate_tick(context)


def test_a_tick_requests_one_rerender_run_per_stale_execution_with_only_its_stale_kinds(
        instance: dg.DagsterInstance) -> None:
    fresh, stale_reframe, stale_clips = _rendered(instance), _rendered(instance), _rendered(instance)
    assert _tick(instance).skip_message == "no stale outputs"

    _made_by_an_older_renderer(stale_reframe, "r")
    _made_by_an_older_renderer(stale_clips, "g")
    data = _tick(instance)
    assert data.skip_message is None
    requests = {r.partition_key: r for r in data.run_requests or []}
    assert set(requests) == {stale_reframe, stale_clips}  # nothing for the fresh one
    assert fresh not in requests
    assert requests[stale_reframe].asset_selection == [dg.AssetKey("reframed")]
    assert requests[stale_clips].asset_selection == [dg.AssetKey("generated_clips")]
    for eid, request in requests.items():
        assert request.run_key == eid
        assert request.tags[MODE_TAG] == MODE_RERENDER and request.tags[RERENDER_TAG] == "schedule"
        assert request.tags[PARTITION_TAG] == eid  # resolved against the instance's partitions
        assert request.tags["dagster/schedule_name"] == "rerender_stale_outputs"

    # What the daemon would launch re-renders the stale kind only (and what depends on it).
    request = requests[stale_reframe]
    result = _materialize(instance, stale_reframe, selection=request.asset_selection, tags=request.tags)
    assert result.success
    assert {j.job_id: j.attempts for j in get_services().repo.jobs(stale_reframe)} == {"g": 1, "r": 2}
    assert _tick(instance).run_requests == [requests[stale_clips]]  # the re-rendered one is fresh again
