"""Sensors that keep the executions table and Dagster in agreement.

* ``launch_unlaunched_executions``: the API commits an execution and launches its run itself; if
  that launch failed (Dagster was down, the API died between commit and launch) this sensor
  launches it. ``run_key`` = execution ID, so Dagster never starts two runs for one execution.
* ``deliver_webhooks``: the outbox deliverer; at-least-once, backoff over more than a day.
* ``record_failed_runs`` / ``record_canceled_runs``: a run that dies without the executor writing
  a terminal state (worker killed, terminated from the UI) still ends its execution.
"""


import time

import dagster as dg

from vidassets.contract import PARTITION_TAG, PARTITIONS_DEF_NAME, WILL_RETRY_TAG, launch_tags
from vidassets.dagster.jobs import execute_plan_job
from vidassets.dagster.partitions import executions_partitions
from vidassets.dagster.resources import StorageResource
from vidassets.runs.submit import ACTIVE, adopt_base_outputs, still_landing
from vidassets.services import Services
from vidassets.storage.models import ExecutionRow
from vidassets.storage.partition_repo import PartitionRepository
from vidassets.webhooks.deliver import WebhookDeliverer
from vidassets.webhooks.events import enqueue_event

#: How long a failure sensor waits for Dagster's retry decision on a failed run (see will_retry).
WILL_RETRY_WAIT_S = 5.0


@dg.sensor(job=execute_plan_job, minimum_interval_seconds=10, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Launch executions the API committed but could not launch.")
def launch_unlaunched_executions(context: dg.SensorEvaluationContext, storage: StorageResource) -> dg.SensorResult:
    services = storage.services()
    rows = services.repo.unlaunched(older_than_s=services.settings.launch_grace_s)
    ids = []
    for row in rows:
        if row.base_execution_id and not _base_ready(services, row):
            continue
        # A launch may have landed after the row was read (the API's queue was slow): adopt it.
        existing = context.instance.get_runs(dg.RunsFilter(job_name=execute_plan_job.name,
                                                           tags={PARTITION_TAG: row.id}), limit=1)
        if existing:
            services.repo.mark_launched(row.id, existing[0].run_id)
        elif services.repo.claim_launch(row.id):
            ids.append(row.id)
    if not ids:
        return dg.SensorResult(skip_reason="no unlaunched executions")
    # Archived ones (a retry of an old execution) and the bases of variants come back into the
    # retention window before their partitions are added (vidassets/dagster/retention.py).
    partitions = PartitionRepository(services.settings.resolved_database_url)
    bases = partitions.bases_of(ids)
    partitions.mark_live(bases, touch=True)
    partitions.mark_live(ids, touch=False)
    new = [i for i in dict.fromkeys([*bases, *ids]) if not context.instance.has_dynamic_partition(PARTITIONS_DEF_NAME, i)]
    context.log.info(f"launching {len(ids)} execution(s) the API did not launch: {', '.join(ids)}")
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=i, partition_key=i, tags=launch_tags(i)) for i in ids],
        dynamic_partitions_requests=[executions_partitions.build_add_request(new)] if new else [],
    )


def _base_ready(services: Services, row: ExecutionRow) -> bool:
    """A variant sent while its base was running (the SDK allows it) waits for the base: once the
    base completes, the variant adopts the base's matching outputs and may launch; when the base
    failed or was cancelled, the variant fails with ``base_failed``."""
    base = services.repo.get(row.base_execution_id or "")
    if base is None or base.status in ACTIVE:
        return False
    if still_landing(base, services.settings.media_timeout_s):
        return False  # its result landed, its intermediates are still landing: adopt them too
    if base.status != "completed":
        message = f"base execution {base.id} {base.status}; this variant builds on it"
        if services.repo.fail_if_active(row.id, "failed", message, "base_failed"):
            enqueue_event(services, row.id)
        return False
    variant = services.repo.get(row.id)
    if variant is not None:
        adopt_base_outputs(services, variant, base)
    return True


def _end_execution(context: dg.RunStatusSensorContext, status: str, storage: StorageResource) -> None:
    execution_id = context.dagster_run.tags.get(PARTITION_TAG)
    if not execution_id:
        return
    services = storage.services()
    row = services.repo.get(execution_id, with_jobs=False)
    if row is None or (row.run_id and row.run_id != context.dagster_run.run_id):
        return  # a newer run (retry) owns the execution now
    # Run retries (dagster.yaml run_retries) will resume this execution; leave it to them.
    if status == "failed" and will_retry(context):
        context.log.info(f"run {context.dagster_run.run_id} failed; Dagster will retry it")
        return
    message = ("run was cancelled" if status == "cancelled"
               else f"run {context.dagster_run.run_id} failed before the execution finished")
    if services.repo.fail_if_active(execution_id, status, message, "cancelled" if status == "cancelled" else "run_failed"):
        context.log.info(f"execution {execution_id} marked {status} from run {context.dagster_run.run_id}")
        enqueue_event(services, execution_id)


def will_retry(context: dg.RunStatusSensorContext, wait_s: float = WILL_RETRY_WAIT_S) -> bool:
    """Will Dagster's run retries re-execute this failed run?

    With ``run_retries`` enabled, the instance decides when it stores a run's failure and records
    the decision on the run as ``dagster/will_retry`` (``true``/``false``); without them no run
    is retried and the tag is never set. The tag lands just after the failure event this sensor
    reacts to, so a run without it yet is read again for up to ``wait_s``; a run still without a
    decision then is treated as not retried (its execution fails now rather than hang).
    """
    if not context.instance.run_retries_enabled:
        return False
    deadline = time.monotonic() + wait_s
    while True:
        run = context.instance.get_run_by_id(context.dagster_run.run_id) or context.dagster_run
        tag = run.tags.get(WILL_RETRY_TAG)
        if tag is not None:
            return tag.lower() == "true"
        if time.monotonic() >= deadline:
            context.log.warning(f"run {run.run_id}: no retry decision from Dagster after {wait_s:.0f} s")
            return False
        time.sleep(0.2)


@dg.run_failure_sensor(monitored_jobs=[execute_plan_job], minimum_interval_seconds=5,
                       default_status=dg.DefaultSensorStatus.RUNNING)
def record_failed_runs(context: dg.RunFailureSensorContext, storage: StorageResource) -> None:
    _end_execution(context, "failed", storage)


@dg.run_status_sensor(run_status=dg.DagsterRunStatus.CANCELED, monitored_jobs=[execute_plan_job],
                      minimum_interval_seconds=5, default_status=dg.DefaultSensorStatus.RUNNING)
def record_canceled_runs(context: dg.RunStatusSensorContext, storage: StorageResource) -> None:
    _end_execution(context, "cancelled", storage)


@dg.sensor(minimum_interval_seconds=5, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Deliver due webhook messages from the outbox (signed, retried with backoff).")
def deliver_webhooks(context: dg.SensorEvaluationContext, storage: StorageResource) -> dg.SkipReason:
    deliverer = WebhookDeliverer(storage.services())
    deadline = time.monotonic() + 20  # bounded: a tick never outlives the sensor's gRPC timeout
    outcomes: dict[str, int] = {}
    while time.monotonic() < deadline:
        results = deliverer.deliver_due()
        if not results:
            break
        for r in results:
            outcomes[r.outcome] = outcomes.get(r.outcome, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items())) or "nothing due"
    return dg.SkipReason(f"webhooks: {summary}")
