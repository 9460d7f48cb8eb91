"""Engine and session factory, one per process and database URL.

SQLite (embedded default) is shared by the API and every run worker process, so it runs in WAL
mode with a busy timeout and ``synchronous=FULL`` (a committed submission survives a power cut,
for a small cost per commit); its pool holds a connection per API thread, because a connection
opened per request (the pool's overflow) costs more than the query. PostgreSQL gets a small
pool with pre-ping so a restarted server is survived without errors.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, Result, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


#: anyio's default thread limit (FastAPI's sync routes and run_in_threadpool) is 40 threads.
SQLITE_POOL_SIZE = 40


@functools.lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    if is_sqlite(url):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                               pool_size=SQLITE_POOL_SIZE, max_overflow=SQLITE_POOL_SIZE)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, pool_recycle=1800)


@functools.lru_cache(maxsize=8)
def _sqlite_writer_lock(url: str) -> threading.RLock:
    """One transaction at a time per process on a SQLite file.

    SQLite has a single writer; a second writer gets SQLITE_BUSY and its busy handler sleeps
    (1, 2, 5 … 100 ms) before trying again, so forty API threads writing at once spend most of
    their time asleep. Queueing on a lock here wakes the next writer the moment the previous one
    commits. Other processes (run workers) still meet at SQLite's lock with the busy timeout, as
    before. Re-entrant: a repository call may nest.
    """
    return threading.RLock()


def rowcount(result: Result[Any]) -> int:
    """Rows matched by an UPDATE or DELETE run through ``Session.execute``: SQLAlchemy types that
    call as returning a ``Result``, but for DML it returns a ``CursorResult``, which has the count."""
    return cast(CursorResult[Any], result).rowcount


@functools.lru_cache(maxsize=8)
def get_sessionmaker(url: str) -> sessionmaker[Session]:
    return sessionmaker(get_engine(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A transaction: commit on success, roll back on error (one at a time per process on SQLite)."""
    if is_sqlite(url):
        with _sqlite_writer_lock(url):
            yield from _transaction(url)
    else:
        yield from _transaction(url)


def _transaction(url: str) -> Iterator[Session]:
    session = get_sessionmaker(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def ping(url: str) -> None:
    with get_engine(url).connect() as conn:
        conn.execute(text("SELECT 1"))
