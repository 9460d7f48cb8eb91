"""Whole runs on Celery workers, on any number of hosts: dagster-celery's ``CeleryRunLauncher``
with what vidassets needs from it.

``dagster_celery.launcher.CeleryRunLauncher`` sends each run as one ``execute_job`` task to a
broker (Redis or RabbitMQ); a long-lived ``celery worker`` on any host picks it up and executes
the run with Dagster's own ``execute_run`` body. This subclass keeps that (same tasks, same tags,
same config) and adds:

* **Queues by plan.** A run carries ``dagster-celery/queue`` (dagster-celery's tag). When it has
  none, the launcher looks at the execution's jobs: a plan whose every job waits on a vendor
  (``generate`` / ``lipSync`` with a remote provider) goes to ``provider_queue``; anything that
  renders with our ffmpeg goes to ``default_queue``. The choice is written back as the tag, so
  run retries (which copy the parent's tags) stay on the same queue.
* **Priorities.** ``dagster-celery/run_priority`` (0-9, higher first) is set from the run:
  ``urgent_priority`` for API/sensor launches and their retries, ``backfill_priority`` for
  backfills and re-renders (``dagster/backfill`` or ``vidassets/rerender`` tags). dagster-celery
  hands the number to the broker as-is, which inverts it on Redis (kombu's Redis transport
  serves priority 0 first); this launcher translates it for the broker in use, so "higher
  first" holds on RabbitMQ and Redis alike.
* **A lost worker is noticed.** The stock health check only reads the task state from the
  result backend. A worker killed with ``kill -9`` (or a host that vanished) leaves its task
  ``STARTED`` forever, so the run would never end. The task (``celery_app.py``) records the
  worker's node name on the run; ``check_run_worker_health`` pings the workers through the
  broker and reports ``FAILED`` once a run's worker has not answered for
  ``worker_lost_after_seconds``. Run monitoring then fails the run, run retries re-launch it
  (``vidassets/mode=resume`` is copied from the parent) and the executor resumes from its
  per-job checkpoints on whichever worker takes it.
* **Termination reports CANCELING** (the stock ``terminate`` only revokes the task) and
  interrupts the worker with SIGINT, as Dagster's own launchers do; the worker repeats it while
  the run is ``CANCELING`` (``celery_app.py``), so the run ends ``CANCELED``.
* **Everything the launcher writes on a run is written once, before the task is sent** (the
  task id is chosen here): Dagster rewrites a run's tags read-modify-write, and a write racing
  the worker's first ones (its node tag, its start) would lose one of them.

The same configuration block is read by the workers (``vidassets.dagster.celery_app``), so
broker, backend, queues and Celery options are written once, in ``dagster.yaml``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any, Self, cast

from dagster import Array, DagsterRun, Field, IntSource, Noneable
from dagster_celery.defaults import broker_transport_options
from dagster_celery.launcher import CeleryRunLauncher as _DagsterCeleryRunLauncher
from dagster_celery.tags import DAGSTER_CELERY_QUEUE_TAG, DAGSTER_CELERY_RUN_PRIORITY_TAG, DAGSTER_CELERY_TASK_ID_TAG
from kombu.entity import Queue
from kombu.utils.uuid import uuid

from vidassets.contract import PARTITION_TAG, RERENDER_TAG, RUN_WORKER_TAG
from vidassets.dagster.embedded._dagster_internals import CheckRunHealthResult, ConfigurableClassData, WorkerStatus

log = logging.getLogger(__name__)

#: The Celery node (``name@host``) executing the run; written by the worker's task.
CELERY_NODE_TAG = "vidassets/celery_worker"
#: ``host:pid`` of the run worker (the tag the embedded default's launcher writes too).
WORKER_TAG = RUN_WORKER_TAG
BACKFILL_TAG = "dagster/backfill"

MAX_PRIORITY = 9
FORGET_AFTER_S = 24 * 3600.0
#: Operations whose job is a call to a remote vendor when ``params.provider`` names one.
PROVIDER_OPERATIONS = {"generate", "lipSync"}
LOCAL_PROVIDERS = {None, "", "local", "url"}

#: Celery settings both sides need to agree on. Workers take one run at a time per process and
#: never hold runs they have not started (``worker_disable_prefetch``, Redis brokers), so a lost
#: worker loses only the runs it was executing, and those are what run monitoring retries.
#: Each run gets a fresh process forked from the warm worker (``worker_max_tasks_per_child``).
#: On Redis, ``priority_steps`` 0-9 make every priority distinct (kombu's default is 0/3/6/9).
#: Sending a run rides out a broker restart (~16 s of retries) before the launch fails (a failed
#: launch fails the run, which run retries then launch again).
BASE_CELERY_CONFIG: dict[str, Any] = {
    "task_publish_retry_policy": {"max_retries": 6, "interval_start": 0.2, "interval_step": 1.0, "interval_max": 5.0},
    "worker_prefetch_multiplier": 1,
    "worker_max_tasks_per_child": 1,
    "task_track_started": True,
    "task_acks_late": False,
    "result_extended": True,
    "broker_connection_retry_on_startup": True,
    "worker_hijack_root_logger": False,
}
REDIS_CELERY_CONFIG: dict[str, Any] = {
    "worker_disable_prefetch": True,
    "broker_transport_options": {**broker_transport_options, "priority_steps": list(range(MAX_PRIORITY + 1)),
                                 "queue_order_strategy": "priority"},
}


def is_redis_url(url: str | None) -> bool:
    return bool(url) and str(url).split("://", 1)[0] in ("redis", "rediss", "sentinel")


class CeleryRunLauncher(_DagsterCeleryRunLauncher):
    """dagster-celery's run launcher with plan-aware queues, broker-correct priorities, lost-worker
    detection and proper termination (see the module docstring)."""

    def __init__(self, default_queue: str, broker: str | None = None, backend: str | None = None,
                 include: list[str] | None = None, config_source: dict[str, Any] | None = None,
                 inst_data: ConfigurableClassData | None = None, *, queues: Sequence[str] = (),
                 provider_queue: str | None = None, urgent_priority: int = 8, backfill_priority: int = 2,
                 worker_lost_after_seconds: int = 30, ping_timeout_seconds: float = 1.0):
        redis = is_redis_url(broker)
        merged = {**BASE_CELERY_CONFIG, **(REDIS_CELERY_CONFIG if redis else {}), **(config_source or {})}
        super().__init__(default_queue=default_queue, broker=broker, backend=backend, include=include,
                         config_source=merged, inst_data=inst_data)
        self.provider_queue = provider_queue
        self.queues = list(dict.fromkeys([default_queue, *(queues or ()), *([provider_queue] if provider_queue else [])]))
        self.urgent_priority = _clamp(urgent_priority)
        self.backfill_priority = _clamp(backfill_priority)
        self.worker_lost_after_seconds = worker_lost_after_seconds
        self.ping_timeout_seconds = ping_timeout_seconds
        self.redis_broker = redis
        declare_queues(self.celery, self.queues)
        self._ping_lock = threading.Lock()
        self._pinged_at = 0.0
        self._last_seen: dict[str, float] = {}   # node -> monotonic time of its last pong
        self._missing_since: dict[str, float] = {}  # node -> first time it was expected and silent

    # -- configuration --------------------------------------------------------------------

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        return {
            **cast(dict[str, Any], super().config_type()),
            "queues": Field(Array(str), is_required=False, default_value=[],
                            description="Every queue runs may be sent to (declared alike by the launcher and "
                                        "the workers). default_queue and provider_queue are always included."),
            "provider_queue": Field(Noneable(str), is_required=False, default_value=None,
                                    description="Queue for executions whose every job is a remote provider call."),
            "urgent_priority": Field(int, is_required=False, default_value=8,
                                     description="Priority (0-9, higher first) of API-launched runs and their retries."),
            "backfill_priority": Field(int, is_required=False, default_value=2,
                                       description="Priority (0-9, higher first) of backfill and re-render runs."),
            "worker_lost_after_seconds": Field(IntSource, is_required=False, default_value=30,
                                               description="A run's worker silent to pings this long is lost: "
                                                           "run monitoring fails the run and run retries resume it."),
            "ping_timeout_seconds": Field(float, is_required=False, default_value=1.0,
                                          description="How long one broadcast ping waits for replies."),
        }

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]) -> Self:
        return cls(inst_data=inst_data, **config_value)

    # -- launching ------------------------------------------------------------------------

    def route(self, run: DagsterRun) -> tuple[str, int]:
        """(queue, priority on the 0-9 higher-first scale) for ``run``."""
        queue = run.tags.get(DAGSTER_CELERY_QUEUE_TAG)
        if not queue:
            queue = self.default_queue
            execution_id = run.tags.get(PARTITION_TAG)
            if self.provider_queue and execution_id and provider_bound(execution_id):
                queue = self.provider_queue
        raw = run.tags.get(DAGSTER_CELERY_RUN_PRIORITY_TAG)
        if raw is not None and raw.strip().lstrip("-").isdigit():
            priority = _clamp(int(raw))
        elif run.tags.get(BACKFILL_TAG) or run.tags.get(RERENDER_TAG):
            priority = self.backfill_priority
        else:
            priority = self.urgent_priority
        return queue, priority

    def broker_priority(self, priority: int) -> int:
        """The number to hand the broker: RabbitMQ serves higher first, kombu's Redis lower first."""
        return MAX_PRIORITY - priority if self.redis_broker else priority

    def _launch_celery_task_run(self, run: DagsterRun, task_signature: Any, routing_key: str) -> None:
        queue, priority = self.route(run)
        task_id = uuid()
        # All launcher tags in one write, before the task exists: Dagster rewrites a run's tags
        # read-modify-write, so a write racing the worker's own (its node, its start) loses one.
        # A retry copies these; a worker recorded for an earlier attempt of this run is forgotten.
        self._instance.add_run_tags(run.run_id, {DAGSTER_CELERY_QUEUE_TAG: queue,
                                                 DAGSTER_CELERY_RUN_PRIORITY_TAG: str(priority),
                                                 DAGSTER_CELERY_TASK_ID_TAG: task_id,
                                                 CELERY_NODE_TAG: "", WORKER_TAG: ""})
        task_signature.apply_async(task_id=task_id, priority=self.broker_priority(priority), queue=queue,
                                   routing_key=f"{queue}.{routing_key}")
        self._instance.report_engine_event(
            f"Run sent to Celery queue {queue!r} (priority {priority}, task {task_id}).", run,
            cls=self.__class__)

    # -- termination ----------------------------------------------------------------------

    def terminate(self, run_id: str) -> bool:
        run = self._instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            return False
        task_id = run.tags.get(DAGSTER_CELERY_TASK_ID_TAG)
        self._instance.report_run_canceling(run)
        if not task_id:
            return False
        # A started task gets SIGINT, which Dagster turns into a clean interruption (the run ends
        # CANCELED); a task still in the broker is discarded by whichever worker receives it.
        self.celery.control.revoke(task_id, terminate=True, signal="SIGINT")
        return True

    # -- run monitoring -------------------------------------------------------------------

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        task_id = run.tags.get(DAGSTER_CELERY_TASK_ID_TAG)
        if not task_id:
            return CheckRunHealthResult(WorkerStatus.RUNNING, "not launched through Celery; not checked")
        info: Any = None
        try:
            result = self.celery.AsyncResult(task_id)
            state, info = result.state, result.info
        except Exception as exc:  # noqa: BLE001 - an unreachable backend is not a dead worker
            log.warning("result backend unreadable for task %s: %s", task_id, exc)
            state = "UNKNOWN"
        if state == "SUCCESS":
            return CheckRunHealthResult(WorkerStatus.SUCCESS)
        if state in ("FAILURE", "REVOKED"):
            return CheckRunHealthResult(WorkerStatus.FAILED, f"Celery task {task_id} is {state}")
        # The worker's node: the run's tag, else what the task's STARTED state records.
        node = run.tags.get(CELERY_NODE_TAG) or (info.get("hostname") if isinstance(info, dict) else None)
        if not node:
            return CheckRunHealthResult(WorkerStatus.RUNNING, f"task {state}; worker not recorded (yet)")
        silent = self._silent_for(node)
        if silent is None or silent < self.worker_lost_after_seconds:
            return CheckRunHealthResult(WorkerStatus.RUNNING, run_worker_id=node)
        return CheckRunHealthResult(
            WorkerStatus.FAILED, f"Celery worker {node} has not answered pings for {silent:.0f}s (task {state})",
            run_worker_id=node)

    def _silent_for(self, node: str) -> float | None:
        """Seconds ``node`` has been expected and silent; None when it answered the last ping."""
        with self._ping_lock:
            now = time.monotonic()
            if now - self._pinged_at >= max(3.0, 2 * self.ping_timeout_seconds):
                self._pinged_at = now
                try:
                    replies = self.celery.control.ping(timeout=self.ping_timeout_seconds)
                except Exception as exc:  # noqa: BLE001 - broker trouble: nobody is declared lost
                    log.warning("pinging Celery workers failed: %s", exc)
                    return None
                answered = time.monotonic()
                for reply in replies or []:
                    for name in reply:
                        self._last_seen[name] = answered
                        self._missing_since.pop(name, None)
                for table in (self._last_seen, self._missing_since):  # workers come and go (pods)
                    for name in [n for n, at in table.items() if answered - at > FORGET_AFTER_S]:
                        del table[name]
            if node in self._last_seen and self._last_seen[node] >= self._pinged_at:
                return None
            since = self._missing_since.setdefault(node, self._last_seen.get(node, now))
            return now - since

    def get_run_worker_debug_info(self, run: DagsterRun, include_container_logs: bool | None = True) -> str | None:
        task_id = run.tags.get(DAGSTER_CELERY_TASK_ID_TAG)
        if not task_id:
            return None
        return str({"run_id": run.run_id, "celery_task_id": task_id, "celery_worker": run.tags.get(CELERY_NODE_TAG),
                    "run_worker": run.tags.get(WORKER_TAG), "queue": run.tags.get(DAGSTER_CELERY_QUEUE_TAG)})


def declare_queues(app: Any, names: Sequence[str]) -> None:
    """Declare ``names`` the same way on producer and consumer (a RabbitMQ queue declared twice
    with different arguments is an error), each with broker priorities."""
    app.conf.task_queues = [Queue(name, routing_key=f"{name}.#",  # type: ignore[no-untyped-call]  # kombu: untyped
                                  queue_arguments={"x-max-priority": MAX_PRIORITY + 1}) for name in names]
    app.conf.task_create_missing_queues = True


def provider_bound(execution_id: str) -> bool:
    """True when every unfinished job of the execution is a remote provider call (the run waits on
    vendors rather than rendering). Any doubt, including an unreadable database, says False."""
    try:
        from sqlalchemy import select

        from vidassets.settings import get_settings
        from vidassets.storage.db import get_engine
        from vidassets.storage.models import ExecutionJobRow

        stmt = select(ExecutionJobRow.operation, ExecutionJobRow.params, ExecutionJobRow.status).where(
            ExecutionJobRow.execution_id == execution_id)
        with get_engine(get_settings().resolved_database_url).connect() as conn:
            rows = conn.execute(stmt).all()
    except Exception as exc:  # noqa: BLE001 - routing must never stop a launch
        log.warning("could not read the jobs of %s to route its run: %s", execution_id, exc)
        return False
    todo = [r for r in rows if r.status != "completed"]
    return bool(todo) and all(r.operation in PROVIDER_OPERATIONS and (r.params or {}).get("provider") not in LOCAL_PROVIDERS
                              for r in todo)


def _clamp(priority: int) -> int:
    return max(0, min(MAX_PRIORITY, int(priority)))
