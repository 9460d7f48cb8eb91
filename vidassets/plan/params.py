"""Per-operation parameter models.

Both wire formats land here: the SDK's flat ``{provider, modelId, prompt, duration, ...}`` and
the documented ``{provider, model, params: {...}}`` (flattened by :func:`flatten_generate`).
Values are checked strictly (aspect ratios, durations, URL schemes, text sizes); unknown keys on
``generate`` are kept because providers take model-specific inputs. Numeric limits live in
:mod:`vidassets.plan.bounds`. URL hosts are checked against an
:class:`~vidassets.net.guard.AddressPolicy` passed in the validation context (``URL_POLICY``):
without one only cloud metadata endpoints are refused, which no configuration allows.
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
    ValidationInfo,
    field_validator,
    model_validator,
)

from vidassets.net.guard import AddressPolicy, BlockedAddressError
from vidassets.plan import bounds

ASPECT_RATIOS: tuple[str, ...] = ("16:9", "9:16", "1:1", "4:5", "4:3", "3:4", "21:9", "9:21")
AspectRatio = Literal["16:9", "9:16", "1:1", "4:5", "4:3", "3:4", "21:9", "9:21"]
TransitionType = Literal["cut", "fade", "crossfade", "dissolve", "wipe"]
# Providers a plan may name (``vidassets.providers.registry`` maps each to a client).
KNOWN_PROVIDERS: tuple[str, ...] = ("local", "url", "replicate", "fal", "google-cloud", "elevenlabs", "hume")
KEY_PROVIDERS: tuple[str, ...] = ("replicate", "fal", "google-cloud", "elevenlabs", "hume")
_PROVIDER_ALIASES = {"google": "google-cloud", "vertex": "google-cloud", "veo": "google-cloud"}
URL_SCHEMES: tuple[str, ...] = ("http", "https", "s3")
MAX_URL_LENGTH = 4096
MAX_TEXT_CHARS = 20_000  # plan-level limit from the issue; settings may lower it
SECRET_FIELDS = {"apiKey"}
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def check_url(value: Any, schemes: tuple[str, ...] = URL_SCHEMES) -> str:
    """Static URL check: scheme whitelist, a host, no whitespace/control characters.

    Host checks follow in :func:`check_url_host` (literal addresses, metadata names); names are
    resolved and their addresses checked at fetch time, see ``vidassets.net``.
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


URL_POLICY = "url_policy"  # validation-context key: the server's AddressPolicy for submit-time checks
# Without a policy in the context: private addresses pass (connect time decides), metadata never does.
METADATA_ONLY = AddressPolicy(allow_private=True)


def check_url_host(url: str, policy: AddressPolicy | None) -> str:
    """Refuse a URL whose host is a metadata endpoint, or a literal address ``policy`` refuses."""
    try:
        (policy or METADATA_ONLY).check_url(url)
    except BlockedAddressError as exc:
        raise ValueError(str(exc)) from None
    return url


def _context_policy(info: ValidationInfo) -> AddressPolicy | None:
    context = info.context if isinstance(info.context, dict) else {}
    policy = context.get(URL_POLICY)
    return policy if isinstance(policy, AddressPolicy) else None


def _media_url(value: Any, info: ValidationInfo) -> str:
    return check_url_host(check_url(value), _context_policy(info))


def _http_url(value: Any, info: ValidationInfo) -> str:
    return check_url_host(check_url(value, ("http", "https")), _context_policy(info))


MediaUrl = Annotated[str, BeforeValidator(_media_url)]
HttpUrl = Annotated[str, BeforeValidator(_http_url)]
Duration = Annotated[float, Field(gt=0, le=bounds.MAX_CLIP_S)]
Text = Annotated[str, Field(max_length=MAX_TEXT_CHARS)]
Colour = Annotated[str, BeforeValidator(lambda v: normalise_colour(v))]
JobId = Annotated[str, Field(min_length=1, max_length=128)]
MAX_AUDIO_TRACKS = 16
MAX_GAIN = 2.0
Gain = Annotated[float, Field(ge=0, le=MAX_GAIN)]
Seconds = Annotated[float, Field(ge=0, le=bounds.MAX_MERGED_S)]
Strict = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)
MAX_MODEL_INPUTS = 64
# A model's own inputs, passed to the vendor verbatim (they win over mapped params); catalogued
# models have them checked against their schema at submit (vidassets.plan.vendor_inputs).
ModelInput = Annotated[dict[str, Any], Field(max_length=MAX_MODEL_INPUTS)]

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
SPEECH_ONLY_PROVIDERS: tuple[str, ...] = ("elevenlabs", "hume")


def _video_provider(value: Any) -> Any:
    name = normalise_provider(value)
    if name in SPEECH_ONLY_PROVIDERS:
        raise ValueError(f"{name!r} makes speech (generateAudio), not video")
    return name


VideoProvider = Annotated[str | None, BeforeValidator(_video_provider)]


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

    provider: VideoProvider = None
    model: str | None = Field(default=None, max_length=256, validation_alias=AliasChoices("model", "modelId"))
    apiKey: SecretStr | None = Field(default=None, validation_alias=AliasChoices("apiKey", "api_key"))
    prompt: Text | None = None
    negativePrompt: Text | None = None
    # aspectRatio and fps come first: the duration and resolution checks read them.
    aspectRatio: AspectRatio = "16:9"
    fps: int = Field(default=24, ge=bounds.MIN_FPS, le=bounds.MAX_FPS)
    duration: Duration = 5.0
    resolution: str = Field(default="720p", pattern=r"^(\d{3,4}p|\d{2,5}x\d{2,5})$")
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)
    startImage: MediaUrl | None = None
    endImage: MediaUrl | None = None
    cameraMotion: str | dict[str, Any] | None = None
    unified: bool | None = None
    input: ModelInput | None = None
    url: MediaUrl | None = Field(default=None, validation_alias=AliasChoices("url", "mediaUrl", "videoUrl"))
    # Earlier jobs' artefacts as the model's start image / speech track (today's SDK's
    # ``image: generateImage(...)``, ``audio: generateAudio(...)``); both are in ``dependsOn``.
    imageInput: JobId | None = None
    audioInput: JobId | None = None

    @field_validator("duration")
    @classmethod
    def _at_least_a_frame(cls, value: float, info: ValidationInfo) -> float:
        fps = info.data.get("fps")
        if isinstance(fps, int) and value * fps < 1:
            raise ValueError(f"duration {value:g} s is shorter than one frame at {fps} fps")
        return value

    @field_validator("resolution")
    @classmethod
    def _renderable_size(cls, value: str, info: ValidationInfo) -> str:
        aspect = info.data.get("aspectRatio")
        if isinstance(aspect, str):  # an invalid aspect ratio is reported on its own field
            bounds.check_resolution(value, aspect)
        return value

    @model_validator(mode="after")
    def _source(self) -> GenerateParams:
        if self.provider == "url" and not self.url:
            raise ValueError("provider 'url' needs params.url")
        if self.url and self.provider is None:
            self.provider = "url"
        # A model called in its own input names (the SDK's non-unified mode) may take no prompt.
        native = self.unified is False and self.provider in KEY_PROVIDERS
        if self.provider != "url" and not (self.prompt or self.startImage or self.imageInput or native):
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
    duration: float = Field(default=0.5, gt=0, le=bounds.MAX_TRANSITION_S)


def _coerce_transition(value: Any) -> Any:
    if isinstance(value, str):
        return {"type": value.strip().lower()}
    return value


class ClipOption(BaseModel):
    """A merge input's options: ``duration`` trims a video (or is an image's time on screen),
    ``volume`` scales its sound."""

    model_config = Strict

    duration: Duration | None = None
    volume: Gain = 1.0


class AudioTrack(BaseModel):
    """Sound laid under a merge: a URL or an earlier job's audio (``input``), from ``offset`` s."""

    model_config = Strict

    url: MediaUrl | None = None
    input: JobId | None = None
    offset: Seconds = 0.0
    volume: Gain = 1.0
    fadeIn: Annotated[float, Field(ge=0, le=bounds.MAX_TRANSITION_S)] = 0.0
    fadeOut: Annotated[float, Field(ge=0, le=bounds.MAX_TRANSITION_S)] = 0.0

    @model_validator(mode="after")
    def _one_source(self) -> AudioTrack:
        if (self.url is None) == (self.input is None):
            raise ValueError("give the audio as url or as an input job, one of them")
        return self


ClipOptions = Annotated[list[ClipOption], Field(max_length=bounds.MAX_MERGE_INPUTS)]
AudioTracks = Annotated[list[AudioTrack], Field(max_length=MAX_AUDIO_TRACKS)]


class MergeParams(_Params):
    """Concatenate the dependencies, in ``dependsOn`` order, with an optional transition.

    Today's SDK adds per-item options: ``clips`` (one per picture input, in order: a trim, or an
    image's time on screen, and a volume) and ``audio`` tracks laid under the cut, ducked under
    the clips' own sound when ``duck``. Audio inputs (``audio[].input``) are ``dependsOn``
    entries too; every other entry is a picture input."""

    transition: Annotated[TransitionSpec, BeforeValidator(_coerce_transition)] = TransitionSpec()
    transitionDuration: float | None = Field(default=None, gt=0, le=bounds.MAX_TRANSITION_S)
    clips: ClipOptions | None = None
    audio: AudioTracks = Field(default_factory=list)
    duck: bool = True

    @property
    def has_items(self) -> bool:
        """Options beyond a plain cut: the merge then renders on its own (see the render compiler)."""
        return bool(self.audio) or any(c != ClipOption() for c in self.clips or ())

    def audio_inputs(self) -> list[str]:
        return [t.input for t in self.audio if t.input is not None]

    @model_validator(mode="after")
    def _fold_duration(self) -> MergeParams:
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


Strategy = Annotated[
    Literal["center", "top", "bottom", "left", "right", "smart", "pad", "blur"],
    BeforeValidator(_coerce_strategy),
]
DEFAULT_STRATEGY: Strategy = "center"


class ReframeParams(_SingleInputParams):
    """``crop`` is how the original plan format (and the SDK's docs) name ``strategy``: either
    spelling works, both with the same value is fine, different values are an error. Only
    ``strategy`` is stored, so both spellings hash and render the same."""

    aspectRatio: AspectRatio
    strategy: Strategy | None = None
    crop: Strategy | None = None
    allowUpscale: bool = False

    @field_validator("crop")
    @classmethod
    def _synonym_agrees(cls, value: str | None, info: ValidationInfo) -> str | None:
        strategy = info.data.get("strategy")
        if value is not None and strategy is not None and strategy != value:
            raise ValueError(f"crop {value!r} and strategy {strategy!r} disagree; they are synonyms, give one")
        return value

    @model_validator(mode="after")
    def _one_name(self) -> ReframeParams:
        self.strategy = self.strategy or self.crop or DEFAULT_STRATEGY
        self.crop = None
        return self


class LipSyncParams(_SingleInputParams):
    """Keys this model does not declare are a lip-sync model's options (``sync_mode``...), kept as
    on ``generate``; ``input`` holds them too, verbatim."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, str_strip_whitespace=True)

    audioUrl: MediaUrl = Field(validation_alias=AliasChoices("audioUrl", "audio", "audio_url"))
    volume: float = Field(default=1.0, ge=0, le=bounds.MAX_VOLUME)
    fit: Literal["shortest", "video", "audio"] = "video"
    provider: VideoProvider = None
    model: str | None = Field(default=None, max_length=256, validation_alias=AliasChoices("model", "modelId"))
    apiKey: SecretStr | None = Field(default=None, validation_alias=AliasChoices("apiKey", "api_key"))
    input: ModelInput | None = None


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
    def _order(self) -> Timing:
        if self.end <= self.start:
            raise ValueError("timing.end must be after timing.start")
        return self


def _canonical_preset(value: Any) -> Any:
    """Preset aliases (``highlight``, ``shorts``, ``TikTok``...) -> the canonical name; anything
    else passes through so the Literal below reports the allowed names."""
    if not isinstance(value, str):
        return value
    from vidassets.media.burn import preset_name  # lazy: the media layer is not needed to import plans

    return preset_name(value)


_ANIMATION_ALIASES = {
    "off": "none", "no": "none", "fade-in": "fade", "fadein": "fade", "slide-up": "slide", "slideup": "slide",
    "slide-in": "slide", "typing": "typewriter", "type": "typewriter", "word-by-word": "typewriter",
    "bounce": "pop", "pop-in": "pop", "popin": "pop", "scale": "pop", "zoom": "pop",
}


def _coerce_animation(value: Any) -> Any:
    if value is False:
        return "none"
    if isinstance(value, str):
        key = value.strip().lower().replace("_", "-").replace(" ", "-")
        return _ANIMATION_ALIASES.get(key, key)
    return value


def _coerce_highlight(value: Any) -> Any:
    if isinstance(value, bool):
        return "word" if value else "none"
    if isinstance(value, str):
        key = value.strip().lower()
        return {"on": "word", "current": "word", "active": "word", "off": "none", "fill": "karaoke"}.get(key, key)
    return value


class SubtitleStyleParams(BaseModel):
    """How captions look: a preset plus overrides. Every number is bounded (font size and shadow
    in px of the frame, the spoken word's scale, lines and words per caption); colours are
    ``#RRGGBB[AA]`` or a name. ``highlightScale`` and ``inactiveColor`` apply to highlighted
    captions (the spoken word drawn larger; the other words in that colour)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    preset: Annotated[Literal["default", "minimal", "bold", "tiktok", "karaoke", "story", "cinematic"],
                      BeforeValidator(_canonical_preset)] = "default"
    fontFamily: str | None = Field(default=None, max_length=128, pattern=r"^[\w .,'-]+$")
    fontSize: int | None = Field(default=None, ge=8, le=200)
    fontColor: Colour | None = Field(default=None, validation_alias=AliasChoices("fontColor", "color", "colour"))
    outlineColor: Colour | None = None
    backgroundColor: Colour | None = Field(default=None, validation_alias=AliasChoices("backgroundColor", "background"))
    bold: bool | None = None
    position: Literal["bottom", "top", "center"] | None = None
    highlight: Annotated[Literal["none", "word", "karaoke"] | None, BeforeValidator(_coerce_highlight)] = Field(
        default=None, validation_alias=AliasChoices("highlight", "highlightActiveWord", "wordHighlight"))
    highlightColor: Colour | None = Field(
        default=None, validation_alias=AliasChoices("highlightColor", "activeWordColor", "highlightColour"))
    animation: Annotated[Literal["none", "fade", "slide", "typewriter", "pop"] | None,
                         BeforeValidator(_coerce_animation)] = None
    maxLines: int | None = Field(default=None, ge=1, le=4)
    maxWords: int | None = Field(default=None, ge=1, le=50,
                                 validation_alias=AliasChoices("maxWords", "wordsPerCaption", "maxWordsPerCaption"))
    uppercase: bool | None = None
    shadow: float | None = Field(default=None, ge=0, le=20, strict=True,
                                 validation_alias=AliasChoices("shadow", "shadowDistance"))
    highlightScale: float | None = Field(default=None, ge=1, le=2, strict=True,
                                         validation_alias=AliasChoices("highlightScale", "activeWordScale"))
    inactiveColor: Colour | None = Field(
        default=None, validation_alias=AliasChoices("inactiveColor", "inactiveWordColor", "inactiveColour"))


_STYLE_KEYS = ("fontFamily", "fontSize", "fontColor", "color", "colour", "outlineColor",
               "backgroundColor", "background", "bold", "position", "highlight", "highlightColor",
               "animation", "maxLines", "maxWords", "uppercase")
MAX_CAPTION_WORDS = 20_000  # timed words one job may carry (a 10-minute video holds ~1,500)
MAX_WORD_TIME_S = 6 * 3600.0  # word and cue times beyond this are typos, not subtitles
_SOURCES = ("text", "srt", "vtt", "subtitles", "subtitlesUrl", "words")


def _check_cues(value: str | None, fmt: str) -> str | None:
    """Parse SRT/WebVTT now, so impossible cue timings are a 422 naming the cue."""
    if not value:
        return value
    from vidassets.media.errors import MediaParamError  # lazy, as above
    from vidassets.media.subtitles import parse_srt, parse_subtitles, parse_vtt

    parse = {"srt": parse_srt, "vtt": parse_vtt}.get(fmt, parse_subtitles)
    try:
        parse(value)
    except MediaParamError as exc:
        raise ValueError(str(exc)) from None
    return value


def _check_word(index: int, item: dict[str, Any]) -> None:
    text = item.get("word", item.get("text"))
    start, end = item.get("start"), item.get("end")
    where = f"words[{index}]"
    if not isinstance(text, str) or len(text) > 200:
        raise ValueError(f"{where}: needs 'word' (or 'text'), a string of at most 200 characters")
    for name, value in (("start", start), ("end", end)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= MAX_WORD_TIME_S:
            raise ValueError(f"{where}: {name} must be a number of seconds within 0..{MAX_WORD_TIME_S:g}")
    if end < start:  # type: ignore[operator]
        raise ValueError(f"{where}: end {end} is before start {start}")


def _needs_transcription(info: ValidationInfo) -> bool | None:
    """True when no text source was given; None when a source failed validation (unknown)."""
    if any(name not in info.data for name in _SOURCES):
        return None
    return not any(info.data.get(name) for name in _SOURCES)


class AddSubtitlesParams(_SingleInputParams):
    """Captions from ``text`` (timed evenly, or over ``timing``), SRT/VTT, timed ``words``, or -
    with none of those, as the SDK sends ``{language, style}`` - from the video's own speech:
    the offline Whisper transcriber by default, or ``provider`` ``replicate``/``fal``.
    A transcription nobody configured can do (a language, a provider) is refused here."""

    text: Text | None = None
    srt: Text | None = None
    vtt: Text | None = None
    subtitles: Text | None = None
    subtitlesUrl: MediaUrl | None = None
    words: list[dict[str, Any]] | None = Field(default=None, max_length=MAX_CAPTION_WORDS)
    timing: Timing | None = None
    style: SubtitleStyleParams = SubtitleStyleParams()
    provider: Provider = None
    model: str | None = Field(default=None, max_length=256, validation_alias=AliasChoices("model", "modelId"))
    language: str | None = Field(default=None, max_length=16, pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?$")
    apiKey: SecretStr | None = None
    input: ModelInput | None = None  # the transcription model's own inputs, verbatim

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

    @field_validator("srt")
    @classmethod
    def _srt_timings(cls, value: str | None) -> str | None:
        return _check_cues(value, "srt")

    @field_validator("vtt")
    @classmethod
    def _vtt_timings(cls, value: str | None) -> str | None:
        return _check_cues(value, "vtt")

    @field_validator("subtitles")
    @classmethod
    def _subtitle_timings(cls, value: str | None) -> str | None:
        return _check_cues(value, "subtitles")

    @field_validator("words")
    @classmethod
    def _word_timings(cls, value: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        for index, item in enumerate(value or ()):
            _check_word(index, item)
        return value

    @field_validator("provider")
    @classmethod
    def _transcribes(cls, value: str | None, info: ValidationInfo) -> str | None:
        if _needs_transcription(info) and not _stored(info):
            from vidassets.transcribe import TranscriberProblem, choose_transcriber  # light, but only here

            try:
                choose_transcriber(value, None, None)
            except TranscriberProblem as exc:
                if exc.field == "provider":
                    raise ValueError(str(exc)) from None
        return value

    @field_validator("language")
    @classmethod
    def _transcribable(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value and _needs_transcription(info) and "provider" in info.data and not _stored(info):
            from vidassets.settings import get_settings
            from vidassets.transcribe import TranscriberProblem, choose_transcriber, configured_vendors

            try:
                choose_transcriber(info.data.get("provider"), info.data.get("model"), value,
                                   fallbacks=configured_vendors(get_settings()))
            except TranscriberProblem as exc:
                if exc.field == "language":
                    raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _source(self) -> AddSubtitlesParams:
        sources = [s for s in (self.text, self.srt, self.vtt, self.subtitles, self.subtitlesUrl, self.words) if s]
        if len(sources) > 1:
            raise ValueError("give only one of text, srt, vtt, subtitles, subtitlesUrl, words")
        return self

    @property
    def transcribes(self) -> bool:
        """No text source: the captions come from the video's speech."""
        return not any(getattr(self, name) for name in _SOURCES)


OperationParams = _Params  # one of PARAMS_MODELS' models (parse_stored)
# Validation context key: the params were validated at submit and are read back from storage, so
# checks that depend on the server's configuration at submit time (transcribers) are not repeated.
STORED = "vidassets/stored"


def _stored(info: ValidationInfo) -> bool:
    return bool((info.context or {}).get(STORED))


def parse_stored(operation: str, params: dict[str, Any]) -> OperationParams:
    """A job's stored params (see ``_Params.stored``) as its typed model, defaults filled in: what
    the operation handlers receive, so every default is declared once, here."""
    return PARAMS_MODELS[operation].model_validate(params, context={STORED: True})


PARAMS_MODELS: dict[str, type[_Params]] = {
    "generate": GenerateParams,
    "merge": MergeParams,
    "reframe": ReframeParams,
    "lipSync": LipSyncParams,
    "addSubtitles": AddSubtitlesParams,
}
# Today's SDK's operations (issue 19); imported last: their module builds on the types above.
from vidassets.plan.params_media import (  # noqa: E402
    GenerateAudioParams,
    GenerateImageParams,
    LayerParams,
    RemoveBackgroundParams,
)

PARAMS_MODELS.update({
    "generateImage": GenerateImageParams,
    "removeImageBackground": GenerateImageParams,
    "generateAudio": GenerateAudioParams,
    "removeBackground": RemoveBackgroundParams,
    "layer": LayerParams,
})


def flatten_generate(params: dict[str, Any]) -> dict[str, Any]:
    """Documented format nests model inputs under ``params``; lift them beside provider/model."""
    nested = params.get("params")
    if not isinstance(nested, dict):
        return params
    flat = {k: v for k, v in params.items() if k != "params"}
    for key, value in nested.items():
        flat.setdefault(key, value)
    return flat
