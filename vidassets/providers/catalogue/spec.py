"""What a catalogued model takes: its input names, the values each accepts, and how plan params map.

Vendors publish a schema per model (Replicate: an OpenAPI schema per model version; fal: an input
schema per endpoint; Google: the Veo request reference). A :class:`ModelSpec` is that schema
written down once, plus the *routes* from our plan params (``prompt``, ``duration``,
``startImage``...) to the model's own names. Two rules follow from it:

* a value the plan set explicitly that the model cannot take is refused at submit (a 422 naming
  the field and the allowed values, see :mod:`vidassets.plan.vendor_inputs`);
* a value the model cannot take that came from our defaults (5 s, 16:9, 720p) is never sent: the
  model's own default applies (Hailuo-02 makes 6 s, Veo 3 makes 8 s).

Nothing here speaks HTTP: the provider clients and the submit-time check both read these specs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

InputKind = Literal["string", "integer", "number", "boolean", "url", "array"]
JobKind = Literal["generate", "lip_sync", "transcribe", "image", "speech", "matting"]
#: Our plan params a route can read: the unified names of GenerateParams / LipSyncParams, then the
#: SDK's option names for still images (generateImage), speech (generateAudio) and background
#: removal (removeBackground), as its docs spell them.
PLAN_PARAMS = ("prompt", "negativePrompt", "duration", "aspectRatio", "resolution", "fps", "seed", "audio",
               "startImage", "endImage", "cameraMotion", "fit", "language",
               "image", "outputFormat", "size", "width", "height", "enhancePrompt", "sequentialImageGeneration",
               "maxImages",
               "text", "voice", "stability", "similarityBoost", "style", "speed", "languageCode", "previousText", "nextText",
               "outputType")
#: Plan params that name input images (``startImage`` of a clip, ``image`` of a still): the
#: client sends them itself, as files made readable to the vendor, under the route's input name.
IMAGE_PARAMS = ("startImage", "image")
Values = Mapping[str, Any]


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _whole(value: Any) -> int | None:
    return int(value) if _number(value) and float(value).is_integer() else None


@dataclass(frozen=True)
class Input:
    """One vendor input: its JSON type, the values it accepts, and the model's own default (which
    is documentation: we never send it, the vendor applies it when the input is left out)."""

    kind: InputKind = "string"
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    default: Any = None
    required: bool = False
    suffix: str = ""  # how a number reads in this input's strings: fal Veo durations are "8s"

    def problem(self, value: Any) -> str | None:
        """Why the vendor would refuse ``value`` (None when it takes it)."""
        if self.choices:
            return None if value in self.choices and type(value) in {type(c) for c in self.choices} \
                else f"must be one of {self.allowed()}"
        if self.kind in ("string", "url"):
            return None if isinstance(value, str) else "must be a string"
        if self.kind == "boolean":
            return None if isinstance(value, bool) else "must be true or false"
        if self.kind == "array":
            return None if isinstance(value, list) else "must be a list"
        if self.kind == "integer" and _whole(value) is None:
            return "must be a whole number"
        if not _number(value):
            return "must be a number"
        if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
            return f"must be {self.allowed()}"
        return None

    def allowed(self) -> str:
        """The accepted values in words: ``6, 10`` or ``2..12`` or ``a string``."""
        if self.choices:
            return ", ".join(repr(c) if isinstance(c, str) else str(c) for c in self.choices)
        if self.minimum is not None or self.maximum is not None:
            low = "" if self.minimum is None else f"{self.minimum:g}"
            high = "" if self.maximum is None else f"{self.maximum:g}"
            return f"{low}..{high}"
        return {"integer": "a whole number", "number": "a number", "boolean": "true or false",
                "array": "a list"}.get(self.kind, "a string")

    def encode(self, value: Any) -> Any:
        """Our plan value in this input's JSON type (5.0 -> 5, or "5" for fal Kling, "8s" for fal
        Veo); None when it has no such form (5.5 s for an integer input)."""
        if value is None:
            return None
        string_choices = self.choices and all(isinstance(c, str) for c in self.choices)
        if _number(value) and (self.kind == "string" or string_choices):
            whole = _whole(value)
            return None if whole is None else f"{whole}{self.suffix}"
        if self.kind == "integer":
            return _whole(value)
        if self.kind == "number":
            return float(value) if _number(value) else None
        if self.kind == "boolean":
            return value if isinstance(value, bool) else None
        return value if isinstance(value, (str, list)) else None


def same(value: Any, values: Values) -> Any:
    return value


def camera_fixed(value: Any, values: Values) -> Any:
    """The SDK's Seedance mapping: ``cameraMotion: "fixed"`` -> ``camera_fixed: true``; any other
    motion (a string or an object) -> false."""
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() in ("fixed", "static", "none")


def sync_mode_from_fit(value: Any, values: Values) -> Any:
    """Our lip-sync ``fit`` in sync.so's words. ``shortest`` is ``cut_off`` (the longer track is
    cut), ``audio`` is ``loop`` (the video loops to the audio's length). ``video`` (keep the
    video's length) has no sync.so mode, so nothing is sent and the model's default applies."""
    return {"shortest": "cut_off", "audio": "loop"}.get(value) if isinstance(value, str) else None


_WAN_SIZES = {("480p", "16:9"): "832*480", ("480p", "9:16"): "480*832", ("720p", "16:9"): "1280*720",
              ("720p", "9:16"): "720*1280", ("1080p", "16:9"): "1920*1080", ("1080p", "9:16"): "1080*1920"}


def fal_image_format(value: Any, values: Values) -> Any:
    """The SDK's fal Nano Banana mapping: our ``jpg`` is fal's ``jpeg``."""
    return "jpeg" if value == "jpg" else value


def text_voice(value: Any, values: Values) -> Any:
    """A voice a model names with a string (ElevenLabs on Replicate); Hume's ``{id, provider}``
    objects have no such form, so nothing is sent and the model's default voice applies."""
    return value if isinstance(value, str) and value else None


def wan_size(value: Any, values: Values) -> Any:
    """Wan 2.5 text-to-video takes one ``size`` (``1280*720``) for our aspect ratio and resolution
    together, so both params route here and read both values."""
    return _WAN_SIZES.get((str(values.get("resolution") or "720p"), str(values.get("aspectRatio") or "16:9")))


Convert = Callable[[Any, Values], Any]


@dataclass(frozen=True)
class Route:
    """Plan param ``param`` is sent as the model's input ``to`` (through ``convert`` first)."""

    param: str
    to: str
    convert: Convert = same


@dataclass(frozen=True)
class ModelSpec:
    """One model (or fal endpoint) as its vendor publishes it.

    ``with_image`` / ``without_image`` name the sibling endpoint to use when a start image is /
    is not given (fal publishes text- and image-to-video as separate endpoints). ``fixed`` inputs
    are sent on every request because this server needs them (word timings from a transcriber,
    one video per Veo request); a plan's ``input`` may still override them. ``handled`` plan
    params reach the model some other way (Veo takes the prompt and frames in its ``instance``).
    """

    provider: str
    model: str
    job: JobKind
    source: str
    inputs: Mapping[str, Input]
    routes: tuple[Route, ...] = ()
    output: str = "a URL of the mp4"
    with_image: str | None = None
    without_image: str | None = None
    fixed: Mapping[str, Any] = field(default_factory=dict)
    surface: str = ""  # google-cloud only: "vertex" or "gemini"
    handled: tuple[str, ...] = ()  # plan params the client sends outside the input (Veo's instance)
    # Replicate community models run only as ``owner/name:version`` (official models run by
    # name): the version this spec was written against, used when the plan names no version.
    version: str | None = None

    @property
    def image_input(self) -> str | None:
        """The model's name for the start image (a clip) or the input images (a still), if it takes one."""
        return next((r.to for r in self.routes if r.param in IMAGE_PARAMS), None)

    @property
    def needs_image(self) -> bool:
        name = self.image_input
        return name is not None and self.inputs[name].required
