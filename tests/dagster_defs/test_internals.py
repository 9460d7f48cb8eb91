"""What the embedded default relies on inside Dagster, checked against the installed Dagster.

``vidassets/dagster/embedded/_dagster_internals.py`` is the one module that imports Dagster's
private APIs. A Dagster upgrade that moves or reshapes any of them fails here, by name, instead
of at run time in a daemon or a forked run worker. When one of these fails, adapt the embedded
module that uses the name (see the comment on each check), then this test.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import dagster as dg

from vidassets.dagster.embedded import _dagster_internals as internals

ROOT = Path(__file__).resolve().parents[2]
INTERNALS = ROOT / "vidassets" / "dagster" / "embedded" / "_dagster_internals.py"


def _params(fn: object) -> list[str]:
    return [p for p in inspect.signature(fn).parameters if p != "self"]  # type: ignore[arg-type]


def _dagster_private_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                 else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
        found += [f"{path.relative_to(ROOT)}:{node.lineno}: {n}" for n in names if n.startswith("dagster._")]
        if isinstance(node, ast.ImportFrom) and node.module == "dagster":
            found += [f"{path.relative_to(ROOT)}:{node.lineno}: dagster.{a.name}" for a in node.names
                      if a.name.startswith("_")]
    return found


def test_every_name_is_importable_from_where_it_is_expected() -> None:
    for name in internals.__all__:
        assert getattr(internals, name) is not None, name


def test_dagster_private_apis_are_imported_in_the_internals_module_only() -> None:
    modules = [p for folder in ("vidassets", "api") for p in (ROOT / folder).rglob("*.py") if p != INTERNALS]
    offenders = [hit for path in modules for hit in _dagster_private_imports(path)]
    assert offenders == [], "import these through vidassets.dagster.embedded._dagster_internals:\n" + "\n".join(offenders)


def test_run_launcher_protocol() -> None:
    # ForkserverRunLauncher implements exactly these abstract methods, and reads the run through
    # the launch context; it is built from dagster.yaml as a ConfigurableClass.
    assert internals.RunLauncher.__abstractmethods__ == {"launch_run", "terminate"}
    for name in ("supports_check_run_worker_health", "check_run_worker_health", "register_instance", "_instance"):
        assert hasattr(internals.RunLauncher, name), name
    assert "dagster_run" in internals.LaunchRunContext._fields
    assert internals.ConfigurableClass.__abstractmethods__ == {"config_type", "from_config_value", "inst_data"}
    assert _params(internals.CheckRunHealthResult)[:2] == ["status", "msg"]
    assert "run_worker_id" in _params(internals.CheckRunHealthResult)
    assert {"RUNNING", "FAILED"} <= {s.name for s in internals.WorkerStatus}


def test_run_worker_entry_point() -> None:
    # launch_run: ExecuteRunArgs(job_origin=, run_id=, instance_ref=), serialised for the child;
    # the child: execute_run_command.callback(input_json=..., compressed_input_json=None).
    assert {"job_origin", "run_id", "instance_ref"} <= set(_params(internals.ExecuteRunArgs))
    assert _params(internals.execute_run_command.callback) == ["input_json", "compressed_input_json"]


def test_sqlite_storages_we_extend(tmp_path: Path) -> None:
    # FastSqliteRunStorage(conn_string, inst_data) / from_local(base_dir=, inst_data=) and overrides connect();
    # FastSqliteEventLogStorage(base_dir, inst_data) overrides _connect() and has_table().
    assert _params(internals.SqliteRunStorage.__init__) == ["conn_string", "inst_data"]
    assert _params(internals.SqliteRunStorage.from_local) == ["base_dir", "inst_data"]
    assert _params(internals.ConsolidatedSqliteEventLogStorage.__init__) == ["base_dir", "inst_data"]
    for cls, method in ((internals.SqliteRunStorage, "connect"), (internals.ConsolidatedSqliteEventLogStorage, "_connect")):
        # Both are context managers that open a connection from create_engine in a transaction;
        # the Fast subclasses replace them to keep the engine.
        source = inspect.getsource(getattr(cls, method))
        assert "@contextmanager" in source and "create_engine(" in source, (cls, method)
    assert "create_engine(" in inspect.getsource(internals.ConsolidatedSqliteEventLogStorage.has_table)
    # The event log's connection string is what the Fast storage builds for its kept engine.
    storage = internals.ConsolidatedSqliteEventLogStorage(str(tmp_path))
    assert storage._conn_string == internals.create_db_conn_string(str(tmp_path), internals.SQLITE_EVENT_LOG_FILENAME)
    assert _params(internals.create_db_conn_string) == ["base_dir", "db_name"]
    assert _params(internals.create_engine)[0] == "url"
    engine = internals.create_engine(f"sqlite:///{tmp_path / 'x.db'}", connect_args={"timeout": 1})
    engine.dispose()
    assert _params(internals.SqliteScheduleStorage.from_local) == ["base_dir", "inst_data"]


def test_the_queue_interval_the_prompt_coordinator_overrides() -> None:
    # PromptQueuedRunCoordinator subclasses the public QueuedRunCoordinator, passes the rest of
    # its config to it and overrides the dequeue_interval_seconds property, which the daemon
    # reads to pace the queue.
    from dagster._daemon import controller

    assert {"dequeue_interval_seconds", "inst_data"} <= set(_params(dg.QueuedRunCoordinator.__init__))
    assert isinstance(inspect.getattr_static(dg.QueuedRunCoordinator, "dequeue_interval_seconds"), property)
    assert "dequeue_interval_seconds" in dg.QueuedRunCoordinator.config_type()
    assert "run_coordinator.dequeue_interval_seconds" in inspect.getsource(controller.create_daemon_of_type)


def test_the_embedded_classes_still_build_on_them(tmp_path: Path) -> None:
    from vidassets.dagster.embedded.run_coordinator import PromptQueuedRunCoordinator
    from vidassets.dagster.embedded.run_launcher import ForkserverRunLauncher
    from vidassets.dagster.embedded.storage import FastSqliteEventLogStorage, FastSqliteRunStorage

    assert PromptQueuedRunCoordinator(dequeue_interval_seconds=0.25).dequeue_interval_seconds == 0.25
    ForkserverRunLauncher()  # no abstract method left unimplemented
    runs = FastSqliteRunStorage.from_config_value(None, {"base_dir": str(tmp_path)})
    events = FastSqliteEventLogStorage(str(tmp_path))
    try:
        assert runs.get_runs() == []
        assert events.has_table("event_logs")
    finally:
        runs.dispose()
        events.dispose()

