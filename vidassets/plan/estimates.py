"""What a plan's durations will be, known before anything runs, and the limits checked on them.

A generated clip lasts what its params ask; a merge lasts the sum of its inputs less the
transition overlaps; reframe and captions keep their input's length; a new audio track keeps the
video's length with ``fit: video``. Imported media, audio-length fits, provider lip sync and
jobs of a base execution are not known in advance, so every estimate is a :class:`Span` — at
least ``lo``, at most ``hi`` (None: no upper bound known). The checks only refuse what is certain
to fail: a merge whose shortest possible output is already too long, or a transition longer than
an input can possibly be (the renderer's own rule, which
:func:`vidassets.media.merge.build_merge_command` applies at run time).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from vidassets.plan.errors import PlanIssue
from vidassets.plan.models import PlanJob
from vidassets.plan.operations import Operation


@dataclass(frozen=True)
class Span:
    lo: float
    hi: float | None

    def __add__(self, other: Span) -> Span:
        hi = self.hi + other.hi if self.hi is not None and other.hi is not None else None
        return Span(self.lo + other.lo, hi)


UNKNOWN = Span(0.0, None)


def transition_seconds(params: Mapping[str, object]) -> float:
    """How long consecutive merge inputs overlap (0 for a cut)."""
    transition = params.get("transition")
    if not isinstance(transition, Mapping) or transition.get("type", "cut") == "cut":
        return 0.0
    seconds = transition.get("duration", 0.0)
    return float(seconds) if isinstance(seconds, (int, float)) else 0.0


def output_span(job: PlanJob, inputs: Sequence[Span]) -> Span:
    """The length of ``job``'s output given its inputs' (in ``dependsOn`` order)."""
    p = job.params
    if job.operation is Operation.GENERATE:
        duration = p.get("duration")
        if p.get("provider") == "url" or not isinstance(duration, (int, float)):
            return UNKNOWN  # an import lasts what the media lasts
        return Span(float(duration), float(duration))
    if job.operation is Operation.LAYER:
        duration = p.get("outputDuration")
        return Span(float(duration), float(duration)) if isinstance(duration, (int, float)) else UNKNOWN
    if job.operation.provider_only and job.operation is not Operation.REMOVE_BACKGROUND:
        return UNKNOWN  # a picture has no length; speech lasts what the model says
    source = inputs[0] if inputs else UNKNOWN  # single-input jobs on params.url: unknown media
    if job.operation is Operation.MERGE:
        total = Span(0.0, 0.0)
        for span in inputs:
            total = total + span
        overlap = transition_seconds(p) * max(0, len(inputs) - 1)
        return Span(max(0.0, total.lo - overlap), None if total.hi is None else max(0.0, total.hi - overlap))
    if job.operation is Operation.LIP_SYNC:
        if p.get("provider") not in (None, "local"):
            return UNKNOWN  # a lip-sync model decides
        fit = p.get("fit", "video")
        if fit == "shortest":
            return Span(0.0, source.hi)
        return source if fit == "video" else UNKNOWN
    return source  # reframe, addSubtitles: same length as the input


def check_durations(
    jobs: Iterable[PlanJob],
    order: Sequence[str],
    where: Mapping[str, str],
    *,
    max_merged_s: float,
) -> list[PlanIssue]:
    """Walk the plan in dependency ``order``; ``where[job_id]`` is the job's field path prefix.
    Dependencies that are not in ``jobs`` (a base execution's) count as unknown."""
    by_id = {job.id: job for job in jobs}
    spans: dict[str, Span] = {}
    issues: list[PlanIssue] = []
    for job_id in order:
        job = by_id[job_id]
        inputs = [spans.get(dep, UNKNOWN) for dep in picture_inputs(job)]
        if job.operation is Operation.MERGE:
            inputs = _trimmed(job, inputs)
        span = output_span(job, inputs)
        if job.operation is Operation.MERGE:
            issues += _check_merge(job, inputs, span, where[job_id], max_merged_s)
        spans[job_id] = span
    return issues


def picture_inputs(job: PlanJob) -> tuple[str, ...]:
    """A job's inputs whose length counts: a merge's audio tracks are laid under, not joined."""
    if job.operation is not Operation.MERGE:
        return job.depends_on
    tracks = {t.get("input") for t in job.params.get("audio") or () if isinstance(t, Mapping)}
    return tuple(d for d in job.depends_on if d not in tracks)


def _trimmed(job: PlanJob, inputs: Sequence[Span]) -> list[Span]:
    """A merge input's length after its item option: a trim caps it, an image lasts exactly it."""
    clips = job.params.get("clips")
    if not isinstance(clips, list) or len(clips) != len(inputs):
        return list(inputs)
    out = []
    for span, clip in zip(inputs, clips, strict=True):
        d = clip.get("duration") if isinstance(clip, Mapping) else None
        if not isinstance(d, (int, float)):
            out.append(span)
        elif span.hi is None and span.lo == 0.0:
            out.append(Span(0.0, float(d)))  # unknown media (an import, an image job): at most d
        else:
            out.append(Span(min(span.lo, float(d)), float(d) if span.hi is None else min(span.hi, float(d))))
    return out


def _check_merge(job: PlanJob, inputs: Sequence[Span], out: Span, where: str, max_merged_s: float) -> list[PlanIssue]:
    issues: list[PlanIssue] = []
    if out.lo > max_merged_s:
        issues.append(PlanIssue(f"{where}.dependsOn", f"the merged video would last at least {out.lo:g} s; "
                                                      f"a merge may make at most {max_merged_s:g} s", job.id))
    t = transition_seconds(job.params)
    if t <= 0 or len(inputs) < 2:
        return issues
    for index, (dep, span) in enumerate(zip(picture_inputs(job), inputs, strict=True)):
        joins = 1 if index in (0, len(inputs) - 1) else 2  # the middle clips overlap at both ends
        if span.hi is not None and span.hi < joins * t:
            issues.append(PlanIssue(
                f"{where}.params.transition.duration",
                f"a {t:g} s transition needs input {index + 1} ({dep!r}) to last at least {joins * t:g} s; "
                f"it lasts {span.hi:g} s", job.id))
    return issues
