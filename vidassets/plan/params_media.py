"""Parameters of the operations today's TypeScript SDK added (issue 19), and merge's item options.

Still images and speech come from vendor models only (``generateImage``, ``generateAudio``,
``removeBackground``, ``removeImageBackground``): these models name a provider and keep every
model-specific option (``extra="allow"``), as ``generate`` does. ``layer`` composites locally.

Inputs that are earlier jobs' artefacts are named by job id inside the params (``input``) and
listed in ``dependsOn``; the plan checks (:mod:`vidassets.plan.normalize`) make the two agree and
the media types fit (an audio job cannot be a layer's picture).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, field_validator, model_validator

from vidassets.media.placement import Placement, parse_placement
from vidassets.plan import bounds
from vidassets.plan.params import (
    MAX_TEXT_CHARS,
    Duration,
    JobId,
    MediaUrl,
    ModelInput,
    Provider,
    Text,
    _Params,
)

IMAGE_PROVIDERS: tuple[str, ...] = ("replicate", "fal")
SPEECH_PROVIDERS: tuple[str, ...] = ("elevenlabs", "hume", "replicate")
MATTING_PROVIDERS: tuple[str, ...] = ("replicate",)
DEFAULT_MATTING_MODEL = "arielreplicate/robust_video_matting"
DEFAULT_CUTOUT_MODEL = "codeplugtech/background_remover"  # removeImageBackground on Replicate
Strict = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)
MAX_LAYERS = 16
MAX_LAYER_CLIPS = 32


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class _VendorParams(_Params):
    """What every vendor-only operation carries: the provider, its model, a key, verbatim input."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, str_strip_whitespace=True)

    provider: Provider = None
    model: str | None = Field(default=None, max_length=256, validation_alias=AliasChoices("model", "modelId"))
    apiKey: SecretStr | None = Field(default=None, validation_alias=AliasChoices("apiKey", "api_key"))
    input: ModelInput | None = None
    sendJobWebhook: bool | None = None  # the SDK's per-job webhook flag: the execution's webhooks cover it
    offered_by: ClassVar[tuple[str, ...]] = ()
    what: ClassVar[str] = ""

    @field_validator("provider")
    @classmethod
    def _offered(cls, value: str | None) -> str | None:
        if value is not None and value not in cls.offered_by:
            raise ValueError(f"{cls.what} runs on a provider model: provider must be one of {', '.join(cls.offered_by)}")
        return value


class GenerateImageParams(_VendorParams):
    """Text (and/or images) to a still image; ``removeImageBackground`` takes the same params.

    ``image`` holds plan URLs; images from earlier jobs are ``dependsOn`` entries, sent after them."""

    offered_by = IMAGE_PROVIDERS
    what = "image generation"
    prompt: Text | None = None
    image: Annotated[list[MediaUrl], BeforeValidator(_as_list), Field(max_length=16)] = Field(
        default_factory=list, validation_alias=AliasChoices("image", "images", "imageUrl"))
    aspectRatio: str | None = Field(default=None, pattern=r"^(\d{1,2}:\d{1,2}|match_input_image)$")
    outputFormat: Literal["jpg", "jpeg", "png", "webp"] | None = None
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)


class GenerateAudioParams(_VendorParams):
    """Text to speech: ElevenLabs (``voiceId``) or Hume (``voice`` {id|name}) directly, or the
    ElevenLabs model Replicate hosts."""

    offered_by = SPEECH_PROVIDERS
    what = "text to speech"
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    voiceId: str | None = Field(default=None, max_length=128, validation_alias=AliasChoices("voiceId", "voice_id"))
    voice: dict[str, Any] | str | None = None


class RemoveBackgroundParams(_VendorParams):
    """A video's background removed by a matting model: the input job's video or ``url``."""

    offered_by = MATTING_PROVIDERS
    what = "background removal"
    url: MediaUrl | None = Field(default=None, validation_alias=AliasChoices("url", "input_video", "videoUrl", "video"))
    outputType: Literal["green-screen", "alpha-mask", "foreground-mask"] | None = Field(
        default=None, validation_alias=AliasChoices("outputType", "output_type"))

    @model_validator(mode="after")
    def _default_model(self) -> RemoveBackgroundParams:
        if self.provider is not None and self.model is None:
            self.model = DEFAULT_MATTING_MODEL
        return self


# -- layers ---------------------------------------------------------------------------------------


class LayerClipIn(BaseModel):
    """One media file of a layer: a URL, or an earlier job's artefact (``input``); ``duration``
    is a timeline item's (or a still's) time on screen."""

    model_config = Strict

    url: MediaUrl | None = None
    input: JobId | None = None
    duration: Duration | None = None
    placement: Annotated[str | dict[str, Any] | None, BeforeValidator(lambda v: _placement(v))] = None

    def parsed_placement(self) -> Placement | None:
        return parse_placement(self.placement) if self.placement is not None else None

    @model_validator(mode="after")
    def _one_source(self) -> LayerClipIn:
        if (self.url is None) == (self.input is None):
            raise ValueError("give the media as url or as an input job, one of them")
        return self


def _placement(value: Any) -> Any:
    if value is None or isinstance(value, (str, dict)):
        parse_placement(value)  # ValueError names the part that is wrong
        return value
    raise ValueError("placement must be a preset or tailwind-style string, or an object")


class LayerIn(BaseModel):
    model_config = Strict

    clips: list[LayerClipIn] = Field(min_length=1, max_length=MAX_LAYER_CLIPS)
    placement: Annotated[str | dict[str, Any] | None, BeforeValidator(_placement)] = None
    chromaKey: bool = False
    chromaKeyColor: str = Field(default="00ff00", pattern=r"^(#?(0x)?[0-9a-fA-F]{6}|green|blue)$")
    similarity: float = Field(default=0.3, ge=0.01, le=1.0)
    blend: float = Field(default=0.1, ge=0.0, le=1.0)
    main: bool = False

    def parsed_placement(self) -> Placement:
        return parse_placement(self.placement)


class LayerParams(_Params):
    """Media composited over each other in one graph: layer 0 at the bottom."""

    layers: list[LayerIn] = Field(min_length=1, max_length=MAX_LAYERS)
    outputDuration: Duration | None = Field(default=None, validation_alias=AliasChoices("outputDuration", "duration"))
    outputWidth: int | None = Field(default=None, ge=bounds.MIN_DIMENSION, le=bounds.MAX_SIDE,
                                    validation_alias=AliasChoices("outputWidth", "width"))
    outputHeight: int | None = Field(default=None, ge=bounds.MIN_DIMENSION, le=bounds.MAX_SIDE,
                                     validation_alias=AliasChoices("outputHeight", "height"))
    mainLayer: int | None = Field(default=None, ge=0, lt=MAX_LAYERS)

    @model_validator(mode="after")
    def _main(self) -> LayerParams:
        if self.mainLayer is not None:
            if self.mainLayer >= len(self.layers):
                raise ValueError(f"mainLayer {self.mainLayer} names no layer (there are {len(self.layers)})")
            for i, layer in enumerate(self.layers):
                layer.main = i == self.mainLayer
            self.mainLayer = None
        if sum(layer.main for layer in self.layers) > 1:
            raise ValueError("at most one layer can be the main layer")
        if sum(len(layer.clips) for layer in self.layers) > MAX_LAYER_CLIPS:
            raise ValueError(f"at most {MAX_LAYER_CLIPS} media in all layers together")
        return self

    def input_ids(self) -> list[str]:
        return [c.input for layer in self.layers for c in layer.clips if c.input is not None]
