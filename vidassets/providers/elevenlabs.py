"""ElevenLabs text to speech, as today's SDK's ``generateAudio`` asks for it.

The SDK sends ``{type: "generateAudio", params: {provider: "elevenlabs", modelId:
"elevenlabs/turbo-v2.5", apiKey?, text, voiceId, stability?, similarityBoost?, style?,
useSpeakerBoost?, outputFormat?, languageCode?, previousText?, nextText?, modelId?}}`` (a
``modelId`` option names the ElevenLabs model and replaces the catalogue name). As ElevenLabs
documents it (API reference "Text To Speech", https://elevenlabs.io/docs/api-reference/text-to-speech/convert;
its OpenAPI definition, elevenlabs/elevenlabs-docs ``fern/apis/api/openapi.json``, operation
``Text_to_speech_v1_text_to_speech__voice_id__post``; the guides "Error messages",
"Request stitching" and the text-to-speech capability page):

* ``POST {base}/v1/text-to-speech/{voice_id}?output_format=mp3_44100_128`` with the key in the
  ``xi-api-key`` header and a JSON body ``{text, model_id, voice_settings: {stability,
  similarity_boost, style, use_speaker_boost, speed}, language_code?, seed?, previous_text?,
  next_text?}``; only ``text`` is required, ``voice_settings`` override the voice's stored ones
  for this request only;
* the answer is the audio file (``audio/mpeg``; ``pcm_<rate>`` is raw 16-bit little-endian mono,
  "PCM (S16LE)" in the text-to-speech capability page, wrapped here into WAV); its ``request-id``
  header is the id the request-stitching guide uses, ``character-cost`` what it billed, and some
  answers carry ``history-item-id`` (not in the reference; used when present);
* errors are JSON: 422 ``{"detail": [{"loc", "msg", "type"}]}`` (HTTPValidationError) and, per the
  "Error messages" guide, ``{"detail": {"status", "message"}}`` with statuses
  ``invalid_api_key``, ``quota_exceeded``, ``voice_not_found``, ``max_character_limit_exceeded``
  (400/401), ``only_for_creator+`` (403) and ``too_many_concurrent_requests`` / ``system_busy``
  (429, "retry the request later, with exponential backoff").

Billing and retries: each request is billed per character and ElevenLabs offers no idempotency
key (there is none in its OpenAPI definition), so a request whose answer was lost can bill twice
if it is sent again. Its generations are kept in the account's history (``GET /v1/history``
lists ``{history_item_id, request_id, text, voice_id, model_id, date_unix}``; ``GET
/v1/history/{id}/audio`` serves the audio), which gives the ledger a way to find a lost request
before sending it again and a resumed attempt a way to fetch audio it already paid for. A request
made with ``enable_logging=false`` (zero retention) is not in the history; we never send that flag.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from vidassets.providers.base import ProviderError
from vidassets.providers.speech import DirectSpeechProvider, Speech, SpeechPlan, SpeechSession, number

if TYPE_CHECKING:
    from vidassets.providers.base import SpeechRequest

DEFAULT_BASE_URL = "https://api.elevenlabs.io"
DEFAULT_MODEL = "eleven_turbo_v2_5"
DEFAULT_FORMAT = "mp3_44100_128"
#: The SDK's catalogue names and the ElevenLabs model ids they stand for.
MODELS = {"elevenlabs/turbo-v2.5": "eleven_turbo_v2_5", "elevenlabs/flash-v2.5": "eleven_flash_v2_5",
          "elevenlabs/multilingual-v2": "eleven_multilingual_v2"}
#: SDK option -> ``voice_settings`` field.
VOICE_SETTINGS = {"stability": "stability", "similarityBoost": "similarity_boost", "style": "style",
                  "useSpeakerBoost": "use_speaker_boost", "speed": "speed"}
#: SDK option -> body field.
BODY_FIELDS = {"languageCode": "language_code", "seed": "seed", "previousText": "previous_text",
               "nextText": "next_text"}
#: History pages (100 items each, newest first) searched for a request whose answer was lost.
LOOKUP_PAGES = 3
# The voice id goes into the URL path: ElevenLabs ids are short alphanumeric strings.
_VOICE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_MODEL_ID = re.compile(r"^[a-z0-9_]{1,64}$")
# Formats whose answer is a self-describing file (mp3, Opus in Ogg) or raw 16-bit PCM (wrapped).
# mu-law / A-law are raw 8-bit telephony samples: not offered.
_FORMAT = re.compile(r"^(mp3_\d{4,5}_\d{2,3}|pcm_(\d{4,5})|opus_48000_\d{2,3})$")


def model_id(model: str | None, extra: Mapping[str, Any]) -> str:
    """The ElevenLabs ``model_id``: the job's ``modelId`` option when it names one (the SDK spreads
    it over the catalogue name, so it may arrive as ``model`` too), else the catalogue's."""
    option = extra.get("modelId")
    for candidate in (option, model):
        if isinstance(candidate, str) and candidate and candidate not in MODELS and "/" not in candidate:
            if not _MODEL_ID.match(candidate):
                raise ProviderError(f"elevenlabs model {candidate!r} is not an ElevenLabs model id "
                                    "(such as eleven_turbo_v2_5)", code="invalid_params")
            return candidate
    if model is None or model in MODELS:
        return MODELS.get(model or "", DEFAULT_MODEL)
    raise ProviderError(f"elevenlabs has no model {model!r}: use one of {', '.join(MODELS)} or an ElevenLabs "
                        "model id in modelId", code="invalid_params")


def speech_body(request: SpeechRequest, model: str) -> dict[str, Any]:
    """The JSON body: SDK option names mapped to ElevenLabs', then the plan's ``input`` verbatim."""
    extra = request.extra
    body: dict[str, Any] = {"text": request.text, "model_id": model}
    settings = {name: extra[option] for option, name in VOICE_SETTINGS.items() if extra.get(option) is not None}
    for name, value in settings.items():
        if not (isinstance(value, bool) if name == "use_speaker_boost" else number(value)):
            raise ProviderError(f"elevenlabs voice setting {name} must be a "
                                f"{'boolean' if name == 'use_speaker_boost' else 'number'}", code="invalid_params")
    if settings:
        body["voice_settings"] = settings
    body.update({name: extra[option] for option, name in BODY_FIELDS.items() if extra.get(option) is not None})
    overrides = dict(request.input)
    if isinstance(overrides.get("voice_settings"), Mapping) and settings:
        overrides["voice_settings"] = {**settings, **overrides["voice_settings"]}
    return {**body, **overrides}


class ElevenLabsProvider(DirectSpeechProvider):
    name = "elevenlabs"
    key_setting = "VIDASSETS_ELEVENLABS_API_KEY"

    def key_headers(self, key: str) -> dict[str, str]:
        return {"xi-api-key": key}

    def plan(self, request: SpeechRequest) -> SpeechPlan:
        voice = request.voice if request.voice is not None else request.extra.get("voiceId")
        if not isinstance(voice, str) or not _VOICE_ID.match(voice):
            raise ProviderError("elevenlabs needs voiceId: an ElevenLabs voice id such as 21m00Tcm4TlvDq8ikWAM",
                                code="invalid_params")
        fmt = request.extra.get("outputFormat") or DEFAULT_FORMAT
        matched = _FORMAT.match(fmt) if isinstance(fmt, str) else None
        if matched is None:
            raise ProviderError(f"elevenlabs outputFormat {fmt!r} is not offered: use mp3_<rate>_<kbps>, pcm_<rate> "
                                "or opus_48000_<kbps>", code="invalid_params")
        model = model_id(request.model, request.extra)
        pcm = int(matched.group(2)) if matched.group(2) else None
        return SpeechPlan(url=f"{self.base_url}/v1/text-to-speech/{quote(voice, safe='')}",
                          body=speech_body(request, model), model=model, params={"output_format": fmt},
                          pcm_rate=pcm, details={"voiceId": voice, "outputFormat": fmt})

    def answered(self, plan: SpeechPlan, headers: httpx.Headers, file: Path) -> Speech:
        history = headers.get("history-item-id")
        vendor_id = headers.get("request-id") or history
        cost = headers.get("character-cost") or headers.get("x-character-count") or ""
        usage = {"characters": int(cost)} if cost.isdigit() else {}
        if not vendor_id:
            return Speech(id=super().answered(plan, headers, file).id, file=file, usage=usage)
        return Speech(id=vendor_id, file=file, usage=usage,
                      audio_url=self.audio_url(history) if history else None)

    def audio_url(self, history_item_id: str) -> str:
        return f"{self.base_url}/v1/history/{quote(history_item_id, safe='')}/audio"

    def refetch_url(self, session: SpeechSession, plan: SpeechPlan, speech: Speech) -> str | None:
        """An answered request's audio: by its history item, or found in the history by its request id."""
        if speech.audio_url is not None:
            return speech.audio_url
        matches = [s for s in self.finder(session, plan)(dt.datetime.fromtimestamp(0, dt.UTC)) if s.id == speech.id]
        return matches[0].audio_url if matches else None

    def finder(self, session: SpeechSession, plan: SpeechPlan) -> Callable[[dt.datetime], Sequence[Speech]]:
        """Generations in the account's history since a time whose text, voice and model are this
        request's, oldest first: a request whose answer was lost but which ElevenLabs completed."""
        voice = str(plan.details["voiceId"])

        def find(since: dt.datetime) -> Sequence[Speech]:
            found: list[Speech] = []
            after: str | None = None
            for _ in range(LOOKUP_PAGES):
                params = {"page_size": "100", "voice_id": voice, **({"start_after_history_item_id": after} if after else {})}
                page = session.request("GET", f"{self.base_url}/v1/history", params=params)
                items = page.get("history") if isinstance(page, Mapping) else None
                if not isinstance(items, list) or not items:
                    break
                older = False
                for item in items:
                    if not isinstance(item, Mapping) or not isinstance(item.get("history_item_id"), str):
                        continue
                    stamp = item.get("date_unix")
                    if not number(stamp) or stamp < since.timestamp():
                        older = True
                        continue
                    if item.get("text") == plan.body.get("text") and item.get("model_id") == plan.model:
                        hid = item["history_item_id"]
                        found.append(Speech(id=str(item.get("request_id") or hid), audio_url=self.audio_url(hid)))
                after = items[-1].get("history_item_id") if isinstance(items[-1], Mapping) else None
                if older or not page.get("has_more") or not isinstance(after, str):
                    break
            return list(reversed(found))

        return find
