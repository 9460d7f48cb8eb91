"""Plan checks for jobs whose inputs are of several media types (issue 19), and for vendor-only jobs.

A job may read images and speech now, not only video: a merge lays audio tracks under its
pictures, a layer composites images over video, an image-to-video model starts from an image
job's picture. Each input named in the params must be in ``dependsOn`` (and the other way round),
and must be an artefact of the kind the slot takes — decided by the input job's operation
(:attr:`Operation.media_type`); a base execution's jobs, whose operations are not at hand here,
count as video, the only kind a base's final output can be today.

Vendor-only operations (:attr:`Operation.provider_only`) need a provider and a key for it: none
configured on the server and none in the request is a 422 at submit naming the job and what to
configure, instead of a job that fails once the run starts.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from vidassets.plan.errors import PlanIssue
from vidassets.plan.models import PlanJob
from vidassets.plan.operations import MediaType, Operation
from vidassets.plan.params_media import IMAGE_PROVIDERS, MATTING_PROVIDERS, SPEECH_PROVIDERS

_PROVIDERS: dict[Operation, tuple[str, ...]] = {
    Operation.GENERATE_IMAGE: IMAGE_PROVIDERS, Operation.REMOVE_IMAGE_BACKGROUND: ("replicate",),
    Operation.GENERATE_AUDIO: SPEECH_PROVIDERS, Operation.REMOVE_BACKGROUND: MATTING_PROVIDERS,
}
KEY_SETTINGS: dict[str, str] = {
    "replicate": "VIDASSETS_REPLICATE_API_KEY", "fal": "VIDASSETS_FAL_API_KEY",
    "elevenlabs": "VIDASSETS_ELEVENLABS_API_KEY", "hume": "VIDASSETS_HUME_API_KEY",
    "google-cloud": "VIDASSETS_GOOGLE_CREDENTIALS_FILE",
}


def _issue(job: PlanJob, field: str, message: str) -> PlanIssue:
    """An issue naming the job in its message, as the SDK shows only the message."""
    return PlanIssue(field, f"job {job.id!r}: {message}", job.id)


def _slots(job: PlanJob) -> dict[str, tuple[str, tuple[MediaType, ...]]]:
    """Input job id -> (the params field naming it, the media types that field takes)."""
    p = job.params
    slots: dict[str, tuple[str, tuple[MediaType, ...]]] = {}
    if job.operation is Operation.GENERATE:
        for name, kind in (("imageInput", MediaType.IMAGE), ("audioInput", MediaType.AUDIO)):
            if p.get(name):
                slots[str(p[name])] = (f"params.{name}", (kind,))
    elif job.operation is Operation.LAYER:
        for i, layer in enumerate(p.get("layers") or ()):
            for k, clip in enumerate(layer.get("clips") or ()):
                if clip.get("input"):
                    slots[str(clip["input"])] = (f"params.layers[{i}].clips[{k}].input",
                                                 (MediaType.VIDEO, MediaType.IMAGE))
    elif job.operation is Operation.MERGE:
        for i, track in enumerate(p.get("audio") or ()):
            if track.get("input"):
                slots[str(track["input"])] = (f"params.audio[{i}].input", (MediaType.AUDIO,))
    return slots


def check_media_inputs(jobs: list[PlanJob], where_of: Mapping[str, str], issues: list[PlanIssue]) -> None:
    """Inputs named in params agree with ``dependsOn`` and are of a media type their slot takes."""
    ops = {job.id: job.operation for job in jobs}

    def kind_of(job_id: str) -> MediaType:
        op = ops.get(job_id)
        return op.media_type if op is not None else MediaType.VIDEO

    for job in jobs:
        where = where_of[job.id]
        slots = _slots(job)
        for ref, (field, kinds) in slots.items():
            if ref not in job.depends_on:
                issues.append(_issue(job, f"{where}.{field}", f"names job {ref!r}, which is not in dependsOn"))
            elif kind_of(ref) not in kinds:
                issues.append(_issue(job, f"{where}.{field}", f"job {ref!r} makes {kind_of(ref).value}; this takes "
                                        f"{' or '.join(k.value for k in kinds)}"))
        issues.extend(_unslotted(job, where, slots, kind_of))


def _unslotted(job: PlanJob, where: str, slots: Mapping[str, Any], kind_of: Any) -> list[PlanIssue]:
    """Dependencies no slot names: a merge's pictures; a single-input job's video; else an error."""
    rest = [d for d in job.depends_on if d not in slots]
    op = job.operation
    if op is Operation.MERGE:
        pictures = rest
        if not pictures:
            return [_issue(job, f"{where}.dependsOn", "a merge needs at least one video or image input")]
        bad = [d for d in pictures if kind_of(d) is MediaType.AUDIO]
        if bad:
            return [_issue(job, f"{where}.dependsOn", f"{', '.join(map(repr, bad))} make(s) audio: lay audio under a "
                              "merge as params.audio[].input")]
        clips = job.params.get("clips")
        if clips is not None and len(clips) != len(pictures):
            return [_issue(job, f"{where}.params.clips", f"{len(clips)} clip options for {len(pictures)} video or "
                              "image inputs; give one per input, in order")]
        return []
    if op in (Operation.GENERATE_IMAGE, Operation.REMOVE_IMAGE_BACKGROUND):
        bad = [d for d in rest if kind_of(d) is not MediaType.IMAGE]
        return [_issue(job, f"{where}.dependsOn", f"{', '.join(map(repr, bad))} do(es) not make images; "
                          f"{op.value} takes images as inputs")] if bad else []
    if op in (Operation.GENERATE, Operation.GENERATE_AUDIO, Operation.LAYER) and rest:
        return [_issue(job, f"{where}.dependsOn", f"{', '.join(map(repr, rest))} is not used by this job "
                          f"({op.value} reads only the inputs its params name)")]
    if op in (Operation.REFRAME, Operation.LIP_SYNC, Operation.ADD_SUBTITLES, Operation.REMOVE_BACKGROUND):
        bad = [d for d in rest if kind_of(d) is not MediaType.VIDEO]
        return [_issue(job, f"{where}.dependsOn", f"{', '.join(map(repr, bad))} do(es) not make video; "
                          f"{op.value} works on a video")] if bad else []
    return []


def check_vendor_jobs(jobs: list[PlanJob], where_of: Mapping[str, str], request_keys: Collection[str],
                      job_keys: Collection[str], server_keys: Collection[str], issues: list[PlanIssue]) -> None:
    """Vendor-only jobs name a provider that offers the operation, and a key for it is at hand."""
    for job in jobs:
        allowed = _PROVIDERS.get(job.operation)
        if allowed is None:
            continue
        where = where_of[job.id]
        provider = job.params.get("provider")
        if provider is None:
            issues.append(_issue(job, f"{where}.params.provider", f"{job.operation.value} runs only on a provider "
                                    f"model; name one of {', '.join(allowed)} (there is no offline renderer for it)"))
        elif provider not in allowed:
            issues.append(_issue(job, f"{where}.params.provider", f"{job.operation.value} is not offered by "
                                    f"{provider!r}; use one of {', '.join(allowed)}"))
        elif provider not in server_keys and provider not in request_keys and job.id not in job_keys:
            issues.append(_issue(job, f"{where}.params.provider", f"no API key for {provider!r}: configure "
                                    f"{KEY_SETTINGS.get(provider, 'a server key')} on the server, or send "
                                    f"options.providerApiKeys.{provider} or the model's apiKey"))


def server_key_providers() -> tuple[str, ...]:
    """Providers the server holds a key for (lazy: parsing a plan does not need settings)."""
    from vidassets.settings import get_settings

    s = get_settings()
    held = {"replicate": s.replicate_api_key, "fal": s.fal_api_key, "elevenlabs": s.elevenlabs_api_key,
            "hume": s.hume_api_key}
    return tuple(name for name, key in held.items() if key is not None and key.get_secret_value())
