"""The fal client against a fake queue API on loopback."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.providers.fakes import KEY, FakeClock, FakeFal, Reply, policy
from vidassets.providers.base import GenerateRequest, LipSyncRequest, ProviderCancelled, ProviderError, Word
from vidassets.providers.fal import FalProvider, request_urls

MODEL = "fal-ai/kling-video/v2/master/text-to-video"


def provider(server: FakeFal, clock: FakeClock, **overrides: object) -> FalProvider:
    return FalProvider(base_url=server.url, policy=policy(**overrides), timing=clock.timing)


def request(**overrides: object) -> GenerateRequest:
    values: dict[str, object] = {"prompt": "waves at dusk", "duration": 5.0, "aspect_ratio": "9:16",
                                 "resolution": "720p", "model": MODEL}
    return GenerateRequest(**{**values, **overrides})  # type: ignore[arg-type]


def test_generate_through_the_queue(fal_server: FakeFal, fake_clock: FakeClock, tmp_path: Path,
                                    clip_bytes: bytes) -> None:
    progress: list[float] = []
    out = tmp_path / "out.mp4"
    result = provider(fal_server, fake_clock).generate(request(start_image="https://img.example/a.png"), out=out,
                                                       api_key=KEY, on_progress=progress.append,
                                                       cancel=threading.Event())
    assert out.read_bytes() == clip_bytes
    assert result.provider == "fal" and result.model == MODEL and result.details["requestId"] == "r1"
    submit = fal_server.requests[0]
    assert (submit.method, submit.path) == ("POST", f"/{MODEL}")
    assert submit.headers["authorization"] == f"Key {KEY}"
    assert submit.body == {"prompt": "waves at dusk", "duration": 5, "aspect_ratio": "9:16", "resolution": "720p",
                           "image_url": "https://img.example/a.png"}
    statuses = fal_server.seen("GET", r"/requests/r1/status$")
    assert len(statuses) == 3 and statuses[0].path == "/fal-ai/kling-video/requests/r1/status"
    assert statuses[0].query == {"logs": ["1"]}
    assert fal_server.count("GET", r"/requests/r1$") == 1
    assert progress == [0.0, 0.6, 1.0]  # queued, then the logs' percentage, then the file
    assert fake_clock.sleeps == [1.0, 1.5]


def test_request_urls_follow_the_app_id() -> None:
    assert request_urls("https://queue.fal.run", MODEL, "abc") == (
        "https://queue.fal.run/fal-ai/kling-video/requests/abc/status",
        "https://queue.fal.run/fal-ai/kling-video/requests/abc",
        "https://queue.fal.run/fal-ai/kling-video/requests/abc/cancel",
    )


def test_vendor_urls_on_another_origin_are_not_trusted(fal_server: FakeFal, fake_clock: FakeClock,
                                                       tmp_path: Path) -> None:
    """A response cannot steer the key elsewhere: foreign status/response URLs are replaced."""
    fal_server.fault("POST", rf"^/{MODEL}$", Reply(200, {
        "request_id": "r1", "status_url": "http://evil.example/status", "response_url": "http://evil.example/r",
        "cancel_url": "http://evil.example/c"}))
    provider(fal_server, fake_clock).generate(request(), out=tmp_path / "o.mp4", api_key=KEY,
                                              on_progress=lambda _: None, cancel=threading.Event())
    assert fal_server.count("GET", r"^/fal-ai/kling-video/requests/r1/status$") == 3


def test_content_policy_violation_on_the_result(fal_server: FakeFal, fake_clock: FakeClock, tmp_path: Path) -> None:
    fal_server.result = Reply(422, {"detail": [{"loc": ["body", "prompt"], "type": "content_policy_violation",
                                                "msg": "The content could not be processed because it contained "
                                                       "material flagged by a content checker."}]})
    with pytest.raises(ProviderError) as info:
        provider(fal_server, fake_clock).generate(request(), out=tmp_path / "o.mp4", api_key=KEY,
                                                  on_progress=lambda _: None, cancel=threading.Event())
    assert info.value.code == "content_policy" and "content checker" in str(info.value)
    assert fal_server.count("GET", r"/requests/r1$") == 1  # not retried


def test_401_fails_at_once(fal_server: FakeFal, fake_clock: FakeClock, tmp_path: Path) -> None:
    fal_server.fault("POST", rf"^/{MODEL}$", Reply(401, {"detail": "Invalid Key authorization header format"}))
    with pytest.raises(ProviderError) as info:
        provider(fal_server, fake_clock).generate(request(), out=tmp_path / "o.mp4", api_key=KEY,
                                                  on_progress=lambda _: None, cancel=threading.Event())
    assert info.value.code == "provider_auth" and len(fal_server.requests) == 1


def test_transient_errors_exhausted(fal_server: FakeFal, fake_clock: FakeClock, tmp_path: Path) -> None:
    """503 says the submit was not taken: sent again with backoff, until the retries run out."""
    fal_server.fault("POST", rf"^/{MODEL}$", *[Reply(503, {"detail": "busy"})] * 10)
    with pytest.raises(ProviderError) as info:
        provider(fal_server, fake_clock, max_retries=2).generate(request(), out=tmp_path / "o.mp4", api_key=KEY,
                                                                 on_progress=lambda _: None, cancel=threading.Event())
    assert info.value.code == "provider_unavailable" and info.value.retryable
    assert len(fal_server.requests) == 3 and fake_clock.sleeps == [0.5, 1.0]


def test_a_500_on_submit_is_not_sent_again(fal_server: FakeFal, fake_clock: FakeClock, tmp_path: Path) -> None:
    """A 500 may come after fal queued the request, and fal cannot find it for us: fail clearly."""
    fal_server.fault("POST", rf"^/{MODEL}$", Reply(500, {"detail": "oops"}))
    with pytest.raises(ProviderError) as info:
        provider(fal_server, fake_clock).generate(request(), out=tmp_path / "o.mp4", api_key=KEY,
                                                  on_progress=lambda _: None, cancel=threading.Event())
    assert info.value.code == "vendor_create_unconfirmed" and not info.value.retryable
    assert "HTTP 500" in str(info.value) and len(fal_server.requests) == 1


def test_cancel_propagates_to_fal(fal_server: FakeFal, fake_clock: FakeClock, tmp_path: Path) -> None:
    cancel = threading.Event()
    fal_server.polls_needed = 100
    fal_server.on_poll = lambda n: cancel.set() if n == 2 else None
    with pytest.raises(ProviderCancelled):
        provider(fal_server, fake_clock).generate(request(), out=tmp_path / "o.mp4", api_key=KEY,
                                                  on_progress=lambda _: None, cancel=cancel)
    assert fal_server.count("PUT", r"^/fal-ai/kling-video/requests/r1/cancel$") == 1


def test_timeout(fal_server: FakeFal, fake_clock: FakeClock, tmp_path: Path) -> None:
    fal_server.polls_needed = 10_000
    with pytest.raises(ProviderError) as info:
        provider(fal_server, fake_clock, timeout_s=20.0).generate(request(), out=tmp_path / "o.mp4", api_key=KEY,
                                                                  on_progress=lambda _: None, cancel=threading.Event())
    assert info.value.code == "timeout"
    assert fal_server.count("PUT", r"/cancel$") == 1


def test_lip_sync(fal_server: FakeFal, fake_clock: FakeClock, tmp_path: Path, small_files: tuple[Path, Path],
                  clip_bytes: bytes) -> None:
    video, audio = small_files
    out = tmp_path / "synced.mp4"
    result = provider(fal_server, fake_clock).lip_sync(
        LipSyncRequest(), video=video, audio=audio, out=out, api_key=KEY, on_progress=lambda _: None,
        cancel=threading.Event(), publish=lambda p: f"https://bucket.example/{p.name}")
    assert out.read_bytes() == clip_bytes and result.model == "fal-ai/sync-lipsync"
    submit = fal_server.requests[0]
    assert submit.path == "/fal-ai/sync-lipsync"
    assert submit.body == {"video_url": "https://bucket.example/in.mp4", "audio_url": "https://bucket.example/voice.m4a"}


def test_transcribe(fal_server: FakeFal, fake_clock: FakeClock, small_files: tuple[Path, Path]) -> None:
    fal_server.result = Reply(200, {"text": "hi there", "chunks": [{"timestamp": [0.0, 0.3], "text": " hi"},
                                                                   {"timestamp": [0.35, 0.9], "text": " there"}]})
    words = provider(fal_server, fake_clock).transcribe(media=small_files[1], language=None, model=None, api_key=KEY,
                                                        cancel=threading.Event(), publish=None)
    assert words == [Word(0.0, 0.3, "hi"), Word(0.35, 0.9, "there")]
    submit = fal_server.requests[0]
    assert submit.path == "/fal-ai/whisper" and submit.body["audio_url"].startswith("data:audio/")
    assert submit.body["chunk_level"] == "word" and "language" not in submit.body


def test_transcribe_documented_whisper_output(fal_server: FakeFal, fake_clock: FakeClock,
                                              small_files: tuple[Path, Path]) -> None:
    """fal-ai/whisper's documented output: ``text``, ``chunks`` of ``{timestamp: [start, end], text,
    speaker?}`` (the last chunk's end may be null), ``inferred_languages``, ``diarization_segments``."""
    fal_server.result = Reply(200, {
        "text": " Captions help people.",
        "chunks": [{"timestamp": [0.0, 0.42], "text": " Captions"}, {"timestamp": [0.42, 0.6], "text": " help"},
                   {"timestamp": [0.6, None], "text": " people."}],
        "inferred_languages": ["en"], "diarization_segments": []})
    words = provider(fal_server, fake_clock).transcribe(media=small_files[1], language="en", model=None,
                                                        api_key=KEY, cancel=threading.Event(),
                                                        publish=lambda p: f"https://bucket.example/{p.name}")
    assert [w.text for w in words] == ["Captions", "help", "people."]
    assert words[-1].start == 0.6 and words[-1].end >= words[-1].start
    submit = fal_server.requests[0]
    assert submit.body == {"audio_url": "https://bucket.example/voice.m4a", "task": "transcribe",
                           "chunk_level": "word", "language": "en"}
