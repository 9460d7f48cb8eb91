"""Today's TypeScript SDK on the wire (``@synthome/sdk`` 0.7.1, synthome commit 1ac63f8), in our plan's terms.

That SDK posts ``{executionPlan: {jobs, baseExecutionId?}, options: {webhook?: {url, secret},
providerApiKeys?}}`` - the documented format's envelope with its own job dialect:

* ``merge`` lists ``params.items`` (``{url, type, duration?, offset?, volume?}``) instead of
  taking its inputs from ``dependsOn``; an item's ``url`` is a media URL or a marker
  ``_videoJobDependency:<job>`` naming an earlier job;
* ``captions()`` sends a ``transcribe`` job and an ``addSubtitles`` whose ``transcript`` is a
  word array or the marker ``_transcriptJobDependency:<job>``, whose ``videoUrl`` is a URL or a
  marker, and whose ``style`` is the SDK's caption style (:mod:`.wire_current_styles`);
* ``generate`` carries ``image`` (its start image) next to ``provider``/``modelId``/``unified``;
* ``generateImage``, ``generateAudio``, ``removeBackground``, ``layer`` and merge items of
  images and audio, with ``_{image,audio}JobDependency`` markers: see :mod:`.wire_current_media`.

The dialect is recognised by fields only it sends (:func:`current_signals`); a body that also
carries fields only the documented format has is refused as ambiguous, never guessed.
:func:`translate_jobs` turns its jobs into ours: merge items become inputs (a URL item becomes an
import job ``<merge id>.item<k>`` placed before its merge), a ``transcribe`` job folds into the
``addSubtitles`` that reads it. Every problem names the job, and the field as the client sent it.

Transcription: the SDK's models are Replicate's Whisper builds (``openai/whisper``,
``vaibhavs10/incredibly-fast-whisper``). When a key for that provider is at hand (the model's
``apiKey``, ``providerApiKeys``, or the server's own), the named model runs there; otherwise the
offline transcriber (Whisper, English) captions the speech: the SDK drops ``providerApiKeys`` for
models it does not list, so a captions-only pipeline usually arrives without any key.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vidassets.plan.errors import PlanIssue
from vidassets.plan.wire_current_media import MediaJobs
from vidassets.plan.wire_current_styles import map_style

if TYPE_CHECKING:
    from vidassets.plan.models import JobIn, PlanCreate

#: Operations of today's SDK this server cannot perform yet, with what they do (none left).
UNSUPPORTED_OPERATIONS: dict[str, str] = {}
#: Operations only today's SDK sends as ``type`` (the documented format names ours in ``operation``).
MEDIA_OPERATIONS = ("generateImage", "generateAudio", "layer", "removeBackground", "removeImageBackground")
TRANSCRIBE = "transcribe"
TRANSCRIBE_PROVIDERS = ("replicate", "fal")
CURRENT_ONLY_OPERATIONS = frozenset({*UNSUPPORTED_OPERATIONS, *MEDIA_OPERATIONS, TRANSCRIBE})
_MARKER = re.compile(r"^_(video|image|audio|transcript)JobDependency:(.+)$")
_DOCUMENTED_SUBTITLE_SOURCES = ("text", "srt", "vtt", "subtitles", "subtitlesUrl", "words")
_OUR_OPERATION = {"generate": "generate", "reframe": "reframe", "lipSync": "lipSync"}


def marker(value: Any) -> tuple[str, str] | None:
    """``("video", "job2")`` for ``"_videoJobDependency:job2"``; None for anything else."""
    match = _MARKER.match(value) if isinstance(value, str) else None
    return (match.group(1), match.group(2)) if match else None


def _op_name(job: JobIn) -> str:
    return job.type or job.operation or ""


# -- which dialect -------------------------------------------------------------------------------


def current_signals(body: PlanCreate) -> list[str]:
    """Fields (as paths) that only today's SDK sends."""
    if body.executionPlan is None:
        return []
    found = []
    if body.executionPlan.baseExecutionId is not None:
        found.append("executionPlan.baseExecutionId")
    if body.options is not None:
        found += [f"options.{k}" for k in ("webhook", "providerApiKeys") if getattr(body.options, k) is not None]
    for i, job in enumerate(body.executionPlan.jobs):
        where, op = f"executionPlan.jobs[{i}]", _op_name(job)
        if job.type in CURRENT_ONLY_OPERATIONS and job.operation is None:
            found.append(f"{where}.type")
        elif op == "merge" and "items" in job.params:
            found.append(f"{where}.params.items")
        elif op == "addSubtitles" and "transcript" in job.params:
            found.append(f"{where}.params.transcript")
        found += [f"{where}.params.{k}" for k, v in job.params.items() if marker(v)]
    return found


def documented_signals(body: PlanCreate) -> list[str]:
    """Fields (as paths) that only the documented format sends."""
    if body.executionPlan is None:
        return []
    found = ["executionPlan.rootJobIds"] if body.executionPlan.rootJobIds is not None else []
    if body.options is not None:
        # options.baseExecutionId / webhookSecret mean the same in both (executeFromPlan sends them)
        found += [f"options.{k}" for k in ("webhookUrl", "renderPreset") if getattr(body.options, k) is not None]
    for i, job in enumerate(body.executionPlan.jobs):
        where, op = f"executionPlan.jobs[{i}]", _op_name(job)
        if job.operation is not None:
            found.append(f"{where}.operation")
        if op == "merge":
            found += [f"{where}.params.{k}" for k in ("transition", "transitionDuration") if k in job.params]
        if op == "addSubtitles":
            found += [f"{where}.params.{k}" for k in _DOCUMENTED_SUBTITLE_SOURCES if k in job.params]
    return found


def is_current(body: PlanCreate) -> bool:
    """Whether the body speaks today's SDK's dialect (ambiguity is reported by :func:`ambiguity`)."""
    return bool(current_signals(body))


def ambiguity(body: PlanCreate) -> PlanIssue | None:
    """A body with fields of both dialects: which reading is meant cannot be told, so it is refused."""
    plan_base = body.executionPlan.baseExecutionId if body.executionPlan is not None else None
    option_base = body.options.baseExecutionId if body.options is not None else None
    if plan_base and option_base and plan_base != option_base:
        return PlanIssue("executionPlan.baseExecutionId", f"differs from options.baseExecutionId "
                                                          f"({plan_base!r} vs {option_base!r}); send one")
    current, documented = current_signals(body), documented_signals(body)
    if not (current and documented):
        return None
    return PlanIssue(current[0], f"mixes today's TypeScript SDK format ({', '.join(current[:3])}) with the "
                                 f"documented format ({', '.join(documented[:3])}); send one of them")


def unsupported_issues(jobs: Iterable[JobIn], prefix: str) -> list[PlanIssue]:
    """Operations of today's SDK this server cannot perform yet, in any dialect: a clear 422."""
    issues = []
    for i, job in enumerate(jobs):
        op = _op_name(job)
        if op in UNSUPPORTED_OPERATIONS:
            issues.append(PlanIssue(f"{prefix}[{i}].type", f"job {job.id!r}: operation {op!r} "
                                    f"({UNSUPPORTED_OPERATIONS[op]}) is not supported by this server yet", job.id))
    return issues


# -- translation ---------------------------------------------------------------------------------


@dataclass
class Translated:
    """Jobs in our vocabulary, each with the path of what the client sent for it."""

    jobs: list[JobIn] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    issues: list[PlanIssue] = field(default_factory=list)


def translate_jobs(jobs_in: list[JobIn], prefix: str, key_providers: Collection[str]) -> Translated:
    """Today's SDK jobs as ours (see module doc). ``key_providers``: providers a key is at hand for."""
    return _Translator(jobs_in, prefix, key_providers).run()


class _Translator(MediaJobs):
    _marker = staticmethod(marker)

    def __init__(self, jobs_in: list[JobIn], prefix: str, key_providers: Collection[str]) -> None:
        self.jobs_in, self.prefix, self.key_providers = jobs_in, prefix, key_providers
        self.index = {job.id: i for i, job in enumerate(jobs_in)}
        self.out = Translated()
        self.folded: set[str] = set()  # transcribe jobs read by an addSubtitles

    def run(self) -> Translated:
        self.out.issues += unsupported_issues(self.jobs_in, self.prefix)
        for i, job in enumerate(self.jobs_in):
            op, where = _op_name(job), f"{self.prefix}[{i}]"
            if op in UNSUPPORTED_OPERATIONS or op == TRANSCRIBE:
                continue
            if op == "merge":
                self._merge(job, where)
            elif op in ("generateImage", "removeImageBackground"):
                self._image(job, where, op)
            elif op == "generateAudio":
                self._speech(job, where)
            elif op == "removeBackground":
                self._matting(job, where)
            elif op == "layer":
                self._layer(job, where)
            elif op == "addSubtitles":
                self._subtitles(job, where)
            else:
                self._plain(job, where, op)
        for i, job in enumerate(self.jobs_in):
            if _op_name(job) == TRANSCRIBE and job.id not in self.folded:
                self._issue(f"{self.prefix}[{i}].type", job, "operation 'transcribe' on its own is not supported by "
                            "this server yet (its result is text); use captions(), which burns it into the video")
        return self.out

    def _issue(self, path: str, job: JobIn, message: str) -> None:
        self.out.issues.append(PlanIssue(path, f"job {job.id!r}: {message}", job.id))

    def _emit(self, job_id: str, op: str, params: Mapping[str, Any], deps: list[str], path: str) -> None:
        from vidassets.plan.models import JobIn  # runtime import: models imports this module

        self.out.jobs.append(JobIn(id=job_id, operation=op, params=dict(params), dependsOn=deps))
        self.out.paths.append(path)

    def _no_markers(self, job: JobIn, where: str) -> bool:
        bad = [k for k, v in job.params.items() if marker(v)]
        for key in bad:
            self._issue(f"{where}.params.{key}", job, f"the output of job {marker(job.params[key])[1]!r} "  # type: ignore[index]
                        f"as params.{key} is not supported by this server yet")
        return not bad

    def _plain(self, job: JobIn, where: str, op: str) -> None:
        """generate, reframe, lipSync: the same params as ours (generate's ``image`` is its start
        image: a URL, or an image job's output; its ``audio`` a speech job's, for talking heads)."""
        params = dict(job.params)
        deps = list(job.dependsOn)
        if op == "generate":
            found = self._generate_inputs(job, where, params)
            if found is None:
                return
            deps = found
        elif not self._no_markers(job, where):
            return
        if op == "generate" and isinstance(params.get("image"), str) and (params.get("unified") is not False
                                                                         or _image_is_start_image(params)):
            params.setdefault("startImage", params.pop("image"))
        self._emit(job.id, _OUR_OPERATION.get(op, op), params, deps, where)

    def _merge(self, job: JobIn, where: str) -> None:
        """Items in order: pictures become the merge's inputs (a URL through an import job), audio
        items its tracks (see :meth:`MediaJobs._merge_items`)."""
        items = job.params.get("items")
        if not isinstance(items, list) or not items:
            self._issue(f"{where}.params.items", job, "merge needs a non-empty list of items")
            return
        self._merge_items(job, where, items)

    def _subtitles(self, job: JobIn, where: str) -> None:
        """captions() (``transcript`` + ``videoUrl`` + SDK style) or the older addSubtitles()."""
        params = {k: v for k, v in job.params.items() if k not in ("transcript", "videoUrl", "style")}
        deps = list(job.dependsOn)
        transcript, video = job.params.get("transcript"), job.params.get("videoUrl")
        style = job.params.get("style")
        if "transcript" in job.params or isinstance(style, Mapping):
            mapped, problems = map_style(style)
            for name, message in problems:
                self._issue(f"{where}.params.style" + (f".{name}" if name else ""), job, message)
            if problems:
                return
            params["style"] = mapped
        elif style is not None:
            params["style"] = style
        if not self._subtitle_source(job, where, transcript, video, params, deps):
            return
        self._emit(job.id, "addSubtitles", params, deps, where)

    def _subtitle_source(self, job: JobIn, where: str, transcript: Any, video: Any, params: dict[str, Any],
                         deps: list[str]) -> bool:
        """Words or a folded transcribe job, and the video (a URL or an earlier job); updates
        ``params`` and ``deps`` in place."""
        video_job = marker(video)
        if isinstance(transcript, list):
            params["words"] = transcript
        elif marker(transcript) and marker(transcript)[0] == "transcript":  # type: ignore[index]
            source = marker(transcript)[1]  # type: ignore[index]
            if not self._fold_transcriber(job, where, source, video, params):
                return False
            if source in deps:
                deps.remove(source)
        elif transcript is not None:
            self._issue(f"{where}.params.transcript", job, "must be a list of {word, start, end} or a "
                        "transcribe job's output")
            return False
        if video_job is not None:
            if video_job[0] != "video":
                self._issue(f"{where}.params.videoUrl", job, "must be a video URL or an earlier video job's output")
                return False
            extra = [d for d in deps if d != video_job[1]]
            deps[:] = [video_job[1]]
        elif isinstance(video, str):
            params["url"] = video
            extra, deps[:] = list(deps), []
        else:
            extra = []
        if extra:
            self._issue(f"{where}.dependsOn", job, f"depends on {', '.join(map(repr, extra))} without using its "
                        "output; this server captions exactly the video given")
            return False
        return True

    def _fold_transcriber(self, job: JobIn, where: str, source: str, video: Any, params: dict[str, Any]) -> bool:
        """The transcribe job ``source`` becomes this job's transcriber (vendor model or offline)."""
        index = self.index.get(source)
        if index is None or _op_name(self.jobs_in[index]) != TRANSCRIBE:
            self._issue(f"{where}.params.transcript", job, f"job {source!r} is not a transcribe job of this plan")
            return False
        transcriber, t_where = self.jobs_in[index], f"{self.prefix}[{index}]"
        t_params = transcriber.params
        provider = t_params.get("provider")
        if provider not in TRANSCRIBE_PROVIDERS:
            self._issue(f"{t_where}.params.provider", transcriber, f"transcription provider {provider!r} is not "
                        f"supported by this server; use {' or '.join(TRANSCRIBE_PROVIDERS)}")
            return False
        if t_params.get("videoUrl") != video:
            self._issue(f"{t_where}.params.videoUrl", transcriber, f"transcribes another video than job "
                        f"{job.id!r} captions")
            return False
        self.folded.add(source)
        key = t_params.get("apiKey")
        if key or provider in self.key_providers:
            params.update(provider=provider, model=t_params.get("modelId"))
            if key:
                params["apiKey"] = key
        return True


def _image_is_start_image(params: Mapping[str, Any]) -> bool:
    """The SDK's own ``image`` name, sent in a model's native mode (``unified: false``), is the
    start image when the catalogued model has no input of that name (Fabric's is ``image_url``)."""
    from vidassets.providers.catalogue import lookup

    provider, model = params.get("provider"), params.get("modelId") or params.get("model")
    spec = lookup(str(provider), model, "generate") if isinstance(model, str) and provider else None
    return spec is not None and "image" not in spec.inputs and spec.image_input is not None


def jobs_in_our_terms(body: PlanCreate, jobs_in: list[JobIn], prefix: str,
                      request_key_providers: Collection[str]) -> Translated:
    """The body's jobs in our vocabulary with the path of each, whichever dialect it speaks; an
    ambiguous body or an operation this server cannot perform yet is an issue."""
    problem = ambiguity(body)
    if problem is not None:
        return Translated(issues=[problem])
    if is_current(body):
        return translate_jobs(jobs_in, prefix, {*request_key_providers, *_server_transcribers()})
    return Translated(list(jobs_in), [f"{prefix}[{i}]" for i in range(len(jobs_in))],
                      unsupported_issues(jobs_in, prefix))


def _server_transcribers() -> tuple[str, ...]:
    """Vendors the server itself holds a key for (lazy imports: settings are not needed to parse)."""
    from vidassets.settings import get_settings
    from vidassets.transcribe import configured_vendors

    return configured_vendors(get_settings())
