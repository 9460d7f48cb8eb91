"""Submit-time check of a job's params against the model catalogue (:mod:`vidassets.providers.catalogue`).

A value a catalogued model cannot take would cost a paid job that fails at the vendor (or, on
Replicate, an input silently dropped: a start frame ignored, text-to-video instead). So it is
refused here, naming the job, the field as the client spelled it and the values the model takes.
Only what the plan set explicitly is judged: our defaults (5 s, 16:9, 720p) are simply not sent
to a model that cannot take them. Uncatalogued models are not checked (their inputs are passed
through as given). Nothing here speaks HTTP: the catalogue is data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from vidassets.plan.errors import PlanIssue

if TYPE_CHECKING:
    from vidassets.providers.catalogue.spec import JobKind

#: The paid vendors: their inputs are checked against the catalogue, their jobs go through the
#: vendor-job ledger (the status answer reads it only for jobs of these providers).
VENDORS = ("replicate", "fal", "google-cloud", "elevenlabs", "hume")
_CATALOGUED = ("replicate", "fal", "google-cloud")  # vendors whose models the catalogue describes
_JOBS: dict[str, JobKind] = {"generate": "generate", "lipSync": "lip_sync", "addSubtitles": "transcribe",
                             "generateImage": "image", "removeImageBackground": "image", "generateAudio": "speech",
                             "removeBackground": "matting"}
_MODEL_FIELDS = {"generate": "video", "lip_sync": "lip_sync", "transcribe": "transcription",  # on the clients
                 "image": "image", "speech": "speech", "matting": "matting"}


def _default_model(provider: str, job: str) -> str:
    """The model a vendor client runs when the plan names none (declared once, on the client)."""
    from vidassets.providers.fal import FalModels  # lazy: only plans that name a vendor need them
    from vidassets.providers.replicate import ReplicateModels
    from vidassets.providers.vertex import DEFAULT_MODEL

    if provider == "google-cloud":
        return DEFAULT_MODEL
    models: Any = ReplicateModels() if provider == "replicate" else FalModels()
    return str(getattr(models, _MODEL_FIELDS[job]))


def _values(job: str, params: Any) -> dict[str, Any]:
    """The plan params a catalogue route reads, under their plan names (the request types' own
    ``values()``, so the check reads exactly what the client will send)."""
    if job == "lip_sync":
        return {"fit": params.fit}
    if job == "transcribe":
        return {"language": params.language}
    if job in ("image", "speech", "matting"):
        return _media_values(job, params)
    # an image or speech job's output stands for a URL here (the client uploads the file)
    return {"prompt": params.prompt, "negativePrompt": params.negativePrompt, "duration": params.duration,
            "aspectRatio": params.aspectRatio, "resolution": params.resolution, "fps": params.fps,
            "seed": params.seed, "startImage": params.startImage or _job_file(params.imageInput),
            "endImage": params.endImage, "cameraMotion": params.cameraMotion,
            "audio": (params.model_extra or {}).get("audio") or _job_file(params.audioInput)}


def _job_file(job_id: str | None) -> str | None:
    return f"https://input.invalid/{job_id}" if job_id else None


def _media_values(job: str, params: Any) -> dict[str, Any]:
    from vidassets.providers.base import ImageRequest, MattingRequest, SpeechRequest

    extra = dict(params.model_extra or {})
    if job == "image":
        return ImageRequest(prompt=params.prompt, aspect_ratio=params.aspectRatio, seed=params.seed,
                            output_format="jpg" if params.outputFormat == "jpeg" else params.outputFormat,
                            extra=extra).values()
    if job == "speech":
        return SpeechRequest(text=params.text, voice=params.voiceId or params.voice, extra=extra).values()
    return MattingRequest(output_type=params.outputType, extra=extra).values()


def vendor_input_issues(operation: str, params: BaseModel, where: str, job_id: str,
                        origins: Mapping[str, str] | None = None) -> list[PlanIssue]:
    """What the job's catalogued model would refuse, as issues at ``{where}.params.<field>``."""
    job = _JOBS.get(operation)
    provider = getattr(params, "provider", None)
    if job is None or provider not in _CATALOGUED or (job == "transcribe" and not getattr(params, "transcribes", False)):
        return []
    from vidassets.providers.catalogue import lookup
    from vidassets.providers.catalogue.build import choose, has_image, problems
    from vidassets.providers.catalogue.spec import PLAN_PARAMS

    model = getattr(params, "model", None) or _default_model(provider, job)
    if operation == "removeImageBackground" and not getattr(params, "model", None) and provider == "replicate":
        from vidassets.plan.params_media import DEFAULT_CUTOUT_MODEL

        model = DEFAULT_CUTOUT_MODEL
    spec = lookup(provider, model, job)
    if spec is None:
        return []
    values = _values(job, params)
    extra = dict(params.model_extra or {})
    given = dict(getattr(params, "input", None) or {})
    if job == "generate":
        spec = choose(spec, has_image(spec, values, extra, given))
    explicit = {name for name in (*params.model_fields_set, *extra) if name in PLAN_PARAMS}
    names = origins or {}
    issues: dict[str, PlanIssue] = {}  # one per field: a native name is both lifted and passed as given
    for field, message in problems(spec, values, explicit, extra, given, named=bool(getattr(params, "model", None))):
        name = f"{where}.params.{names.get(field, field)}"
        issues.setdefault(name, PlanIssue(name, message, job_id))
    return list(issues.values())
