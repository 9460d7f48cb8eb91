"""The Vertex AI (Veo) client against a fake long-running predictions API on loopback."""

from __future__ import annotations

import base64
import threading
from pathlib import Path

import pytest

from tests.providers.fakes import KEY, FakeClock, FakeServer, FakeVertex, Reply, policy
from vidassets.net.guard import AddressPolicy
from vidassets.providers.base import GenerateRequest, ProviderCancelled, ProviderError
from vidassets.providers.vertex import VertexProvider

ENDPOINT = "/v1/projects/proj/locations/us-central1/publishers/google/models/veo-2.0-generate-001"


def provider(server: FakeVertex, clock: FakeClock, *, project: str | None = "proj", **overrides: object) -> VertexProvider:
    return VertexProvider(project=project, base_url=f"{server.url}/v1", policy=policy(**overrides),
                          timing=clock.timing, image_policy=AddressPolicy(allow_private=True))


def request(**overrides: object) -> GenerateRequest:
    values: dict[str, object] = {"prompt": "a lighthouse in a storm", "duration": 6.0, "aspect_ratio": "16:9",
                                 "resolution": "720p", "seed": 3}
    return GenerateRequest(**{**values, **overrides})  # type: ignore[arg-type]


def test_generate_decodes_inline_video(vertex_server: FakeVertex, fake_clock: FakeClock, tmp_path: Path,
                                       clip_bytes: bytes) -> None:
    out = tmp_path / "out.mp4"
    progress: list[float] = []
    result = provider(vertex_server, fake_clock).generate(request(), out=out, api_key=KEY,
                                                          on_progress=progress.append, cancel=threading.Event())
    assert out.read_bytes() == clip_bytes
    assert result.provider == "google-cloud" and result.model == "veo-2.0-generate-001"
    assert result.details["operation"] == "op1"
    submit = vertex_server.requests[0]
    assert submit.path == f"{ENDPOINT}:predictLongRunning"
    assert submit.headers["authorization"] == f"Bearer {KEY}"
    assert submit.body == {"instances": [{"prompt": "a lighthouse in a storm"}],
                           "parameters": {"aspectRatio": "16:9", "sampleCount": 1, "durationSeconds": 6, "seed": 3}}
    polls = vertex_server.seen("POST", r":fetchPredictOperation$")
    assert len(polls) == 3 and polls[0].body == {"operationName": FakeVertex.OP}
    assert progress == [1.0]


def test_https_output_is_downloaded(vertex_server: FakeVertex, fake_clock: FakeClock, tmp_path: Path,
                                    clip_bytes: bytes) -> None:
    vertex_server.response = {"videos": [{"uri": vertex_server.file_url("out.mp4"), "mimeType": "video/mp4"}]}
    out = tmp_path / "out.mp4"
    provider(vertex_server, fake_clock).generate(request(), out=out, api_key=KEY, on_progress=lambda _: None,
                                                 cancel=threading.Event())
    assert out.read_bytes() == clip_bytes


def test_gcs_output_is_read_through_the_storage_json_api(vertex_server: FakeVertex, plain_server: FakeServer,
                                                        fake_clock: FakeClock, tmp_path: Path, clip_bytes: bytes) -> None:
    """A ``storageUri`` run answers ``gcsUri``: read with the same token from Cloud Storage (the
    refreshing-credentials case is in test_google_auth.py)."""
    vertex_server.response = {"videos": [{"gcsUri": "gs://bucket/out/sample_0.mp4", "mimeType": "video/mp4"}]}
    plain_server.fault("GET", r"^/storage/v1/b/", Reply(200, clip_bytes, {"content-type": "video/mp4"}))
    p = provider(vertex_server, fake_clock)
    p.gcs_base_url = plain_server.url
    out = tmp_path / "o.mp4"
    p.generate(request(), out=out, api_key=KEY, on_progress=lambda _: None, cancel=threading.Event())
    assert out.read_bytes() == clip_bytes
    (read,) = plain_server.requests
    assert read.path == "/storage/v1/b/bucket/o/out%2Fsample_0.mp4" and read.query == {"alt": ["media"]}
    assert read.headers["authorization"] == f"Bearer {KEY}"


def test_safety_filter_is_content_policy(vertex_server: FakeVertex, fake_clock: FakeClock, tmp_path: Path) -> None:
    vertex_server.response = {"raiMediaFilteredCount": 1,
                              "raiMediaFilteredReasons": ["Unable to generate videos that depict violence."]}
    with pytest.raises(ProviderError) as info:
        provider(vertex_server, fake_clock).generate(request(), out=tmp_path / "o.mp4", api_key=KEY,
                                                     on_progress=lambda _: None, cancel=threading.Event())
    assert info.value.code == "content_policy" and "violence" in str(info.value)


def test_operation_error_invalid_argument(vertex_server: FakeVertex, fake_clock: FakeClock, tmp_path: Path) -> None:
    vertex_server.error = {"code": 3, "message": "durationSeconds must be between 5 and 8"}
    with pytest.raises(ProviderError) as info:
        provider(vertex_server, fake_clock).generate(request(), out=tmp_path / "o.mp4", api_key=KEY,
                                                     on_progress=lambda _: None, cancel=threading.Event())
    assert info.value.code == "provider_rejected" and "between 5 and 8" in str(info.value)
    assert vertex_server.count("POST", r":cancel$") == 0


def test_403_is_provider_auth(vertex_server: FakeVertex, fake_clock: FakeClock, tmp_path: Path) -> None:
    vertex_server.fault("POST", r":predictLongRunning$", Reply(403, {"error": {
        "code": 403, "message": "Permission 'aiplatform.endpoints.predict' denied", "status": "PERMISSION_DENIED"}}))
    with pytest.raises(ProviderError) as info:
        provider(vertex_server, fake_clock).generate(request(), out=tmp_path / "o.mp4", api_key=KEY,
                                                     on_progress=lambda _: None, cancel=threading.Event())
    assert info.value.code == "provider_auth" and "aiplatform.endpoints.predict" in str(info.value)
    assert len(vertex_server.requests) == 1


def test_cancel_propagates_to_vertex(vertex_server: FakeVertex, fake_clock: FakeClock, tmp_path: Path) -> None:
    cancel = threading.Event()
    vertex_server.polls_needed = 100
    vertex_server.on_poll = lambda n: cancel.set() if n == 1 else None
    with pytest.raises(ProviderCancelled):
        provider(vertex_server, fake_clock).generate(request(), out=tmp_path / "o.mp4", api_key=KEY,
                                                     on_progress=lambda _: None, cancel=cancel)
    assert [r.path for r in vertex_server.seen("POST", r":cancel$")] == [f"/v1/{FakeVertex.OP}:cancel"]


def test_missing_project_is_provider_unavailable(vertex_server: FakeVertex, fake_clock: FakeClock,
                                                 tmp_path: Path) -> None:
    with pytest.raises(ProviderError) as info:
        provider(vertex_server, fake_clock, project=None).generate(
            request(), out=tmp_path / "o.mp4", api_key=KEY, on_progress=lambda _: None, cancel=threading.Event())
    assert info.value.code == "provider_unavailable" and vertex_server.requests == []


def test_start_image_is_sent_inline(vertex_server: FakeVertex, plain_server: FakeServer, fake_clock: FakeClock,
                                    tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"x" * 100
    plain_server.files["still.png"] = png
    provider(vertex_server, fake_clock).generate(
        request(start_image=plain_server.file_url("still.png"), end_image="gs://bucket/last.png"),
        out=tmp_path / "o.mp4", api_key=KEY, on_progress=lambda _: None, cancel=threading.Event())
    instance = vertex_server.requests[0].body["instances"][0]
    assert base64.b64decode(instance["image"]["bytesBase64Encoded"]) == png
    assert instance["lastFrame"] == {"gcsUri": "gs://bucket/last.png", "mimeType": "image/png"}
    assert "authorization" not in plain_server.requests[0].headers
