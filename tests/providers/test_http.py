"""The shared HTTP helper: retries, Retry-After, redirects, downloads, and the small parsers."""

from __future__ import annotations

import email.utils
import socket
import threading
from pathlib import Path

import httpx
import pytest

from tests.providers.fakes import KEY, FakeClock, FakeServer, Reply, policy
from vidassets.providers.base import GenerateRequest, ProviderError, Word, words_from_output
from vidassets.providers.http import (
    INLINE_LIMIT_BYTES,
    PollState,
    VendorSession,
    describe_error,
    first_url,
    inline_or_publish,
    progress_from_logs,
    retry_after,
    write_base64,
)


def session(server: FakeServer, clock: FakeClock, cancel: threading.Event | None = None,
            **overrides: object) -> VendorSession:
    return VendorSession("acme", base_url=server.url, auth={"Authorization": f"Bearer {KEY}"}, secret=KEY,
                         policy=policy(**overrides), timing=clock.timing, cancel=cancel or threading.Event())


def test_retry_after_http_date(plain_server: FakeServer, fake_clock: FakeClock) -> None:
    when = email.utils.formatdate(1_700_000_042, usegmt=True)
    assert retry_after({"retry-after": when}, now=lambda: 1_700_000_000.0) == pytest.approx(42.0)
    assert retry_after({"retry-after": "3"}) == 3.0
    assert retry_after({"retry-after": "soon"}) is None
    assert retry_after({}) is None
    plain_server.fault("GET", r"^/thing$", Reply(503, {"error": "maintenance"}, {"Retry-After": "12"}))
    plain_server.fault("GET", r"^/thing$", Reply(200, {"ok": True}))
    with session(plain_server, fake_clock) as s:
        assert s.request("GET", f"{plain_server.url}/thing") == {"ok": True}
    assert fake_clock.sleeps == [12.0]


def test_retry_after_is_capped_and_429s_exhaust_as_rate_limited(plain_server: FakeServer,
                                                                fake_clock: FakeClock) -> None:
    plain_server.fault("GET", r"^/thing$", *[Reply(429, {"detail": "quota"}, {"Retry-After": "100000"})] * 5)
    with session(plain_server, fake_clock, max_retries=2, timeout_s=10_000.0) as s, pytest.raises(ProviderError) as info:
        s.request("GET", f"{plain_server.url}/thing")
    assert info.value.code == "rate_limited" and info.value.retryable
    assert fake_clock.sleeps == [300.0, 300.0]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_connection_errors_are_retried_then_unavailable(fake_clock: FakeClock) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    s = VendorSession("acme", base_url=url, auth={}, secret=KEY, policy=policy(max_retries=3),
                      timing=fake_clock.timing, cancel=threading.Event())
    with s, pytest.raises(ProviderError) as info:
        s.request("POST", f"{url}/jobs", json={})
    assert info.value.code == "provider_unavailable" and info.value.retryable
    assert "ConnectError" in str(info.value) and fake_clock.sleeps == [0.5, 1.0, 2.0]


def test_a_post_whose_answer_is_lost_is_not_resent(plain_server: FakeServer, fake_clock: FakeClock) -> None:
    """The vendor may have created the job; sending it again could run (and bill) it twice."""
    plain_server.fault("POST", r"^/jobs$", Reply(200, {"id": "j1"}, delay_s=1.0))
    with session(plain_server, fake_clock, request_timeout_s=0.2) as s, pytest.raises(ProviderError) as info:
        s.request("POST", f"{plain_server.url}/jobs", json={})
    assert info.value.code == "provider_unavailable" and "not resent" in str(info.value)
    assert not info.value.retryable
    assert plain_server.count("POST", r"^/jobs$") == 1


def test_download_follows_redirects_and_keeps_the_key_home(plain_server: FakeServer, fake_clock: FakeClock,
                                                           tmp_path: Path, clip_bytes: bytes) -> None:
    cdn = FakeServer()
    try:
        cdn.files["x.mp4"] = clip_bytes
        plain_server.fault("GET", r"^/out$", Reply(302, b"", {"Location": cdn.file_url("x.mp4")}))
        with session(plain_server, fake_clock) as s:
            assert s.download(f"{plain_server.url}/out", tmp_path / "x.mp4") == len(clip_bytes)
        assert (tmp_path / "x.mp4").read_bytes() == clip_bytes
        assert plain_server.requests[0].headers["authorization"] == f"Bearer {KEY}"  # same origin
        assert "authorization" not in cdn.requests[0].headers  # httpx drops it across origins
    finally:
        cdn.stop()


def test_download_rejects_bad_outputs(plain_server: FakeServer, fake_clock: FakeClock, tmp_path: Path) -> None:
    plain_server.files["empty.mp4"] = b""
    with session(plain_server, fake_clock) as s:
        with pytest.raises(ProviderError) as info:
            s.download(plain_server.file_url("empty.mp4"), tmp_path / "e.mp4")
        assert info.value.code == "provider_failed"
        with pytest.raises(ProviderError) as info:
            s.download("file:///etc/passwd", tmp_path / "p")
        assert info.value.code == "provider_failed"
        with pytest.raises(ProviderError) as info:
            s.download(plain_server.file_url("missing.mp4"), tmp_path / "m.mp4")
        assert info.value.code == "provider_rejected"
    assert list(tmp_path.iterdir()) == []


def test_poll_grows_the_interval_to_the_cap(plain_server: FakeServer, fake_clock: FakeClock) -> None:
    states = iter([PollState(progress=0.1)] * 6 + [PollState(done=True, output="ok")])
    seen: list[float] = []
    with session(plain_server, fake_clock) as s:
        final = s.poll("h", lambda _: next(states), seen.append)
    assert final.done and final.output == "ok"
    assert fake_clock.sleeps == [1.0, 1.5, 2.25, 3.375, 5.0, 5.0]
    assert seen == [0.1]  # progress is reported only when it moves


def test_describe_error_shapes() -> None:
    def describe(status: int, body: object) -> tuple[str, bool]:
        response = httpx.Response(status, json=body) if not isinstance(body, str) else httpx.Response(status, text=body)
        return describe_error(response)

    assert describe(422, {"title": "Invalid", "detail": "bad seed"}) == ("Invalid; bad seed", False)
    assert describe(422, {"detail": [{"msg": "nope", "type": "content_policy_violation"}]}) == ("nope", True)
    assert describe(400, {"error": {"code": 400, "message": "bad", "status": "INVALID_ARGUMENT"}}) == ("bad", False)
    assert describe(500, "<html>oops</html>") == ("<html>oops</html>", False)


def test_small_parsers() -> None:
    assert progress_from_logs(None) is None and progress_from_logs("starting") is None
    assert progress_from_logs("10%\n 45%|####") == 0.45
    assert progress_from_logs("sampling 12/48 [00:03<00:09]") == 0.25
    assert first_url(["https://a/1.mp4", "https://a/2.mp4"]) == "https://a/1.mp4"
    assert first_url({"video": {"url": "https://a/v.mp4"}, "thumb": "https://a/t.png"}) == "https://a/v.mp4"
    assert first_url({"seed": 1}) is None
    request = GenerateRequest(prompt="p", duration=5.5, aspect_ratio="1:1", resolution="480p",
                              extra={"duration": 6, "motion": "high"})
    assert request.model_input() == {"prompt": "p", "duration": 6, "aspect_ratio": "1:1", "resolution": "480p",
                                     "motion": "high"}


def test_words_from_output_shapes() -> None:
    assert words_from_output({"words": [{"start": 0, "end": 0.5, "word": "a"}]}) == [Word(0.0, 0.5, "a")]
    assert words_from_output({"chunks": [{"timestamp": [1, None], "text": " b"}]}) == [Word(1.0, 1.0, "b")]
    assert words_from_output({"segments": []}) == []
    with pytest.raises(ProviderError):
        words_from_output("plain text")


def test_inline_or_publish(tmp_path: Path) -> None:
    small = tmp_path / "a.wav"
    small.write_bytes(b"RIFF")
    assert inline_or_publish(small, None) == "data:audio/x-wav;base64,UklGRg=="
    assert inline_or_publish(small, lambda p: "https://x/y") == "https://x/y"
    big = tmp_path / "big.mp4"
    with big.open("wb") as fh:
        fh.truncate(INLINE_LIMIT_BYTES)
    with pytest.raises(ProviderError) as info:
        inline_or_publish(big, None)
    assert info.value.code == "provider_unavailable"


def test_write_base64(tmp_path: Path) -> None:
    out = tmp_path / "o.bin"
    assert write_base64("aGVs\nbG8=", out, max_bytes=100, vendor="v") == 5 and out.read_bytes() == b"hello"
    with pytest.raises(ProviderError) as info:
        write_base64("aGVsbG8=" * 100, tmp_path / "big", max_bytes=10, vendor="v")
    assert info.value.code == "output_too_large"
    with pytest.raises(ProviderError) as info:
        write_base64("not base64!", tmp_path / "bad", max_bytes=100, vendor="v")
    assert info.value.code == "provider_failed"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.bin"]
