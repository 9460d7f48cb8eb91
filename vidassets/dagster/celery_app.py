"""The Celery app of the run workers: ``celery -A vidassets.dagster.celery_app worker -Q render``.

A worker runs whole Dagster runs that ``CeleryRunLauncher`` (``celery_launcher.py``) sends to its
queues. It reads the launcher's own block of ``$DAGSTER_HOME/dagster.yaml``, so broker, result
backend, queues and Celery options are the daemon's, written once.

What a run costs here is what it costs with ``ForkserverRunLauncher`` on one host: the worker's
main process imports Dagster and the code location and builds the job once
(``vidassets.dagster.worker``); each run executes in a fresh pool process forked from it
(``worker_max_tasks_per_child: 1``), through Dagster's own ``execute_run`` body, with SIGINT and
SIGTERM turned into a clean interruption (a cancel from the UI or API ends the run CANCELED).

The task records the worker's node name and ``host:pid`` on the run before executing it; the
launcher pings that node for run monitoring. A pool process whose worker died (``kill -9`` of
the main process) kills itself, so a run declared lost is never still running somewhere.

Tasks are named like dagster-celery's (``execute_job``, ``resume_job``), so the stock
``dagster_celery.app`` and this app are interchangeable on the wire.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import yaml
from celery import Celery, signals
from dagster import DagsterInstance, DagsterRunStatus
from dagster_celery.config import TASK_EXECUTE_JOB_NAME, TASK_RESUME_JOB_NAME

from vidassets.dagster.celery_launcher import CELERY_NODE_TAG, WORKER_TAG
from vidassets.dagster.embedded._dagster_internals import (
    ConfigurableClassData,
    ExecuteRunArgs,
    ResumeRunArgs,
    RunLauncher,
    _execute_run_command_body,
    _resume_run_command_body,
    capture_interrupts,
    dagster_instance_config,
    unpack_value,
)

# Dagster names outside its public API (the bodies of ``dagster api execute_run`` / ``resume_run``,
# what dagster-celery's own tasks call, the run arguments, the instance-config class protocol,
# interrupt capture) come from the one internals module, which tests/dagster_defs/test_internals.py
# checks against the installed Dagster.


def load_launcher(dagster_home: str | None = None) -> RunLauncher:
    """The run launcher configured in ``$DAGSTER_HOME/dagster.yaml`` (env values resolved), built
    without opening any storage; it must be a Celery run launcher."""
    home = dagster_home or os.environ.get("DAGSTER_HOME")
    if not home:
        raise RuntimeError("DAGSTER_HOME is not set: a run worker needs the instance's dagster.yaml")
    config, _ = dagster_instance_config(home)
    block = config.get("run_launcher") or {}
    if not block:
        raise RuntimeError(f"{home}/dagster.yaml configures no run_launcher; run workers need a Celery one")
    data = ConfigurableClassData(block["module"], block["class"], yaml.safe_dump(block.get("config") or {}))
    launcher = data.rehydrate(as_type=RunLauncher)  # type: ignore[type-abstract]  # any concrete launcher
    if not isinstance(getattr(launcher, "celery", None), Celery):
        raise RuntimeError(f"{block['module']}.{block['class']} is not a Celery run launcher")
    return launcher


def _drop(_event: Any) -> None:
    pass


WATCH_INTERVAL_S = 2.0


#: The pool process's Dagster instance, opened while it waits for its run (see _process_init).
_instance: DagsterInstance | None = None


def _run(task: Any, run_id: str, body: Callable[..., int], set_exit_code: bool | None) -> int:
    """Execute (or resume) one run in this pool process, as ``dagster api execute_run`` does."""
    global _instance
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with capture_interrupts():
        instance, _instance = (_instance or _open_instance()), None
        with instance:
            instance.add_run_tags(run_id, {CELERY_NODE_TAG: str(task.request.hostname or ""),
                                           WORKER_TAG: f"{socket.gethostname()}:{os.getpid()}"})
            done = threading.Event()
            watcher = threading.Thread(target=_interrupt_when_stopped, args=(instance, run_id, done),
                                       name="run-watch", daemon=True)
            watcher.start()
            try:
                return body(run_id=run_id, instance=instance, write_stream_fn=_drop,
                            set_exit_code_on_failure=True if set_exit_code is None else set_exit_code)
            finally:
                done.set()


def _interrupt_when_stopped(instance: DagsterInstance, run_id: str, done: threading.Event) -> None:
    """Interrupt this process while its run is CANCELING, again every few seconds: the launcher's
    terminate sends one SIGINT (through a Celery revoke), and one that lands outside the run's
    steps (resource set-up, a finalizer) is swallowed. Dagster's own run-cancellation thread does
    the same, once."""
    while not done.wait(WATCH_INTERVAL_S):
        try:
            run = instance.get_run_by_id(run_id)
        except Exception:  # noqa: BLE001 - storage hiccup: look again next time
            continue
        if run is not None and run.status == DagsterRunStatus.CANCELING and not done.is_set():
            os.kill(os.getpid(), signal.SIGINT)


def _parent_watch(parent: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)


@signals.worker_process_init.connect
def _process_init(**_: Any) -> None:
    """In each fresh pool process, before it gets a run: end with the worker, and open the Dagster
    instance (storage set-up takes ~0.4 s) so the run does not wait for it.

    A pool process outliving its worker (main process killed) would keep running a run that run
    monitoring declares lost and retries elsewhere: it ends itself instead."""
    global _instance
    vidassets.dagster.worker.configure_run_worker_logging()
    threading.Thread(target=_parent_watch, args=(os.getppid(),), name="worker-watch", daemon=True).start()
    try:
        _instance = _open_instance()
    except Exception:  # noqa: BLE001 - storage down now: the run opens its own (and reports why)
        _instance = None


def _open_instance() -> DagsterInstance:
    """The instance a run uses. Dagster's PostgreSQL storages open a new connection per query
    unless told to pool (as the webserver does); a run makes ~100 queries, so pooled, the database
    starts a few backends per run instead of ~100 (measured: its CPU per run halved, 1.05 s to
    0.53 s). Connections open on first use and close when the run's process exits."""
    instance = DagsterInstance.get()
    try:
        instance.optimize_for_webserver(statement_timeout=0, pool_recycle=3600, max_overflow=4)
    except Exception:  # noqa: BLE001 - storages without pooling (SQLite): as they are
        pass
    return instance


def create_app() -> Celery:
    launcher = load_launcher()
    app: Celery = launcher.celery  # type: ignore[attr-defined]

    @app.task(bind=True, name=TASK_EXECUTE_JOB_NAME, track_started=True)
    def execute_job(self: Any, execute_job_args_packed: Any) -> int:
        args = unpack_value(execute_job_args_packed, as_type=ExecuteRunArgs)
        return _run(self, args.run_id, _execute_run_command_body, args.set_exit_code_on_failure)

    @app.task(bind=True, name=TASK_RESUME_JOB_NAME, track_started=True)
    def resume_job(self: Any, execute_job_args_packed: Any = None, resume_job_args_packed: Any = None) -> int:
        # dagster-celery's launcher sends resume args under ``execute_job_args_packed``.
        args = unpack_value(execute_job_args_packed or resume_job_args_packed, as_type=ResumeRunArgs)
        return _run(self, str(args.run_id), _resume_run_command_body, args.set_exit_code_on_failure)

    return app


app = create_app()

# Import Dagster, the code location and the job once, in the worker's main process: every run's
# pool process is forked with them loaded (see vidassets/dagster/worker.py).
import vidassets.dagster.worker  # noqa: E402

#: What every run imports or loads on top of the code location (executor, storage, providers,
#: the production storages and compute logs, an S3 client's service model): ~0.6 s of CPU per
#: run when each pool process does it itself. Names that do not import are skipped.
WARM_MODULES = ("vidassets.services", "vidassets.execution.executor", "vidassets.execution.operations",
                "vidassets.storage.repo", "vidassets.storage.artefacts", "vidassets.providers.registry",
                "dagster_postgres", "dagster_aws.s3.compute_log_manager", "boto3", "httpx")


def _warm() -> None:
    import importlib

    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    try:
        import boto3

        boto3.client("s3", region_name="us-east-1")  # loads the service model; no connection is made
    except Exception:  # noqa: BLE001 - only a cache
        pass


_warm()
