"""The registry: names per job kind, settings wiring, and a clear error for unknown names."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.providers.fakes import FakeClock, FakeReplicate
from vidassets.providers import default_registry
from vidassets.providers.base import GenerateRequest, ProviderError
from vidassets.providers.fal import FalProvider
from vidassets.providers.local import LocalProvider
from vidassets.providers.replicate import ReplicateProvider
from vidassets.providers.vertex import VertexProvider
from vidassets.settings import Settings


def test_default_registry_from_settings(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, fal_base_url="http://fal.internal/", vertex_project="p",  # type: ignore[arg-type]
                        vertex_location="europe-west4", provider_timeout_s=42, provider_max_retries=2)
    registry = default_registry(12.0, settings)
    assert registry.names == ["fal", "google-cloud", "local", "replicate"]
    assert registry.lip_sync_names == ["fal", "replicate"] and registry.transcriber_names == ["fal", "replicate"]
    assert isinstance(registry.get(None), LocalProvider) and registry.get(None).timeout_s == 12.0
    replicate = registry.get("replicate")
    assert isinstance(replicate, ReplicateProvider) and replicate.base_url == "https://api.replicate.com/v1"
    assert replicate.policy.timeout_s == 42 and replicate.policy.max_retries == 2
    assert isinstance(registry.lip_sync("fal"), FalProvider) and registry.lip_sync("fal").base_url == "http://fal.internal"
    vertex = registry.get("google-cloud")
    assert isinstance(vertex, VertexProvider)
    assert vertex.base_url == "https://europe-west4-aiplatform.googleapis.com/v1" and vertex.project == "p"


@pytest.mark.parametrize("lookup", ["get", "lip_sync", "transcriber"])
def test_unknown_names_are_provider_unavailable(lookup: str, tmp_path: Path) -> None:
    registry = default_registry(settings=Settings(data_dir=tmp_path))  # type: ignore[arg-type]
    with pytest.raises(ProviderError) as info:
        getattr(registry, lookup)("runway")
    assert info.value.code == "provider_unavailable" and "runway" in str(info.value)


def test_vertex_offers_no_lip_sync(tmp_path: Path) -> None:
    registry = default_registry(settings=Settings(data_dir=tmp_path))  # type: ignore[arg-type]
    with pytest.raises(ProviderError) as info:
        registry.lip_sync("google-cloud")
    assert info.value.code == "provider_unavailable"


def test_server_side_key_from_settings(replicate_server: FakeReplicate, fake_clock: FakeClock, tmp_path: Path,
                                       clip_bytes: bytes) -> None:
    settings = Settings(data_dir=tmp_path, replicate_base_url=f"{replicate_server.url}/v1",  # type: ignore[arg-type]
                        replicate_api_key="r8_from_settings", provider_poll_interval_s=0.5)
    registry = default_registry(settings=settings, timing=fake_clock.timing)
    out = tmp_path / "o.mp4"
    registry.get("replicate").generate(GenerateRequest("a", 5, "16:9", "720p"), out=out, api_key=None,
                                       on_progress=lambda _: None, cancel=threading.Event())
    assert out.read_bytes() == clip_bytes
    assert replicate_server.requests[0].headers["authorization"] == "Bearer r8_from_settings"
    assert fake_clock.sleeps[0] == 0.5
