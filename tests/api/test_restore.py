"""Bringing archived executions back as Dagster partitions from outside Dagster: the API route
(tenant-scoped), the CLI, a variant naming an archived base, a re-render selecting an archived
execution, and batched launches. Against a real ``dagster-webserver`` (its GraphQL API, its
instance) and both database backends."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from tests.conftest import make_client
from tests.helpers import submit
from vidassets.cli import main as cli_main
from vidassets.contract import PARTITIONS_DEF_NAME
from vidassets.runs.launch import DagsterLauncher, LaunchQueue
from vidassets.settings import Settings, get_settings
from vidassets.storage.db import session_scope
from vidassets.storage.keys import ApiKeyRepository
from vidassets.storage.models import ExecutionRow
from vidassets.storage.partition_repo import PartitionRepository

ROOT = Path(__file__).resolve().parents[2]
ONE_JOB = {"jobs": [{"id": "g", "type": "generate", "params": {"prompt": "p", "duration": 1, "resolution": "160x90"}}]}
# Runs wait in the queue: no daemon dequeues them, so nothing executes in these tests.
DAGSTER_YAML = "run_coordinator:\n  module: dagster.core.run_coordinator\n  class: QueuedRunCoordinator\n" \
               "telemetry:\n  enabled: false\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_location(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 180) -> None:
    query = "{ repositoriesOrError { __typename ... on RepositoryConnection { nodes { name } } } }"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("dagster-webserver exited")
        try:
            body = httpx.post(url, json={"query": query}, timeout=5).json()
            if body["data"]["repositoriesOrError"].get("nodes"):
                return
        except (httpx.HTTPError, KeyError, TypeError, ValueError):
            pass
        time.sleep(0.5)
    raise TimeoutError("the vidassets code location did not load")


@pytest.fixture(scope="module")
def dagster_web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """``dagster-webserver`` on the repository's workspace, with its own instance."""
    home = tmp_path_factory.mktemp("dagster_home")
    (home / "dagster.yaml").write_text(DAGSTER_YAML)
    port = _free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "VIDASSETS_DATA_DIR": str(home / "vidassets")}
    log = (home / "webserver.log").open("wb")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "dagster-webserver"), "-w", str(ROOT / "workspace.yaml"),
                             "-h", "127.0.0.1", "-p", str(port)], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        _wait_for_location(url, proc)
        yield url, home
    except BaseException:
        print((home / "webserver.log").read_text()[-4000:])
        raise
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


@pytest.fixture
def instance(dagster_web: tuple[str, Path]) -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.from_config(str(dagster_web[1])) as inst:
        yield inst


@pytest.fixture
def wired(settings: Settings, dagster_web: tuple[str, Path]) -> Settings:
    return settings.model_copy(update={"dagster_graphql_url": dagster_web[0], "dagster_timeout_s": 30.0})


def _client(settings: Settings, tenant: str = "tenant-a") -> TestClient:
    from api.main import create_app

    key, _ = ApiKeyRepository(settings.resolved_database_url).create(tenant, "tests")
    client = TestClient(create_app(settings))
    client.headers["Authorization"] = f"Bearer {key}"
    return client


def _archived(services: Any, body: dict[str, Any] = ONE_JOB, tenant: str = "tenant-a", **values: Any) -> str:
    """A completed execution whose partition the retention window removed (it never had one here)."""
    eid = submit(services, body, tenant=tenant)
    for job in services.repo.jobs(eid):  # finished: nothing still lands (a variant need not wait)
        services.repo.job_completed(eid, job.job_id, {"digest": f"d-{job.job_id}", "key": f"k/{job.job_id}",
                                                      "uri": f"k/{job.job_id}"})
    with session_scope(services.settings.resolved_database_url) as s:
        s.execute(update(ExecutionRow).where(ExecutionRow.id == eid).values(
            status="completed", completed_at=dt.datetime.now(dt.UTC), partition_at=None,
            archived_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1), **values))
    return eid


def test_restore_route_brings_an_archived_execution_back_and_says_so(
        wired: Settings, services: Any, instance: dg.DagsterInstance) -> None:
    eid = _archived(services)
    client = _client(wired)
    before = client.get(f"/api/execute/{eid}/partition").json()
    assert before["inDagster"] is False and before["archivedAt"] is not None
    assert not instance.has_dynamic_partition(PARTITIONS_DEF_NAME, eid)

    resp = client.post(f"/api/execute/{eid}/restore")
    assert resp.status_code == 200, resp.text
    assert resp.json()["restored"] is True and resp.json()["inDagster"] is True
    assert instance.has_dynamic_partition(PARTITIONS_DEF_NAME, eid)
    assert client.get(f"/api/execute/{eid}/partition").json()["inDagster"] is True

    again = client.post(f"/api/execute/{eid}/restore").json()
    assert again["restored"] is False and again["inDagster"] is True


def test_restore_is_tenant_scoped(wired: Settings, services: Any, instance: dg.DagsterInstance) -> None:
    eid = _archived(services)
    other = _client(wired, tenant="tenant-b")
    for resp in (other.post(f"/api/execute/{eid}/restore"), other.get(f"/api/execute/{eid}/partition"),
                 other.post("/api/execute/exec_unknown/restore"), other.get("/api/execute/bad%20id/partition")):
        assert resp.status_code == 404 and resp.json()["code"] == "not_found"
    assert not instance.has_dynamic_partition(PARTITIONS_DEF_NAME, eid)
    assert PartitionRepository(wired.resolved_database_url).archived([eid]) == [eid]


def test_restore_with_dagster_down_is_503_and_leaves_it_archived(settings: Settings, services: Any) -> None:
    eid = _archived(services)
    resp = make_client(settings).post(f"/api/execute/{eid}/restore")
    assert resp.status_code == 503 and resp.json()["code"] == "dependency_unavailable"
    assert PartitionRepository(settings.resolved_database_url).archived([eid]) == [eid]


def test_cli_restore(wired: Settings, services: Any, instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch,
                     capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import settings_env

    for key, value in settings_env(wired).items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    try:
        eid = _archived(services)
        assert cli_main(["restore", eid]) == 0
        assert f"{eid}: restored" in capsys.readouterr().out
        assert instance.has_dynamic_partition(PARTITIONS_DEF_NAME, eid)
        assert cli_main(["restore", "exec_nope"]) == 2
        assert cli_main(["restore", eid, "--tenant", "tenant-b"]) == 2  # not that tenant's
    finally:
        get_settings.cache_clear()


def _wait_launched(settings: Settings, eid: str, timeout_s: float = 60) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with session_scope(settings.resolved_database_url) as s:
            row = s.get(ExecutionRow, eid)
            if row is not None and row.run_id:
                return row.run_id
            if row is not None and row.launch_error:
                raise AssertionError(f"launch failed: {row.launch_error}")
        time.sleep(0.2)
    raise TimeoutError(eid)


def test_a_variant_naming_an_archived_base_brings_the_base_back_before_its_run(
        wired: Settings, services: Any, instance: dg.DagsterInstance) -> None:
    base = _archived(services)
    client = _client(wired)
    resp = client.post("/api/execute", json={"baseExecutionId": base, "jobs": [
        {"id": "g", "type": "generate", "params": {"prompt": "p", "duration": 1, "resolution": "160x90"}},
        {"id": "r", "type": "reframe", "params": {"aspectRatio": "1:1"}, "dependsOn": ["g"]}]})
    assert resp.status_code in (200, 201, 202), resp.text
    variant = resp.json()["id"]
    run_id = _wait_launched(wired, variant)
    run = instance.get_run_by_id(run_id)
    assert run is not None and run.tags["dagster/partition"] == variant
    assert instance.has_dynamic_partition(PARTITIONS_DEF_NAME, base)
    assert PartitionRepository(wired.resolved_database_url).archived([base]) == []


def test_a_rerender_selecting_an_archived_execution_brings_it_back_and_backfills_it(
        wired: Settings, services: Any, instance: dg.DagsterInstance) -> None:
    eid = _archived(services)
    services.repo.job_completed(eid, "g", {"rendererVersion": "0", "digest": "d", "key": "k", "uri": "u"})
    resp = _client(wired).post("/api/rerender", json={"kinds": ["generated_clips"], "since": "7d"})
    assert resp.status_code == 202, resp.text
    assert resp.json()["executions"] == [eid] and len(resp.json()["backfills"]) == 1
    assert instance.has_dynamic_partition(PARTITIONS_DEF_NAME, eid)
    assert PartitionRepository(wired.resolved_database_url).archived([eid]) == []


def test_a_burst_of_submissions_gets_its_partitions_in_one_request(wired: Settings, services: Any,
                                                                  instance: dg.DagsterInstance) -> None:
    """A submission alone is launched in one request; while it is held, the rest queue up and
    their partitions are then added in one request, their runs launched one each."""
    adds: list[list[str]] = []
    launches: list[tuple[str, bool]] = []

    class Recording(DagsterLauncher):
        def add_partitions(self, partition_keys: list[str]) -> None:
            adds.append(list(partition_keys))
            super().add_partitions(partition_keys)

        def launch(self, execution_id: str, **kwargs: Any) -> str:
            launches.append((execution_id, kwargs.get("with_partition", True)))
            return super().launch(execution_id, **kwargs)

    ids = [submit(services, ONE_JOB, tenant="tenant-a") for _ in range(8)]
    repo = services.repo
    release, holding = threading.Event(), threading.Event()

    def claim(eid: str) -> bool:
        if eid == ids[0]:
            holding.set()
            release.wait(30)  # the others are queued meanwhile
        return bool(repo.claim_launch(eid))

    launched: dict[str, str] = {}
    failed: list[str] = []
    done = threading.Event()

    def on_launched(eid: str, run_id: str) -> None:
        launched[eid] = run_id
        if len(launched) == len(ids):
            done.set()

    queue = LaunchQueue(Recording(wired), on_launched, lambda eid, err: failed.append(err), claim=claim,
                        partitions=PartitionRepository(wired.resolved_database_url))
    try:
        queue.submit(ids[0])
        assert holding.wait(30)
        for eid in ids[1:]:
            queue.submit(eid)
        release.set()
        assert done.wait(180), failed
    finally:
        queue.stop()
    assert adds == [ids[1:]]
    assert sorted(launches) == sorted([(ids[0], True)] + [(eid, False) for eid in ids[1:]])
    assert set(ids) <= set(instance.get_dynamic_partitions(PARTITIONS_DEF_NAME))
    runs = instance.get_runs(dg.RunsFilter(run_ids=list(launched.values())))
    assert {r.tags["dagster/partition"]: r.run_id for r in runs} == launched


def test_launch_failures_with_dagster_down_leave_the_executions_to_the_sensor(settings: Settings,
                                                                             services: Any) -> None:
    down = settings.model_copy(update={"dagster_graphql_url": f"http://127.0.0.1:{_free_port()}/graphql",
                                       "dagster_timeout_s": 1.0})
    ids = [submit(services, ONE_JOB, tenant="tenant-a") for _ in range(5)]
    failed: dict[str, str] = {}
    queue = LaunchQueue(DagsterLauncher(down), lambda eid, run: pytest.fail(run),
                        lambda eid, err: failed.__setitem__(eid, err), claim=services.repo.claim_launch)
    try:
        for eid in ids:
            queue.submit(eid)
        deadline = time.monotonic() + 30
        while len(failed) < len(ids) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        queue.stop()
    assert set(failed) == set(ids)
