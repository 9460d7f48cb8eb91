"""Run one execution's plan: independent jobs concurrently, every job checkpointed.

This is the body of the Dagster ``multi_asset`` (see ``vidassets/dagster/assets.py``), kept free
of Dagster so it can be tested directly. It yields a :class:`KindDone` as soon as all of a kind's
jobs in this run are finished, which the asset turns into that kind's materialisation — the
pattern ``@dbt_assets`` uses to report each model as it lands.

Modes:

* ``resume`` (API launches, run retries): jobs already ``completed`` are skipped — a retried or
  resumed run never redoes finished work.
* ``rerender`` (a producer rematerialising some kinds in the UI, scheduled backfills): the jobs of
  the selected kinds run again from the stored upstream artefacts; other kinds are untouched.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Literal, Mapping, Sequence

from vidassets import media
from vidassets.execution.checks import check_output
from vidassets.execution.errors import RETRYABLE_CODES, JobCancelled, JobFailure, classify
from vidassets.execution.kinds import KindReporter, descendants, kind_members
from vidassets.execution.operations import JobContext, OperationRunner
from vidassets.plan import dag
from vidassets.cache import cache_key
from vidassets.logs import log_context
from vidassets.plan.operations import ASSET_KINDS_IN_LINEAGE_ORDER, RENDERER_VERSIONS, AssetKind, Operation
from vidassets.services import Services
from vidassets.storage.artefacts import artefact_key, file_digest
from vidassets.storage.models import ExecutionJobRow
from vidassets.webhooks.events import enqueue_event

log = logging.getLogger(__name__)

Mode = Literal["resume", "rerender"]
TRANSIENT_ATTEMPTS = 3


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


@dataclass
class RunSummary:
    status: Literal["completed", "failed", "cancelled"]
    failures: dict[str, JobFailure] = field(default_factory=dict)
    ran: list[str] = field(default_factory=list)

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
        self.store = services.store
        self.operations = operations
        self.max_workers = max(1, max_workers or services.settings.job_concurrency)
        self.progress_interval_s = progress_interval_s

    def execute(
        self,
        execution_id: str,
        run_id: str,
        *,
        kinds: Sequence[AssetKind] | None = None,
        mode: Mode = "resume",
        summary: RunSummary | None = None,
    ) -> Iterator[KindDone]:
        """Generator: yields each kind as it completes; fills ``summary`` with the outcome."""
        summary = summary if summary is not None else RunSummary("completed")
        row = self.repo.start_run(execution_id, run_id)
        jobs = {j.job_id: j for j in row.jobs}
        secrets = self.services.box.open(row.secrets_enc) or {}
        selected = set(kinds) if kinds is not None else set(ASSET_KINDS_IN_LINEAGE_ORDER)
        edges = {j.job_id: tuple(j.depends_on) for j in row.jobs}
        roots = [r for r in row.plan.get("rootJobIds") or [] if r in jobs]
        members = kind_members({j.job_id: AssetKind(j.kind) for j in row.jobs}, roots)
        # Plan order; ``delivered`` in ``rootJobIds`` order (its first root is the API's result).
        root_rank = {r: i for i, r in enumerate(roots)}

        in_scope = {jid for kind in selected for jid in members[kind]}
        if mode == "rerender":
            # Re-rendering a kind changes its artefacts, so every job downstream of them is stale
            # too: it re-renders in the same run, and its kind is reported as touched.
            to_run = descendants(edges, in_scope)
            self.repo.reset_jobs(execution_id, to_run)
            for jid in to_run:
                jobs[jid].status = "pending"
        else:
            to_run = {jid for jid in in_scope if jobs[jid].status != "completed"}
        results: dict[str, dict[str, Any]] = {j.job_id: dict(j.result) for j in row.jobs
                                              if j.status == "completed" and j.result and j.job_id not in to_run}
        done: set[str] = set(results)
        failed: dict[str, JobFailure] = {}
        reporter = KindReporter(members, _wanted_kinds(members, selected, to_run, results, mode))
        cancel = threading.Event()

        # Jobs we must run whose upstream is neither done nor going to run: cannot proceed.
        for jid in dag.topological_order({k: v for k, v in edges.items()}):
            if jid not in to_run:
                continue
            for dep in edges[jid]:
                if dep in failed or (dep not in done and dep not in to_run):
                    reason = failed.get(dep)
                    failure = JobFailure("upstream_failed", f"input job {dep!r} has no output"
                                         + (f" ({reason.message})" if reason else
                                            f"; materialise {jobs[dep].kind} for this execution first"))
                    failed[jid] = failure
                    self.repo.job_failed(execution_id, jid, status="cancelled", error=failure.message,
                                         error_code=failure.code)
                    break
        pending = [jid for jid in dag.topological_order(edges) if jid in to_run and jid not in failed]

        def ready_kinds(final: bool = False) -> Iterator[KindDone]:
            for kind in reporter.release(done, set(failed), final=final):
                rank = root_rank.get if kind is AssetKind.DELIVERED else (lambda j: jobs[j].position)
                ids = tuple(sorted(members[kind], key=rank))
                yield KindDone(kind, ids, {j: results[j] for j in ids}, tuple(j for j in ids if j in summary.ran),
                               inputs={j: edges[j] for j in ids},
                               upstream={d: results[d] for j in ids for d in edges[j] if d in results})

        last_pending = [len(pending) + 1]

        def progressed(now_pending: int) -> bool:
            moved = now_pending < last_pending[0]
            last_pending[0] = now_pending
            return moved

        yield from ready_kinds()
        running: dict[Future[dict[str, Any]], str] = {}
        with ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix=f"exec-{execution_id[:8]}") as pool:
            try:
                while pending or running:
                    if not cancel.is_set() and self.repo.cancel_requested(execution_id):
                        cancel.set()
                    if not cancel.is_set():
                        for jid in list(pending):
                            if len(running) >= self.max_workers:
                                break
                            deps = edges[jid]
                            if any(d in failed for d in deps):
                                pending.remove(jid)
                                self._skip(execution_id, jid, deps, failed)
                                continue
                            if all(d in done for d in deps):
                                pending.remove(jid)
                                inputs = [results[d] for d in deps]
                                fut = pool.submit(self._run_job, execution_id, run_id, jobs[jid], inputs,
                                                  secrets, cancel, row.tenant_id, mode)
                                running[fut] = jid
                    else:
                        for jid in pending:
                            failed[jid] = JobFailure("cancelled", "execution cancelled")
                            self.repo.job_failed(execution_id, jid, status="cancelled",
                                                 error="execution cancelled", error_code="cancelled")
                        pending.clear()
                    if not running:
                        if pending and not cancel.is_set() and progressed(len(pending)):
                            continue  # the pass above skipped jobs whose inputs failed; go again
                        for jid in pending:  # defensive: nothing can start them any more
                            failed[jid] = JobFailure("internal_error", "job could not be scheduled")
                            self.repo.job_failed(execution_id, jid, status="failed",
                                                 error=failed[jid].message, error_code="internal_error")
                        pending.clear()
                        break
                    finished, _ = wait(list(running), timeout=1.0, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        jid = running.pop(fut)
                        try:
                            results[jid] = fut.result()
                            done.add(jid)
                            summary.ran.append(jid)
                        except JobCancelled:
                            failed[jid] = JobFailure("cancelled", "execution cancelled")
                        except BaseException as exc:  # noqa: BLE001 - recorded on the job row
                            failed[jid] = classify(exc)
                    yield from ready_kinds()
            except BaseException:
                # Interrupted (run terminated, worker shutting down): stop ffmpeg children promptly.
                cancel.set()
                raise
        yield from ready_kinds(final=True)
        summary.failures = {j: f for j, f in failed.items()}
        if cancel.is_set():
            summary.status = "cancelled"
        elif failed:
            summary.status = "failed"
        else:
            summary.status = "completed"

    def finalize(self, execution_id: str, summary: RunSummary, mode: Mode = "resume") -> str:
        """Write the execution's terminal state, derived from its job rows (the source of truth),
        and put the webhook event in the outbox: ``execution.<status>`` when a run ends,
        ``execution.updated`` when a rematerialisation changed a finished execution's output."""
        row = self.repo.get(execution_id)
        assert row is not None
        statuses = {j.status for j in row.jobs}
        if summary.status == "cancelled":
            status = "cancelled"
        elif statuses == {"completed"}:
            status = "completed"
        else:
            status = "failed"
        failed = [j for j in row.jobs if j.status in ("failed", "cancelled")]
        error = summary.error or (f"job {failed[0].job_id!r}: {failed[0].error}" if failed else None)
        code = summary.error_code or (failed[0].error_code if failed else None)
        if status == "completed":
            error = code = None
        elif status == "failed" and not error:
            error, code = "some jobs did not complete", "incomplete"
        result = final_result(row.plan, {j.job_id: j.result for j in row.jobs if j.result})
        self.repo.finish(execution_id, status, error=error, error_code=code, result=result)
        if mode == "rerender" and status == "completed":
            if (row.result or {}).get("key") != result.get("key"):
                enqueue_event(self.services, execution_id, "execution.updated")
        else:
            enqueue_event(self.services, execution_id)
        return status

    # -- one job ---------------------------------------------------------------------------

    def _skip(self, execution_id: str, jid: str, deps: Sequence[str], failed: dict[str, JobFailure]) -> None:
        culprit = next(d for d in deps if d in failed)
        failure = JobFailure("upstream_failed", f"input job {culprit!r} failed")
        failed[jid] = failure
        self.repo.job_failed(execution_id, jid, status="cancelled", error=failure.message, error_code=failure.code)

    def _run_job(self, execution_id: str, run_id: str, job: ExecutionJobRow, inputs: Sequence[Mapping[str, Any]],
                 secrets: Mapping[str, Any], cancel: threading.Event, tenant_id: str, mode: Mode) -> dict[str, Any]:
        with log_context(execution_id=execution_id, job_id=job.job_id, run_id=run_id):
            return self._run_job_logged(execution_id, run_id, job, inputs, secrets, cancel, tenant_id, mode)

    def _run_job_logged(self, execution_id: str, run_id: str, job: ExecutionJobRow,
                        inputs: Sequence[Mapping[str, Any]], secrets: Mapping[str, Any], cancel: threading.Event,
                        tenant_id: str, mode: Mode) -> dict[str, Any]:
        self.repo.job_started(execution_id, job.job_id, run_id)
        key = None if not _cacheable(job) else cache_key(
            tenant_id=tenant_id, operation=job.operation, params=job.params,
            input_digests=[str(r.get("digest")) for r in inputs], version=RENDERER_VERSIONS[AssetKind(job.kind)])
        if key and mode == "resume":
            hit = self.services.cache.get(key)
            if hit and hit.get("key") and self.store.exists(hit["key"]):
                origin = hit.pop("executionId", None)
                result = {**hit, "cacheHit": True, "cachedFrom": origin, "elapsedS": 0.0}
                self.repo.job_completed(execution_id, job.job_id, result)
                log.info("job %s/%s served from the result cache", execution_id, job.job_id)
                return result
        workdir = self.services.settings.resolved_work_dir / execution_id / job.job_id / uuid.uuid4().hex[:8]
        workdir.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        try:
            attempt = 0
            while True:
                attempt += 1
                try:
                    result = self._attempt(execution_id, job, inputs, secrets, cancel, workdir)
                    break
                except JobCancelled:
                    raise
                except Exception as exc:
                    failure = classify(exc)
                    if cancel.is_set():
                        raise JobCancelled() from exc
                    # Fetch and storage hiccups are retried here; provider clients retry their own
                    # transient errors, so re-submitting a whole provider job again is left out.
                    if failure.code in RETRYABLE_CODES and attempt < TRANSIENT_ATTEMPTS:
                        delay = 2.0 ** attempt
                        log.warning("job %s/%s attempt %d failed (%s); retrying in %.0fs",
                                    execution_id, job.job_id, attempt, failure.code, delay)
                        if cancel.wait(delay):
                            raise JobCancelled() from exc
                        continue
                    raise
            result["elapsedS"] = round(time.monotonic() - started, 3)
            self.repo.job_completed(execution_id, job.job_id, result)
            if key:
                self.services.cache.put_safely(key, {**result, "executionId": execution_id}, tenant_id=tenant_id,
                                               execution_id=execution_id, job_id=job.job_id)
            return result
        except JobCancelled:
            self.repo.job_failed(execution_id, job.job_id, status="cancelled", error="execution cancelled",
                                 error_code="cancelled")
            raise
        except BaseException as exc:
            failure = classify(exc)
            log.warning("job %s/%s failed: %s: %s", execution_id, job.job_id, failure.code, failure.message)
            self.repo.job_failed(execution_id, job.job_id, status="failed", error=failure.message,
                                 error_code=failure.code)
            raise
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
            _remove_empty(workdir.parent, workdir.parent.parent)

    def _attempt(self, execution_id: str, job: ExecutionJobRow, inputs: Sequence[Mapping[str, Any]],
                 secrets: Mapping[str, Any], cancel: threading.Event, workdir: Path) -> dict[str, Any]:
        input_paths = [self.store.fetch(r["key"], workdir) for r in inputs]
        job_secrets = dict((secrets.get("providers") or {}))
        if job.job_id in (secrets.get("jobs") or {}):
            job_secrets["job"] = secrets["jobs"][job.job_id]
        ctx = JobContext(
            execution_id=execution_id, job_id=job.job_id, operation=Operation(job.operation),
            params=job.params, inputs=input_paths, workdir=workdir,
            on_progress=self._progress_writer(execution_id, job.job_id, cancel), cancel=cancel,
            secrets=job_secrets,
        )
        output = self.operations.run(ctx)
        if cancel.is_set():
            raise JobCancelled()
        info = media.probe(output.path)
        # Media from outside (imports, provider outputs) is decoded frame by frame; our own
        # ffmpeg renders are covered by the encoder's success and the probe's tail check.
        decodable = _decode_check(info) if output.external else True
        digest = file_digest(output.path)
        key = artefact_key(execution_id, job.job_id, job.kind, digest, output.path.suffix or ".mp4")
        stored = self.store.put_file(output.path, key, digest=digest)
        sheet_key = self._contact_sheet(info, key, workdir)
        result: dict[str, Any] = {
            "key": stored.key, "uri": stored.uri, "digest": stored.digest, "size": stored.size,
            "duration": round(info.duration, 3), "width": info.width, "height": info.height,
            "fps": round(info.fps, 3), "hasAudio": info.has_audio, "videoCodec": info.video_codec,
            "aspectRatio": _aspect(info.width, info.height),
            "operation": job.operation, "kind": job.kind, "provider": output.provider, "model": output.model,
            "details": dict(output.details),
            # What this artefact was made from: staleness (renderer bumped, input re-rendered) is
            # decided by comparing these with the current renderer and the inputs' current digests.
            "rendererVersion": RENDERER_VERSIONS[AssetKind(job.kind)],
            "inputDigests": [str(r.get("digest")) for r in inputs],
            "decodable": decodable,
            "sheetKey": sheet_key,
        }
        result["checks"] = [c.as_dict() for c in check_output(job.operation, job.params, result, inputs)]
        return result

    def _contact_sheet(self, video: media.MediaInfo, key: str, workdir: Path) -> str | None:
        """A preview strip stored beside the artefact; a preview is never worth failing a job for."""
        if not self.services.settings.contact_sheets:
            return None
        try:
            sheet = media.contact_sheet(video.path, workdir / "sheet.jpg", info=video)
            sheet_key = key.rsplit(".", 1)[0] + "-sheet.jpg"
            self.store.put_file(sheet, sheet_key)
            return sheet_key
        except Exception as exc:  # noqa: BLE001
            log.warning("contact sheet for %s failed: %s", key, exc)
            return None

    def _progress_writer(self, execution_id: str, job_id: str, cancel: threading.Event) -> Callable[[float], None]:
        """Throttled progress writes; raising here is how a cancelled job stops ffmpeg."""
        last = [0.0]

        def write(fraction: float) -> None:
            if cancel.is_set():
                raise JobCancelled()
            now = time.monotonic()
            if now - last[0] >= self.progress_interval_s or fraction >= 1.0:
                last[0] = now
                self.repo.job_progress(execution_id, job_id, fraction)

        return write


def _wanted_kinds(members: Mapping[AssetKind, frozenset[str]], selected: set[AssetKind], to_run: set[str],
                  results: Mapping[str, Mapping[str, Any]], mode: Mode) -> set[AssetKind]:
    """Kinds worth a materialisation in this run: those whose jobs run now (in a re-render that
    includes the kinds downstream of the selection) or, when selected, were reused from a base."""
    def reused(ids: frozenset[str]) -> bool:
        return any((results.get(j) or {}).get("reusedFrom") for j in ids)

    if mode == "rerender":
        return {kind for kind, ids in members.items() if ids & to_run}
    return {kind for kind, ids in members.items() if kind in selected and (ids & to_run or reused(ids))}


def _remove_empty(*folders: Path) -> None:
    """Drop the job's and execution's work folders once empty (another job may still be using them)."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def _decode_check(info: media.MediaInfo) -> bool | str:
    """True when every frame decodes; otherwise ffmpeg's reason (reported by the asset check)."""
    try:
        media.run_ffmpeg(media.decode_check_command(info), timeout=max(60.0, info.duration * 4),
                         expected_duration=info.duration)
    except media.MediaError as exc:
        return str(exc)[:500]
    return True


# Params whose URL content may change between requests: such jobs are not served from the cache.
_FETCHED_PARAMS = ("url", "audioUrl", "subtitlesUrl")


def _cacheable(job: ExecutionJobRow) -> bool:
    return not any(job.params.get(name) for name in _FETCHED_PARAMS)


def _aspect(width: int, height: int) -> str:
    from math import gcd

    if not width or not height:
        return "unknown"
    ratio = width / height
    for name in ("16:9", "9:16", "1:1", "4:5", "4:3", "3:4", "21:9", "9:21"):
        a, b = (int(x) for x in name.split(":"))
        if abs(ratio - a / b) < 0.02:
            return name
    g = gcd(width, height)
    return f"{width // g}:{height // g}"


def final_result(plan: Mapping[str, Any], results: Mapping[str, Mapping[str, Any] | None]) -> dict[str, Any]:
    """Which job is "the" output: the first root job (``rootJobIds``) with a result."""
    roots = list(plan.get("rootJobIds") or [])
    for root in roots:
        res = results.get(root)
        if res:
            return {"jobId": root, "key": res.get("key"), "duration": res.get("duration"),
                    "aspectRatio": res.get("aspectRatio"), "width": res.get("width"), "height": res.get("height")}
    return {"jobId": roots[0] if roots else None}
