"""Keys never appear in exceptions, logs or results, even when a vendor echoes them back."""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.providers.fakes import KEY, FakeClock, FakeFal, FakeReplicate, FakeServer, FakeVertex, Reply, policy
from vidassets.providers.base import GenerateRequest, ProviderError
from vidassets.providers.fal import FalProvider
from vidassets.providers.http import HttpProvider
from vidassets.providers.replicate import ReplicateProvider
from vidassets.providers.vertex import VertexProvider

Factory = Callable[[FakeServer, FakeClock], HttpProvider]
VENDORS: dict[str, tuple[type[FakeServer], Factory, str]] = {
    "replicate": (FakeReplicate, lambda s, c: ReplicateProvider(base_url=f"{s.url}/v1", policy=policy(max_retries=1),
                                                                timing=c.timing), r"predictions$"),
    "fal": (FakeFal, lambda s, c: FalProvider(base_url=s.url, policy=policy(max_retries=1), timing=c.timing),
            r"^/fal-ai/[^/]+/[^/]+$"),
    "google-cloud": (FakeVertex, lambda s, c: VertexProvider(project="proj", base_url=f"{s.url}/v1",
                                                             policy=policy(max_retries=1), timing=c.timing),
                     r":predictLongRunning$"),
}
REQUEST = GenerateRequest(prompt="a cat", duration=5, aspect_ratio="16:9", resolution="720p")


def _text_of(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc) + repr(exc.args)


@pytest.fixture(params=sorted(VENDORS))
def vendor(request: pytest.FixtureRequest, clip_bytes: bytes):  # type: ignore[no-untyped-def]
    server_cls, factory, submit = VENDORS[request.param]
    server = server_cls()
    server.files["out.mp4"] = clip_bytes
    yield server, factory, submit
    server.stop()


def test_key_echoed_in_an_auth_error_is_scrubbed(vendor, fake_clock: FakeClock, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                 caplog: pytest.LogCaptureFixture) -> None:
    server, factory, submit = vendor
    server.fault("POST", submit, Reply(401, {"detail": f"invalid token {KEY}", "error": {"message": f"bad {KEY}"}}))
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ProviderError) as info:
        factory(server, fake_clock).generate(REQUEST, out=tmp_path / "o.mp4", api_key=KEY,
                                             on_progress=lambda _: None, cancel=threading.Event())
    assert info.value.code == "provider_auth"
    assert "[redacted]" in str(info.value)
    assert KEY not in _text_of(info.value)
    assert KEY not in caplog.text


def test_key_absent_from_retries_failures_and_results(vendor, fake_clock: FakeClock, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                      caplog: pytest.LogCaptureFixture) -> None:
    server, factory, submit = vendor
    caplog.set_level(logging.DEBUG)
    server.fault("POST", submit, Reply(503, {"detail": f"overloaded for {KEY}"}))
    result = factory(server, fake_clock).generate(REQUEST, out=tmp_path / "o.mp4", api_key=KEY,
                                                  on_progress=lambda _: None, cancel=threading.Event())
    assert KEY not in repr(result)
    server.fault("POST", submit, *[Reply(503, {"detail": f"down {KEY}"})] * 3)
    with pytest.raises(ProviderError) as info:
        factory(server, fake_clock).generate(REQUEST, out=tmp_path / "p.mp4", api_key=KEY,
                                             on_progress=lambda _: None, cancel=threading.Event())
    assert info.value.retryable
    assert KEY not in _text_of(info.value)
    assert KEY not in caplog.text
    assert any(r.headers.get("authorization", "").endswith(KEY) for r in server.requests)  # it was really used


def test_failed_job_message_echoing_the_key(fake_clock: FakeClock, tmp_path: Path, clip_bytes: bytes) -> None:
    server = FakeReplicate()
    try:
        server.status, server.error = "failed", f"auth with {KEY} failed downstream"
        with pytest.raises(ProviderError) as info:
            VENDORS["replicate"][1](server, fake_clock).generate(REQUEST, out=tmp_path / "o.mp4", api_key=KEY,
                                                                 on_progress=lambda _: None, cancel=threading.Event())
        assert info.value.code == "provider_failed" and KEY not in _text_of(info.value)
    finally:
        server.stop()


def test_header_unsafe_key_is_refused_without_quoting_it(fake_clock: FakeClock, tmp_path: Path) -> None:
    server = FakeReplicate()
    try:
        bad = "line1\nline2-Xyzzy42"
        with pytest.raises(ProviderError) as info:
            VENDORS["replicate"][1](server, fake_clock).generate(REQUEST, out=tmp_path / "o.mp4", api_key=bad,
                                                                 on_progress=lambda _: None, cancel=threading.Event())
        assert info.value.code == "provider_auth" and "Xyzzy42" not in _text_of(info.value)
        assert server.requests == []
    finally:
        server.stop()


def test_output_urls_are_address_checked(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A vendor reply naming an internal address (e.g. cloud metadata) is refused, not fetched."""
    import threading

    import pytest as _pytest

    from vidassets.net.guard import AddressPolicy, BlockedAddressError
    from vidassets.providers.http import HttpPolicy, Timing, VendorSession

    policy = HttpPolicy(addresses=AddressPolicy(allow_private=True), max_retries=0)
    with VendorSession("test", base_url="https://vendor.invalid", auth={}, secret="", policy=policy,
                       timing=Timing(), cancel=threading.Event()) as session:
        with _pytest.raises(BlockedAddressError):
            session.download("http://169.254.169.254/latest/meta-data/", tmp_path / "out.mp4")


def test_per_request_keys_stay_out_of_reprs() -> None:
    """``providerApiKeys`` and a job's ``apiKey`` never show in the request model's or the
    submission's repr (what a log line or a traceback would print); they are sealed apart
    (``secrets_enc``) and the stored plan never holds them (tests/api/test_security.py)."""
    from vidassets.plan import PlanCreate, normalize_request

    keys = {"replicate": "r8_ReprSecret0001", "google-cloud": "AIzaReprSecret0002"}
    body = PlanCreate.model_validate({"jobs": [{"id": "a", "type": "generate",
                                                "params": {"prompt": "p", "apiKey": "fal_ReprSecret0003"}}],
                                      "providerApiKeys": keys})
    submission = normalize_request(body)
    assert dict(submission.provider_keys) == keys and submission.job_keys == {"a": "fal_ReprSecret0003"}
    for text in (repr(body), str(body)):
        assert not any(key in text for key in keys.values())
    assert "ReprSecret" not in repr(submission)
