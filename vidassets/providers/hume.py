"""Hume (Octave) text to speech, as today's SDK's ``generateAudio`` asks for it.

The SDK sends ``{type: "generateAudio", params: {provider: "hume", modelId: "hume/tts", apiKey?,
text, voice?: {id | name, provider?: "HUME_AI" | "CUSTOM_VOICE"}, description?, speed?,
trailingSilence?, format?: "mp3" | "wav" | "pcm", version?: "1" | "2", numGenerations?}}``. As
Hume documents it (API reference "Text-to-Speech (File)",
https://dev.hume.ai/voice/reference/text-to-speech-tts/synthesize-file, the "Voice Guide"
https://dev.hume.ai/voice/docs/text-to-speech-tts/voice, and the types its generated Python SDK,
HumeAI/hume-python-sdk ``src/hume/tts``, builds from the same definition: ``PostedUtterance``,
``PostedUtteranceVoiceWithName``, ``FormatWav``, ``HttpValidationError``, ``ErrorResponse``):

* ``POST {base}/v0/tts/file`` with the key in the ``X-Hume-Api-Key`` header and a JSON body
  ``{utterances: [{text, description?, voice?: {id} | {name, provider?}, speed?,
  trailing_silence?}], format?: {type: "mp3" | "wav" | "pcm"}, version?: "1" | "2",
  num_generations?}``; a voice named without a provider is looked up among the account's own
  (``CUSTOM_VOICE``), Voice Library voices need ``provider: "HUME_AI"``; without a voice the
  ``description`` designs one;
* the answer is the audio file in the requested format (48 kHz by default, per ``AudioEncoding``);
* a 422 is FastAPI's ``{"detail": [{"loc", "msg", "type"}]}`` (HTTPValidationError); other errors
  carry ``{"error"?, "message"?, "code"?}`` (ErrorResponse).

``format: "pcm"`` is asked of Hume as ``wav``: raw PCM carries no sample rate or sample width,
and the artefact must be a file that says what it holds; the samples are the same.
``numGenerations`` above 1 is refused: the file endpoint answers one file, and the other takes
would be billed without reaching the job.

Billing: each request is billed (per character) and Hume offers no idempotency key (none in its
SDK's request types) and no way to list past generations, so a request whose answer was lost
cannot be found again: the job ends ``vendor_create_unconfirmed`` (see
:mod:`vidassets.providers.speech`) rather than risk a second charge, and a resumed attempt whose
request succeeded but whose audio was lost fails instead of paying twice silently.

Hume's reference now carries a notice that the TTS and EVI APIs are being sunset, with access
ending 13 November 2026 at 12:01 a.m. EST (https://dev.hume.ai/voice/reference/text-to-speech-tts/llms.txt);
a third-party integration guide (docs.jambonz.org, Hume) reports the docs gone but the API still
answering. Expect real requests to fail after that date whatever this client sends.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from vidassets.providers.base import ProviderError
from vidassets.providers.speech import DirectSpeechProvider, SpeechPlan, number

if TYPE_CHECKING:
    from vidassets.providers.base import SpeechRequest

DEFAULT_BASE_URL = "https://api.hume.ai"
MODEL = "hume/tts"
FORMATS = ("mp3", "wav", "pcm")
VOICE_PROVIDERS = ("HUME_AI", "CUSTOM_VOICE")
#: SDK option -> utterance field.
UTTERANCE_FIELDS = {"description": "description", "speed": "speed", "trailingSilence": "trailing_silence"}


def voice_spec(voice: Any) -> dict[str, str]:
    """The utterance's ``voice``: ``{id}`` or ``{name}``, with ``provider`` when one is given."""
    if not isinstance(voice, Mapping):
        raise ProviderError("hume voice must be {id} or {name}, with an optional provider", code="invalid_params")
    keys = [k for k in ("id", "name") if isinstance(voice.get(k), str) and voice[k]]
    if len(keys) != 1:
        raise ProviderError("hume voice must name exactly one of id or name", code="invalid_params")
    spec = {keys[0]: str(voice[keys[0]])}
    provider = voice.get("provider")
    if provider is not None:
        if provider not in VOICE_PROVIDERS:
            raise ProviderError(f"hume voice provider must be one of {', '.join(VOICE_PROVIDERS)}",
                                code="invalid_params")
        spec["provider"] = str(provider)
    return spec


def speech_body(request: SpeechRequest) -> tuple[dict[str, Any], str]:
    """The JSON body (SDK names mapped to Hume's, the plan's ``input`` verbatim last) and the
    format asked of Hume."""
    extra = request.extra
    utterance: dict[str, Any] = {"text": request.text}
    voice = request.voice if request.voice is not None else extra.get("voice")
    if voice is not None:
        utterance["voice"] = voice_spec(voice)
    for option, name in UTTERANCE_FIELDS.items():
        value = extra.get(option)
        if value is None:
            continue
        if option != "description" and not number(value):
            raise ProviderError(f"hume {option} must be a number", code="invalid_params")
        utterance[name] = value
    fmt = extra.get("format") or "mp3"
    if fmt not in FORMATS:
        raise ProviderError(f"hume format must be one of {', '.join(FORMATS)}", code="invalid_params")
    sent = "wav" if fmt == "pcm" else str(fmt)
    body: dict[str, Any] = {"utterances": [utterance], "format": {"type": sent}}
    version = extra.get("version")
    if version is not None:
        if str(version) not in ("1", "2"):
            raise ProviderError("hume version must be \"1\" or \"2\"", code="invalid_params")
        body["version"] = str(version)
    generations = extra.get("numGenerations")
    if generations is not None and generations != 1:
        raise ProviderError("hume numGenerations above 1 is not offered: the file endpoint returns one take, and "
                            "the others would be billed without reaching the job", code="invalid_params")
    return {**body, **dict(request.input)}, str(fmt)


class HumeProvider(DirectSpeechProvider):
    name = "hume"
    key_setting = "VIDASSETS_HUME_API_KEY"

    def key_headers(self, key: str) -> dict[str, str]:
        return {"X-Hume-Api-Key": key}

    def plan(self, request: SpeechRequest) -> SpeechPlan:
        if request.model not in (None, MODEL):
            raise ProviderError(f"hume has no model {request.model!r}: use {MODEL}", code="invalid_params")
        body, asked = speech_body(request)
        return SpeechPlan(url=f"{self.base_url}/v0/tts/file", body=body, model=MODEL, details={"requestedFormat": asked})
