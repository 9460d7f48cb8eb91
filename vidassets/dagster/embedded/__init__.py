"""The embedded default's Dagster instance pieces (one machine, SQLite), named only by the
repository's ``dagster.yaml``:

* ``run_launcher.ForkserverRunLauncher`` — each run forked from a warm, preloaded process;
* ``run_coordinator.PromptQueuedRunCoordinator`` — the run queue checked under a second;
* ``storage.FastSqliteRunStorage`` / ``FastSqliteEventLogStorage`` — Dagster's SQLite storages
  with one engine per process and one event-log file;
* ``worker`` — what the forkserver preloads and what a forked run worker runs.

They extend Dagster classes that are not part of its public API. Every such import is in
``_dagster_internals`` (and nowhere else in vidassets), which ``tests/dagster_defs/test_internals.py``
checks against the installed Dagster. Production configurations (``deploy/``) use Dagster's own
classes and never import this package.
"""
