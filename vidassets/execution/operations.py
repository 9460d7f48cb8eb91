"""What each operation does with its inputs: calls into ``media`` and ``providers``.

Every handler receives local input files and writes one output file; storing the artefact and
recording the checkpoint is the executor's job, so handlers stay small and testable.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypedDict

from vidassets import media
from vidassets.execution import media_ops
from vidassets.execution.context import JobContext, JobOutput
from vidassets.media.burn import line_box
from vidassets.media.subtitles import LineBox
from vidassets.net.fetch import fetch_to_file
from vidassets.plan.operations import RENDERER_VERSIONS, Operation
from vidassets.plan.params import (
    DEFAULT_STRATEGY,
    AddSubtitlesParams,
    GenerateParams,
    LipSyncParams,
    MergeParams,
    ReframeParams,
    SubtitleStyleParams,
    parse_stored,
)
from vidassets.providers.base import GenerateRequest, LipSyncRequest, ProviderError, PublishFn
from vidassets.providers.registry import ProviderRegistry
from vidassets.providers.uploads import LocalInput, data_uri
from vidassets.render.compiler import Recipe, Step
from vidassets.render.fused import RenderLimits, render_recipe
from vidassets.services import Services
from vidassets.transcribe import TranscriberProblem, TranscriptionError, choose_transcriber, configured_vendors
from vidassets.transcribe.audio import extract_speech
from vidassets.transcribe.offline import transcribe_offline
from vidassets.transcribe.transcript import Transcript, clean_words

SUBTITLE_FILE_MAX_BYTES = 2 * 1024 * 1024
TRANSCRIPT_EXCERPT_CHARS = 500  # how much of a transcript a job's result carries


class _CueFit(TypedDict):
    """How much text a cue holds: the keyword arguments ``cues_from_text`` and ``cues_from_words`` share."""

    box: LineBox
    max_lines: int
    max_words: int | None


class OperationRunner:
    def __init__(self, services: Services, providers: ProviderRegistry):
        self.services = services
        self.providers = providers
        self.timeout = services.settings.media_timeout_s

    def run(self, ctx: JobContext) -> JobOutput:
        if ctx.recipe is not None and (ctx.recipe.composed or self.profile(ctx).max_short_side):
            return self._fused(ctx, ctx.recipe)
        if ctx.recipe is not None:  # one step over stored sources: today's render (stream copy and all)
            step, sources = ctx.recipe.step, list(ctx.recipe.sources)
            ctx = dataclasses.replace(ctx, inputs=[ctx.sources[str(i)] for i in step.inputs])
            output = self._step(ctx, {"fused": False, "steps": [ctx.job_id], "sources": sources})
            return dataclasses.replace(output, inputs=[ctx.source_results[str(i)] for i in step.inputs])
        note = {"fused": False, "reason": ctx.render_note} if ctx.render_note else None
        return self._step(ctx, note if ctx.operation is not Operation.GENERATE else None)

    def _step(self, ctx: JobContext, render: Mapping[str, Any] | None) -> JobOutput:
        """One operation from its inputs' files (``render``: what ``details.render`` says)."""
        handlers: dict[Operation, Callable[[JobContext], JobOutput]] = {
            Operation.GENERATE: self._generate,
            Operation.MERGE: self._merge,
            Operation.REFRAME: self._reframe,
            Operation.LIP_SYNC: self._lip_sync,
            Operation.ADD_SUBTITLES: self._add_subtitles,
            Operation.GENERATE_IMAGE: functools.partial(media_ops.generate_image, self),
            Operation.REMOVE_IMAGE_BACKGROUND: functools.partial(media_ops.generate_image, self),
            Operation.GENERATE_AUDIO: functools.partial(media_ops.generate_audio, self),
            Operation.REMOVE_BACKGROUND: functools.partial(media_ops.remove_background, self),
            Operation.LAYER: functools.partial(media_ops.layer_job, self),
        }
        output = handlers[ctx.operation](ctx)
        return dataclasses.replace(output, details={**output.details, "render": dict(render)}) if render else output

    # -- helpers ---------------------------------------------------------------------------

    def fetch(self, url: str, dest: Path, *, max_bytes: int | None = None) -> Path:
        s = self.services.settings
        return fetch_to_file(url, dest, policy=self.services.policy, max_bytes=max_bytes or s.fetch_max_bytes,
                             timeout_s=s.fetch_timeout_s, s3_client_factory=self.services.s3).path

    def single_input(self, ctx: JobContext) -> Path:
        if ctx.inputs:
            return ctx.inputs[0]
        # No input job: the plan gave params.url (checked at validation time); import it first.
        url = getattr(ctx.params, "url", None)
        if not url:
            raise media.MediaParamError(f"{ctx.operation.value} has neither an input job nor params.url")
        raw = self.fetch(url, ctx.workdir / "source.bin")
        out = ctx.workdir / "source.mp4"
        media.import_media(raw, out, timeout=self.timeout)
        return out

    def _fused(self, ctx: JobContext, recipe: Recipe) -> JobOutput:
        """The job's artefact rendered from its recipe's sources in one graph (or step by step
        inside the job when the graph would be too large, see :func:`render_recipe`)."""
        s = self.services.settings
        out = self.out_path(ctx)
        rendered = render_recipe(recipe, ctx.sources, out, inputs=_RecipeInputs(self, ctx), profile=self.profile(ctx),
                                 workdir=ctx.workdir, timeout=self.timeout, on_progress=ctx.on_progress,
                                 limits=RenderLimits(s.render_fuse_max_seconds, s.render_fuse_max_inputs))
        local = ctx.operation is Operation.LIP_SYNC
        inputs = [dict(ctx.source_results[i]) if isinstance(i, str) else _predicted(rendered.outputs[i.job_id])
                  for i in recipe.step.inputs]
        return JobOutput(out, provider="local" if local else None, model="audio-replace" if local else None,
                         details={**rendered.details, "render": rendered.summary(recipe)}, inputs=inputs)

    def profile(self, ctx: JobContext) -> media.EncoderProfile:
        """The encoder profile, stamped with the renderer that made the file (see RENDERER_VERSIONS)."""
        kind = ctx.operation.asset_kind
        return dataclasses.replace(media.render_profile(ctx.preset),
                                   comment=f"vidassets {kind.value} renderer {RENDERER_VERSIONS[kind]}")

    def out_path(self, ctx: JobContext) -> Path:
        return ctx.workdir / "output.mp4"

    # -- operations ------------------------------------------------------------------------

    def _generate(self, ctx: JobContext) -> JobOutput:
        p = ctx.params
        assert isinstance(p, GenerateParams)
        out = self.out_path(ctx)
        if p.is_import and p.url:
            raw = self.fetch(p.url, ctx.workdir / "source.bin")
            info = media.import_media(raw, out, still_duration=p.duration,
                                      timeout=self.timeout, on_progress=ctx.on_progress)
            return JobOutput(out, provider="url", details={"source": _strip_query(p.url),
                                                           "sourceCodec": info.video_codec})
        provider = self.providers.get(p.provider)
        request = self._with_input_jobs(ctx, p, GenerateRequest.from_params(p))
        with self.provider_call(ctx, provider.name):
            result = provider.generate(request, out=out, api_key=self.key(ctx, provider.name),
                                       on_progress=ctx.on_progress, cancel=ctx.cancel, ledger=ctx.vendor_jobs)
        return JobOutput(result.path, provider=result.provider, model=result.model,
                         details={**dict(result.details), "offline": result.offline}, external=not result.offline)

    def _with_input_jobs(self, ctx: JobContext, p: GenerateParams, request: GenerateRequest) -> GenerateRequest:
        """An image job's picture as the start image, a speech job's audio as the model's ``audio``
        input (talking-head models): local files the vendor's input resolver uploads or presigns.
        The offline renderer draws from the prompt only, so it gets neither."""
        if not (p.imageInput or p.audioInput) or p.provider in (None, "local"):
            return request
        files = media_ops.inputs_by_id(ctx)
        publish = self.publisher(ctx)
        start: Any = request.start_image
        if p.imageInput and p.provider == "google-cloud":  # Veo takes the picture inline
            start = data_uri(files[p.imageInput])
        elif p.imageInput:
            start = LocalInput(files[p.imageInput], publish)
        extra = {**request.extra, **({"audio": LocalInput(files[p.audioInput], publish)} if p.audioInput else {})}
        return dataclasses.replace(request, start_image=start, extra=extra)

    def _merge(self, ctx: JobContext) -> JobOutput:
        assert isinstance(ctx.params, MergeParams)
        if ctx.params.has_items:  # stills, trims, volumes or audio tracks (today's SDK)
            return media_ops.rich_merge(self, ctx)
        transition = media_ops.transition(ctx.params)
        out = self.out_path(ctx)
        media.merge(list(ctx.inputs), out, transition=transition, profile=self.profile(ctx), timeout=self.timeout,
                    on_progress=ctx.on_progress)
        return JobOutput(out, details={"transition": transition.type, "inputs": len(ctx.inputs)})

    def _reframe(self, ctx: JobContext) -> JobOutput:
        p = ctx.params
        assert isinstance(p, ReframeParams)
        out = self.out_path(ctx)
        strategy = p.strategy or DEFAULT_STRATEGY  # validation folds ``crop`` into ``strategy``
        media.reframe(self.single_input(ctx), out, aspect_ratio=p.aspectRatio, strategy=strategy,
                      allow_upscale=p.allowUpscale, profile=self.profile(ctx), timeout=self.timeout,
                      on_progress=ctx.on_progress)
        return JobOutput(out, details={"aspectRatio": p.aspectRatio, "strategy": strategy})

    def publisher(self, ctx: JobContext) -> PublishFn | None:
        """How a provider gets our local files: a presigned URL from S3; None on the local store
        (its URLs are not reachable by vendors), in which case providers inline small files."""
        if self.services.settings.artefact_store != "s3":
            return None

        def publish(path: Path) -> str:
            key = f"provider-inputs/{ctx.execution_id}/{ctx.job_id}/{path.name}"
            self.services.store.put_file(path, key)
            return self.services.store.url_for(key, expires_s=self.services.settings.presigned_url_ttl_s)

        return publish

    @contextlib.contextmanager
    def provider_call(self, ctx: JobContext, name: str) -> Iterator[None]:
        """Hold one of the provider's concurrency slots and take one request from its rate bucket,
        waiting (cancel-aware) when either is exhausted. ``local`` renders are not limited here."""
        s = self.services.settings
        if name not in s.provider_concurrency and name not in s.provider_rate_limits:
            yield
            return
        with self.services.slots.hold(name, s.provider_concurrency.get(name, 4), cancel=ctx.cancel,
                                      wait_s=s.provider_timeout_s):
            limit = s.provider_rate_limits.get(name)
            while limit:
                decision = self.services.limiter.hit(f"provider:{name}", limit)
                if decision.allowed:
                    break
                if ctx.cancel.wait(min(decision.retry_after_s, 30.0)):
                    raise ProviderError("cancelled while rate limited", code="cancelled")
            yield

    def key(self, ctx: JobContext, provider_name: str) -> str | None:
        """The caller's key for this job (params.apiKey), else providerApiKeys, else the server's."""
        return ctx.secrets.get("job") or ctx.secrets.get(provider_name)

    def _lip_sync(self, ctx: JobContext) -> JobOutput:
        p = ctx.params
        assert isinstance(p, LipSyncParams)
        video = self.single_input(ctx)
        audio = self.fetch(p.audioUrl, ctx.workdir / "audio.bin")
        out = self.out_path(ctx)
        if p.provider not in (None, "local"):
            provider = self.providers.lip_sync(p.provider)
            with self.provider_call(ctx, provider.name):
                result = provider.lip_sync(LipSyncRequest.from_params(p), video=video, audio=audio, out=out,
                                           api_key=self.key(ctx, provider.name), on_progress=ctx.on_progress,
                                           cancel=ctx.cancel, publish=self.publisher(ctx), ledger=ctx.vendor_jobs)
            return JobOutput(result.path, provider=result.provider, model=result.model, external=True,
                             details={**dict(result.details), "mode": "lip sync by a provider model"})
        media.replace_audio(video, audio, out, volume=p.volume, fit=p.fit,
                            profile=self.profile(ctx), timeout=self.timeout, on_progress=ctx.on_progress)
        return JobOutput(out, provider="local", model="audio-replace",
                         details={"mode": "audio replacement (no lip-sync model: mouth movement unchanged)",
                                  "volume": p.volume, "fit": p.fit})

    def _add_subtitles(self, ctx: JobContext) -> JobOutput:
        """Burn captions: from the plan's text, SRT/VTT or words, or - none given - from the
        video's speech (see :meth:`_transcribe`). Lines are laid out for this frame's safe area."""
        p = ctx.params
        assert isinstance(p, AddSubtitlesParams)
        video = self.single_input(ctx)
        info = media.probe(video)
        preset, style = _subtitle_style(p.style)
        box = line_box(style, info.display_width, info.display_height)
        cues, source, extra = self._cues(ctx, p, video, info.duration, style, box)
        out = self.out_path(ctx)
        media.burn_subtitles(video, out, cues=cues, style=style, profile=self.profile(ctx), timeout=self.timeout,
                             on_progress=ctx.on_progress)
        return JobOutput(out, details={"cues": len(cues), "source": source, "style": preset, **extra})

    def _cues(self, ctx: JobContext, p: AddSubtitlesParams, video: Path | None, duration: float,
              style: media.SubtitleStyle, box: LineBox) -> tuple[list[media.Cue], str, dict[str, Any]]:
        fit: _CueFit = {"box": box, "max_lines": style.max_lines, "max_words": style.max_words}
        if p.text:
            window = (p.timing.start, p.timing.end) if p.timing else None
            return media.cues_from_text(p.text, duration, timing=window, **fit), "text", {}
        if p.srt:
            return media.parse_srt(p.srt), "srt", {}
        if p.vtt:
            return media.parse_vtt(p.vtt), "vtt", {}
        if p.subtitles:
            return media.parse_subtitles(p.subtitles), "subtitles", {}
        if p.subtitlesUrl:
            path = self.fetch(p.subtitlesUrl, ctx.workdir / "subtitles.txt", max_bytes=SUBTITLE_FILE_MAX_BYTES)
            try:
                content = path.read_text(encoding="utf-8-sig")
            except UnicodeDecodeError as exc:
                raise media.MediaParamError("subtitlesUrl is not UTF-8 text") from exc
            return media.parse_subtitles(content), "subtitlesUrl", {}
        if p.words:
            return media.cues_from_words(p.words, **fit), "words", {}
        if video is None:  # the compiler keeps transcribed captions out of fused graphs
            raise media.MediaParamError("captions to transcribe need their input's sound")
        transcript = self._transcribe(ctx, video, duration)
        cues = media.cues_from_words([(w.start, w.end, w.text) for w in transcript.words], **fit)
        details = {"transcriber": transcript.transcriber, "transcriptionModel": transcript.model,
                   "language": transcript.language, "words": len(transcript.words),
                   "transcript": transcript.text[:TRANSCRIPT_EXCERPT_CHARS]}
        return cues, f"transcription ({transcript.transcriber})", details

    def _transcribe(self, ctx: JobContext, video: Path, duration: float) -> Transcript:
        """The video's speech as timed words: the offline Whisper model unless the plan names a
        transcription provider (``replicate``/``fal``) - or the language needs one the server has a
        key for - which gets a small mono AAC track."""
        p = ctx.params
        assert isinstance(p, AddSubtitlesParams)
        try:
            choice = choose_transcriber(p.provider, p.model, p.language,
                                        fallbacks=configured_vendors(self.services.settings))
        except TranscriberProblem as exc:  # validated at submit; a plan stored before that lands here
            code = "unsupported_language" if exc.field == "language" else "invalid_params"
            raise TranscriptionError(str(exc), code=code) from None
        if choice.offline:
            return transcribe_offline(video, ctx.workdir, language=choice.language, timeout=self.timeout,
                                      cancel=ctx.cancel)
        provider = self.providers.transcriber(choice.provider)
        audio = extract_speech(video, ctx.workdir / "speech.m4a", fmt="m4a", timeout=self.timeout)
        with self.provider_call(ctx, provider.name):
            words = provider.transcribe(media=audio, language=choice.language, model=choice.model,
                                        api_key=self.key(ctx, provider.name), cancel=ctx.cancel,
                                        publish=self.publisher(ctx), ledger=ctx.vendor_jobs,
                                        options=p.input)
        cleaned = clean_words(words, duration)
        if not cleaned:
            raise TranscriptionError("the transcription found no speech to caption", code="no_speech")
        model = choice.model or getattr(getattr(provider, "models", None), "transcription", None)
        return Transcript(tuple(cleaned), choice.language, provider.name, model)


class _RecipeInputs:
    """What a fused render's steps need from outside the graph, fetched the way a step-by-step
    job fetches it (audio tracks, subtitle files) into the job's work folder."""

    def __init__(self, runner: OperationRunner, ctx: JobContext):
        self.runner = runner
        self.ctx = ctx
        self.count = 0

    def audio(self, step: Step) -> Path:
        p = parse_stored(step.operation.value, dict(step.params))
        assert isinstance(p, LipSyncParams)
        self.count += 1
        return self.runner.fetch(p.audioUrl, self.ctx.workdir / f"audio-{self.count}.bin")

    def cues(self, step: Step, video: media.MediaInfo) -> tuple[list[media.Cue], media.SubtitleStyle, dict[str, Any]]:
        p = parse_stored(step.operation.value, dict(step.params))
        assert isinstance(p, AddSubtitlesParams)
        preset, style = _subtitle_style(p.style)
        box = line_box(style, video.display_width, video.display_height)
        cues, source, extra = self.runner._cues(self.ctx, p, None, video.duration, style, box)
        return cues, style, {"source": source, "style": preset, **extra}


def _predicted(info: media.MediaInfo) -> dict[str, Any]:
    """An input job's artefact as a fused render predicted it (it is stored later, or was not read)."""
    return {"duration": round(info.duration, 3), "width": info.width, "height": info.height, "digest": None,
            "hasAudio": info.has_audio}


def _subtitle_style(style: SubtitleStyleParams) -> tuple[str, media.SubtitleStyle]:
    """The preset name and the render style for a job's ``style`` params."""
    overrides = {
        "font_family": style.fontFamily, "font_size": style.fontSize, "color": style.fontColor,
        "outline_color": style.outlineColor, "background": style.backgroundColor, "bold": style.bold,
        "position": style.position, "highlight": style.highlight, "highlight_color": style.highlightColor,
        "animation": style.animation, "max_lines": style.maxLines, "max_words": style.maxWords,
        "uppercase": style.uppercase, "shadow": style.shadow, "highlight_scale": style.highlightScale,
        "inactive_color": style.inactiveColor,
    }
    return style.preset, media.subtitle_style(style.preset, **{k: v for k, v in overrides.items() if v is not None})


def _strip_query(url: str) -> str:
    return url.split("?", 1)[0]
