"""One job, start to checkpoint: the result cache, attempts with back-off, the operation, the
artefact step and the job row's state. The executor runs many of these in threads.

A job row is ``processing`` before any work and ``completed`` (with its stored artefact) after,
so a retried or resumed run never redoes it; a failure is recorded with a stable code.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from vidassets.execution.artefacts import ArtefactStep
from vidassets.execution.context import JobContext
from vidassets.execution.errors import RETRYABLE_CODES, JobCancelled, classify
from vidassets.execution.operations import OperationRunner
from vidassets.logs import log_context
from vidassets.plan.operations import RENDERER_VERSIONS, AssetKind, Operation
from vidassets.plan.params import parse_stored
from vidassets.render.compiler import Recipe
from vidassets.storage.artefacts import ArtefactStore
from vidassets.storage.cache import ResultCache, cache_key
from vidassets.storage.models import ExecutionJobRow
from vidassets.storage.repo import ExecutionRepository
from vidassets.storage.vendor_jobs import VendorJobRepository

log = logging.getLogger(__name__)

Mode = Literal["resume", "rerender"]
TRANSIENT_ATTEMPTS = 3
# Params whose URL content may change between requests: such jobs are not served from the cache.
FETCHED_PARAMS = ("url", "audioUrl", "subtitlesUrl")


@dataclass(frozen=True)
class JobRun:
    """Everything one job needs from its execution and run."""

    execution_id: str
    run_id: str
    tenant_id: str
    mode: Mode
    secrets: Mapping[str, Any] = field(repr=False)  # the execution's sealed secrets, opened: provider keys, per-job keys
    cancel: threading.Event
    preset: str = "standard"  # the plan's render preset (draft, standard, high)


class JobRunner:
    def __init__(self, repo: ExecutionRepository, store: ArtefactStore, cache: ResultCache,
                 operations: OperationRunner, artefacts: ArtefactStep, *, work_dir: Path,
                 progress_interval_s: float = 1.0):
        self.repo = repo
        self.store = store
        self.cache = cache
        self.operations = operations
        self.artefacts = artefacts
        self.work_dir = work_dir
        self.progress_interval_s = progress_interval_s
        self.vendor_jobs = VendorJobRepository(repo.db_url)

    def run(self, run: JobRun, job: ExecutionJobRow, inputs: Sequence[Mapping[str, Any]],
            recipe: Recipe | None = None, note: str | None = None) -> dict[str, Any]:
        """The job's stored result; raises (after recording it on the row) when it fails.

        With a ``recipe`` (the render compiler's), ``inputs`` are the results of its sources and
        the job's artefact is rendered from them in one graph (see :mod:`vidassets.render`)."""
        with log_context(execution_id=run.execution_id, job_id=job.job_id, run_id=run.run_id):
            self.repo.job_started(run.execution_id, job.job_id, run.run_id)
            key = self._cache_key(run, job, inputs, recipe)
            cached = self._cached(run, job, key)
            if cached is not None:
                return cached
            workdir = self.work_dir / run.execution_id / job.job_id / uuid.uuid4().hex[:8]
            workdir.mkdir(parents=True, exist_ok=True)
            try:
                result = self._attempts(run, job, inputs, workdir, recipe, note)
            except JobCancelled:
                self.repo.job_failed(run.execution_id, job.job_id, status="cancelled", error="execution cancelled",
                                     error_code="cancelled")
                raise
            except BaseException as exc:
                failure = classify(exc)
                log.warning("job %s/%s failed: %s: %s", run.execution_id, job.job_id, failure.code, failure.message)
                self.repo.job_failed(run.execution_id, job.job_id, status="failed", error=failure.message,
                                     error_code=failure.code)
                raise
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
                _remove_empty(workdir.parent, workdir.parent.parent)
            self.repo.job_completed(run.execution_id, job.job_id, result)
            if key:
                self.cache.put_safely(key, {**result, "executionId": run.execution_id}, tenant_id=run.tenant_id,
                                      execution_id=run.execution_id, job_id=job.job_id)
            return result

    def _cache_key(self, run: JobRun, job: ExecutionJobRow, inputs: Sequence[Mapping[str, Any]],
                   recipe: Recipe | None = None) -> str | None:
        if any(job.params.get(name) for name in FETCHED_PARAMS) or (recipe is not None and recipe.fetches):
            return None
        if recipe is not None:  # a fused render: the whole recipe over its sources' bytes
            return cache_key(tenant_id=run.tenant_id, operation=job.operation, params={"recipe": recipe.describe()},
                             input_digests=[str(r.get("digest")) for r in inputs],
                             version=f"{RENDERER_VERSIONS[AssetKind(job.kind)]}+fused+{run.preset}")
        return cache_key(tenant_id=run.tenant_id, operation=job.operation, params=job.params,
                         input_digests=[str(r.get("digest")) for r in inputs],
                         version=_versioned(RENDERER_VERSIONS[AssetKind(job.kind)], run.preset))

    def _cached(self, run: JobRun, job: ExecutionJobRow, key: str | None) -> dict[str, Any] | None:
        """A result this tenant already rendered, if its artefact is still stored (resume only:
        a re-render is asked for precisely because the stored result is not wanted)."""
        if not key or run.mode != "resume":
            return None
        hit = self.cache.get(key)
        if not hit or not hit.get("key") or not self.store.exists(hit["key"]):
            return None
        origin = hit.pop("executionId", None)
        result = {**hit, "cacheHit": True, "cachedFrom": origin, "elapsedS": 0.0}
        self.repo.job_completed(run.execution_id, job.job_id, result)
        log.info("job %s/%s served from the result cache", run.execution_id, job.job_id)
        return result

    def _attempts(self, run: JobRun, job: ExecutionJobRow, inputs: Sequence[Mapping[str, Any]],
                  workdir: Path, recipe: Recipe | None = None, note: str | None = None) -> dict[str, Any]:
        """Fetch and storage hiccups are retried here with back-off; provider clients retry their
        own transient errors, so a whole provider job is never submitted again from here."""
        started = time.monotonic()
        for attempt in range(1, TRANSIENT_ATTEMPTS + 1):
            try:
                result = self._attempt(run, job, inputs, workdir, recipe, note)
                result["elapsedS"] = round(time.monotonic() - started, 3)
                return result
            except JobCancelled:
                raise
            except Exception as exc:
                if run.cancel.is_set():
                    raise JobCancelled() from exc
                failure = classify(exc)
                if failure.code not in RETRYABLE_CODES or attempt == TRANSIENT_ATTEMPTS:
                    raise
                delay = 2.0 ** attempt
                log.warning("job %s/%s attempt %d failed (%s); retrying in %.0fs",
                            run.execution_id, job.job_id, attempt, failure.code, delay)
                if run.cancel.wait(delay):
                    raise JobCancelled() from exc
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _attempt(self, run: JobRun, job: ExecutionJobRow, inputs: Sequence[Mapping[str, Any]],
                 workdir: Path, recipe: Recipe | None = None, note: str | None = None) -> dict[str, Any]:
        job_secrets = dict(run.secrets.get("providers") or {})
        if job.job_id in (run.secrets.get("jobs") or {}):
            job_secrets["job"] = run.secrets["jobs"][job.job_id]
        files = [self.store.fetch(r["key"], workdir) for r in inputs]
        ctx = JobContext(
            execution_id=run.execution_id, job_id=job.job_id, operation=Operation(job.operation),
            params=parse_stored(job.operation, job.params), inputs=files,
            workdir=workdir,
            on_progress=self._progress_writer(run, job.job_id), cancel=run.cancel, secrets=job_secrets,
            vendor_jobs=self.vendor_jobs.for_job(run.execution_id, job.job_id),
            recipe=recipe, sources=dict(zip(recipe.sources, files, strict=True)) if recipe else {},
            source_results=dict(zip(recipe.sources, inputs, strict=True)) if recipe else {}, preset=run.preset,
            render_note=note, input_ids=tuple(job.depends_on) if recipe is None else (),
        )
        output = self.operations.run(ctx)
        if run.cancel.is_set():
            raise JobCancelled()
        return self.artefacts.record(run.execution_id, job, output, inputs, workdir)

    def _progress_writer(self, run: JobRun, job_id: str) -> Callable[[float], None]:
        """Throttled progress writes; raising here is how a cancelled job stops ffmpeg."""
        last = 0.0

        def write(fraction: float) -> None:
            nonlocal last
            if run.cancel.is_set():
                raise JobCancelled()
            now = time.monotonic()
            if now - last >= self.progress_interval_s or fraction >= 1.0:
                last = now
                self.repo.job_progress(run.execution_id, job_id, fraction)

        return write


def _versioned(version: str, preset: str) -> str:
    """The cache's renderer version: a preset other than ``standard`` renders other bytes."""
    return version if preset == "standard" else f"{version}+{preset}"


def _remove_empty(*folders: Path) -> None:
    """Drop the job's and execution's work folders once empty (another job may still be using them)."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return
