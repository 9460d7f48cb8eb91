"""What a forked run worker runs, and what its forkserver imports before any run.

``ForkserverRunLauncher`` preloads this module in its forkserver: importing it imports Dagster,
the code location and the plan job (``vidassets.dagster.worker``) and the storage classes the
embedded instance uses, so every forked worker starts with that work already done.
"""

from __future__ import annotations

import signal

import vidassets.dagster.embedded.storage  # (the embedded instance's storages)
import vidassets.dagster.worker  # noqa: F401  (Dagster, the code location, the job)
from vidassets.dagster.embedded._dagster_internals import SqliteScheduleStorage, execute_run_command

PRELOADED = (SqliteScheduleStorage,)  # the embedded instance's schedule storage, imported once


def run_worker_main(serialized_args: str) -> None:
    """Execute one run: Dagster's own ``dagster api execute_run`` command body (instance from the
    ref, the run's job from its origin, events to the instance, SIGINT/SIGTERM as interruptions)."""
    # Forkserver children start with the server's signal dispositions; restore Python's default
    # SIGINT handling so Dagster's interrupt capture works as in a freshly spawned worker.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    vidassets.dagster.worker.configure_run_worker_logging()
    run = execute_run_command.callback
    assert run is not None  # a click command always has its function
    run(input_json=serialized_args, compressed_input_json=None)
