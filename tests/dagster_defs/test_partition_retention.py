"""Bounded partitions: the pruner removes exactly the partitions outside the retention window
(never an active execution's, never one with an unfinished run), in bounded passes, oldest first;
restoring brings a partition and its materialisation history back; the re-render schedule and
the reconciliation sensor bring archived executions back before they ask for runs. On a real
Dagster instance, against both database backends."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import dagster as dg
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import delete, update

from tests.dagster_defs.test_assets import _materialize
from tests.dagster_defs.test_schedules import _made_by_an_older_renderer, _tick
from tests.helpers import submit
from vidassets.contract import JOB_NAME, MODE_RESUME, MODE_TAG, PARTITION_TAG, PARTITIONS_DEF_NAME
from vidassets.dagster.definitions import defs
from vidassets.dagster.resources import StorageResource
from vidassets.dagster.retention import (
    PRUNE_SENSOR_NAME,
    PruneResult,
    Window,
    build_prune_sensor,
    prune,
    restore_in_instance,
)
from vidassets.dagster.sensors import launch_unlaunched_executions
from vidassets.services import get_services
from vidassets.settings import get_settings
from vidassets.storage.db import session_scope
from vidassets.storage.models import ExecutionRow
from vidassets.storage.partition_repo import PartitionRepository

pytestmark = pytest.mark.usefixtures("settings_in_env")

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
STATUSES = ["pending", "processing", "completed", "failed", "cancelled"]
ONE_JOB = {"jobs": [{"id": "g", "type": "generate", "params": {"prompt": "p", "duration": 1, "resolution": "160x90"}}]}


@dataclass(frozen=True)
class Execution:
    status: str
    age_h: int  # hours since its partition was added
    run: str  # "none", "unfinished" (queued / not started), "finished" (failed)


@st.composite
def populations(draw: st.DrawFn) -> tuple[list[Execution], Window]:
    n = draw(st.integers(1, 10))
    ages = draw(st.lists(st.integers(0, 40 * 24), min_size=n, max_size=n, unique=True))
    executions = [Execution(draw(st.sampled_from(STATUSES)), age, draw(st.sampled_from(["none", "unfinished", "finished"])))
                  for age in ages]
    days = draw(st.sampled_from([0, 1, 7, 14]))
    max_live = draw(st.integers(0, n + 1))
    window = Window(max_age=dt.timedelta(days=days) if days else None, max_live=max_live or None,
                    batch=draw(st.integers(1, n + 1)))
    return executions, window


def _reset(instance: dg.DagsterInstance) -> None:
    with session_scope(get_settings().resolved_database_url) as s:
        s.execute(delete(ExecutionRow))
    for key in instance.get_dynamic_partitions(PARTITIONS_DEF_NAME):
        instance.delete_dynamic_partition(PARTITIONS_DEF_NAME, key)
    for run in instance.get_runs():
        instance.delete_run(run.run_id)


def _create(instance: dg.DagsterInstance, execution: Execution) -> str:
    eid = submit(get_services(), ONE_JOB)
    with session_scope(get_settings().resolved_database_url) as s:
        s.execute(update(ExecutionRow).where(ExecutionRow.id == eid).values(
            status=execution.status, partition_at=NOW - dt.timedelta(hours=execution.age_h)))
    instance.add_dynamic_partitions(PARTITIONS_DEF_NAME, [eid])
    if execution.run != "none":  # a run of the plan job for this partition, never started
        run = instance.create_run_for_job(job_def=defs.resolve_job_def(JOB_NAME), tags={PARTITION_TAG: eid})
        if execution.run == "finished":
            instance.report_run_failed(run)
    return eid


def _outside(executions: list[Execution], window: Window) -> list[int]:
    """Indices outside the window, oldest first: the model the pruner is checked against."""
    by_age = sorted(range(len(executions)), key=lambda i: executions[i].age_h)  # newest first
    rank = {i: r for r, i in enumerate(by_age)}
    max_h = window.max_age.total_seconds() / 3600 if window.max_age else None
    out = [i for i in range(len(executions))
           if (max_h is not None and executions[i].age_h > max_h)
           or (window.max_live is not None and rank[i] >= window.max_live)]
    return sorted(out, key=lambda i: -executions[i].age_h)


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(populations())
def test_prune_removes_exactly_the_inactive_partitions_outside_the_window_oldest_first(
        instance: dg.DagsterInstance, population: tuple[list[Execution], Window]) -> None:
    executions, window = population
    _reset(instance)
    ids = [_create(instance, e) for e in executions]
    repo = PartitionRepository(get_settings().resolved_database_url)
    removable = [ids[i] for i in _outside(executions, window)
                 if executions[i].status not in ("pending", "processing") and executions[i].run != "unfinished"]

    first = prune(instance, repo, window, now=NOW)
    assert first.removed == removable[:window.batch]  # bounded, oldest first
    passes: list[PruneResult] = [first]
    while passes[-1].removed:
        passes.append(prune(instance, repo, window, now=NOW))
        assert len(passes) <= len(ids) + 1

    removed = [k for p in passes for k in p.removed]
    assert removed == removable
    assert set(instance.get_dynamic_partitions(PARTITIONS_DEF_NAME)) == set(ids) - set(removable)
    assert repo.archived(ids) == [i for i in ids if i in set(removable)]
    for eid in removable:  # the record stays, only its partition went
        row = get_services().repo.get(eid)
        assert row is not None and row.jobs and row.archived_at == NOW


def test_nothing_is_removed_without_limits(instance: dg.DagsterInstance) -> None:
    _reset(instance)
    eid = _create(instance, Execution("completed", 10_000, "none"))
    repo = PartitionRepository(get_settings().resolved_database_url)
    assert prune(instance, repo, Window(max_age=None, max_live=None, batch=10), now=NOW).removed == []
    assert instance.has_dynamic_partition(PARTITIONS_DEF_NAME, eid)


def _archive(instance: dg.DagsterInstance, eid: str) -> None:
    """Age the execution out of a one-day window and prune it, as the sensor would."""
    with session_scope(get_settings().resolved_database_url) as s:
        s.execute(update(ExecutionRow).where(ExecutionRow.id == eid).values(partition_at=NOW - dt.timedelta(days=3)))
    repo = PartitionRepository(get_settings().resolved_database_url)
    assert eid in prune(instance, repo, Window(max_age=dt.timedelta(days=1), max_live=None, batch=100), now=NOW).removed
    assert not instance.has_dynamic_partition(PARTITIONS_DEF_NAME, eid)


def test_restoring_brings_back_the_partition_and_its_materialisation_history(instance: dg.DagsterInstance) -> None:
    eid = submit(get_services(), {"jobs": [
        {"id": "g", "type": "generate", "params": {"prompt": "keep", "duration": 1, "resolution": "160x90"}}]})
    assert _materialize(instance, eid, tags={MODE_TAG: MODE_RESUME}).success
    key = dg.AssetKey("generated_clips")
    before = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key, asset_partitions=[eid]), limit=10)
    assert len(before.records) == 1

    _archive(instance, eid)
    repo = PartitionRepository(get_settings().resolved_database_url)
    assert repo.archived([eid]) == [eid]

    assert restore_in_instance(instance, repo, [eid]) == [eid]
    assert instance.has_dynamic_partition(PARTITIONS_DEF_NAME, eid)
    assert repo.archived([eid]) == []
    after = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key, asset_partitions=[eid]), limit=10)
    assert [r.storage_id for r in after.records] == [r.storage_id for r in before.records]
    assert eid in instance.get_materialized_partitions(key)
    # Brought back means back in the window: the next pass leaves it alone.
    assert prune(instance, repo, Window(max_age=dt.timedelta(days=1), max_live=None, batch=100)).removed == []


def test_the_rerender_schedule_brings_archived_stale_executions_back_before_requesting_runs(
        instance: dg.DagsterInstance) -> None:
    eid = submit(get_services(), {"jobs": [
        {"id": "g", "type": "generate", "params": {"prompt": "old", "duration": 1, "resolution": "160x90"}}]})
    assert _materialize(instance, eid, tags={MODE_TAG: MODE_RESUME}).success
    _archive(instance, eid)
    _made_by_an_older_renderer(eid, "g")

    data = _tick(instance)
    assert [r.partition_key for r in data.run_requests or []] == [eid]
    assert instance.has_dynamic_partition(PARTITIONS_DEF_NAME, eid)
    assert PartitionRepository(get_settings().resolved_database_url).archived([eid]) == []


def test_a_variant_of_an_archived_base_brings_the_base_back_when_the_sensor_launches_it(
        instance: dg.DagsterInstance) -> None:
    base = submit(get_services(), {"jobs": [
        {"id": "g", "type": "generate", "params": {"prompt": "base", "duration": 1, "resolution": "160x90"}}]})
    assert _materialize(instance, base, tags={MODE_TAG: MODE_RESUME}).success
    _archive(instance, base)
    variant = submit(get_services(), {"baseExecutionId": base, "jobs": [
        {"id": "g", "type": "generate", "params": {"prompt": "base", "duration": 1, "resolution": "160x90"}},
        {"id": "r", "type": "reframe", "params": {"aspectRatio": "1:1"}, "dependsOn": ["g"]}]})
    with session_scope(get_settings().resolved_database_url) as s:  # past the API's launch grace
        s.execute(update(ExecutionRow).where(ExecutionRow.id == variant)
                  .values(created_at=NOW - dt.timedelta(hours=1)))

    context = dg.build_sensor_context(instance=instance,
                                      resources={"storage": StorageResource.from_settings(get_settings())})
    result = launch_unlaunched_executions(context)
    assert isinstance(result, dg.SensorResult)
    assert [r.partition_key for r in result.run_requests or []] == [variant]
    added = [k for req in result.dynamic_partitions_requests or [] for k in req.partition_keys]
    assert added.index(base) < added.index(variant)  # the base's partition is there first
    assert PartitionRepository(get_settings().resolved_database_url).archived([base, variant]) == []


def test_the_prune_sensor_is_registered_and_removes_what_left_the_window(instance: dg.DagsterInstance) -> None:
    assert PRUNE_SENSOR_NAME in {s.name for s in defs.get_repository_def().sensor_defs}
    _reset(instance)
    old, new = (_create(instance, Execution("completed", age, "none")) for age in (48, 1))
    sensor = build_prune_sensor(get_settings().model_copy(update={"partition_retention_max": 1}))
    context = dg.build_sensor_context(instance=instance,
                                      resources={"storage": StorageResource.from_settings(get_settings())})
    data = sensor.evaluate_tick(context)
    assert data.skip_message is not None and data.skip_message.startswith("removed 1 partition(s)")
    assert instance.get_dynamic_partitions(PARTITIONS_DEF_NAME) == [new]
    assert PartitionRepository(get_settings().resolved_database_url).archived([old, new]) == [old]
