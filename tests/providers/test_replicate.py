"""The Replicate client against a fake predictions API on loopback."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.providers.fakes import KEY, FakeClock, FakeReplicate, FakeServer, Reply, policy
from vidassets.providers.base import GenerateRequest, LipSyncRequest, ProviderCancelled, ProviderError, Word
from vidassets.providers.replicate import (
    WORD_TIMESTAMPS_WHISPER,
    ReplicateProvider,
    prediction_endpoint,
    transcription_input,
)


def provider(server: FakeReplicate, clock: FakeClock, **overrides: object) -> ReplicateProvider:
    return ReplicateProvider(base_url=f"{server.url}/v1", policy=policy(**overrides), timing=clock.timing)


def request(**overrides: object) -> GenerateRequest:
    values: dict[str, object] = {"prompt": "a fox in the snow", "duration": 5.0, "aspect_ratio": "16:9",
                                 "resolution": "720p", "seed": 7, "model": "acme/video-gen"}
    return GenerateRequest(**{**values, **overrides})  # type: ignore[arg-type]


def test_generate_polls_until_done_and_streams_the_output(replicate_server: FakeReplicate, fake_clock: FakeClock,
                                                          plain_server: FakeServer, tmp_path: Path,
                                                          clip_bytes: bytes) -> None:
    replicate_server.output = [plain_server.file_url("out.mp4")]  # outputs live on a CDN, another origin
    progress: list[float] = []
    out = tmp_path / "out.mp4"
    result = provider(replicate_server, fake_clock).generate(
        request(start_image="https://img.example/cat.png", extra={"prompt_optimizer": False}),
        out=out, api_key=KEY, on_progress=progress.append, cancel=threading.Event())

    assert out.read_bytes() == clip_bytes
    assert result.provider == "replicate" and result.model == "acme/video-gen" and not result.offline
    assert result.details == {"predictionId": "p1", "bytes": len(clip_bytes), "billedSeconds": 4.2}  # predict_time
    create = replicate_server.seen("POST", r"/predictions$")[0]
    assert create.path == "/v1/models/acme/video-gen/predictions"
    assert create.headers["authorization"] == f"Bearer {KEY}"
    assert create.body == {"input": {"prompt": "a fox in the snow", "duration": 5, "aspect_ratio": "16:9",
                                     "resolution": "720p", "seed": 7, "start_image": "https://img.example/cat.png",
                                     "prompt_optimizer": False}}
    assert replicate_server.count("GET", r"^/v1/predictions/p1$") == 3
    # The poll interval grows 1.5x between polls; progress comes from the logs, then 1.0.
    assert fake_clock.sleeps == [1.0, 1.5]
    assert progress == [0.3, 0.6, 1.0]
    # The CDN download carries no key.
    assert "authorization" not in plain_server.seen("GET", r"^/files/")[0].headers


def test_versioned_model_uses_the_predictions_endpoint(replicate_server: FakeReplicate, fake_clock: FakeClock,
                                                       tmp_path: Path) -> None:
    version = "a" * 64
    provider(replicate_server, fake_clock).generate(request(model=f"acme/video-gen:{version}"), out=tmp_path / "o.mp4",
                                                    api_key=KEY, on_progress=lambda _: None, cancel=threading.Event())
    create = replicate_server.seen("POST", r"predictions$")[0]
    assert create.path == "/v1/predictions" and create.body["version"] == version
    assert prediction_endpoint("https://r/v1", version) == ("https://r/v1/predictions", {"version": version})
    with pytest.raises(ProviderError) as info:
        prediction_endpoint("https://r/v1", "not-a-model")
    assert info.value.code == "invalid_params"


def test_429_honours_retry_after_then_retries(replicate_server: FakeReplicate, fake_clock: FakeClock,
                                              tmp_path: Path, clip_bytes: bytes) -> None:
    replicate_server.fault("POST", r"predictions$", Reply(429, {"detail": "slow down"}, {"Retry-After": "7"}))
    out = tmp_path / "o.mp4"
    provider(replicate_server, fake_clock).generate(request(), out=out, api_key=KEY, on_progress=lambda _: None,
                                                    cancel=threading.Event())
    assert replicate_server.count("POST", r"predictions$") == 2
    assert fake_clock.sleeps[0] == 7.0
    assert out.read_bytes() == clip_bytes


def test_5xx_is_retried_with_exponential_backoff(replicate_server: FakeReplicate, fake_clock: FakeClock,
                                                 tmp_path: Path, clip_bytes: bytes) -> None:
    replicate_server.fault("GET", r"/predictions/p1$", Reply(502), Reply(503, {"detail": "busy"}))
    out = tmp_path / "o.mp4"
    provider(replicate_server, fake_clock).generate(request(), out=out, api_key=KEY, on_progress=lambda _: None,
                                                    cancel=threading.Event())
    assert out.read_bytes() == clip_bytes
    assert fake_clock.sleeps[:2] == [0.5, 1.0]  # backoff 0.5 s, then 1 s, then the poll succeeds


def test_401_fails_at_once_without_retries(replicate_server: FakeReplicate, fake_clock: FakeClock,
                                           tmp_path: Path) -> None:
    replicate_server.fault("POST", r"predictions$", Reply(401, {"title": "Unauthenticated",
                                                                "detail": "You did not pass a valid token"}))
    with pytest.raises(ProviderError) as info:
        provider(replicate_server, fake_clock).generate(request(), out=tmp_path / "o.mp4", api_key=KEY,
                                                        on_progress=lambda _: None, cancel=threading.Event())
    assert info.value.code == "provider_auth" and not info.value.retryable
    assert "valid token" in str(info.value)
    assert len(replicate_server.requests) == 1 and fake_clock.sleeps == []


def test_invalid_input_is_rejected_with_the_vendor_message(replicate_server: FakeReplicate, fake_clock: FakeClock,
                                                           tmp_path: Path) -> None:
    replicate_server.fault("POST", r"predictions$", Reply(422, {"title": "Input validation failed",
                                                                "detail": "- duration: must be 6 or 10"}))
    with pytest.raises(ProviderError) as info:
        provider(replicate_server, fake_clock).generate(request(), out=tmp_path / "o.mp4", api_key=KEY,
                                                        on_progress=lambda _: None, cancel=threading.Event())
    assert info.value.code == "provider_rejected" and "must be 6 or 10" in str(info.value)
    assert len(replicate_server.requests) == 1


def test_content_policy_failure(replicate_server: FakeReplicate, fake_clock: FakeClock, tmp_path: Path) -> None:
    replicate_server.status, replicate_server.error = "failed", "NSFW content detected. Try a different prompt."
    out = tmp_path / "o.mp4"
    with pytest.raises(ProviderError) as info:
        provider(replicate_server, fake_clock).generate(request(), out=out, api_key=KEY, on_progress=lambda _: None,
                                                        cancel=threading.Event())
    assert info.value.code == "content_policy" and "NSFW" in str(info.value)
    assert not out.exists()
    assert replicate_server.count("POST", r"/cancel$") == 0  # it had already ended


def test_model_failure_is_provider_failed(replicate_server: FakeReplicate, fake_clock: FakeClock,
                                          tmp_path: Path) -> None:
    replicate_server.status, replicate_server.error = "failed", "CUDA out of memory"
    with pytest.raises(ProviderError) as info:
        provider(replicate_server, fake_clock).generate(request(), out=tmp_path / "o.mp4", api_key=KEY,
                                                        on_progress=lambda _: None, cancel=threading.Event())
    assert info.value.code == "provider_failed" and "CUDA" in str(info.value)


def test_overall_timeout_cancels_the_prediction(replicate_server: FakeReplicate, fake_clock: FakeClock,
                                                tmp_path: Path) -> None:
    replicate_server.polls_needed = 10_000
    start = fake_clock.now
    with pytest.raises(ProviderError) as info:
        provider(replicate_server, fake_clock, timeout_s=30.0).generate(
            request(), out=tmp_path / "o.mp4", api_key=KEY, on_progress=lambda _: None, cancel=threading.Event())
    assert info.value.code == "timeout"
    assert fake_clock.now - start == pytest.approx(30.0)
    assert max(fake_clock.sleeps) == 5.0  # the poll interval is capped
    assert replicate_server.count("POST", r"/v1/predictions/p1/cancel$") == 1


def test_cancel_during_polling_propagates_to_replicate(replicate_server: FakeReplicate, fake_clock: FakeClock,
                                                       tmp_path: Path) -> None:
    cancel = threading.Event()
    replicate_server.polls_needed = 100
    replicate_server.on_poll = lambda n: cancel.set() if n == 2 else None
    with pytest.raises(ProviderCancelled) as info:
        provider(replicate_server, fake_clock).generate(request(), out=tmp_path / "o.mp4", api_key=KEY,
                                                        on_progress=lambda _: None, cancel=cancel)
    assert info.value.code == "cancelled"
    cancels = replicate_server.seen("POST", r"/v1/predictions/p1/cancel$")
    assert len(cancels) == 1 and cancels[0].headers["authorization"] == f"Bearer {KEY}"
    assert replicate_server.count("GET", r"/predictions/p1$") == 2


def test_an_exception_from_on_progress_also_cancels_remotely(replicate_server: FakeReplicate,
                                                             fake_clock: FakeClock, tmp_path: Path) -> None:
    """The executor stops a job by raising from on_progress; the vendor job must not keep running."""
    def stop(_: float) -> None:
        raise RuntimeError("job cancelled by the executor")

    with pytest.raises(RuntimeError):
        provider(replicate_server, fake_clock).generate(request(), out=tmp_path / "o.mp4", api_key=KEY,
                                                        on_progress=stop, cancel=threading.Event())
    assert replicate_server.count("POST", r"/cancel$") == 1


def test_output_size_cap(replicate_server: FakeReplicate, fake_clock: FakeClock, tmp_path: Path) -> None:
    out = tmp_path / "o.mp4"
    with pytest.raises(ProviderError) as info:
        provider(replicate_server, fake_clock, max_download_bytes=1000).generate(
            request(), out=out, api_key=KEY, on_progress=lambda _: None, cancel=threading.Event())
    assert info.value.code == "output_too_large"
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_lip_sync_publishes_inputs(replicate_server: FakeReplicate, fake_clock: FakeClock, tmp_path: Path,
                                   small_files: tuple[Path, Path], clip_bytes: bytes) -> None:
    video, audio = small_files
    out = tmp_path / "synced.mp4"
    result = provider(replicate_server, fake_clock).lip_sync(
        LipSyncRequest(extra={"sync_mode": "loop"}), video=video, audio=audio, out=out, api_key=KEY,
        on_progress=lambda _: None, cancel=threading.Event(), publish=lambda p: f"https://bucket.example/{p.name}?sig=1")
    assert out.read_bytes() == clip_bytes and result.model == "sync/lipsync-2"
    create = replicate_server.seen("POST", r"predictions$")[0]
    assert create.path == "/v1/models/sync/lipsync-2/predictions"
    assert create.body["input"] == {"video": "https://bucket.example/in.mp4?sig=1",
                                    "audio": "https://bucket.example/voice.m4a?sig=1", "sync_mode": "loop"}


def test_lip_sync_inlines_small_files_without_a_publisher(replicate_server: FakeReplicate, fake_clock: FakeClock,
                                                          tmp_path: Path, small_files: tuple[Path, Path]) -> None:
    video, audio = small_files
    provider(replicate_server, fake_clock).lip_sync(
        LipSyncRequest(), video=video, audio=audio, out=tmp_path / "o.mp4", api_key=KEY,
        on_progress=lambda _: None, cancel=threading.Event(), publish=None)
    body = replicate_server.seen("POST", r"predictions$")[0].body["input"]
    assert body["video"].startswith("data:video/mp4;base64,")
    assert body["audio"].startswith("data:audio/")


# hnesk/whisper-wordtimestamps returns openai-whisper's transcribe() result: ModelOutput
# {"detected_language": <name>, "transcription": <text>, "segments": [{"id", "seek", "start", "end", "text",
# "tokens", "temperature", "avg_logprob", "compression_ratio", "no_speech_prob",
# "words": [{"word", "start", "end", "probability"}]}]}
WHISPER_WORDS_OUTPUT = {
    "detected_language": "english",
    "transcription": " Hello world. Bye",
    "segments": [
        {"id": 0, "seek": 0, "start": 0.0, "end": 1.0, "text": " Hello world.", "tokens": [50364, 2425, 1002, 13],
         "temperature": 0.0, "avg_logprob": -0.2, "compression_ratio": 0.8, "no_speech_prob": 0.01,
         "words": [{"word": " Hello", "start": 0.0, "end": 0.4, "probability": 0.98},
                   {"word": " world.", "start": 0.5, "end": 1.0, "probability": 0.95}]},
        {"id": 1, "seek": 0, "start": 1.2, "end": 2.0, "text": " Bye", "tokens": [4621], "temperature": 0.0,
         "avg_logprob": -0.3, "compression_ratio": 0.5, "no_speech_prob": 0.02,
         "words": [{"word": " Bye", "start": 1.2, "end": 2.0, "probability": 0.9}]},
    ],
}


def test_transcribe_uses_a_pinned_word_timestamp_whisper(replicate_server: FakeReplicate, fake_clock: FakeClock,
                                                         small_files: tuple[Path, Path]) -> None:
    replicate_server.output = WHISPER_WORDS_OUTPUT
    words = provider(replicate_server, fake_clock).transcribe(
        media=small_files[1], language="en", model=None, api_key=KEY, cancel=threading.Event(),
        publish=lambda p: "https://bucket.example/voice.m4a")
    assert words == [Word(0.0, 0.4, "Hello"), Word(0.5, 1.0, "world."), Word(1.2, 2.0, "Bye")]
    create = replicate_server.seen("POST", r"predictions$")[0]
    # A pinned version goes to /predictions with the version id in the body.
    assert create.path == "/v1/predictions"
    assert create.body["version"] == WORD_TIMESTAMPS_WHISPER.split(":")[1] and len(create.body["version"]) == 64
    assert create.body["input"] == {"audio": "https://bucket.example/voice.m4a", "word_timestamps": True,
                                    "model": "large-v2", "language": "en"}


def test_transcribe_with_a_whisperx_model(replicate_server: FakeReplicate, fake_clock: FakeClock,
                                          small_files: tuple[Path, Path]) -> None:
    """WhisperX builds take ``audio_file``/``align_output`` and may leave a word unaligned (no times)."""
    replicate_server.output = {"detected_language": "en", "segments": [
        {"start": 0.1, "end": 1.5, "text": " It costs 20 dollars",
         "words": [{"word": "It", "start": 0.1, "end": 0.3, "score": 0.9},
                   {"word": "costs", "start": 0.35, "end": 0.7, "score": 0.8},
                   {"word": "20"},  # numbers are not aligned by wav2vec2: no start/end
                   {"word": "dollars", "start": 1.0, "end": 1.5, "score": 0.7}]}]}
    words = provider(replicate_server, fake_clock).transcribe(
        media=small_files[1], language=None, model="victor-upmeet/whisperx", api_key=KEY,
        cancel=threading.Event(), publish=lambda p: "https://bucket.example/voice.m4a")
    assert [w.text for w in words] == ["It", "costs", "dollars"]
    create = replicate_server.seen("POST", r"predictions$")[0]
    assert create.path == "/v1/models/victor-upmeet/whisperx/predictions"
    assert create.body["input"] == {"audio_file": "https://bucket.example/voice.m4a", "align_output": True}


def test_transcription_input_shapes() -> None:
    assert transcription_input("acme/whisper-x:" + "b" * 64, "u", "de") == {
        "audio": "u", "word_timestamps": True, "language": "de"}
    assert transcription_input("someone/WhisperX-fast", "u", None) == {"audio_file": "u", "align_output": True}


def test_server_side_key_is_used_when_the_caller_brings_none(replicate_server: FakeReplicate, fake_clock: FakeClock,
                                                             tmp_path: Path) -> None:
    client = ReplicateProvider(base_url=f"{replicate_server.url}/v1", api_key="r8_server", policy=policy(),
                               timing=fake_clock.timing)
    client.generate(request(), out=tmp_path / "o.mp4", api_key=None, on_progress=lambda _: None,
                    cancel=threading.Event())
    assert replicate_server.requests[0].headers["authorization"] == "Bearer r8_server"
    assert "r8_server" not in repr(client)
    bare = ReplicateProvider(base_url=f"{replicate_server.url}/v1", policy=policy(), timing=fake_clock.timing)
    with pytest.raises(ProviderError) as info:
        bare.generate(request(), out=tmp_path / "o.mp4", api_key=None, on_progress=lambda _: None,
                      cancel=threading.Event())
    assert info.value.code == "provider_auth" and "VIDASSETS_REPLICATE_API_KEY" in str(info.value)
