"""The operations today's SDK added (issue 19): images, speech, background removal, layers, and
merges with stills, trims and audio tracks.

Vendor models make images and speech (:mod:`vidassets.providers`); layers and rich merges are
our own ffmpeg graphs (:mod:`vidassets.media.layer`, :mod:`vidassets.media.mix`). Like the other
handlers these receive local input files and write one output; the artefact step probes it and
records what it is (video, image or audio).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from vidassets import media
from vidassets.execution.context import JobContext, JobOutput
from vidassets.media.layer import ChromaKey, LayerClip, LayerSpec, layer
from vidassets.media.mix import AudioBed, ClipOptions
from vidassets.plan.operations import Operation
from vidassets.plan.params import MergeParams
from vidassets.plan.params_media import (
    DEFAULT_CUTOUT_MODEL,
    GenerateAudioParams,
    GenerateImageParams,
    LayerParams,
    RemoveBackgroundParams,
)
from vidassets.providers.base import ImageRequest, MattingRequest, SpeechRequest

if TYPE_CHECKING:
    from vidassets.execution.operations import OperationRunner


def inputs_by_id(ctx: JobContext) -> dict[str, Path]:
    return dict(zip(ctx.input_ids, ctx.inputs, strict=False))


def transition(p: MergeParams) -> media.Transition:
    """A merge's transition as the renderer takes it (the params fold ``transitionDuration`` in)."""
    return media.Transition.parse({"type": p.transition.type, "duration": p.transition.duration})


def _vendor_dir(ctx: JobContext) -> Path:
    out = ctx.workdir / "vendor"
    out.mkdir(parents=True, exist_ok=True)
    return out


def generate_image(runner: OperationRunner, ctx: JobContext) -> JobOutput:
    """generateImage and removeImageBackground: the plan's image URLs, then the image jobs' files."""
    p = ctx.params
    assert isinstance(p, GenerateImageParams)
    assert p.provider is not None  # checked at submit (plan.media_inputs)
    provider = runner.providers.image(p.provider)
    images: tuple[Path | str, ...] = (*p.image, *ctx.inputs)
    cutout = ctx.operation is Operation.REMOVE_IMAGE_BACKGROUND and p.provider == "replicate"
    request = ImageRequest(prompt=p.prompt, images=images, aspect_ratio=p.aspectRatio,
                           output_format="jpg" if p.outputFormat == "jpeg" else p.outputFormat, seed=p.seed,
                           model=p.model or (DEFAULT_CUTOUT_MODEL if cutout else None), extra=_extra(p),
                           input=dict(p.input or {}))
    with runner.provider_call(ctx, provider.name):
        result = provider.generate_image(request, out_dir=_vendor_dir(ctx), api_key=runner.key(ctx, provider.name),
                                         on_progress=ctx.on_progress, cancel=ctx.cancel,
                                         publish=runner.publisher(ctx), ledger=ctx.vendor_jobs)
    return JobOutput(result.path, provider=result.provider, model=result.model, external=True,
                     details={**dict(result.details), "inputImages": len(images)})


def generate_audio(runner: OperationRunner, ctx: JobContext) -> JobOutput:
    p = ctx.params
    assert isinstance(p, GenerateAudioParams)
    assert p.provider is not None
    provider = runner.providers.speech(p.provider)
    request = SpeechRequest(text=p.text, model=p.model, voice=p.voiceId or p.voice, extra=_extra(p),
                            input=dict(p.input or {}))
    with runner.provider_call(ctx, provider.name):
        result = provider.speak(request, out_dir=_vendor_dir(ctx), api_key=runner.key(ctx, provider.name),
                                on_progress=ctx.on_progress, cancel=ctx.cancel, ledger=ctx.vendor_jobs)
    return JobOutput(result.path, provider=result.provider, model=result.model, external=True,
                     details={**dict(result.details), "characters": len(p.text)})


def remove_background(runner: OperationRunner, ctx: JobContext) -> JobOutput:
    p = ctx.params
    assert isinstance(p, RemoveBackgroundParams)
    assert p.provider is not None
    provider = runner.providers.matting(p.provider)
    video = runner.single_input(ctx)
    request = MattingRequest(model=p.model, output_type=p.outputType, extra=_extra(p), input=dict(p.input or {}))
    with runner.provider_call(ctx, provider.name):
        result = provider.remove_background(request, video=video, out_dir=_vendor_dir(ctx),
                                            api_key=runner.key(ctx, provider.name), on_progress=ctx.on_progress,
                                            cancel=ctx.cancel, publish=runner.publisher(ctx), ledger=ctx.vendor_jobs)
    return JobOutput(result.path, provider=result.provider, model=result.model, external=True,
                     details={**dict(result.details), "outputType": p.outputType or "green-screen"})


def _extra(params: Any) -> dict[str, Any]:
    """A model's own options the params model does not declare (kept by ``extra="allow"``)."""
    return {k: v for k, v in (params.model_extra or {}).items() if v is not None}


# -- layers ---------------------------------------------------------------------------------------


def layer_job(runner: OperationRunner, ctx: JobContext) -> JobOutput:
    """Every layer's media (fetched URLs, input jobs' files) composited in one graph."""
    p = ctx.params
    assert isinstance(p, LayerParams)
    files = inputs_by_id(ctx)
    specs: list[LayerSpec] = []
    for i, spec in enumerate(p.layers):
        clips = []
        for k, clip in enumerate(spec.clips):
            path = files[clip.input] if clip.input else runner.fetch(str(clip.url), ctx.workdir / f"layer{i}-{k}.bin")
            clips.append(LayerClip(path, clip.duration, clip.parsed_placement()))
        key = ChromaKey.parse(spec.chromaKeyColor, spec.similarity, spec.blend) if spec.chromaKey else None
        specs.append(LayerSpec(clips, spec.parsed_placement(), chroma_key=key, main=spec.main))
    out = runner.out_path(ctx)
    _info, layout = layer(specs, out, width=p.outputWidth, height=p.outputHeight, duration=p.outputDuration,
                          profile=runner.profile(ctx), timeout=runner.timeout, on_progress=ctx.on_progress)
    placed = layout.details()
    return JobOutput(out, provider="local", details={"layers": len(specs), "layout": placed.pop("clips"),
                                                     "canvas": placed})


# -- merges with items ----------------------------------------------------------------------------


def rich_merge(runner: OperationRunner, ctx: JobContext) -> JobOutput:
    """A merge with per-clip options or audio tracks: stills from image inputs, then one graph."""
    p = ctx.params
    assert isinstance(p, MergeParams)
    files = inputs_by_id(ctx)
    audio_ids = set(p.audio_inputs())
    pictures = [(jid, path) for jid, path in zip(ctx.input_ids, ctx.inputs, strict=False) if jid not in audio_ids]
    options = list(p.clips or [None] * len(pictures))  # type: ignore[list-item]
    clips: list[Path] = []
    clip_options: list[ClipOptions] = []
    for n, ((_jid, path), option) in enumerate(zip(pictures, options, strict=True)):
        trim = option.duration if option is not None else None
        if media.probe(path, require_video=False).is_still:  # an image job's picture: a still of its time on screen
            still = ctx.workdir / f"still{n}.mp4"
            media.import_media(path, still, still_duration=trim or 1.0, profile=runner.profile(ctx),
                               timeout=runner.timeout)
            path, trim = still, None
        clips.append(path)
        clip_options.append(ClipOptions(trim=trim, volume=option.volume if option is not None else 1.0))
    beds = []
    for k, track in enumerate(p.audio):
        source = files[track.input] if track.input else runner.fetch(str(track.url), ctx.workdir / f"track{k}.bin")
        beds.append(AudioBed(source, offset=track.offset, volume=track.volume, fade_in=track.fadeIn,
                             fade_out=track.fadeOut))
    joins = transition(p)
    out = runner.out_path(ctx)
    media.merge(clips, out, transition=joins, profile=runner.profile(ctx), timeout=runner.timeout,
                on_progress=ctx.on_progress, clips=clip_options, beds=beds, duck=p.duck)
    return JobOutput(out, details={"transition": joins.type, "inputs": len(clips), "audioTracks": len(beds),
                                   "ducked": bool(beds) and p.duck})
