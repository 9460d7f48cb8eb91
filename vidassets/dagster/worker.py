"""What a long-lived run-worker process imports before any run, so runs forked from it start warm.

Importing this module imports Dagster and the code location and builds the plan job once (asset
graph, job, checks); a process forked afterwards shares that work (copy-on-write memory).
Nothing here opens a connection, starts a thread or reads a database: that happens per run, in
the child, after the fork. Public Dagster APIs only: any run launcher may preload it (the
embedded default's forkserver, through ``vidassets.dagster.embedded.worker``; the Celery workers).
"""

from __future__ import annotations

from vidassets.contract import JOB_NAME
from vidassets.dagster.definitions import defs

# Resolving the job builds the repository (asset graph, job, checks) once, in the server.
defs.resolve_job_def(JOB_NAME)


def configure_run_worker_logging() -> None:
    """Give vidassets' own loggers (status changes, vendor calls) the API's line format in a run
    worker, whose logging otherwise belongs to Dagster: called once per worker process, after the
    fork, by the embedded launcher's child and by each Celery pool process."""
    from vidassets.logs import configure_worker_logging
    from vidassets.settings import Settings

    settings = Settings()
    configure_worker_logging(settings.log_level, json_lines=settings.log_format == "json")
