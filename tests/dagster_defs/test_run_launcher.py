"""The embedded default's run launcher and queue: a real SQLite Dagster instance made from the
repository's dagster.yaml, runs forked from the warm server, health checks and termination."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from dagster import DagsterInstance, DagsterRun, DagsterRunStatus

from vidassets.contract import RUN_WORKER_TAG as WORKER_TAG
from vidassets.dagster.embedded._dagster_internals import WorkerStatus
from vidassets.dagster.embedded.run_launcher import ForkserverRunLauncher

ROOT = Path(__file__).resolve().parents[2]


@dg.op
def report_pid(context) -> None:  # type: ignore[no-untyped-def]  # (a string annotation is refused)
    context.log.info(f"worker pid {os.getpid()}")


@dg.op
def wait_a_minute() -> None:
    time.sleep(60)


@dg.job(executor_def=dg.in_process_executor)  # like execute_plan: the step runs in the run worker
def pid_job() -> None:
    report_pid()


@dg.job(executor_def=dg.in_process_executor)  # like execute_plan: the step runs in the run worker
def slow_job() -> None:
    wait_a_minute()


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DagsterInstance]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))  # as `make run` and the stack set it
    with DagsterInstance.from_config(str(home)) as inst:
        yield inst


def _launch(instance: DagsterInstance, job: dg.JobDefinition) -> str:
    recon = dg.reconstructable(pid_job if job is pid_job else slow_job)
    run = instance.create_run_for_job(job_def=job, job_code_origin=recon.get_python_origin())
    instance.launch_run(run.run_id, workspace=None)  # type: ignore[arg-type]  # this launcher needs none
    return run.run_id


def _wait(instance: DagsterInstance, run_id: str, statuses: set[DagsterRunStatus], timeout_s: float = 60) -> DagsterRun:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        run = instance.get_run_by_id(run_id)
        assert run is not None
        if run.status in statuses:
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} is {run.status}, expected one of {statuses}")


def test_the_repository_dagster_yaml_configures_the_warm_launcher_and_a_prompt_queue(instance: DagsterInstance) -> None:
    assert isinstance(instance.run_launcher, ForkserverRunLauncher)
    assert type(instance.run_coordinator).__name__ == "PromptQueuedRunCoordinator"
    assert instance.run_coordinator.dequeue_interval_seconds == 0.25  # type: ignore[attr-defined]
    queue = instance.get_concurrency_config().run_queue_config
    assert queue is not None and queue.max_concurrent_runs == 2
    assert instance.run_launcher.supports_check_run_worker_health
    assert type(instance.run_storage).__name__ == "FastSqliteRunStorage"
    assert type(instance.event_log_storage).__name__ == "FastSqliteEventLogStorage"
    assert instance.event_log_storage.supports_global_concurrency_limits  # pools keep working


def test_a_run_executes_in_a_forked_worker_recorded_on_the_run(instance: DagsterInstance) -> None:
    run_id = _launch(instance, pid_job)
    run = _wait(instance, run_id, {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE})
    assert run.status == DagsterRunStatus.SUCCESS
    host, _, pid = run.tags[WORKER_TAG].partition(":")
    assert host == socket.gethostname() and int(pid) != os.getpid()
    logged = [e.user_message for e in instance.all_logs(run_id) if "worker pid" in (e.user_message or "")]
    assert logged == [f"worker pid {pid}"]  # the op really ran in the recorded process
    history = Path(instance.root_directory) / "history"
    assert (history / "event_log.db").exists() and (history / "runs.db").exists()
    assert not (history / "runs").exists()  # one event-log file, not one per run
    # Once the worker has exited, the health check says so (run monitoring acts on FAILED only
    # for runs still marked STARTED, so a finished run is left alone).
    deadline = time.monotonic() + 10
    while instance.run_launcher.check_run_worker_health(run).status == WorkerStatus.RUNNING:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert instance.run_launcher.check_run_worker_health(run).status == WorkerStatus.FAILED


def test_terminate_interrupts_the_worker_and_the_run_ends_canceled(instance: DagsterInstance) -> None:
    run_id = _launch(instance, slow_job)
    run = _wait(instance, run_id, {DagsterRunStatus.STARTED})
    deadline = time.monotonic() + 30
    while not any(e.dagster_event and e.dagster_event.event_type_value == "STEP_START"
                  for e in instance.all_logs(run_id)):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert instance.run_launcher.check_run_worker_health(run).status == WorkerStatus.RUNNING
    assert instance.run_launcher.terminate(run_id) is True
    run = _wait(instance, run_id, {DagsterRunStatus.CANCELED, DagsterRunStatus.FAILURE}, timeout_s=30)
    assert run.status == DagsterRunStatus.CANCELED
    assert instance.run_launcher.terminate(run_id) is False  # already finished


def test_health_check_reads_the_worker_tag(instance: DagsterInstance) -> None:
    launcher = instance.run_launcher
    here = socket.gethostname()

    def run_with(tag: str | None) -> DagsterRun:
        return DagsterRun(job_name="x", run_id="r", tags={WORKER_TAG: tag} if tag else {})

    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        assert launcher.check_run_worker_health(run_with(f"{here}:{sleeper.pid}")).status == WorkerStatus.RUNNING
        sleeper.kill()
        time.sleep(0.2)  # not yet reaped: a zombie is not a live worker
        assert launcher.check_run_worker_health(run_with(f"{here}:{sleeper.pid}")).status == WorkerStatus.FAILED
    finally:
        sleeper.kill()
        sleeper.wait()
    assert launcher.check_run_worker_health(run_with(f"{here}:{sleeper.pid}")).status == WorkerStatus.FAILED
    # What cannot be checked from here is never reported dead (run monitoring would fail the run).
    for unknowable in (run_with("elsewhere:1"), run_with(None)):
        result = launcher.check_run_worker_health(unknowable)
        assert result.status == WorkerStatus.RUNNING and "not checked" in (result.msg or "")
