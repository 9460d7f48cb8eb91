"""Text to speech straight from ElevenLabs and Hume, over real HTTP fakes (``tts_fakes.py``).

What the SDK's ``generateAudio`` options become on the wire, the audio file that comes back
(probed: real audio with a duration), how vendor errors map to ProviderError codes, which key is
used, and the ledger rules for a billed synchronous request (a lost answer is looked up, never
blindly resent; a resumed attempt does not pay twice).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from tests.providers.fakes import FakeClock, Reply, policy
from tests.providers.tts_fakes import ELEVENLABS_KEY, HUME_KEY, RACHEL, FakeElevenLabs, FakeHume, speech_seconds
from vidassets.media import probe
from vidassets.providers.base import ProviderCancelled, ProviderError, ProviderResult, SpeechRequest
from vidassets.providers.elevenlabs import ElevenLabsProvider
from vidassets.providers.hume import HumeProvider
from vidassets.storage.vendor_jobs import SUCCEEDED, UNCONFIRMED, MemoryLedger

TEXT = "Hello! Welcome to our video tutorial."


@pytest.fixture
def eleven() -> Iterator[FakeElevenLabs]:
    server = FakeElevenLabs()
    yield server
    server.stop()


@pytest.fixture
def hume() -> Iterator[FakeHume]:
    server = FakeHume()
    yield server
    server.stop()


def elevenlabs(server: FakeElevenLabs, clock: FakeClock, key: str | None = ELEVENLABS_KEY) -> ElevenLabsProvider:
    return ElevenLabsProvider(base_url=server.url, api_key=SecretStr(key) if key else None, policy=policy(),
                              timing=clock.timing)


def humes(server: FakeHume, clock: FakeClock, key: str | None = HUME_KEY) -> HumeProvider:
    return HumeProvider(base_url=server.url, api_key=SecretStr(key) if key else None, policy=policy(),
                        timing=clock.timing)


def el_request(text: str = TEXT, *, model: str | None = "elevenlabs/turbo-v2.5", voice: Any = RACHEL,
               input: Mapping[str, Any] | None = None, **extra: Any) -> SpeechRequest:
    return SpeechRequest(text=text, model=model, voice=voice, extra=extra, input=input or {})


def hume_request(text: str = TEXT, *, voice: Any = None, input: Mapping[str, Any] | None = None,
                 **extra: Any) -> SpeechRequest:
    return SpeechRequest(text=text, model="hume/tts", voice=voice, extra=extra, input=input or {})


def speak(provider: ElevenLabsProvider | HumeProvider, request: SpeechRequest, out_dir: Path, *,
          api_key: str | None = None, cancel: threading.Event | None = None,
          ledger: MemoryLedger | None = None) -> ProviderResult:
    progress: list[float] = []
    result = provider.speak(request, out_dir=out_dir, api_key=api_key, on_progress=progress.append,
                            cancel=cancel or threading.Event(), ledger=ledger)
    assert progress[-1] == 1.0
    return result


def refused(call: Any, code: str, *secrets: str) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        call()
    assert caught.value.code == code, caught.value
    for secret in secrets:
        assert secret not in str(caught.value)
    return caught.value


def assert_speech(path: Path, text: str, *, codec: str, rate: int | None = None, extra_s: float = 0.0) -> None:
    info = probe(path, require_video=False)
    assert info.has_audio and (info.audio_codec or "").startswith(codec)  # PyAV names the mp3 decoder mp3float
    assert rate is None or info.sample_rate == rate
    assert info.duration == pytest.approx(speech_seconds(text) + extra_s, abs=0.1)


# -- ElevenLabs ---------------------------------------------------------------------------------


def test_elevenlabs_sends_the_documented_request_and_returns_real_mp3(eleven: FakeElevenLabs, fake_clock: FakeClock,
                                                                      tmp_path: Path) -> None:
    request = el_request(stability=0.3, similarityBoost=0.8, style=0.1, useSpeakerBoost=True, languageCode="es",
                         seed=7, outputFormat="mp3_44100_128", previousText="Intro.", sendJobWebhook=True)
    result = speak(elevenlabs(eleven, fake_clock), request, tmp_path)

    [seen] = eleven.seen("POST", "/v1/text-to-speech/")
    assert seen.path == f"/v1/text-to-speech/{RACHEL}"
    assert seen.query == {"output_format": ["mp3_44100_128"]}
    assert seen.headers["xi-api-key"] == ELEVENLABS_KEY and "authorization" not in seen.headers
    assert seen.body == {"text": TEXT, "model_id": "eleven_turbo_v2_5",
                         "voice_settings": {"stability": 0.3, "similarity_boost": 0.8, "style": 0.1,
                                            "use_speaker_boost": True},
                         "language_code": "es", "seed": 7, "previous_text": "Intro."}
    assert result.path == tmp_path / "speech.mp3" and result.provider == "elevenlabs"
    assert result.model == "eleven_turbo_v2_5"
    assert_speech(result.path, TEXT, codec="mp3")
    assert result.details["requestId"] == "req0001" and result.details["characters"] == len(TEXT)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["speech.mp3"]  # no temp file left
    assert eleven.billed == 1


@pytest.mark.parametrize(("model", "extra", "expected"), [
    ("elevenlabs/turbo-v2.5", {"modelId": "eleven_multilingual_v2"}, "eleven_multilingual_v2"),
    ("eleven_flash_v2_5", {}, "eleven_flash_v2_5"),  # the SDK spread modelId over the catalogue name
    (None, {}, "eleven_turbo_v2_5"),
])
def test_elevenlabs_model_id(eleven: FakeElevenLabs, fake_clock: FakeClock, tmp_path: Path, model: str | None,
                             extra: dict[str, Any], expected: str) -> None:
    result = speak(elevenlabs(eleven, fake_clock), el_request(model=model, **extra), tmp_path)
    assert eleven.requests[-1].body["model_id"] == expected and result.model == expected


def test_elevenlabs_input_fields_win(eleven: FakeElevenLabs, fake_clock: FakeClock, tmp_path: Path) -> None:
    request = el_request(stability=0.3, style=0.2, input={"model_id": "eleven_flash_v2_5",
                                                          "voice_settings": {"stability": 0.9},
                                                          "apply_text_normalization": "off"})
    speak(elevenlabs(eleven, fake_clock), request, tmp_path)
    body = eleven.requests[-1].body
    assert body["model_id"] == "eleven_flash_v2_5" and body["apply_text_normalization"] == "off"
    assert body["voice_settings"] == {"stability": 0.9, "style": 0.2}


def test_elevenlabs_pcm_is_wrapped_into_wav_at_its_rate(eleven: FakeElevenLabs, fake_clock: FakeClock,
                                                        tmp_path: Path) -> None:
    text = "A longer sentence, so that the speech lasts for a while."
    result = speak(elevenlabs(eleven, fake_clock), el_request(text, outputFormat="pcm_24000"), tmp_path)
    assert eleven.requests[-1].query == {"output_format": ["pcm_24000"]}
    assert result.path.name == "speech.wav"
    assert_speech(result.path, text, codec="pcm_s16le", rate=24000)  # a wrong rate in the header would change the duration


@pytest.mark.parametrize(("server_key", "call_key"), [("sk_not_the_right_one", ELEVENLABS_KEY), (ELEVENLABS_KEY, None)])
def test_the_calls_key_wins_over_the_servers(eleven: FakeElevenLabs, fake_clock: FakeClock, tmp_path: Path,
                                             server_key: str, call_key: str | None) -> None:
    speak(elevenlabs(eleven, fake_clock, key=server_key), el_request(), tmp_path, api_key=call_key)
    assert eleven.requests[-1].headers["xi-api-key"] == ELEVENLABS_KEY


def test_no_key_at_all_is_unavailable_and_names_the_setting(eleven: FakeElevenLabs, hume: FakeHume,
                                                            fake_clock: FakeClock, tmp_path: Path) -> None:
    error = refused(lambda: speak(elevenlabs(eleven, fake_clock, key=None), el_request(), tmp_path),
                    "provider_unavailable")
    assert "VIDASSETS_ELEVENLABS_API_KEY" in str(error)
    error = refused(lambda: speak(humes(hume, fake_clock, key=None), hume_request(), tmp_path), "provider_unavailable")
    assert "VIDASSETS_HUME_API_KEY" in str(error)
    assert eleven.requests == [] and hume.requests == []


def test_elevenlabs_refusals_map_to_codes_without_the_key(eleven: FakeElevenLabs, fake_clock: FakeClock,
                                                          tmp_path: Path) -> None:
    wrong = "sk_el_WrongKeyWrongKey0000"
    error = refused(lambda: speak(elevenlabs(eleven, fake_clock, key=wrong), el_request(), tmp_path),
                    "provider_auth", wrong)
    assert "Invalid API key" in str(error)
    provider = elevenlabs(eleven, fake_clock)
    error = refused(lambda: speak(provider, el_request(input={"voice_settings": {"stability": 1.5}}), tmp_path),
                    "provider_rejected", ELEVENLABS_KEY)
    assert "HTTP 422" in str(error) and "stability must be between 0 and 1" in str(error)
    error = refused(lambda: speak(provider, el_request(voice="NoSuchVoice00000"), tmp_path), "provider_rejected")
    assert "HTTP 400" in str(error) and "was not found" in str(error)
    error = refused(lambda: speak(provider, el_request(model="eleven_multilingual_v2", languageCode="fr"), tmp_path),
                    "provider_rejected")
    assert "Language enforcement" in str(error)
    assert eleven.billed == 0 and not list(tmp_path.glob("speech.*"))


def test_elevenlabs_checks_what_goes_into_the_url_and_query(eleven: FakeElevenLabs, fake_clock: FakeClock,
                                                            tmp_path: Path) -> None:
    provider = elevenlabs(eleven, fake_clock)
    refused(lambda: speak(provider, el_request(voice="../v1/history"), tmp_path), "invalid_params")
    refused(lambda: speak(provider, el_request(voice=None), tmp_path), "invalid_params")
    refused(lambda: speak(provider, el_request(outputFormat="ulaw_8000"), tmp_path), "invalid_params")
    refused(lambda: speak(provider, el_request(stability="high"), tmp_path), "invalid_params")
    refused(lambda: speak(provider, el_request(model="replicate/some-tts"), tmp_path), "invalid_params")
    assert eleven.requests == []


def test_a_429_is_retried_after_its_retry_after(eleven: FakeElevenLabs, fake_clock: FakeClock, tmp_path: Path) -> None:
    busy = {"detail": {"status": "too_many_concurrent_requests", "message": "Too many concurrent requests"}}
    eleven.fault("POST", "/v1/text-to-speech/", Reply(429, busy, {"retry-after": "7"}))
    result = speak(elevenlabs(eleven, fake_clock), el_request(), tmp_path)
    assert fake_clock.sleeps == [7.0]
    assert eleven.count("POST", "/v1/text-to-speech/") == 2 and eleven.billed == 1
    assert_speech(result.path, TEXT, codec="mp3")


def test_rate_limits_that_never_end_are_rate_limited(eleven: FakeElevenLabs, fake_clock: FakeClock,
                                                     tmp_path: Path) -> None:
    busy = {"detail": {"status": "system_busy", "message": "busy"}}
    eleven.fault("POST", "/v1/text-to-speech/", *[Reply(429, busy)] * 4)
    error = refused(lambda: speak(elevenlabs(eleven, fake_clock), el_request(), tmp_path), "rate_limited")
    assert error.retryable and eleven.billed == 0


def test_a_lost_answer_is_found_in_the_history_not_billed_again(eleven: FakeElevenLabs, fake_clock: FakeClock,
                                                                tmp_path: Path) -> None:
    eleven.fault("POST", "/v1/text-to-speech/", Reply(after=True, drop=True))  # billed, then no answer
    ledger = MemoryLedger()
    result = speak(elevenlabs(eleven, fake_clock), el_request(), tmp_path, ledger=ledger)
    assert eleven.count("POST", "/v1/text-to-speech/") == 1 and eleven.billed == 1
    assert eleven.count("GET", "^/v1/history$") >= 1
    assert eleven.count("GET", "^/v1/history/hist0001/audio$") == 1
    assert_speech(result.path, TEXT, codec="mp3")
    [row] = ledger.rows.values()
    assert row.status == SUCCEEDED and row.vendor_job_id == "req0001"


def test_a_500_after_the_work_is_looked_up_before_sending_again(eleven: FakeElevenLabs, fake_clock: FakeClock,
                                                                tmp_path: Path) -> None:
    """A 500 may come after ElevenLabs did (and billed) the work: look, find nothing, send again."""
    eleven.fault("POST", "/v1/text-to-speech/", Reply(500, {"detail": {"status": "error", "message": "boom"}}))
    result = speak(elevenlabs(eleven, fake_clock), el_request(), tmp_path)
    assert eleven.count("GET", "^/v1/history$") == 2  # two lookups found nothing
    assert eleven.count("POST", "/v1/text-to-speech/") == 2 and eleven.billed == 1
    assert_speech(result.path, TEXT, codec="mp3")


@pytest.mark.parametrize("history_header", [True, False])
def test_a_resumed_attempt_fetches_the_audio_it_paid_for(eleven: FakeElevenLabs, fake_clock: FakeClock,
                                                         tmp_path: Path, history_header: bool) -> None:
    """By the answer's history item, or (only a request-id) by finding that request in the history."""
    eleven.history_header = history_header
    ledger = MemoryLedger()
    provider = elevenlabs(eleven, fake_clock)
    speak(provider, el_request(), tmp_path / "first", ledger=ledger)
    again = speak(provider, el_request(), tmp_path / "second", ledger=ledger)
    assert eleven.billed == 1 and eleven.count("POST", "/v1/text-to-speech/") == 1
    assert eleven.count("GET", "^/v1/history/hist0001/audio$") == 1
    assert again.path == tmp_path / "second" / "speech.mp3"
    assert_speech(again.path, TEXT, codec="mp3")


def test_an_answer_that_is_not_audio_is_refused(eleven: FakeElevenLabs, fake_clock: FakeClock, tmp_path: Path) -> None:
    eleven.fault("POST", "/v1/text-to-speech/", Reply(200, b"<html><body>maintenance</body></html>",
                                                      {"content-type": "text/html"}))
    error = refused(lambda: speak(elevenlabs(eleven, fake_clock), el_request(), tmp_path), "provider_failed")
    assert "not the audio" in str(error)
    assert not [p for p in tmp_path.iterdir() if p.is_file()]


def test_cancel_before_sending_sends_nothing(eleven: FakeElevenLabs, hume: FakeHume, fake_clock: FakeClock,
                                             tmp_path: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(ProviderCancelled):
        speak(elevenlabs(eleven, fake_clock), el_request(), tmp_path, cancel=cancel)
    with pytest.raises(ProviderCancelled):
        speak(humes(hume, fake_clock), hume_request(), tmp_path, cancel=cancel)
    assert eleven.requests == [] and hume.requests == []


# -- Hume ---------------------------------------------------------------------------------------


def test_hume_sends_the_documented_request_and_returns_real_audio(hume: FakeHume, fake_clock: FakeClock,
                                                                  tmp_path: Path) -> None:
    request = hume_request(voice={"name": "Ava Song", "provider": "HUME_AI"}, description="Calm, soothing",
                           speed=1.1, trailingSilence=0.5, format="wav", version="2")
    result = speak(humes(hume, fake_clock), request, tmp_path)

    [seen] = hume.seen("POST", "^/v0/tts/file$")
    assert seen.headers["x-hume-api-key"] == HUME_KEY and "authorization" not in seen.headers
    assert seen.body == {"utterances": [{"text": TEXT, "voice": {"name": "Ava Song", "provider": "HUME_AI"},
                                         "description": "Calm, soothing", "speed": 1.1, "trailing_silence": 0.5}],
                         "format": {"type": "wav"}, "version": "2"}
    assert result.path == tmp_path / "speech.wav" and result.model == "hume/tts"
    assert_speech(result.path, TEXT, codec="pcm_s16le", rate=48000, extra_s=0.5)


def test_hume_defaults_to_mp3_and_a_designed_voice(hume: FakeHume, fake_clock: FakeClock, tmp_path: Path) -> None:
    result = speak(humes(hume, fake_clock), hume_request(description="Excited, energetic"), tmp_path)
    assert hume.requests[-1].body == {"utterances": [{"text": TEXT, "description": "Excited, energetic"}],
                                      "format": {"type": "mp3"}}
    assert result.path.name == "speech.mp3"
    assert_speech(result.path, TEXT, codec="mp3")


def test_hume_pcm_is_asked_as_wav(hume: FakeHume, fake_clock: FakeClock, tmp_path: Path) -> None:
    result = speak(humes(hume, fake_clock), hume_request(format="pcm", voice={"id": "9e068547-5ba4-4c8e-8e03-69282a008f04"}),
                   tmp_path)
    assert hume.requests[-1].body["format"] == {"type": "wav"}
    assert result.details["requestedFormat"] == "pcm"
    assert_speech(result.path, TEXT, codec="pcm_s16le")


def test_hume_refusals_map_to_codes_without_the_key(hume: FakeHume, fake_clock: FakeClock, tmp_path: Path) -> None:
    wrong = "hume_WrongKeyWrongKey0000"
    error = refused(lambda: speak(humes(hume, fake_clock, key=wrong), hume_request(), tmp_path), "provider_auth", wrong)
    assert "Invalid API key" in str(error)
    provider = humes(hume, fake_clock)
    error = refused(lambda: speak(provider, hume_request(speed=3.0), tmp_path), "provider_rejected", HUME_KEY)
    assert "HTTP 422" in str(error) and "speed must be between 0.5 and 2" in str(error)
    error = refused(lambda: speak(provider, hume_request(voice={"name": "Nobody"}), tmp_path), "provider_rejected")
    assert "Voice 'Nobody' not found" in str(error)
    for bad in (hume_request(numGenerations=3), hume_request(voice={"id": "a", "name": "b"}),
                hume_request(voice={"name": "Ava Song", "provider": "OTHER"}), hume_request(format="flac")):
        refused(lambda bad=bad: speak(provider, bad, tmp_path), "invalid_params")
    assert hume.billed == 0


def test_hume_lost_answer_is_unconfirmed_not_resent(hume: FakeHume, fake_clock: FakeClock, tmp_path: Path) -> None:
    """Hume cannot list past generations: a 500 that may follow billed work is not sent again."""
    hume.fault("POST", "^/v0/tts/file$", Reply(500, {"message": "internal"}, after=True))
    ledger = MemoryLedger()
    provider = humes(hume, fake_clock)
    error = refused(lambda: speak(provider, hume_request(), tmp_path, ledger=ledger), "vendor_create_unconfirmed")
    assert "may have started a paid job" in str(error)
    assert hume.billed == 1 and hume.count("POST", "/v0/tts/file") == 1
    [row] = ledger.rows.values()
    assert row.status == UNCONFIRMED
    refused(lambda: speak(provider, hume_request(), tmp_path, ledger=ledger), "vendor_create_unconfirmed")
    assert hume.count("POST", "/v0/tts/file") == 1


def test_hume_resumed_attempt_without_its_audio_fails_instead_of_paying_again(hume: FakeHume, fake_clock: FakeClock,
                                                                              tmp_path: Path) -> None:
    ledger = MemoryLedger()
    provider = humes(hume, fake_clock)
    speak(provider, hume_request(), tmp_path / "first", ledger=ledger)
    error = refused(lambda: speak(provider, hume_request(), tmp_path / "second", ledger=ledger), "provider_failed")
    assert "no way to fetch it again" in str(error)
    assert hume.billed == 1
