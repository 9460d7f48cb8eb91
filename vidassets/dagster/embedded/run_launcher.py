"""A run launcher that starts each run in a process forked from a warm server.

Why: Dagster's default launcher asks the code server to *spawn* a fresh interpreter per run,
which imports Dagster and the code location again (about 2.5 s of CPU on this product's
2-core reference machine) before the first job starts. For many short executions that import
dominates: it caps throughput and makes submit → run started seconds long.

This launcher keeps one multiprocessing *forkserver* per launching process (the daemon),
preloaded with Dagster and the code location. Each run is a fresh child forked from it, so it
starts in tens of milliseconds with everything imported, yet is still its own process: a crash
or ``kill -9`` takes down one run, never the daemon or another run. The child executes the run
through Dagster's own ``dagster api execute_run`` entry point, so events, run status, asset
materialisations and interrupts behave exactly as with the default launcher.

The run worker's ``host:pid`` is stored as a run tag; run monitoring uses it to fail runs whose
worker died (and run retries resume them), and ``terminate`` interrupts the worker with SIGINT,
as the default launcher's code server does. One machine only: the embedded default (the
repository's dagster.yaml); deployments use Dagster's own launchers (deploy/).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Self

from dagster import DagsterRun, serialize_value

from vidassets.contract import RUN_WORKER_TAG as WORKER_TAG
from vidassets.dagster.embedded._dagster_internals import (
    CheckRunHealthResult,
    ConfigurableClass,
    ConfigurableClassData,
    ExecuteRunArgs,
    LaunchRunContext,
    RunLauncher,
    WorkerStatus,
)
from vidassets.storage.vendor_jobs import process_alive

log = logging.getLogger(__name__)

DEFAULT_PRELOAD = ("vidassets.dagster.embedded.worker",)


class ForkserverRunLauncher(RunLauncher, ConfigurableClass):
    """Launches runs in processes forked from a preloaded forkserver (see module docstring)."""

    def __init__(self, inst_data: ConfigurableClassData | None = None,
                 preload_modules: Sequence[str] = DEFAULT_PRELOAD):
        self._inst_data = inst_data
        self._preload = list(preload_modules)
        self._ctx: Any = None
        self._lock = threading.Lock()
        super().__init__()  # type: ignore[no-untyped-call]

    @property
    def inst_data(self) -> ConfigurableClassData | None:
        return self._inst_data

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        from dagster import Array, Field

        return {"preload_modules": Field(Array(str), is_required=False, default_value=list(DEFAULT_PRELOAD),
                                         description="Modules the forkserver imports once, before any run.")}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]) -> Self:
        return cls(inst_data=inst_data, preload_modules=config_value.get("preload_modules", DEFAULT_PRELOAD))

    def _context(self) -> Any:
        """The forkserver context, created on first use (the server starts with the first run)."""
        with self._lock:
            if self._ctx is None:
                ctx = multiprocessing.get_context("forkserver")
                ctx.set_forkserver_preload(self._preload)
                self._ctx = ctx
            return self._ctx

    def launch_run(self, context: LaunchRunContext) -> None:
        run = context.dagster_run
        origin = run.job_code_origin
        if origin is None:
            raise ValueError(f"run {run.run_id} has no job code origin")
        args = ExecuteRunArgs(job_origin=origin, run_id=run.run_id, instance_ref=self._instance.get_ref())
        worker = self._context().Process(target=_run_worker, args=(serialize_value(args), self._instance.root_directory),
                                         name=f"dagster-run-{run.run_id[:8]}", daemon=False)
        worker.start()
        self._instance.add_run_tags(run.run_id, {WORKER_TAG: f"{socket.gethostname()}:{worker.pid}"})
        self._instance.report_engine_event(f"Run worker forked from the warm server (pid {worker.pid}).", run,
                                           cls=self.__class__)

    def _worker_pid(self, run: DagsterRun) -> int | None:
        """The worker's pid when it runs on this host; None when unknown or elsewhere."""
        host, _, pid = (run.tags.get(WORKER_TAG) or "").partition(":")
        if host != socket.gethostname() or not pid.isdigit():
            return None
        return int(pid)

    def terminate(self, run_id: str) -> bool:
        run = self._instance.get_run_by_id(run_id)
        if not run or run.is_finished:
            return False
        pid = self._worker_pid(run)
        self._instance.report_run_canceling(run)
        if pid is None or not process_alive(pid):
            self._instance.report_engine_event("No live run worker on this host to interrupt.", run,
                                               cls=self.__class__)
            return False
        os.kill(pid, signal.SIGINT)  # the worker turns this into a clean interruption of the run
        return True

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        """FAILED once the recorded worker process is gone; RUNNING otherwise.

        A worker this host cannot see (no tag yet, or launched elsewhere) is reported RUNNING with
        a note: run monitoring fails any run whose status is neither RUNNING nor SUCCESS, and a
        run must not be failed for what merely cannot be checked from here.
        """
        host, _, _ = (run.tags.get(WORKER_TAG) or "").partition(":")
        if not host:
            return CheckRunHealthResult(WorkerStatus.RUNNING, "run worker not recorded (yet); not checked")
        pid = self._worker_pid(run)
        if pid is None:
            return CheckRunHealthResult(WorkerStatus.RUNNING, f"run worker on another host ({host}); not checked")
        if process_alive(pid):
            return CheckRunHealthResult(WorkerStatus.RUNNING, run_worker_id=str(pid))
        return CheckRunHealthResult(WorkerStatus.FAILED, f"run worker (pid {pid}) exited", run_worker_id=str(pid))


def _run_worker(serialized_args: str, dagster_home: str) -> None:
    """The forked child's target. The import is free there (the forkserver preloaded it) and is
    kept out of the launching daemon, which never needs the code location itself.

    The forkserver's environment is the one it started with; DAGSTER_HOME is set from the
    launching instance, so the run always uses that instance's storage."""
    from vidassets.dagster.embedded.worker import run_worker_main

    os.environ["DAGSTER_HOME"] = dagster_home
    run_worker_main(serialized_args)
