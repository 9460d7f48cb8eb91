"""Which job may start next: the ready set, upstream failure and cancellation. Pure — no
database, no threads, no media — so every scheduling rule is unit-tested on its own.

The executor asks :meth:`Scheduler.ready` for jobs to start, reports each outcome back with
:meth:`finished` or :meth:`failed`, and writes whatever the scheduler hands back (jobs that can
no longer run) to its job rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from vidassets.execution.errors import JobFailure
from vidassets.plan import dag


@dataclass(frozen=True)
class Skipped:
    """A job that will not run in this run, and why (written to its row as ``cancelled``)."""

    job_id: str
    failure: JobFailure


class Scheduler:
    """The jobs of one run: ``to_run`` must run; ``done`` have outputs already."""

    def __init__(self, edges: Mapping[str, Sequence[str]], to_run: Iterable[str], done: Iterable[str],
                 after: Mapping[str, Sequence[str]] | None = None):
        self._edges = {job: tuple(deps) for job, deps in edges.items()}
        # Soft order (the render compiler's "final result first"): a job also waits until these
        # have finished, failed or were never going to run - their outcome does not matter.
        self._after = {job: tuple(later) for job, later in (after or {}).items()}
        self._todo = set(to_run)
        self.done: set[str] = set(done)
        self.failures: dict[str, JobFailure] = {}
        self._running: set[str] = set()
        self._order = [j for j in dag.topological_order(self._edges) if j in self._todo]

    def unreachable(self, kind_of: Mapping[str, str]) -> list[Skipped]:
        """Jobs to run whose input is neither done nor going to run (a producer re-rendered a
        kind whose inputs were never made): they cannot start. Call once, before scheduling."""
        skipped = []
        for job in self._order:
            missing = next((d for d in self._edges[job] if d not in self.done and d not in self._todo), None)
            if missing is not None:
                skipped.append(self._skip(job, JobFailure(
                    "upstream_failed", f"input job {missing!r} has no output; materialise "
                                       f"{kind_of.get(missing, 'its kind')} for this execution first")))
        return skipped + self._propagate()

    def ready(self, limit: int) -> list[str]:
        """Up to ``limit`` jobs whose inputs are all done, in plan order; marked running."""
        out: list[str] = []
        for job in self._order:
            if len(out) >= limit:
                break
            if job in self._todo and all(d in self.done for d in self._edges[job]) and self._settled(job):
                out.append(job)
        for job in out:
            self._todo.discard(job)
            self._running.add(job)
        return out

    def finished(self, job: str) -> None:
        self._running.discard(job)
        self.done.add(job)

    def failed(self, job: str, failure: JobFailure) -> list[Skipped]:
        """Record a failure; returns the jobs downstream of it, which will not run now."""
        self._running.discard(job)
        self.failures[job] = failure
        return self._propagate()

    def cancel(self, failure: JobFailure = JobFailure("cancelled", "execution cancelled")) -> list[Skipped]:
        """Nothing more starts: every job not yet started is skipped (as cancelled)."""
        return [self._skip(job, failure) for job in self._order if job in self._todo]

    def _settled(self, job: str) -> bool:
        return not any(a in self._todo or a in self._running for a in self._after.get(job, ()))

    @property
    def running(self) -> int:
        return len(self._running)

    @property
    def finished_all(self) -> bool:
        return not self._todo and not self._running

    def _skip(self, job: str, failure: JobFailure) -> Skipped:
        self._todo.discard(job)
        self.failures[job] = failure
        return Skipped(job, failure)

    def _propagate(self) -> list[Skipped]:
        """Jobs whose input failed (directly or not) cannot run: skip them, naming the culprit."""
        skipped = []
        for job in self._order:  # topological: a skip propagates within one pass
            if job not in self._todo:
                continue
            culprit = next((d for d in self._edges[job] if d in self.failures), None)
            if culprit is not None:
                skipped.append(self._skip(job, JobFailure("upstream_failed", f"input job {culprit!r} failed")))
        return skipped
