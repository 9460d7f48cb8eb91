"""Every private Dagster name vidassets uses, in one place (Dagster 1.13).

The embedded default's launcher, storages and run worker — and the Celery run worker and its
launcher's health check (``vidassets/dagster/celery_*.py``) — subclass or call these; they are not
part of Dagster's public API and may move or change in any release. ``tests/dagster_defs/
test_internals.py`` imports each of them and checks the signatures we call, so an upgrade that
breaks one fails there, by name, rather than at run time. Import them from here only.
"""

from __future__ import annotations

# The run worker's entry points: ``dagster api execute_run`` (a click command) and the bodies of
# execute/resume the Celery run worker calls in-process.
from dagster._cli.api import _execute_run_command_body, _resume_run_command_body, execute_run_command

# What a run launcher is and reports (ForkserverRunLauncher).
from dagster._core.instance.config import dagster_instance_config
from dagster._core.launcher import CheckRunHealthResult, LaunchRunContext, RunLauncher, WorkerStatus

# The SQLite storages FastSqlite* extend, and the helpers they build connections with.
from dagster._core.storage.event_log.sqlite.consolidated_sqlite_event_log import (
    SQLITE_EVENT_LOG_FILENAME,
    ConsolidatedSqliteEventLogStorage,
)
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import SqliteScheduleStorage
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import create_db_conn_string

# The arguments of a run worker, and the instance-configurable class protocol of dagster.yaml.
from dagster._grpc.types import ExecuteRunArgs, ResumeRunArgs
from dagster._serdes import ConfigurableClass, ConfigurableClassData, unpack_value
from dagster._utils.interrupts import capture_interrupts

__all__ = [
    "ResumeRunArgs",
    "_execute_run_command_body",
    "_resume_run_command_body",
    "capture_interrupts",
    "dagster_instance_config",
    "unpack_value",
    "SQLITE_EVENT_LOG_FILENAME",
    "CheckRunHealthResult",
    "ConfigurableClass",
    "ConfigurableClassData",
    "ConsolidatedSqliteEventLogStorage",
    "ExecuteRunArgs",
    "LaunchRunContext",
    "RunLauncher",
    "SqliteRunStorage",
    "SqliteScheduleStorage",
    "WorkerStatus",
    "create_db_conn_string",
    "create_engine",
    "execute_run_command",
]
