"""Per-operation parameter models.

Both wire formats land here: the SDK's flat ``{provider, modelId, prompt, duration, ...}`` and
the documented ``{provider, model, params: {...}}`` (flattened by :func:`flatten_generate`).
Values are checked strictly (aspect ratios, durations, URL schemes, text sizes); unknown keys on
``generate`` are kept because providers take model-specific inputs.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

ASPECT_RATIOS: tuple[str, ...] = ("16:9", "9:16", "1:1", "4:5", "4:3", "3:4", "21:9", "9:21")
AspectRatio = Literal["16:9", "9:16", "1:1", "4:5", "4:3", "3:4", "21:9", "9:21"]
TransitionType = Literal["cut", "fade", "crossfade", "dissolve", "wipe"]
# Providers a plan may name (``vidassets.providers.registry`` maps each to a client).
KNOWN_PROVIDERS: tuple[str, ...] = ("local", "url", "replicate", "fal", "google-cloud")
KEY_PROVIDERS: tuple[str, ...] = ("replicate", "fal", "google-cloud")
_PROVIDER_ALIASES = {"google": "google-cloud", "vertex": "google-cloud", "veo": "google-cloud"}
URL_SCHEMES: tuple[str, ...] = ("http", "https", "s3")
MAX_URL_LENGTH = 4096
MAX_TEXT_CHARS = 20_000  # plan-level limit from the issue; settings may lower it
SECRET_FIELDS = {"apiKey"}
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def check_url(value: Any, schemes: tuple[str, ...] = URL_SCHEMES) -> str:
    """Static URL check: scheme whitelist, a host, no whitespace/control characters.

    Address checks (SSRF) happen at fetch time, when the name is resolved; see ``vidassets.net``.
    """
    if not isinstance(value, str):
        raise ValueError("must be a URL string")
    if len(value) > MAX_URL_LENGTH:
        raise ValueError(f"URL longer than {MAX_URL_LENGTH} characters")
    if _CONTROL.search(value):
        raise ValueError("URL contains whitespace or control characters")
    parts = urlsplit(value)
    if parts.scheme.lower() not in schemes:
        raise ValueError(f"URL scheme must be one of {', '.join(schemes)}")
    if not parts.netloc or not parts.hostname:
        raise ValueError("URL has no host")
    if parts.username or parts.password:
        raise ValueError("URL must not carry credentials")
    try:
        parts.hostname.encode("idna")
    except UnicodeError:
        raise ValueError("URL host is not a valid host name") from None
    return value


MediaUrl = Annotated[str, BeforeValidator(check_url)]
HttpUrl = Annotated[str, BeforeValidator(lambda v: check_url(v, ("http", "https")))]
Duration = Annotated[float, Field(gt=0, le=600)]
Text = Annotated[str, Field(max_length=MAX_TEXT_CHARS)]
Colour = Annotated[str, BeforeValidator(lambda v: normalise_colour(v))]

_NAMED_COLOURS = {
    "white": "#FFFFFF", "black": "#000000", "yellow": "#FFFF00", "red": "#FF0000",
    "green": "#00FF00", "blue": "#0000FF", "cyan": "#00FFFF", "magenta": "#FF00FF",
    "gray": "#808080", "grey": "#808080", "orange": "#FFA500", "transparent": "#00000000",
}
_HEX = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")


def normalise_colour(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("colour must be a string like '#RRGGBB', '#RRGGBBAA' or a name")
    named = _NAMED_COLOURS.get(value.strip().lower())
    if named:
        return named
    match = _HEX.match(value.strip())
    if not match:
        raise ValueError("colour must be '#RRGGBB', '#RRGGBBAA' or one of " + ", ".join(_NAMED_COLOURS))
    return "#" + match.group(1).upper()


def normalise_provider(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("provider must be a string")
    name = _PROVIDER_ALIASES.get(value.strip().lower(), value.strip().lower())
    if name not in KNOWN_PROVIDERS:
        raise ValueError(f"unknown provider {value!r}; expected one of: {', '.join(KNOWN_PROVIDERS)}")
    return name


Provider = Annotated[str | None, BeforeValidator(normalise_provider)]


class _Params(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, str_strip_whitespace=True)

    def stored(self) -> dict[str, Any]:
        """JSON-safe params as stored and hashed: secrets removed, unset optionals dropped."""
        return self.model_dump(mode="json", exclude_none=True, exclude=SECRET_FIELDS)

    def secret(self) -> str | None:
        """The caller's provider key given on this job, if any (never stored in plaintext)."""
        value = getattr(self, "apiKey", None)
        return value.get_secret_value() if isinstance(value, SecretStr) else None


class GenerateParams(_Params):
    """Text/image → video through a provider, or an import of existing media (``url``)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, str_strip_whitespace=True)

    provider: Provider = None
    model: str | None = Field(default=None, max_length=256, validation_alias=AliasChoices("model", "modelId"))
    apiKey: SecretStr | None = Field(default=None, validation_alias=AliasChoices("apiKey", "api_key"))
    prompt: Text | None = None
    negativePrompt: Text | None = None
    duration: Duration = 5.0
    resolution: str = Field(default="720p", pattern=r"^(\d{3,4}p|\d{2,5}x\d{2,5})$")
    aspectRatio: AspectRatio = "16:9"
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)
    fps: int = Field(default=24, ge=1, le=60)
    startImage: MediaUrl | None = None
    endImage: MediaUrl | None = None
    cameraMotion: str | dict[str, Any] | None = None
    unified: bool | None = None
    url: MediaUrl | None = Field(default=None, validation_alias=AliasChoices("url", "mediaUrl", "videoUrl"))

    @model_validator(mode="after")
    def _source(self) -> "GenerateParams":
        if self.provider == "url" and not self.url:
            raise ValueError("provider 'url' needs params.url")
        if self.url and self.provider is None:
            self.provider = "url"
        if self.provider != "url" and not (self.prompt or self.startImage):
            raise ValueError("a prompt (or startImage) is required unless params.url imports media")
        if self.url and self.provider != "url":
            raise ValueError("params.url imports media; it cannot be combined with provider "
                             f"{self.provider!r}")
        return self

    @property
    def is_import(self) -> bool:
        return self.provider == "url"


class TransitionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: TransitionType = "cut"
    duration: float = Field(default=0.5, gt=0, le=10)


def _coerce_transition(value: Any) -> Any:
    if isinstance(value, str):
        return {"type": value.strip().lower()}
    return value


class MergeParams(_Params):
    """Concatenate the dependencies, in ``dependsOn`` order, with an optional transition."""

    transition: Annotated[TransitionSpec, BeforeValidator(_coerce_transition)] = TransitionSpec()
    transitionDuration: float | None = Field(default=None, gt=0, le=10)

    @model_validator(mode="after")
    def _fold_duration(self) -> "MergeParams":
        # SDK: {"transition": "crossfade", "transitionDuration": 1}; documented: {"transition": {...}}
        if self.transitionDuration is not None:
            self.transition = TransitionSpec(type=self.transition.type, duration=self.transitionDuration)
            self.transitionDuration = None
        return self


_STRATEGIES = {
    "center": "center", "centre": "center", "top": "top", "bottom": "bottom", "left": "left",
    "right": "right", "smart": "smart", "pad": "pad", "letterbox": "pad", "blur": "blur",
    "blurred-pad": "blur", "blurred_pad": "blur", "blurpad": "blur",
}


def _coerce_strategy(value: Any) -> Any:
    if isinstance(value, str):
        key = value.strip().lower()
        if key not in _STRATEGIES:
            raise ValueError(f"unknown strategy {value!r}; expected one of: {', '.join(sorted(_STRATEGIES))}")
        return _STRATEGIES[key]
    return value


class _SingleInputParams(_Params):
    """Operations on one video: the dependency's output, or ``url`` when the job has no dependency."""

    url: MediaUrl | None = Field(default=None, validation_alias=AliasChoices("url", "videoUrl", "video"))


class ReframeParams(_SingleInputParams):
    aspectRatio: AspectRatio
    strategy: Annotated[
        Literal["center", "top", "bottom", "left", "right", "smart", "pad", "blur"],
        BeforeValidator(_coerce_strategy),
    ] = "center"
    allowUpscale: bool = False


class LipSyncParams(_SingleInputParams):
    audioUrl: MediaUrl = Field(validation_alias=AliasChoices("audioUrl", "audio", "audio_url"))
    volume: float = Field(default=1.0, ge=0, le=4)
    fit: Literal["shortest", "video", "audio"] = "video"
    provider: Provider = None
    model: str | None = Field(default=None, max_length=256, validation_alias=AliasChoices("model", "modelId"))
    apiKey: SecretStr | None = None


class Timing(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: float = Field(ge=0, le=600)
    end: float = Field(gt=0, le=600)

    @model_validator(mode="before")
    @classmethod
    def _pair(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)) and len(value) == 2:
            return {"start": value[0], "end": value[1]}
        return value

    @model_validator(mode="after")
    def _order(self) -> "Timing":
        if self.end <= self.start:
            raise ValueError("timing.end must be after timing.start")
        return self


class SubtitleStyleParams(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    preset: Literal["default", "minimal", "bold"] = "default"
    fontFamily: str | None = Field(default=None, max_length=128, pattern=r"^[\w .,'-]+$")
    fontSize: int | None = Field(default=None, ge=8, le=200)
    fontColor: Colour | None = Field(default=None, validation_alias=AliasChoices("fontColor", "color", "colour"))
    outlineColor: Colour | None = None
    backgroundColor: Colour | None = Field(default=None, validation_alias=AliasChoices("backgroundColor", "background"))
    bold: bool | None = None
    position: Literal["bottom", "top", "center"] | None = None


_STYLE_KEYS = ("fontFamily", "fontSize", "fontColor", "color", "colour", "outlineColor",
               "backgroundColor", "background", "bold", "position")


class AddSubtitlesParams(_SingleInputParams):
    text: Text | None = None
    srt: Text | None = None
    vtt: Text | None = None
    subtitles: Text | None = None
    subtitlesUrl: MediaUrl | None = None
    words: list[dict[str, Any]] | None = Field(default=None, max_length=20_000)
    timing: Timing | None = None
    style: SubtitleStyleParams = SubtitleStyleParams()
    provider: Provider = None
    model: str | None = Field(default=None, max_length=256, validation_alias=AliasChoices("model", "modelId"))
    language: str | None = Field(default=None, max_length=16, pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?$")
    apiKey: SecretStr | None = None

    @model_validator(mode="before")
    @classmethod
    def _gather_style(cls, data: Any) -> Any:
        """Accept ``style: "bold"``, ``style: {...}`` and flat ``fontSize``/``color``/... keys."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        style = data.get("style")
        merged: dict[str, Any] = {}
        if isinstance(style, str):
            merged["preset"] = style.strip().lower()
        elif isinstance(style, dict):
            merged.update(style)
        elif style is not None:
            raise ValueError("style must be a preset name or an object")
        for key in _STYLE_KEYS:
            if key in data:
                merged.setdefault(key, data.pop(key))
        data["style"] = merged
        return data

    @model_validator(mode="after")
    def _source(self) -> "AddSubtitlesParams":
        sources = [s for s in (self.text, self.srt, self.vtt, self.subtitles, self.subtitlesUrl, self.words) if s]
        if len(sources) > 1:
            raise ValueError("give only one of text, srt, vtt, subtitles, subtitlesUrl, words")
        if not sources and self.provider in (None, "local", "url"):
            raise ValueError("subtitles need text, srt, vtt, subtitles, subtitlesUrl or words "
                             "(or a transcription provider)")
        return self


PARAMS_MODELS: dict[str, type[_Params]] = {
    "generate": GenerateParams,
    "merge": MergeParams,
    "reframe": ReframeParams,
    "lipSync": LipSyncParams,
    "addSubtitles": AddSubtitlesParams,
}


def flatten_generate(params: dict[str, Any]) -> dict[str, Any]:
    """Documented format nests model inputs under ``params``; lift them beside provider/model."""
    nested = params.get("params")
    if not isinstance(nested, dict):
        return params
    flat = {k: v for k, v in params.items() if k != "params"}
    for key, value in nested.items():
        flat.setdefault(key, value)
    return flat
