"""What a forked run worker runs, and what its forkserver imports before any run.

``ForkserverRunLauncher`` preloads this module in its forkserver: importing it imports Dagster,
the code location, the storage modules an instance needs, and builds the ``execute_plan`` job
once, so every forked worker starts with that work already done (copy-on-write memory).
Nothing here opens a connection, starts a thread or reads settings: that happens per run, in
the child, after the fork.
"""

from __future__ import annotations

import signal

import dagster._core.storage.schedules.sqlite  # noqa: F401  (the embedded default's storages)
from dagster._cli.api import execute_run_command

import vidassets.dagster.storage  # noqa: F401
from vidassets.dagster.definitions import defs
from vidassets.dagster.jobs import execute_plan_job

# Resolving the job builds the repository (asset graph, job, checks) once, in the server.
defs.resolve_job_def(execute_plan_job.name)


def run_worker_main(serialized_args: str) -> None:
    """Execute one run: Dagster's own ``dagster api execute_run`` command body (instance from the
    ref, the run's job from its origin, events to the instance, SIGINT/SIGTERM as interruptions)."""
    # Forkserver children start with the server's signal dispositions; restore Python's default
    # SIGINT handling so Dagster's interrupt capture works as in a freshly spawned worker.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    execute_run_command.callback(input_json=serialized_args, compressed_input_json=None)
