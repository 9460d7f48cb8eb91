"""Which asset kinds a run reports, and when: pure bookkeeping, no database, no Dagster.

A plan's own job graph may finish its kinds in any order (reframe each clip and then merge them;
burn captions and then put a new voice on; merge merges). Dagster, however, needs a multi_asset
to yield its materialisations in the topological order of the *declared* asset graph
(:data:`~vidassets.plan.operations.ASSET_PARENTS`: clips, then each transform, then ``delivered``).
:class:`KindReporter` reconciles the two: a kind is released once all its jobs are done *and*
every declared parent kind is settled — reported already, or certain not to be reported in this
run (no jobs, not wanted, or one of its jobs failed). Until then it is buffered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet

from vidassets.plan.operations import ASSET_KINDS_IN_LINEAGE_ORDER, ASSET_PARENTS, AssetKind


def kind_members(job_kinds: Mapping[str, AssetKind], roots: Sequence[str]) -> dict[AssetKind, frozenset[str]]:
    """The job ids behind each asset kind: a job kind's jobs; ``delivered``'s are the plan's roots."""
    members: dict[AssetKind, set[str]] = {kind: set() for kind in ASSET_KINDS_IN_LINEAGE_ORDER}
    for job_id, kind in job_kinds.items():
        members[kind].add(job_id)
    members[AssetKind.DELIVERED] = {r for r in roots if r in job_kinds}
    return {kind: frozenset(ids) for kind, ids in members.items()}


def descendants(edges: Mapping[str, Sequence[str]], starts: Iterable[str]) -> set[str]:
    """``starts`` and every job that depends on one of them, directly or not."""
    children: dict[str, list[str]] = {}
    for job_id, deps in edges.items():
        for dep in deps:
            children.setdefault(dep, []).append(job_id)
    seen = set(starts)
    todo = list(seen)
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


class KindReporter:
    """Releases wanted kinds, complete ones only, in an order Dagster accepts."""

    def __init__(self, members: Mapping[AssetKind, frozenset[str]], wanted: AbstractSet[AssetKind]):
        self._members = members
        self._wanted = wanted
        self._settled: dict[AssetKind, bool] = {}  # kind -> released (True) or never will be (False)

    def release(self, done: AbstractSet[str], failed: AbstractSet[str], *, final: bool = False) -> list[AssetKind]:
        """Kinds to report now. ``final`` says nothing more will finish in this run."""
        out: list[AssetKind] = []
        for kind in ASSET_KINDS_IN_LINEAGE_ORDER:  # a topological order: parents settle first
            if kind in self._settled:
                continue
            ids = self._members.get(kind, frozenset())
            if not ids or kind not in self._wanted:
                self._settled[kind] = False
                continue
            complete = ids <= done
            if not complete and not (ids & failed or final):
                continue
            if not all(parent in self._settled for parent in ASSET_PARENTS[kind]):
                continue
            self._settled[kind] = complete
            if complete:
                out.append(kind)
        return out

    @property
    def released(self) -> list[AssetKind]:
        return [kind for kind, released in self._settled.items() if released]
