"""The render compiler: which operations one encode composes, and what each job waits for.

A *source* is an artefact whose bytes come from outside the ffmpeg graph: a provider's output, an
imported file, a job that analyses or transcribes its input's pictures or sound, or a job that
imports its own input (``params.url``). Layers and merges with per-item options (today's SDK) are
sources too: each is one graph of its own over its inputs' artefacts, which may be images and
audio as well as video. Every other job (merge, reframe, local audio replacement,
captions from given text) is a *step*: its artefact is rendered from the sources behind it in one
graph and one encode, its inputs' artefacts are never decoded — so a step job waits for its
sources, not for its input jobs, and the plan's root outputs can render first while the
intermediates they contain land right after (each one fused from the same sources).

Pure: no database, no media, no threads. The executor asks :func:`compile_plan` once per run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from vidassets.plan.operations import Operation

#: Caption sources that need no look at the input's sound (transcription does).
_GIVEN_CAPTIONS = ("text", "srt", "vtt", "subtitles", "subtitlesUrl", "words")
#: Params fetched from a URL at render time: a recipe containing one is never served from the cache.
FETCHED_PARAMS = ("url", "audioUrl", "subtitlesUrl")


class PlanJob(Protocol):
    """What the compiler reads of a job (a stored ``ExecutionJobRow`` fits)."""

    @property
    def job_id(self) -> str: ...
    @property
    def operation(self) -> str: ...
    @property
    def params(self) -> Mapping[str, Any]: ...
    @property
    def depends_on(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class Step:
    """One ffmpeg-side operation of a recipe; ``inputs`` are steps or source job ids."""

    job_id: str
    operation: Operation
    params: Mapping[str, Any]
    inputs: tuple[Step | str, ...]

    def walk(self, seen: set[str] | None = None) -> Iterable[Step]:
        """Every step of this tree once, inputs before the steps that use them."""
        seen = set() if seen is None else seen
        for item in self.inputs:
            if isinstance(item, Step) and item.job_id not in seen:
                yield from item.walk(seen)
        if self.job_id not in seen:
            seen.add(self.job_id)
            yield self


@dataclass(frozen=True)
class Recipe:
    """How one job's artefact is rendered: ``step`` over the ``sources`` (job ids, first-use order)."""

    job_id: str
    step: Step
    sources: tuple[str, ...]

    @property
    def steps(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.job_id for s in self.step.walk()))

    @property
    def composed(self) -> bool:
        """More than one operation in the graph (a single step is today's render, unchanged)."""
        return len(self.steps) > 1

    @property
    def fetches(self) -> bool:
        return any(s.params.get(name) for s in self.step.walk() for name in FETCHED_PARAMS)

    def describe(self) -> dict[str, Any]:
        """A canonical description (the cache key's): operations, params, sources by position."""
        def node(item: Step | str) -> dict[str, Any]:
            if isinstance(item, str):
                return {"source": self.sources.index(item)}
            return {"op": item.operation.value, "params": dict(item.params), "in": [node(i) for i in item.inputs]}

        return node(self.step)


@dataclass(frozen=True)
class RenderPlan:
    """One run's compiled plan."""

    recipes: Mapping[str, Recipe]  # step jobs
    reasons: Mapping[str, str]  # source jobs (rendered from their own inputs) and why
    after: Mapping[str, tuple[str, ...]]  # intermediates wait for these to settle: the final result first

    def inputs_of(self, job_id: str, edges: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
        """The jobs whose stored artefacts this job's render reads."""
        recipe = self.recipes.get(job_id)
        return recipe.sources if recipe is not None else tuple(edges[job_id])

    def edges(self, edges: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
        return {job_id: self.inputs_of(job_id, edges) for job_id in edges}


def source_reason(job: PlanJob) -> str | None:
    """Why ``job`` cannot be composed into a graph (it is then a source for what follows), or None."""
    op = Operation(job.operation)
    p = job.params
    if op is Operation.GENERATE:
        return "provider output or imported media"
    if op.provider_only:
        return "a provider model makes it"
    if op is Operation.LAYER:
        return "layers composite in their own graph (stills looped, keyed, placed)"
    if op is Operation.MERGE and (p.get("clips") or p.get("audio")):
        return "a merge with stills, trims, volumes or audio tracks renders in its own graph"
    if not job.depends_on:
        return "imports its own input (params.url)"
    if op is Operation.LIP_SYNC and p.get("provider") not in (None, "local"):
        return "a provider model renders it"
    if op is Operation.REFRAME and (p.get("strategy") or p.get("crop")) == "smart":
        return "smart crop analyses its input's pictures"
    if op is Operation.ADD_SUBTITLES and not any(p.get(name) for name in _GIVEN_CAPTIONS):
        return "captions are transcribed from its input's speech"
    return None


def compile_plan(jobs: Mapping[str, PlanJob], roots: Sequence[str]) -> RenderPlan:
    """Recipes for every step job, and the landing order (see the module doc)."""
    reasons = {jid: r for jid, job in jobs.items() if (r := source_reason(job)) is not None}
    steps: dict[str, Step] = {}

    def step(jid: str) -> Step:
        if jid not in steps:
            job = jobs[jid]
            inputs = tuple(d if d in reasons else step(d) for d in job.depends_on)
            steps[jid] = Step(jid, Operation(job.operation), dict(job.params), inputs)
        return steps[jid]

    recipes: dict[str, Recipe] = {}
    for jid in jobs:
        if jid in reasons:
            continue
        tree = step(jid)
        sources = tuple(dict.fromkeys(i for s in tree.walk() for i in s.inputs if isinstance(i, str)))
        recipes[jid] = Recipe(jid, tree, sources)
    return RenderPlan(recipes, reasons, _landing_order(jobs, recipes, reasons, roots))


def _landing_order(jobs: Mapping[str, PlanJob], recipes: Mapping[str, Recipe], reasons: Mapping[str, str],
                   roots: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Each intermediate step waits for the jobs that compose it to settle — the final result
    first — unless one of them needs its artefact (then it must come first, as today)."""
    edges = {jid: (recipes[jid].sources if jid in recipes else tuple(jobs[jid].depends_on)) for jid in jobs}
    needed_by = _descendants(edges)
    composed = {inner for r in recipes.values() for inner in r.steps if inner != r.job_id}
    after: dict[str, list[str]] = {}
    for outer in (r for r in recipes.values() if r.job_id in roots or r.job_id not in composed):
        for inner in outer.steps:
            if inner != outer.job_id and outer.job_id not in needed_by.get(inner, set()):
                after.setdefault(inner, []).append(outer.job_id)
    return {jid: tuple(dict.fromkeys(outers)) for jid, outers in after.items()}


def _descendants(edges: Mapping[str, Sequence[str]]) -> dict[str, set[str]]:
    """job -> every job that reads its artefact, directly or not."""
    children: dict[str, set[str]] = {}
    for jid, deps in edges.items():
        for dep in deps:
            children.setdefault(dep, set()).add(jid)
    out: dict[str, set[str]] = {}

    def below(jid: str) -> set[str]:
        if jid not in out:
            out[jid] = set()
            for child in children.get(jid, ()):
                out[jid] |= {child, *below(child)}
        return out[jid]

    for jid in edges:
        below(jid)
    return out
