"""Dagster's SQLite storages for the embedded default, with one engine per process.

Dagster's SQLite run and event-log storages build a new SQLAlchemy engine for every query
(``create_engine`` + connect + dispose), and the default event log writes each run to its own
database file, re-checking that file's schema and writing asset events twice (run shard +
index). A plan run logs dozens of events, so on the 2-core reference machine that overhead was
about a third of a core at 60 executions/min (see docs/ARCHITECTURE.md).

These subclasses change only how connections are obtained: the same schema, migrations and
queries, one database file for all runs' events (``ConsolidatedSqliteEventLogStorage``), and an
engine created once per process (recreated after a fork). PostgreSQL deployments use
dagster-postgres and are unaffected.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Self

from dagster import Field, StringSource
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from vidassets.dagster.embedded._dagster_internals import (
    SQLITE_EVENT_LOG_FILENAME,
    ConfigurableClassData,
    ConsolidatedSqliteEventLogStorage,
    SqliteRunStorage,
    create_db_conn_string,
    create_engine,
)

log = logging.getLogger(__name__)

#: Dagster's own busy timeout for its SQLite files (seconds).
BUSY_TIMEOUT_S = 15


class _ProcessEngine:
    """One engine per process for a connection string; a forked child builds its own."""

    def __init__(self, conn_string: str):
        self.conn_string = conn_string
        self._engine: Engine | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def get(self) -> Engine:
        if self._engine is None or self._pid != os.getpid():
            with self._lock:
                if self._engine is None or self._pid != os.getpid():
                    # NullPool as before: each use opens its own sqlite3 connection in the calling
                    # thread, so nothing is shared across threads or processes.
                    self._engine = create_engine(self.conn_string, poolclass=NullPool,
                                                 connect_args={"timeout": BUSY_TIMEOUT_S})
                    self._pid = os.getpid()
        return self._engine


def _base_dir(config_value: Mapping[str, Any] | None) -> str:
    """``base_dir`` from the config, else ``$DAGSTER_HOME/history`` (Dagster's default place).

    Without DAGSTER_HOME Dagster itself only makes throwaway instances (``dagster definitions
    validate``, ``dagster dev`` before it picks a home), so a temporary folder is used, as it does.
    """
    configured = (config_value or {}).get("base_dir")
    if configured:
        return str(configured)
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        home = tempfile.mkdtemp(prefix="vidassets-dagster-")
        log.warning("DAGSTER_HOME is not set: Dagster's runs and events go to the temporary folder %s", home)
    return os.path.join(home, "history")


class FastSqliteRunStorage(SqliteRunStorage):
    """``SqliteRunStorage`` that keeps its engine (runs.db under ``base_dir``)."""

    def __init__(self, conn_string: str, inst_data: ConfigurableClassData | None = None):
        self._engines = _ProcessEngine(conn_string)
        super().__init__(conn_string, inst_data)

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None,
                          config_value: Mapping[str, Any]) -> Self:
        return cls.from_local(base_dir=_base_dir(config_value), inst_data=inst_data)

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self._engines.get().connect() as conn, conn.begin():
            yield conn


class FastSqliteEventLogStorage(ConsolidatedSqliteEventLogStorage):
    """One ``event_log.db`` for all runs' events, with a kept engine."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        # Before the parent's __init__, which creates and migrates the file through _connect.
        self._engines = _ProcessEngine(create_db_conn_string(base_dir, SQLITE_EVENT_LOG_FILENAME))
        super().__init__(base_dir, inst_data)

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]) -> Self:
        return cls(base_dir=_base_dir(config_value), inst_data=inst_data)

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        with self._engines.get().connect() as conn, conn.begin():
            yield conn

    def has_table(self, table_name: str) -> bool:
        engine = self._engines.get()
        with engine.connect() as conn:
            return bool(engine.dialect.has_table(conn, table_name))
