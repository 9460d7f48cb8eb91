"""Fake ElevenLabs and Hume text-to-speech servers, over real HTTP (see ``fakes.FakeServer``).

They follow the vendors' documented behaviour (see the docstrings of
``vidassets/providers/elevenlabs.py`` and ``hume.py`` for the sources): the key header is checked,
the JSON body is validated and refused with a FastAPI-style 422 ``{"detail": [{"loc", "msg",
"type"}]}`` as both vendors document, errors carry the vendors' shapes, and the answer is a real
audio file made with ffmpeg (a sine tone whose length grows with the text). Every answered
request is counted in ``billed`` (what the vendor would charge), and faults are injected with
``server.fault(...)`` as for the other fakes (``after=True``: the request is billed, then the
fault answers in its place; ``drop=True``: no answer at all).
"""

from __future__ import annotations

import functools
import itertools
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tests.providers.fakes import FakeServer, Reply, Seen
from vidassets.media import run_ffmpeg

ELEVENLABS_KEY = "sk_el_SeCrEtKeY0123456789abcdef"
HUME_KEY = "hume_SeCrEtKeY0123456789abcdef"
RACHEL = "21m00Tcm4TlvDq8ikWAM"
EL_FORMATS = ("mp3_22050_32", "mp3_44100_32", "mp3_44100_64", "mp3_44100_96", "mp3_44100_128", "mp3_44100_192",
              "pcm_8000", "pcm_16000", "pcm_22050", "pcm_24000", "pcm_44100", "pcm_48000", "ulaw_8000", "alaw_8000",
              "opus_48000_32", "opus_48000_64", "opus_48000_96", "opus_48000_128", "opus_48000_192")
_LANGUAGE_MODELS = ("eleven_turbo_v2_5", "eleven_flash_v2_5")
_CODECS = {"mp3": ["-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3"], "wav": ["-c:a", "pcm_s16le", "-f", "wav"],
           "pcm": ["-c:a", "pcm_s16le", "-f", "s16le"], "ogg": ["-c:a", "libopus", "-b:a", "32k", "-f", "ogg"]}


@functools.lru_cache(maxsize=32)
def tone(container: str, rate: int, seconds: float) -> bytes:
    """A real ``seconds``-long 440 Hz mono tone: ``mp3``, ``wav``, ``ogg`` (Opus) or raw ``pcm`` (s16le)."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / f"tone.{container}"
        run_ffmpeg(["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate={rate}:duration={seconds}", "-ac", "1",
                    *_CODECS[container], str(out)], timeout=60)
        return out.read_bytes()


def speech_seconds(text: str) -> float:
    """How long the fake's speech of ``text`` lasts: 0.5 s steps, 0.5 to 3 s."""
    return min(max(round(len(text) / 20 * 2) / 2, 0.5), 3.0)


def invalid(loc: list[Any], msg: str, kind: str = "value_error") -> Reply:
    """FastAPI's 422 (HTTPValidationError), as both vendors' references document it."""
    return Reply(422, {"detail": [{"loc": loc, "msg": msg, "type": kind}]})


def _number(value: Any, low: float, high: float) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high


class FakeElevenLabs(FakeServer):
    """``POST /v1/text-to-speech/{voice_id}``, ``GET /v1/history`` and ``GET /v1/history/{id}/audio``."""

    def __init__(self) -> None:
        super().__init__()
        self.keys = {ELEVENLABS_KEY}
        self.voices = {RACHEL, "pNInz6obpgDQGcFmaJgB"}
        self.history: list[dict[str, Any]] = []  # oldest first
        self.audio: dict[str, bytes] = {}
        self.now: Callable[[], float] = time.time
        self.history_header = True  # answers carry history-item-id (older answers; not in the reference)
        self._ids = itertools.count(1)

    @property
    def billed(self) -> int:
        return len(self.history)

    def route(self, seen: Seen) -> Reply:
        if seen.headers.get("xi-api-key") not in self.keys:
            return Reply(401, {"detail": {"status": "invalid_api_key", "message": "Invalid API key"}})
        parts = seen.path.strip("/").split("/")
        if seen.method == "POST" and parts[:2] == ["v1", "text-to-speech"] and len(parts) == 3:
            return self._speak(parts[2], seen)
        if seen.method == "GET" and parts == ["v1", "history"]:
            return self._list(seen)
        if seen.method == "GET" and parts[:2] == ["v1", "history"] and len(parts) == 4 and parts[3] == "audio":
            data = self.audio.get(parts[2])
            return Reply(200, data, {"content-type": "audio/mpeg"}) if data is not None else \
                Reply(404, {"detail": {"status": "history_item_not_found", "message": "History item not found"}})
        return super().route(seen)

    def _speak(self, voice: str, seen: Seen) -> Reply:
        fmt = (seen.query.get("output_format") or ["mp3_44100_128"])[0]
        if fmt not in EL_FORMATS:
            return invalid(["query", "output_format"], f"Input should be one of {', '.join(EL_FORMATS)}", "enum")
        body = seen.body
        if not isinstance(body, dict):
            return invalid(["body"], "Field required", "missing")
        problem = self._check(body)
        if problem is not None:
            return problem
        if voice not in self.voices:
            return Reply(400, {"detail": {"status": "voice_not_found",
                                          "message": f"A voice with voice_id {voice} was not found."}})
        text = body["text"]
        codec, _, rest = fmt.partition("_")
        rate = int(rest.split("_")[0])
        data = tone({"mp3": "mp3", "pcm": "pcm", "opus": "ogg"}.get(codec, "pcm"), rate, speech_seconds(text))
        n = next(self._ids)
        request_id, item_id = f"req{n:04d}", f"hist{n:04d}"
        with self.lock:
            self.history.append({"history_item_id": item_id, "request_id": request_id, "voice_id": voice,
                                 "model_id": body.get("model_id", "eleven_multilingual_v2"), "text": text,
                                 "date_unix": int(self.now()), "character_count_change_from": 0,
                                 "character_count_change_to": len(text), "content_type": "audio/mpeg",
                                 "state": "created", "source": "TTS"})
            self.audio[item_id] = data
        headers = {"content-type": "audio/mpeg" if codec == "mp3" else "application/octet-stream",
                   "request-id": request_id, "character-cost": str(len(text))}
        if self.history_header:
            headers["history-item-id"] = item_id
        return Reply(200, data, headers)

    def _check(self, body: Mapping[str, Any]) -> Reply | None:
        """The request body schema (``Body_Text_to_speech_v1_text_to_speech__voice_id__post``)."""
        if not isinstance(body.get("text"), str):
            return invalid(["body", "text"], "Field required", "missing")
        if not body["text"].strip():
            return Reply(400, {"detail": {"status": "empty_text", "message": "Text must not be empty"}})
        for name in ("model_id", "language_code", "previous_text", "next_text"):
            if name in body and body[name] is not None and not isinstance(body[name], str):
                return invalid(["body", name], "Input should be a valid string", "string_type")
        seed = body.get("seed")
        if seed is not None and not (isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed <= 4294967295):
            return invalid(["body", "seed"], "Input should be an integer between 0 and 4294967295")
        settings = body.get("voice_settings")
        if settings is not None:
            if not isinstance(settings, dict):
                return invalid(["body", "voice_settings"], "Input should be a valid dictionary", "dict_type")
            for name in ("stability", "similarity_boost", "style"):
                if name in settings and not _number(settings[name], 0.0, 1.0):
                    return invalid(["body", "voice_settings", name], f"{name} must be between 0 and 1")
            if "speed" in settings and not _number(settings["speed"], 0.7, 1.2):
                return invalid(["body", "voice_settings", "speed"], "speed must be between 0.7 and 1.2")
            if "use_speaker_boost" in settings and not isinstance(settings["use_speaker_boost"], bool):
                return invalid(["body", "voice_settings", "use_speaker_boost"], "Input should be a valid boolean",
                               "bool_type")
        if body.get("language_code") and body.get("model_id", "eleven_multilingual_v2") not in _LANGUAGE_MODELS:
            return invalid(["body", "language_code"], "Language enforcement is only supported by Turbo v2.5 and "
                           "Flash v2.5")
        return None

    def _list(self, seen: Seen) -> Reply:
        size = int((seen.query.get("page_size") or ["100"])[0])
        voice = next(iter(seen.query.get("voice_id", [])), None)
        after = next(iter(seen.query.get("start_after_history_item_id", [])), None)
        with self.lock:
            items = [i for i in reversed(self.history) if voice is None or i["voice_id"] == voice]
        if after is not None:
            ids = [i["history_item_id"] for i in items]
            items = items[ids.index(after) + 1:] if after in ids else []
        page = items[:size]
        return Reply(200, {"history": page, "last_history_item_id": page[-1]["history_item_id"] if page else None,
                           "has_more": len(items) > size, "scanned_until": None})


class FakeHume(FakeServer):
    """``POST /v0/tts/file``: the audio file of one utterance list."""

    def __init__(self) -> None:
        super().__init__()
        self.keys = {HUME_KEY}
        self.voices = {("name", "Ava Song", "HUME_AI"), ("id", "9e068547-5ba4-4c8e-8e03-69282a008f04", None)}
        self.billed = 0

    def route(self, seen: Seen) -> Reply:
        if seen.headers.get("x-hume-api-key") not in self.keys:
            return Reply(401, {"error": "Unauthorized", "message": "Invalid API key", "code": "invalid_api_key"})
        if seen.method != "POST" or seen.path != "/v0/tts/file":
            return super().route(seen)
        body = seen.body
        if not isinstance(body, dict):
            return invalid(["body"], "Field required", "missing")
        problem = self._check(body)
        if problem is not None:
            return problem
        fmt = (body.get("format") or {"type": "mp3"})["type"]
        text = " ".join(u["text"] for u in body["utterances"])
        silence = sum(u.get("trailing_silence") or 0 for u in body["utterances"])
        data = tone(fmt, 48000, speech_seconds(text) + float(silence))
        with self.lock:
            self.billed += 1
        return Reply(200, data, {"content-type": {"mp3": "audio/mpeg", "wav": "audio/wav"}.get(fmt, "audio/pcm")})

    def _check(self, body: Mapping[str, Any]) -> Reply | None:
        """``OctaveBodyArgs`` and ``PostedUtterance`` as the reference gives them."""
        utterances = body.get("utterances")
        if not isinstance(utterances, list) or not utterances:
            return invalid(["body", "utterances"], "Field required", "missing")
        for index, utterance in enumerate(utterances):
            where = ["body", "utterances", index]
            if not isinstance(utterance, dict) or not isinstance(utterance.get("text"), str):
                return invalid([*where, "text"], "Field required", "missing")
            if "description" in utterance and not isinstance(utterance["description"], str):
                return invalid([*where, "description"], "Input should be a valid string", "string_type")
            if "speed" in utterance and not _number(utterance["speed"], 0.5, 2.0):
                return invalid([*where, "speed"], "speed must be between 0.5 and 2")
            if "trailing_silence" in utterance and not _number(utterance["trailing_silence"], 0.0, 5.0):
                return invalid([*where, "trailing_silence"], "trailing_silence must be between 0 and 5")
            voice = utterance.get("voice")
            if voice is not None:
                problem = self._voice(voice, [*where, "voice"])
                if problem is not None:
                    return problem
        fmt = body.get("format")
        if fmt is not None and (not isinstance(fmt, dict) or fmt.get("type") not in ("mp3", "wav", "pcm")):
            return invalid(["body", "format", "type"], "Input should be 'mp3', 'wav' or 'pcm'", "literal_error")
        if body.get("version") not in (None, "1", "2"):
            return invalid(["body", "version"], "Input should be '1' or '2'", "literal_error")
        if body.get("version") == "2" and not any(isinstance(u, dict) and u.get("voice") for u in utterances):
            return Reply(400, {"error": "Bad Request", "message": "Octave 2 requires a voice"})
        generations = body.get("num_generations")
        if generations is not None and not (isinstance(generations, int) and 1 <= generations <= 5):
            return invalid(["body", "num_generations"], "num_generations must be between 1 and 5")
        return None

    def _voice(self, voice: Any, where: list[Any]) -> Reply | None:
        if not isinstance(voice, dict) or len([k for k in ("id", "name") if k in voice]) != 1:
            return invalid(where, "voice must have exactly one of id or name")
        provider = voice.get("provider")
        if provider not in (None, "HUME_AI", "CUSTOM_VOICE"):
            return invalid([*where, "provider"], "Input should be 'HUME_AI' or 'CUSTOM_VOICE'", "enum")
        key = "id" if "id" in voice else "name"
        if key == "name":
            known = (key, voice[key], provider or "CUSTOM_VOICE") in self.voices
        else:
            known = any(k == "id" and v == voice["id"] for k, v, _ in self.voices)
        if not known:
            return Reply(404, {"error": "Not Found", "message": f"Voice {voice[key]!r} not found"})
        return None
