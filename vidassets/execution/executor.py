"""Run one execution's plan: independent jobs concurrently, every job checkpointed.

This is the body of the Dagster ``multi_asset`` (see ``vidassets/dagster/assets.py``), kept free
of Dagster so it can be tested directly. Three parts, one concern each:

* :class:`~vidassets.execution.scheduler.Scheduler` (pure) decides which job may start, and which
  can no longer run (an input failed, the execution was cancelled);
* :class:`~vidassets.execution.job_runner.JobRunner` runs one job to its checkpoint;
* :class:`~vidassets.execution.kinds.KindReporter` (pure) says when a kind may be reported.

:meth:`PlanExecutor.execute` yields a :class:`KindDone` as soon as a kind's jobs are all finished
(the pattern ``@dbt_assets`` uses to report each model as it lands) and ends with the
:class:`RunOutcome`.

Modes:

* ``resume`` (API launches, run retries): jobs already ``completed`` are skipped — a retried or
  resumed run never redoes finished work.
* ``rerender`` (a producer rematerialising some kinds in the UI, scheduled backfills): the jobs of
  the selected kinds run again from the stored upstream artefacts, and so does every job
  downstream of them in the plan.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Literal

from vidassets.execution.artefacts import ArtefactStep
from vidassets.execution.errors import JobCancelled, JobFailure, classify
from vidassets.execution.job_runner import JobRun, JobRunner, Mode
from vidassets.execution.kinds import KindReporter, descendants, kind_members
from vidassets.execution.operations import OperationRunner
from vidassets.execution.scheduler import Scheduler, Skipped
from vidassets.plan.operations import ASSET_KINDS_IN_LINEAGE_ORDER, AssetKind
from vidassets.providers.ledger import cancel_in_flight
from vidassets.render.compiler import Recipe, compile_plan
from vidassets.services import Services
from vidassets.storage.models import ExecutionJobRow, ExecutionRow
from vidassets.webhooks.events import enqueue_event, enqueue_job_event

log = logging.getLogger(__name__)

__all__ = ["KindDone", "Mode", "PlanExecutor", "RunOutcome", "final_result"]


@dataclass(frozen=True)
class KindDone:
    """All of ``kind``'s jobs in this run finished successfully."""

    kind: AssetKind
    job_ids: tuple[str, ...]
    results: Mapping[str, Mapping[str, Any]]  # job id -> stored result (incl. reused ones)
    ran: tuple[str, ...]  # job ids that did work in this run (others were reused or already done)
    # The plan's own lineage: each job's input jobs, and those inputs' stored results.
    inputs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    upstream: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended, as the executor saw it (the job rows hold the details)."""

    status: Literal["completed", "failed", "cancelled"]
    mode: Mode
    failures: Mapping[str, JobFailure] = field(default_factory=dict)
    ran: tuple[str, ...] = ()
    # The execution was marked ``completed`` once its root outputs were stored, before this run's
    # intermediates landed (or in an earlier run): it stays completed whatever they do.
    landed: bool = False

    @property
    def error(self) -> str | None:
        if not self.failures:
            return None
        job_id, failure = next(iter(self.failures.items()))
        more = f" (+{len(self.failures) - 1} more)" if len(self.failures) > 1 else ""
        return f"job {job_id!r} failed: {failure.message}{more}"

    @property
    def error_code(self) -> str | None:
        return next(iter(self.failures.values())).code if self.failures else None


class PlanExecutor:
    def __init__(self, services: Services, operations: OperationRunner, *, max_workers: int | None = None,
                 progress_interval_s: float = 1.0):
        self.services = services
        self.repo = services.repo
        self.max_workers = max(1, max_workers or services.settings.job_concurrency)
        self.jobs = JobRunner(services.repo, services.store, services.cache, operations,
                              ArtefactStep(services.store, contact_sheets=services.settings.contact_sheets),
                              work_dir=services.settings.resolved_work_dir, progress_interval_s=progress_interval_s)

    def execute(self, execution_id: str, run_id: str, *, kinds: Sequence[AssetKind] | None = None,
                mode: Mode = "resume") -> Iterator[KindDone | RunOutcome]:
        """Yields each kind as it completes, then the run's outcome (always last)."""
        row = self.repo.start_run(execution_id, run_id)
        plan = _RunPlan(row, set(kinds) if kinds is not None else set(ASSET_KINDS_IN_LINEAGE_ORDER), mode,
                        fused=self.services.settings.render_mode == "fused")
        if mode == "rerender":
            self.repo.reset_jobs(execution_id, plan.to_run)
        scheduler = Scheduler(plan.deps, plan.to_run, plan.results, after=plan.after)
        reporter = KindReporter(plan.members, plan.wanted_kinds())
        run = JobRun(execution_id, run_id, row.tenant_id, mode, self.services.box.open(row.secrets_enc) or {},
                     threading.Event(), preset=str((row.plan or {}).get("renderPreset") or "standard"))
        ran: list[str] = []
        landed = mode == "resume" and row.status == "completed" and bool(plan.to_run)
        self._record(execution_id, scheduler.unreachable({j: r.kind for j, r in plan.jobs.items()}))

        def report(final: bool = False) -> Iterator[KindDone]:
            for kind in reporter.release(plan.reportable(scheduler.done, scheduler.failures), set(scheduler.failures),
                                         final=final):
                yield plan.kind_done(kind, ran)

        yield from report()
        with ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix=f"exec-{execution_id[:8]}") as pool:
            running: dict[Future[dict[str, Any]], str] = {}
            try:
                while not scheduler.finished_all:
                    self._start_ready(pool, running, scheduler, plan, run)
                    finished = self._wait_some(running)
                    if run.cancel.is_set():  # what had not started is cancelled, not "upstream failed"
                        self._record(execution_id, scheduler.cancel())
                    for jid, outcome in finished:
                        if isinstance(outcome, JobFailure):
                            self._record(execution_id, scheduler.failed(jid, outcome))
                        else:
                            plan.results[jid] = outcome
                            scheduler.finished(jid)
                            ran.append(jid)
                        if plan.jobs[jid].params.get("sendJobWebhook") is True:
                            enqueue_job_event(self.services, execution_id, jid)
                    if not landed and plan.landing(scheduler.done, scheduler.finished_all, run.cancel.is_set()):
                        landed = self._land(execution_id, plan)
                    yield from report()
            except BaseException:
                run.cancel.set()  # interrupted (run terminated, worker shutting down): stop ffmpeg now
                raise
        yield from report(final=True)
        status: Literal["completed", "failed", "cancelled"] = (
            "cancelled" if run.cancel.is_set() else "failed" if scheduler.failures else "completed")
        if status == "cancelled":  # what a dead worker or a refused cancel left running at vendors
            cancel_in_flight(self.jobs.vendor_jobs, self.jobs.operations.providers, execution_id, run.secrets)
        yield RunOutcome(status, mode, dict(scheduler.failures), tuple(ran), landed=landed)

    def run_to_end(self, execution_id: str, run_id: str, **kwargs: Any) -> tuple[list[KindDone], RunOutcome]:
        """:meth:`execute` drained: the kinds it reported and its outcome."""
        events = list(self.execute(execution_id, run_id, **kwargs))
        outcome = events.pop()
        assert isinstance(outcome, RunOutcome)
        return [e for e in events if isinstance(e, KindDone)], outcome

    def finalize(self, execution_id: str, outcome: RunOutcome) -> str:
        """Write the execution's terminal state, derived from its job rows (the source of truth),
        and put the webhook event in the outbox: ``execution.<status>`` when a run ends,
        ``execution.updated`` when a rematerialisation changed a finished execution's output."""
        row = self.repo.get(execution_id)
        assert row is not None
        self._stamp_input_digests(row)
        if outcome.landed:  # never taken back, not even by a cancel that stopped the intermediates
            return self._intermediates_landed(row, outcome)
        status, error, code = _terminal_state(row, outcome)
        result = final_result(row.plan, {j.job_id: j.result for j in row.jobs if j.result})
        self.repo.finish(execution_id, status, error=error, error_code=code, result=result)
        if outcome.mode == "rerender" and status == "completed":
            if (row.result or {}).get("key") != result.get("key"):
                enqueue_event(self.services, execution_id, "execution.updated")
        else:
            enqueue_event(self.services, execution_id)
        return status

    def _land(self, execution_id: str, plan: _RunPlan) -> bool:
        """The root outputs are stored while intermediates still render: the execution is
        ``completed`` now (its result, the ``execution.completed`` webhook); the status lists what
        is still landing."""
        row = self.repo.get(execution_id, with_jobs=False)
        assert row is not None
        self.repo.finish(execution_id, "completed", result=final_result(row.plan, plan.results))
        enqueue_event(self.services, execution_id)
        log.info("execution %s: result landed; %d intermediate(s) still rendering", execution_id,
                 len([j for j in plan.to_run if j not in plan.results]))
        return True

    def _intermediates_landed(self, row: ExecutionRow, outcome: RunOutcome) -> str:
        """After an early landing the execution stays ``completed``: its result was delivered (with
        the one ``execution.completed`` webhook) and is not taken back. Intermediates appear in the
        status's outputs as they land; one that failed is a failed job (the Dagster run fails, so
        a retry renders it again) and never flips the execution."""
        if outcome.failures:
            log.warning("execution %s: completed, but %d intermediate(s) did not land: %s", row.id,
                        len(outcome.failures), outcome.error)
        return "completed"

    def _stamp_input_digests(self, row: ExecutionRow) -> None:
        """A fused job rendered before its input jobs records their digests once they exist (so
        staleness compares like with like): it was made from the same sources and recipe."""
        digests = {j.job_id: (j.result or {}).get("digest") for j in row.jobs if j.status == "completed"}
        for job in row.jobs:
            if job.status != "completed" or not job.result or job.result.get("inputDigests") is not None:
                continue
            current = [digests.get(d) for d in job.depends_on]
            if all(d is not None for d in current):
                self.repo.job_result(row.id, job.job_id, {**job.result, "inputDigests": [str(d) for d in current]})

    # -- scheduling loop ----------------------------------------------------------------------

    def _start_ready(self, pool: ThreadPoolExecutor, running: dict[Future[dict[str, Any]], str],
                     scheduler: Scheduler, plan: _RunPlan, run: JobRun) -> None:
        if not run.cancel.is_set() and self.repo.cancel_requested(run.execution_id):
            run.cancel.set()
        if run.cancel.is_set():
            self._record(run.execution_id, scheduler.cancel())
            return
        for jid in scheduler.ready(self.max_workers - len(running)):
            inputs = [plan.results[d] for d in plan.deps[jid]]
            running[pool.submit(self.jobs.run, run, plan.jobs[jid], inputs, plan.recipe(jid),
                                plan.render.reasons.get(jid) if plan.render else None)] = jid
        if not running and not scheduler.finished_all:  # defensive: nothing can start them any more
            stuck = JobFailure("internal_error", "job could not be scheduled")
            self._record(run.execution_id, scheduler.cancel(stuck), status="failed")

    @staticmethod
    def _wait_some(running: dict[Future[dict[str, Any]], str]) -> list[tuple[str, dict[str, Any] | JobFailure]]:
        """Outcomes of the jobs that finished within a second (the loop then re-checks cancel)."""
        if not running:
            return []
        finished, _ = wait(list(running), timeout=1.0, return_when=FIRST_COMPLETED)
        out: list[tuple[str, dict[str, Any] | JobFailure]] = []
        for fut in finished:
            jid = running.pop(fut)
            try:
                out.append((jid, fut.result()))
            except JobCancelled:
                out.append((jid, JobFailure("cancelled", "execution cancelled")))
            except BaseException as exc:  # noqa: BLE001 - recorded on the job row by the runner
                out.append((jid, classify(exc)))
        return out

    def _record(self, execution_id: str, skipped: list[Skipped], status: str = "cancelled") -> None:
        for skip in skipped:
            self.repo.job_failed(execution_id, skip.job_id, status=status, error=skip.failure.message,
                                 error_code=skip.failure.code)


class _RunPlan:
    """One run's view of the plan: which jobs run, what is already done, what each kind holds."""

    def __init__(self, row: ExecutionRow, selected: set[AssetKind], mode: Mode, *, fused: bool = True):
        self.jobs: dict[str, ExecutionJobRow] = {j.job_id: j for j in row.jobs}
        self.edges = {j.job_id: tuple(j.depends_on) for j in row.jobs}  # the plan's lineage
        self.roots = [r for r in row.plan.get("rootJobIds") or [] if r in self.jobs]
        # What each job's render reads (fused: its sources) and the final-result-first order.
        self.render = compile_plan(self.jobs, self.roots) if fused else None
        self.deps = self.render.edges(self.edges) if self.render else dict(self.edges)
        self.after = dict(self.render.after) if self.render else {}
        self.members = kind_members({j.job_id: AssetKind(j.kind) for j in row.jobs}, self.roots)
        self.selected = selected
        self.mode = mode
        in_scope = {jid for kind in selected for jid in self.members[kind]}
        # Re-rendering a kind changes its artefacts, so every job downstream of them is stale too:
        # it re-renders in the same run, and its kind is reported as touched.
        self.to_run = (descendants(self.edges, in_scope) if mode == "rerender"
                       else {jid for jid in in_scope if self.jobs[jid].status != "completed"})
        self.results: dict[str, dict[str, Any]] = {
            j.job_id: dict(j.result) for j in row.jobs
            if j.status == "completed" and j.result and j.job_id not in self.to_run}

    def recipe(self, job_id: str) -> Recipe | None:
        return self.render.recipes.get(job_id) if self.render else None

    def landing(self, done: AbstractSet[str], finished_all: bool, cancelled: bool) -> bool:
        """Whether the result lands now: every root stored while other jobs still render."""
        return (self.mode == "resume" and not finished_all and not cancelled and bool(self.roots)
                and all(r in done for r in self.roots))

    def reportable(self, done: AbstractSet[str], failed: Mapping[str, Any]) -> set[str]:
        """Done jobs whose contained steps have settled too: Dagster hears of a fused root after
        the intermediates rendered inside it, in the plan's own lineage order (the API heard of
        the root at once)."""
        if self.render is None:
            return set(done)
        recipes = self.render.recipes

        def settled(job_id: str) -> bool:
            return job_id in done or job_id in failed or job_id not in self.to_run

        return {j for j in done if j not in recipes or all(settled(s) for s in recipes[j].steps)}

    def wanted_kinds(self) -> set[AssetKind]:
        """Kinds worth a materialisation in this run: those whose jobs run now (in a re-render that
        includes the kinds downstream of the selection) or, when selected, were reused from a base."""
        def reused(ids: frozenset[str]) -> bool:
            return any((self.results.get(j) or {}).get("reusedFrom") for j in ids)

        if self.mode == "rerender":
            return {kind for kind, ids in self.members.items() if ids & self.to_run}
        return {kind for kind, ids in self.members.items()
                if kind in self.selected and (ids & self.to_run or reused(ids))}

    def kind_done(self, kind: AssetKind, ran: Sequence[str]) -> KindDone:
        """Plan order; ``delivered`` in ``rootJobIds`` order (its first root is the API's result)."""
        if kind is AssetKind.DELIVERED:
            ids = tuple(sorted(self.members[kind], key=self.roots.index))
        else:
            ids = tuple(sorted(self.members[kind], key=lambda j: self.jobs[j].position))
        return KindDone(kind, ids, {j: self.results[j] for j in ids}, tuple(j for j in ids if j in ran),
                        inputs={j: self.edges[j] for j in ids},
                        upstream={d: self.results[d] for j in ids for d in self.edges[j] if d in self.results})


def _terminal_state(row: ExecutionRow, outcome: RunOutcome) -> tuple[str, str | None, str | None]:
    """(status, error, code) from the job rows; the run's own failures name the culprit first."""
    if outcome.status == "cancelled":
        status = "cancelled"
    elif {j.status for j in row.jobs} == {"completed"}:
        return "completed", None, None
    else:
        status = "failed"
    failed = [j for j in row.jobs if j.status in ("failed", "cancelled")]
    error = outcome.error or (f"job {failed[0].job_id!r}: {failed[0].error}" if failed else None)
    code = outcome.error_code or (failed[0].error_code if failed else None)
    if status == "failed" and not error:
        error, code = "some jobs did not complete", "incomplete"
    return status, error, code


def final_result(plan: Mapping[str, Any], results: Mapping[str, Mapping[str, Any] | None]) -> dict[str, Any]:
    """Which job is "the" output: the first root job (``rootJobIds``) with a result."""
    roots = list(plan.get("rootJobIds") or [])
    for root in roots:
        res = results.get(root)
        if res:
            return {"jobId": root, "key": res.get("key"), "duration": res.get("duration"),
                    "aspectRatio": res.get("aspectRatio"), "width": res.get("width"), "height": res.get("height")}
    return {"jobId": roots[0] if roots else None}
