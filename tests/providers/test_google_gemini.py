"""Veo on the Gemini API with an API key, against a fake that follows the documented shapes
(``google_fakes.FakeGemini``): the key in ``x-goog-api-key`` and only to the API's origin, the
operation polled by name, the video read from the files API and its storage redirect."""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.providers.fakes import FakeClock, FakeServer, FakeVertex, policy
from tests.providers.google_fakes import GEMINI_KEY, FakeGemini
from vidassets.net.guard import AddressPolicy
from vidassets.providers.base import GenerateRequest, ProviderError
from vidassets.providers.gemini import GeminiProvider
from vidassets.providers.vertex import VertexProvider

MODEL = "veo-3.0-generate-001"


@pytest.fixture
def gemini(plain_server: FakeServer, clip_bytes: bytes) -> Iterator[FakeGemini]:
    plain_server.files["file1.mp4"] = clip_bytes
    server = FakeGemini(plain_server)
    yield server
    server.stop()


def client(server: FakeGemini, clock: FakeClock, *, api_key: str | None = None) -> GeminiProvider:
    return GeminiProvider(base_url=f"{server.url}/v1beta", api_key=api_key, policy=policy(), timing=clock.timing,
                          model=MODEL, image_policy=AddressPolicy(allow_private=True))


def request(**overrides: object) -> GenerateRequest:
    values: dict[str, object] = {"prompt": "a paper boat on a canal", "duration": 8.0, "aspect_ratio": "16:9",
                                 "resolution": "720p"}
    return GenerateRequest(**{**values, **overrides})  # type: ignore[arg-type]


def test_generate_follows_the_documented_flow(gemini: FakeGemini, plain_server: FakeServer, fake_clock: FakeClock,
                                              tmp_path: Path, clip_bytes: bytes) -> None:
    out = tmp_path / "out.mp4"
    result = client(gemini, fake_clock).generate(request(), out=out, api_key=GEMINI_KEY,
                                                 on_progress=lambda _: None, cancel=threading.Event())
    assert out.read_bytes() == clip_bytes
    assert result.provider == "google-cloud" and result.details["api"] == "gemini"
    create, *polls = [r for r in gemini.requests if "/files/" not in r.path]
    assert create.method == "POST" and create.path == f"/v1beta/models/{MODEL}:predictLongRunning"
    assert create.body["instances"] == [{"prompt": "a paper boat on a canal"}]
    assert create.body["parameters"]["aspectRatio"] == "16:9" and create.body["parameters"]["durationSeconds"] == 8
    assert [p.method for p in polls] == ["GET"] * 3
    assert {p.path for p in polls} == {f"/v1beta/models/{MODEL}/operations/op1"}
    for seen in gemini.requests:  # the key in its own header on every call, never as a bearer
        assert seen.headers["x-goog-api-key"] == GEMINI_KEY and "authorization" not in seen.headers
    (download,) = gemini.seen("GET", r"/v1beta/files/")
    assert download.path == "/v1beta/files/file1:download" and download.query == {"alt": ["media"]}
    (stored,) = plain_server.requests  # the redirect target: another origin, so the key stayed home
    assert stored.path == "/files/file1.mp4" and "x-goog-api-key" not in stored.headers


def test_start_image_is_sent_as_bytes(gemini: FakeGemini, plain_server: FakeServer, fake_clock: FakeClock,
                                      tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"p" * 200
    plain_server.files["still.png"] = png
    client(gemini, fake_clock).generate(request(start_image=plain_server.file_url("still.png")), out=tmp_path / "o.mp4",
                                        api_key=GEMINI_KEY, on_progress=lambda _: None, cancel=threading.Event())
    image = gemini.requests[0].body["instances"][0]["image"]
    assert base64.b64decode(image["bytesBase64Encoded"]) == png and image["mimeType"] == "image/png"


def test_gs_images_are_refused_before_anything_is_sent(gemini: FakeGemini, fake_clock: FakeClock,
                                                       tmp_path: Path) -> None:
    with pytest.raises(ProviderError) as info:
        client(gemini, fake_clock).generate(request(start_image="gs://bucket/a.png"), out=tmp_path / "o.mp4",
                                            api_key=GEMINI_KEY, on_progress=lambda _: None, cancel=threading.Event())
    assert info.value.code == "invalid_params" and gemini.requests == []


def test_safety_filter_is_content_policy(gemini: FakeGemini, fake_clock: FakeClock, tmp_path: Path) -> None:
    gemini.filtered = ["The prompt could not be submitted: it may violate our policies."]
    with pytest.raises(ProviderError) as info:
        client(gemini, fake_clock).generate(request(), out=tmp_path / "o.mp4", api_key=GEMINI_KEY,
                                            on_progress=lambda _: None, cancel=threading.Event())
    assert info.value.code == "content_policy" and "violate our policies" in str(info.value)


def test_vertex_only_fields_are_rejected_as_the_api_does(gemini: FakeGemini, fake_clock: FakeClock,
                                                         tmp_path: Path) -> None:
    with pytest.raises(ProviderError) as info:
        client(gemini, fake_clock).generate(request(input={"storageUri": "gs://b/out/"}), out=tmp_path / "o.mp4",
                                            api_key=GEMINI_KEY, on_progress=lambda _: None, cancel=threading.Event())
    assert info.value.code == "provider_rejected" and "storageUri" in str(info.value) and gemini.created == 0


def test_key_never_logged(gemini: FakeGemini, fake_clock: FakeClock, tmp_path: Path,
                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    gemini.polls_needed = 100
    cancel = threading.Event()
    gemini.on_poll = lambda n: cancel.set() if n == 2 else None
    with pytest.raises(ProviderError):
        client(gemini, fake_clock).generate(request(), out=tmp_path / "o.mp4", api_key=GEMINI_KEY,
                                            on_progress=lambda _: None, cancel=cancel)
    assert GEMINI_KEY not in caplog.text
    assert gemini.seen("POST", r":cancel$")[0].path == "/v1beta/models/veo-3.0-generate-001/operations/op1:cancel"


@pytest.mark.parametrize("server_key", [False, True])
def test_google_cloud_runs_on_the_gemini_api_for_an_api_key(gemini: FakeGemini, vertex_server: FakeVertex,
                                                            fake_clock: FakeClock, tmp_path: Path,
                                                            server_key: bool) -> None:
    """The plan says ``google-cloud``: a caller's ``AIza...`` key, or a server whose only Google
    credential is a Gemini API key, runs on the Gemini API; Vertex is never called."""
    vertex = VertexProvider(project="proj", base_url=f"{vertex_server.url}/v1", policy=policy(), timing=fake_clock.timing,
                            gemini=client(gemini, fake_clock, api_key=GEMINI_KEY if server_key else None))
    vertex.generate(request(model=MODEL), out=tmp_path / "o.mp4", api_key=None if server_key else GEMINI_KEY,
                    on_progress=lambda _: None, cancel=threading.Event())
    assert gemini.created == 1 and vertex_server.requests == []


def test_an_oauth_token_still_goes_to_vertex(gemini: FakeGemini, vertex_server: FakeVertex, fake_clock: FakeClock,
                                             tmp_path: Path) -> None:
    vertex = VertexProvider(project="proj", base_url=f"{vertex_server.url}/v1", policy=policy(), timing=fake_clock.timing,
                            gemini=client(gemini, fake_clock, api_key=GEMINI_KEY))
    vertex.generate(request(model="veo-2.0-generate-001", duration=6.0), out=tmp_path / "o.mp4", api_key="ya29.caller",
                    on_progress=lambda _: None, cancel=threading.Event())
    assert vertex_server.created == 1 and gemini.requests == []
    assert vertex_server.requests[0].headers["authorization"] == "Bearer ya29.caller"


def test_a_bad_api_key_is_provider_auth(gemini: FakeGemini, fake_clock: FakeClock, tmp_path: Path) -> None:
    """Google answers a bad key with 400 INVALID_ARGUMENT "API key not valid": a credentials problem."""
    with pytest.raises(ProviderError) as info:
        client(gemini, fake_clock).generate(request(), out=tmp_path / "o.mp4", api_key="AIzaWrongKey0000000000",
                                            on_progress=lambda _: None, cancel=threading.Event())
    assert info.value.code == "provider_auth" and gemini.created == 0
    assert "AIzaWrongKey0000000000" not in str(info.value)
