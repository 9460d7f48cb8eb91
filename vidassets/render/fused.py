"""Rendering one recipe: its operations composed into one filter graph, one encode.

The graph is built from the same fragments the per-operation commands use
(:func:`~vidassets.media.merge.merge_fragment`, :func:`~vidassets.media.reframe.reframe_fragment`,
:func:`~vidassets.media.audio.replace_audio_fragment`, :func:`~vidassets.media.burn.burn_fragment`),
so a fused artefact differs from its step-by-step twin only in being encoded once. An
intermediate is never written: each fragment gets what its input *would* be (size, rate,
duration) from the fragment before it, which is also what captions are laid out for.

Stream copy stays where nothing changes: a picture no operation touched is copied, and so is a
source's sound no operation touched, when it already matches the profile.

Fallback (:func:`fuse_refusal`): more source media than one graph should hold (duration or number
of inputs over the limits from Settings) renders the recipe step by step inside the job — each
operation encoded into a scratch file the next one reads — and says so in ``details.render``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from vidassets import media
from vidassets.media.audio import replace_audio_fragment
from vidassets.media.burn import burn_fragment
from vidassets.media.files import atomic_output
from vidassets.media.filters import concat_list_entry, fmt_num
from vidassets.media.geometry import even_round
from vidassets.media.graph import FilterGraph, Stream
from vidassets.media.merge import merge_fragment
from vidassets.media.reframe import reframe_fragment
from vidassets.media.streams import silence_input, square_pixels
from vidassets.plan.operations import Operation
from vidassets.plan.params import DEFAULT_STRATEGY, LipSyncParams, MergeParams, ReframeParams, parse_stored
from vidassets.render.compiler import Recipe, Step

log = logging.getLogger(__name__)

Cues = tuple[Sequence[media.Cue], media.SubtitleStyle, Mapping[str, Any]]


class StepInputs(Protocol):
    """What a recipe's steps need from outside the graph (fetched files, captions)."""

    def audio(self, step: Step) -> Path:
        """The local copy of a ``lipSync`` step's new audio."""

    def cues(self, step: Step, video: media.MediaInfo) -> Cues:
        """An ``addSubtitles`` step's cues and style for a picture like ``video``, with the
        details its result reports."""


@dataclass(frozen=True)
class RenderLimits:
    """How much source media one graph may hold before the recipe renders step by step."""

    max_seconds: float = 1200.0
    max_inputs: int = 24


@dataclass(frozen=True)
class Rendered:
    """A recipe's output and how it was made (``details.render`` of the job's result)."""

    info: media.MediaInfo
    fused: bool
    encodes: int
    reason: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)  # the job's own step details
    # Every step's output as rendered inside the graph (predicted) or into a scratch file.
    outputs: Mapping[str, media.MediaInfo] = field(default_factory=dict)

    def summary(self, recipe: Recipe) -> dict[str, Any]:
        out: dict[str, Any] = {"fused": self.fused, "steps": list(recipe.steps), "sources": list(recipe.sources),
                               "encodes": self.encodes}
        if self.reason:
            out["reason"] = self.reason
        return out


def fuse_refusal(recipe: Recipe, infos: Mapping[str, media.MediaInfo], limits: RenderLimits) -> str | None:
    """Why this recipe must not be one graph, or None."""
    if len(recipe.sources) > limits.max_inputs:
        return f"{len(recipe.sources)} inputs, over the limit of {limits.max_inputs} for one graph"
    seconds = sum(infos[s].duration for s in recipe.sources)
    if seconds > limits.max_seconds:
        return f"{seconds:.0f} s of source media, over the limit of {limits.max_seconds:g} s for one graph"
    return None


@dataclass
class _Build:
    """One graph under construction: its sources (each file added once) and step details."""

    profile: media.EncoderProfile
    inputs: StepInputs
    workdir: Path
    infos: Mapping[str, media.MediaInfo]
    graph: FilterGraph = field(default_factory=FilterGraph)
    streams: dict[str, Stream] = field(default_factory=dict)
    details: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    outputs: dict[str, media.MediaInfo] = field(default_factory=dict)

    def stream(self, item: Step | str) -> Stream:
        if isinstance(item, Step):
            return self.step(item)
        if item not in self.streams:
            self.streams[item] = self.graph.source(self.infos[item])
        return self.streams[item]

    def step(self, step: Step) -> Stream:
        copied = self._copied_cut(step)
        if copied is not None:
            self.outputs[step.job_id] = copied.info
            return copied
        inputs = [self.stream(i) for i in step.inputs]
        handler: Callable[[Step, list[Stream]], Stream] = {
            Operation.MERGE: self._merge, Operation.REFRAME: self._reframe,
            Operation.LIP_SYNC: self._lip_sync, Operation.ADD_SUBTITLES: self._captions,
        }[step.operation]
        out = handler(step, inputs)
        self.outputs[step.job_id] = out.info
        return out

    def _copied_cut(self, step: Step) -> Stream | None:
        """A cut of stored clips that share every codec parameter enters the graph through the
        concat demuxer, undecoded: a step that leaves the picture alone then copies it."""
        if step.operation is not Operation.MERGE or not all(isinstance(i, str) for i in step.inputs):
            return None
        p = parse_stored(step.operation.value, dict(step.params))
        assert isinstance(p, MergeParams)
        infos = [self.infos[str(i)] for i in step.inputs]
        if p.transition.type != "cut" or not media.can_stream_copy(infos, self.profile):
            return None
        listing = self.workdir / f"concat-{len(self.graph.inputs)}.txt"
        listing.write_text("ffconcat version 1.0\n" + "".join(concat_list_entry(i.path) + "\n" for i in infos),
                           encoding="utf-8")
        index = self.graph.add_input(listing, options=["-f", "concat", "-safe", "0"])
        total = sum(i.video_duration or i.duration for i in infos)
        info = replace(infos[0], path=listing, duration=total, video_duration=total, audio_duration=total)
        self.details[step.job_id] = {"transition": "cut", "inputs": len(infos)}
        return Stream(f"{index}:v:0", f"{index}:a:0", info, audio_source=f"{index}:a:0")

    def _merge(self, step: Step, inputs: list[Stream]) -> Stream:
        p = parse_stored(step.operation.value, dict(step.params))
        assert isinstance(p, MergeParams)
        transition = media.Transition.parse({"type": p.transition.type, "duration": p.transition.duration})
        self.details[step.job_id] = {"transition": transition.type, "inputs": len(inputs)}
        return merge_fragment(self.graph, inputs, transition, self.profile)

    def _reframe(self, step: Step, inputs: list[Stream]) -> Stream:
        p = parse_stored(step.operation.value, dict(step.params))
        assert isinstance(p, ReframeParams)
        strategy = p.strategy or DEFAULT_STRATEGY
        self.details[step.job_id] = {"aspectRatio": p.aspectRatio, "strategy": strategy}
        return reframe_fragment(self.graph, inputs[0], aspect_ratio=p.aspectRatio, strategy=strategy,
                                allow_upscale=p.allowUpscale, profile=self.profile)

    def _lip_sync(self, step: Step, inputs: list[Stream]) -> Stream:
        p = parse_stored(step.operation.value, dict(step.params))
        assert isinstance(p, LipSyncParams)
        audio = media.probe(self.inputs.audio(step), require_video=False)
        self.details[step.job_id] = {"mode": "audio replacement (no lip-sync model: mouth movement unchanged)",
                                     "volume": p.volume, "fit": p.fit}
        return replace_audio_fragment(self.graph, inputs[0], audio, volume=p.volume, fit=p.fit, profile=self.profile)

    def _captions(self, step: Step, inputs: list[Stream]) -> Stream:
        video = inputs[0].info
        cues, style, details = self.inputs.cues(step, video)
        ass = self.workdir / f"captions-{len(self.details)}.ass"
        ass.write_text(media.build_ass(cues, style, video.display_width, video.display_height), encoding="utf-8")
        self.details[step.job_id] = {"cues": len(cues), **details}
        return burn_fragment(self.graph, inputs[0], ass, self.profile)


def output_argv(graph: FilterGraph, stream: Stream, out: Path, profile: media.EncoderProfile) -> list[str]:
    """The one encode: a picture no step touched is copied, so is an untouched profile-ready sound."""
    duration = stream.info.duration
    extra: list[str] = []
    if stream.audio is None:
        extra = silence_input(profile, duration)
        audio_map, audio_codec = [f"{len(graph.inputs)}:a:0"], profile.audio_args()
    elif stream.audio == stream.audio_source and _profile_audio(stream.info, profile):
        audio_map, audio_codec = [stream.audio], ["-c:a", "copy"]
    else:
        audio_map = [stream.audio if stream.audio == stream.audio_source else f"[{stream.audio}]"]
        audio_codec = profile.audio_args()
    copy_video = ":" in stream.video  # an input's own stream: no step changed its pixels
    video_args = ["-c:v", "copy", "-t", fmt_num(duration)] if copy_video else profile.video_args()
    return [
        *graph.input_args(), *extra, *(["-filter_complex", graph.text()] if graph.chains else []),
        "-map", stream.video if copy_video else f"[{stream.video}]", "-map", *audio_map,
        *video_args, *audio_codec, "-map_metadata", "-1", *profile.container_args(), str(out),
    ]


def _capped(graph: FilterGraph, stream: Stream, profile: media.EncoderProfile) -> Stream:
    """Scaled down to the profile's size cap (``draft``), when it is over it."""
    cap = profile.max_short_side
    info = stream.info
    if cap is None or min(info.display_width, info.display_height) <= cap:
        return stream
    scale = cap / min(info.display_width, info.display_height)
    width, height = even_round(info.display_width * scale), even_round(info.display_height * scale)
    out = graph.label("vd")
    graph.chain([stream.video], [*square_pixels(info), f"scale={width}:{height}", "setsar=1"], [out])
    return Stream(out, stream.audio, replace(info, width=width, height=height, rotation=0, sample_aspect_ratio=1.0),
                  audio_source=stream.audio_source)


def _profile_audio(info: media.MediaInfo, profile: media.EncoderProfile) -> bool:
    return (info.audio_codec == profile.audio_codec_name and info.sample_rate == profile.audio_rate
            and info.channels == profile.audio_channels)


def render_recipe(recipe: Recipe, sources: Mapping[str, Path], out: Path, *, inputs: StepInputs,
                  profile: media.EncoderProfile, workdir: Path, limits: RenderLimits = RenderLimits(),
                  timeout: float | None = None, on_progress: media.ProgressCallback | None = None) -> Rendered:
    """Render ``recipe`` from the ``sources`` files (job id -> local path) into ``out``."""
    infos = {jid: media.probe(path) for jid, path in sources.items()}
    reason = fuse_refusal(recipe, infos, limits) if recipe.composed else None
    if reason is not None:
        log.info("recipe for %s renders step by step: %s", recipe.job_id, reason)
        return _step_by_step(recipe, infos, out, inputs=inputs, profile=profile, workdir=workdir, timeout=timeout,
                             on_progress=on_progress, reason=reason)
    build = _Build(profile, inputs, workdir, infos)
    stream = _run(build.graph, build.step(recipe.step), out, profile, timeout, on_progress)
    return Rendered(_probe_out(out, stream), fused=recipe.composed, encodes=1,
                    details=build.details[recipe.job_id], outputs=build.outputs)


def _run(graph: FilterGraph, stream: Stream, out: Path, profile: media.EncoderProfile, timeout: float | None,
         on_progress: media.ProgressCallback | None) -> Stream:
    stream = _capped(graph, stream, profile)
    with atomic_output(out) as part:
        media.run_ffmpeg(output_argv(graph, stream, part, profile), timeout=timeout, on_progress=on_progress,
                         expected_duration=stream.info.duration)
    return stream


def _probe_out(out: Path, stream: Stream) -> media.MediaInfo:
    return media.probe(out, known_rotation=stream.info.rotation if ":" in stream.video else 0)


def _step_by_step(recipe: Recipe, infos: Mapping[str, media.MediaInfo], out: Path, *, inputs: StepInputs,
                  profile: media.EncoderProfile, workdir: Path, timeout: float | None,
                  on_progress: media.ProgressCallback | None, reason: str) -> Rendered:
    """The fallback: each step of the recipe encoded on its own, in plan order, from the files
    before it (the last one into ``out``)."""
    files = dict(infos)
    steps = list(recipe.step.walk())
    details: Mapping[str, Any] = {}
    for n, step in enumerate(steps):
        flat = Step(step.job_id, step.operation, step.params,
                    tuple(i.job_id if isinstance(i, Step) else i for i in step.inputs))
        build = _Build(profile, inputs, workdir, files)
        target = out if n == len(steps) - 1 else workdir / f"step-{n}.mp4"
        stream = _run(build.graph, build.step(flat), target, profile, timeout, on_progress if target == out else None)
        files[step.job_id] = _probe_out(target, stream)
        details = build.details[step.job_id]
    return Rendered(files[recipe.job_id], fused=False, encodes=len(steps), reason=reason, details=details,
                    outputs=files)
