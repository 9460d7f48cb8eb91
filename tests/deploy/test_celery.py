"""The production run launcher (Celery) without a cluster: routing, priorities against a real
Redis broker, lost-worker detection, and the run worker's app built from the same dagster.yaml.
(tests/multihost runs it for real across hosts.)"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from dagster import DagsterRun

from vidassets.dagster import celery_launcher
from vidassets.dagster.celery_launcher import CELERY_NODE_TAG, CeleryRunLauncher
from vidassets.dagster.embedded._dagster_internals import WorkerStatus

ROOT = Path(__file__).resolve().parents[2]
REDIS = "redis://127.0.0.1:6379/14"


def launcher(broker: str = REDIS, **kwargs: Any) -> CeleryRunLauncher:
    return CeleryRunLauncher(default_queue="render", broker=broker, backend="redis://127.0.0.1:6379/14",
                             provider_queue="provider", queues=["render", "provider"], **kwargs)


def run(tags: dict[str, str] | None = None) -> DagsterRun:
    return DagsterRun(job_name="execute_plan", run_id=secrets.token_hex(8), tags=tags or {})


def test_routes_by_plan_and_prioritises_api_runs_over_backfills(monkeypatch: pytest.MonkeyPatch) -> None:
    bound = {"vendor-only": True, "renders": False}
    monkeypatch.setattr(celery_launcher, "provider_bound", lambda eid: bound[eid])
    lr = launcher()
    assert lr.route(run({"dagster/partition": "renders", "vidassets/mode": "resume"})) == ("render", 8)
    assert lr.route(run({"dagster/partition": "vendor-only", "vidassets/mode": "resume"})) == ("provider", 8)
    assert lr.route(run({"dagster/partition": "renders", "dagster/backfill": "b1"})) == ("render", 2)
    assert lr.route(run({"dagster/partition": "renders", "vidassets/rerender": "schedule"})) == ("render", 2)
    # A run's own tags win (a retry copies them from its parent); priorities are clamped to 0-9.
    assert lr.route(run({"dagster/partition": "vendor-only", "dagster-celery/queue": "gpu",
                         "dagster-celery/run_priority": "42"})) == ("gpu", 9)
    # Redis serves low numbers first, RabbitMQ high ones: the broker gets what means "higher first".
    assert [lr.broker_priority(p) for p in (8, 2)] == [1, 7]
    assert [launcher("amqp://guest@localhost//").broker_priority(p) for p in (8, 2)] == [8, 2]


def test_provider_bound_reads_the_execution_jobs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vidassets.settings import get_settings
    from vidassets.storage.db import get_sessionmaker
    from vidassets.storage.migrate import upgrade
    from vidassets.storage.models import ExecutionJobRow, ExecutionRow

    monkeypatch.setenv("VIDASSETS_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        url = get_settings().resolved_database_url
        upgrade(url)

        def job(eid: str, jid: str, operation: str, params: dict[str, Any], status: str = "pending") -> ExecutionJobRow:
            return ExecutionJobRow(execution_id=eid, job_id=jid, position=0, operation=operation, kind="x",
                                   params=params, params_hash="h", depends_on=[], status=status)

        with get_sessionmaker(url)() as s:
            for eid in ("v", "m", "l"):
                s.add(ExecutionRow(id=eid, tenant_id="t", plan={}))
            s.add_all([job("v", "a", "generate", {"provider": "replicate"}),
                       job("v", "b", "lipSync", {"provider": "fal"}),
                       job("v", "done", "merge", {}, status="completed"),  # finished: not work left
                       job("m", "a", "generate", {"provider": "replicate"}), job("m", "c", "merge", {}),
                       job("l", "a", "generate", {"prompt": "local renderer"})])
            s.commit()
        assert celery_launcher.provider_bound("v") is True
        assert celery_launcher.provider_bound("m") is False
        assert celery_launcher.provider_bound("l") is False
        assert celery_launcher.provider_bound("missing") is False
    finally:
        get_settings.cache_clear()


def test_higher_priority_is_served_first_on_a_real_redis_broker() -> None:
    """What the launcher publishes, a worker's consumer receives urgent-first (kombu's Redis
    transport alone would serve dagster-celery's raw numbers the other way round)."""
    import redis

    try:
        redis.Redis.from_url(REDIS).ping()
    except redis.RedisError:
        pytest.skip("Redis on 127.0.0.1:6379 not available")
    queue = f"prio-{secrets.token_hex(4)}"
    lr = CeleryRunLauncher(default_queue=queue, broker=REDIS, backend=REDIS)
    app = lr.celery
    try:
        for name, priority in [("backfill-1", 2), ("urgent-1", 8), ("backfill-2", 2), ("urgent-2", 8), ("mid", 5)]:
            app.send_task("execute_job", kwargs={"name": name}, queue=queue, routing_key=f"{queue}.execute_job",
                          priority=lr.broker_priority(priority))
        order = []
        with app.connection_for_read() as conn:
            consumer_queue = app.amqp.queues[queue]
            with conn.SimpleQueue(consumer_queue) as q:  # the worker's consumer: BRPOP over priority lists
                for _ in range(5):
                    msg = q.get(timeout=5)
                    order.append(msg.payload[1]["name"])
                    msg.ack()
        assert order[:2] == ["urgent-1", "urgent-2"] and order[2] == "mid" and order[3:] == ["backfill-1", "backfill-2"]
    finally:
        client = redis.Redis.from_url(REDIS)
        for pattern in (f"{queue}*", f"_kombu.binding*.{queue}"):
            for key in client.scan_iter(pattern):
                client.delete(key)
        app.close()


class _FakeResult:
    def __init__(self, state: str, info: Any = None):
        self.state = state
        self.info = info


def test_a_silent_worker_is_declared_lost_after_the_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    lr = launcher(worker_lost_after_seconds=30)
    clock = [1000.0]
    pongs: list[dict[str, Any]] = [{"worker@a": {"ok": "pong"}}, {"worker@b": {"ok": "pong"}}]
    states = {"t-a": "STARTED", "t-b": "STARTED", "t-ok": "SUCCESS", "t-bad": "FAILURE", "t-c": "STARTED"}
    infos = {"t-c": {"pid": 7, "hostname": "worker@b"}}  # what Celery stores when a task starts
    monkeypatch.setattr(celery_launcher.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(lr.celery, "AsyncResult", lambda task_id: _FakeResult(states[task_id], infos.get(task_id)))
    monkeypatch.setattr(lr.celery.control, "ping", lambda timeout: list(pongs))

    def health(task: str, node: str | None) -> WorkerStatus:
        tags = {"dagster-celery/task_id": task, **({CELERY_NODE_TAG: node} if node else {})}
        return lr.check_run_worker_health(run(tags)).status

    assert health("t-a", "worker@a") == WorkerStatus.RUNNING
    assert health("t-ok", "worker@a") == WorkerStatus.SUCCESS
    assert health("t-bad", "worker@a") == WorkerStatus.FAILED      # e.g. the pool process was OOM-killed
    assert health("t-a", None) == WorkerStatus.RUNNING              # not recorded yet: never failed for that
    assert lr.check_run_worker_health(run()).status == WorkerStatus.RUNNING  # not a Celery run
    pongs[:] = [{"worker@a": {"ok": "pong"}}]                       # worker@b stops answering
    clock[0] += 10
    assert health("t-b", "worker@b") == WorkerStatus.RUNNING        # silent 10 s < 30 s: a slow reply is not a loss
    clock[0] += 25
    result = lr.check_run_worker_health(run({"dagster-celery/task_id": "t-b", CELERY_NODE_TAG: "worker@b"}))
    assert result.status == WorkerStatus.FAILED and "worker@b" in (result.msg or "")
    assert health("t-c", None) == WorkerStatus.FAILED               # node tag lost: the task's state names it
    assert health("t-a", "worker@a") == WorkerStatus.RUNNING
    pongs[:] = [{"worker@b": {"ok": "pong"}}, {"worker@a": {"ok": "pong"}}]  # back (restarted, network healed)
    clock[0] += 5
    assert health("t-b", "worker@b") == WorkerStatus.RUNNING

    def broken(timeout: float) -> list[dict[str, Any]]:
        raise ConnectionError("broker down")

    monkeypatch.setattr(lr.celery.control, "ping", broken)
    clock[0] += 100
    assert health("t-b", "worker@b") == WorkerStatus.RUNNING        # broker trouble: nobody is declared lost


def test_the_worker_app_is_built_from_the_production_dagster_yaml(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(home), "DAGSTER_POSTGRES_URL": "postgresql+psycopg2://u@h/db",
           "DAGSTER_COMPUTE_LOGS_BUCKET": "b", "DAGSTER_CELERY_BROKER_URL": "redis://broker:6379/1",
           "DAGSTER_CELERY_BACKEND_URL": "redis://broker:6379/2"}
    probe = ("import json, vidassets.dagster.celery_app as m; c = m.app.conf; "
             "print(json.dumps({'tasks': sorted(t for t in m.app.tasks if not t.startswith('celery.')), "
             "'broker': c.broker_url, 'backend': c.result_backend, 'queues': [q.name for q in c.task_queues], "
             "'disable_prefetch': c.worker_disable_prefetch, 'per_child': c.worker_max_tasks_per_child, "
             "'prefetch': c.worker_prefetch_multiplier, 'steps': c.broker_transport_options['priority_steps']}))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=180, cwd=ROOT, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    import json

    conf = json.loads(out.stdout.strip().splitlines()[-1])
    assert {"execute_job", "resume_job"} <= set(conf["tasks"])
    assert conf["broker"] == "redis://broker:6379/1" and conf["backend"] == "redis://broker:6379/2"
    assert conf["queues"] == ["render", "provider"]
    assert conf["disable_prefetch"] is True and conf["per_child"] == 1 and conf["prefetch"] == 1
    assert conf["steps"] == list(range(10))


def test_launch_writes_its_tags_once_before_the_task_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dagster rewrites a run's tags read-modify-write: a launcher write racing the worker's first
    writes (its node tag, RUN_START) would lose one, so everything is written before publishing."""
    calls: list[tuple[str, dict[str, Any]]] = []

    class FakeInstance:
        def add_run_tags(self, run_id: str, tags: dict[str, str]) -> None:
            calls.append(("tags", dict(tags)))

        def report_engine_event(self, *args: Any, **kwargs: Any) -> None:
            calls.append(("event", {}))

    class Signature:
        def apply_async(self, **kwargs: Any) -> None:
            calls.append(("publish", kwargs))

    lr = launcher()
    monkeypatch.setattr(type(lr), "_instance", property(lambda self: FakeInstance()))
    monkeypatch.setattr(celery_launcher, "provider_bound", lambda eid: False)
    lr._launch_celery_task_run(run({"dagster/partition": "e", CELERY_NODE_TAG: "worker@old"}), Signature(),
                               "execute_job")
    assert [name for name, _ in calls] == ["tags", "publish", "event"]
    tags, publish = calls[0][1], calls[1][1]
    assert tags["dagster-celery/task_id"] == publish["task_id"]
    assert tags[CELERY_NODE_TAG] == ""  # a retry's copied worker is forgotten
    assert (publish["queue"], publish["routing_key"], publish["priority"]) == ("render", "render.execute_job", 1)
