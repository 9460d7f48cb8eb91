"""The provider interface: turn a job's request (a clip, lip sync, words, a still, speech ...) into media.

Real vendors (Replicate, fal, Vertex) speak HTTP with the caller's key; the embedded ``local``
provider renders offline with ffmpeg. The executor only sees the protocols below, so wiring
decides which one runs (as ``HNClient`` does in Dagster's fully-featured example). Still images,
speech and background removal (today's SDK) have their own protocols: ``ProviderResult.path``
is then a file in the caller's ``out_dir`` named after what the vendor really returned.

Local files reach a vendor through ``publish``: the caller turns a path into a URL the vendor can
fetch (a presigned object-store URL in production). Providers never upload anything themselves.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from vidassets.plan.params import GenerateParams, LipSyncParams
    from vidassets.providers.ledger import Ledger

ProgressCallback = Callable[[float], None]
PublishFn = Callable[[Path], str]
"""Turns a local file into a URL a vendor can fetch (presigned S3 URL in production)."""


class ProviderError(RuntimeError):
    """A provider failed. ``retryable`` separates network/5xx/429 from auth/input/policy errors.

    Codes a caller can branch on: ``provider_unavailable`` (not configured, or transient failures
    exhausted), ``provider_auth``, ``provider_rejected`` (invalid input), ``content_policy``,
    ``provider_failed`` (the model ran and failed), ``rate_limited``, ``timeout``, ``cancelled``,
    ``output_too_large``, ``invalid_params``, ``vendor_create_unconfirmed`` (a create's answer was
    lost and the vendor offers no way to find the job it may have started; see ``ledger.py``).
    """

    def __init__(self, message: str, *, code: str = "provider_error", retryable: bool = False):
        super().__init__(message)
        self.code = code
        self.retryable = retryable


class ProviderCancelled(ProviderError):
    """The caller's cancel event was set; the vendor was asked to cancel its job too."""

    def __init__(self, message: str = "cancelled"):
        super().__init__(message, code="cancelled", retryable=False)


def _whole(value: float) -> float | int:
    """Vendors validate ``duration`` as an integer more often than not; send 5, not 5.0."""
    return int(value) if float(value).is_integer() else value


@dataclass(frozen=True)
class GenerateRequest:
    prompt: str | None
    duration: float
    aspect_ratio: str
    resolution: str
    fps: int = 24
    seed: int | None = None
    model: str | None = None
    negative_prompt: str | None = None
    start_image: str | None = None
    end_image: str | None = None
    camera_motion: Any = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    input: Mapping[str, Any] = field(default_factory=dict)  # the plan's ``input``: sent verbatim, wins

    @classmethod
    def from_params(cls, params: GenerateParams) -> GenerateRequest:
        """From the validated job params (defaults are declared there, once); every key the
        model does not declare — a vendor model's own input names — rides along in ``extra``."""
        return cls(
            prompt=params.prompt, duration=params.duration, aspect_ratio=params.aspectRatio,
            resolution=params.resolution, fps=params.fps, seed=params.seed, model=params.model,
            negative_prompt=params.negativePrompt, start_image=params.startImage, end_image=params.endImage,
            camera_motion=params.cameraMotion,
            extra={k: v for k, v in (params.model_extra or {}).items() if k not in _NOT_VALUES - {"image", "images"}},
            input=dict(getattr(params, "input", None) or {}),
        )

    def values(self) -> dict[str, Any]:
        """The plan params under their plan names, as the model catalogue's routes read them."""
        return {"prompt": self.prompt, "negativePrompt": self.negative_prompt, "duration": self.duration,
                "aspectRatio": self.aspect_ratio, "resolution": self.resolution, "fps": self.fps, "seed": self.seed,
                "startImage": self.start_image, "endImage": self.end_image, "cameraMotion": self.camera_motion,
                "audio": self.extra.get("audio")}  # a talking-head model's speech (a URL or a speech job's file)

    def model_input(self, *, image_key: str = "image", end_image_key: str = "end_image") -> dict[str, Any]:
        """The vendor-neutral input most hosted video models accept (snake_case names).

        Model inputs differ from model to model, so ``extra`` (every plan param this class does
        not know) is merged last: a plan can always pass a model's exact input names.
        """
        values: dict[str, Any] = {
            "prompt": self.prompt, "duration": _whole(self.duration), "aspect_ratio": self.aspect_ratio,
            "resolution": self.resolution, "seed": self.seed, "negative_prompt": self.negative_prompt,
            image_key: self.start_image, end_image_key: self.end_image, "camera_motion": self.camera_motion,
        }
        return {**{k: v for k, v in values.items() if v is not None}, **dict(self.extra)}


@dataclass(frozen=True)
class LipSyncRequest:
    """A lip-sync job: the video and audio arrive as files, the model and its options here."""

    model: str | None = None
    volume: float = 1.0
    fit: str = "video"
    extra: Mapping[str, Any] = field(default_factory=dict)
    input: Mapping[str, Any] = field(default_factory=dict)  # the model's own options, verbatim

    @classmethod
    def from_params(cls, params: LipSyncParams) -> LipSyncRequest:
        return cls(model=params.model, volume=params.volume, fit=params.fit, extra=dict(params.model_extra or {}),
                   input=dict(getattr(params, "input", None) or {}))

    def values(self) -> dict[str, Any]:
        """The plan params the model catalogue's routes read (``fit`` becomes sync.so's sync_mode)."""
        return {"fit": self.fit}


#: Keys of ``extra`` a request's ``values()`` leaves out: they reach the model another way (the
#: input images as files) or are the SDK's own (per-job webhooks), never a model's input.
_NOT_VALUES = frozenset({"image", "images", "sendJobWebhook", "provider", "modelId", "apiKey"})


def _sdk_values(extra: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in extra.items() if k not in _NOT_VALUES and v is not None}


@dataclass(frozen=True)
class ImageRequest:
    """A still image from a vendor model (``generateImage``; ``removeImageBackground`` too, whose
    models take the image to cut out). ``images`` are the input images: a plan's URLs (``str``:
    http(s), ``s3://``, ``data:``) or earlier jobs' files (``Path``), made readable to the vendor
    by the client's :class:`~vidassets.providers.uploads.InputResolver`."""

    prompt: str | None
    images: tuple[Path | str, ...] = ()
    aspect_ratio: str | None = None
    output_format: str | None = None  # "jpg" | "png" | "webp"
    seed: int | None = None
    model: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)  # other params under the SDK's names
    input: Mapping[str, Any] = field(default_factory=dict)  # the model's input, verbatim: it wins

    def values(self) -> dict[str, Any]:
        """The SDK's options under its own names, as the model catalogue's routes read them."""
        return {**_sdk_values(self.extra), "prompt": self.prompt, "aspectRatio": self.aspect_ratio,
                "outputFormat": self.output_format, "seed": self.seed}

    def model_input(self, images: list[Any], *, image_key: str, jpeg: str = "jpg") -> dict[str, Any]:
        """The input an uncatalogued image model gets: the names Nano Banana and most hosted image
        models share, the images under ``image_key``, then every extra param (a model's own names)."""
        values: dict[str, Any] = {"prompt": self.prompt, image_key: images or None, "aspect_ratio": self.aspect_ratio,
                                  "output_format": jpeg if self.output_format == "jpg" else self.output_format,
                                  "seed": self.seed}
        extra = {k: v for k, v in self.extra.items() if k not in _NOT_VALUES}
        return {**{k: v for k, v in values.items() if v is not None}, **extra}


@dataclass(frozen=True)
class SpeechRequest:
    """Speech from text (``generateAudio``). ``voice`` is the plan's voice: an ElevenLabs voice ID
    or name (``str``) or Hume's ``{id | name, provider}``; ``extra`` holds the SDK's other options
    under its names (stability, similarityBoost, style, useSpeakerBoost, outputFormat,
    languageCode, speed, description ...)."""

    text: str
    model: str | None = None
    voice: Any = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    input: Mapping[str, Any] = field(default_factory=dict)

    def values(self) -> dict[str, Any]:
        return {**_sdk_values(self.extra), "text": self.text, "voice": self.voice}

    def model_input(self) -> dict[str, Any]:
        """An uncatalogued TTS model's input: ``text``, a string ``voice``, every extra param."""
        voice = {"voice": self.voice} if isinstance(self.voice, str) and self.voice else {}
        return {"text": self.text, **voice, **{k: v for k, v in self.extra.items() if k not in _NOT_VALUES}}


@dataclass(frozen=True)
class MattingRequest:
    """Background removal from a video (``removeBackground``): the video arrives as a file."""

    model: str | None = None
    output_type: str | None = None  # "green-screen" | "alpha-mask" | "foreground-mask"
    extra: Mapping[str, Any] = field(default_factory=dict)
    input: Mapping[str, Any] = field(default_factory=dict)

    def values(self) -> dict[str, Any]:
        return {**_sdk_values(self.extra), "outputType": self.output_type}

    def model_input(self) -> dict[str, Any]:
        """An uncatalogued matting model's options: ``output_type`` (Robust Video Matting's name),
        every extra param; the video itself is added by the client."""
        kind = {"output_type": self.output_type} if self.output_type else {}
        return {**kind, **{k: v for k, v in self.extra.items() if k not in _NOT_VALUES}}


@dataclass(frozen=True)
class ProviderResult:
    path: Path
    provider: str
    model: str | None
    offline: bool = False
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Word:
    """One timed word (or the smallest unit the transcriber reports), in seconds."""

    start: float
    end: float
    text: str


def words_from_output(output: Any) -> list[Word]:
    """Timed words from the transcript shapes hosted Whisper models return.

    Accepts ``{"chunks": [{"timestamp": [s, e], "text"}]}`` (fal), ``{"segments": [{"start",
    "end", "text", "words"?: [{"start", "end", "word"}]}]}`` (Whisper on Replicate) and a bare
    ``{"words": [...]}``. Word-level timing is preferred over segments when both are present.
    """
    if not isinstance(output, Mapping):
        raise ProviderError("the transcriber returned no timed transcript", code="provider_failed")
    items: list[Any] = []
    if isinstance(output.get("words"), list):
        items = output["words"]
    elif isinstance(output.get("segments"), list):
        for segment in output["segments"]:
            nested = segment.get("words") if isinstance(segment, Mapping) else None
            items.extend(nested if isinstance(nested, list) and nested else [segment])
    elif isinstance(output.get("chunks"), list):
        items = output["chunks"]
    words: list[Word] = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        text = str(item.get("word", item.get("text", ""))).strip()
        stamp = item.get("timestamp")
        start, end = (stamp[0], stamp[1]) if isinstance(stamp, (list, tuple)) and len(stamp) == 2 \
            else (item.get("start"), item.get("end"))
        if text and isinstance(start, (int, float)):
            finish = end if isinstance(end, (int, float)) else start
            words.append(Word(float(start), float(max(finish, start)), text))
    if not words and items:
        raise ProviderError("the transcriber returned no timed words", code="provider_failed")
    return words


# ``ledger`` is the job's vendor-job ledger (vidassets/providers/ledger.py): vendors that bill
# per job create at most one per job attempt through it; None keeps the rules within the call.


class VideoProvider(Protocol):
    name: str

    def generate(self, request: GenerateRequest, *, out: Path, api_key: str | None,
                 on_progress: ProgressCallback, cancel: threading.Event,
                 ledger: Ledger | None = None) -> ProviderResult: ...


class LipSyncProvider(Protocol):
    name: str

    def lip_sync(self, request: LipSyncRequest, *, video: Path, audio: Path, out: Path, api_key: str | None,
                 on_progress: ProgressCallback, cancel: threading.Event,
                 publish: PublishFn | None, ledger: Ledger | None = None) -> ProviderResult: ...


class ImageProvider(Protocol):
    name: str

    def generate_image(self, request: ImageRequest, *, out_dir: Path, api_key: str | None,
                       on_progress: ProgressCallback, cancel: threading.Event, publish: PublishFn | None,
                       ledger: Ledger | None = None) -> ProviderResult: ...


class SpeechProvider(Protocol):
    name: str

    def speak(self, request: SpeechRequest, *, out_dir: Path, api_key: str | None, on_progress: ProgressCallback,
              cancel: threading.Event, ledger: Ledger | None = None) -> ProviderResult: ...


class MattingProvider(Protocol):
    name: str

    def remove_background(self, request: MattingRequest, *, video: Path, out_dir: Path, api_key: str | None,
                          on_progress: ProgressCallback, cancel: threading.Event, publish: PublishFn | None,
                          ledger: Ledger | None = None) -> ProviderResult: ...


class TranscriptionProvider(Protocol):
    name: str

    def transcribe(self, *, media: Path, language: str | None, model: str | None, api_key: str | None,
                   cancel: threading.Event, publish: PublishFn | None,
                   ledger: Ledger | None = None, options: Mapping[str, Any] | None = None) -> list[Word]: ...
