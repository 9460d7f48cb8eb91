"""The resources: config fields bound from Settings, credentials as environment variables, the
live provider registry and the local-only fake."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from vidassets.dagster.definitions import build_definitions
from vidassets.dagster.resources import LocalRendererResource, StorageResource, VideoProviderResource
from vidassets.providers import ProviderError
from vidassets.settings import Settings


def test_definitions_bind_the_live_resources_from_settings(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, fal_base_url="http://fal.test", media_timeout_s=42.0)  # type: ignore[arg-type]
    resources = build_definitions(settings).get_repository_def().get_top_level_resources()
    with dg.build_resources(resources) as built:
        storage, provider = built.storage, built.provider
        assert isinstance(storage, StorageResource) and isinstance(provider, VideoProviderResource)
        assert storage.services().settings.resolved_database_url == settings.resolved_database_url
        assert storage.services().store.url_for("k").startswith(settings.public_base_url)
        assert provider.settings().fal_base_url == "http://fal.test"
        assert provider.registry().names == ["fal", "google-cloud", "local", "replicate"]


def test_credentials_are_bound_as_environment_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'from-env.db'}"
    monkeypatch.setenv("VIDASSETS_DATABASE_URL", url)
    resource = StorageResource.from_settings(Settings(data_dir=tmp_path))  # type: ignore[arg-type]
    assert isinstance(resource.database_url, dg.EnvVar)  # the UI shows the variable, not the value
    assert resource.redis_url is None  # not set: nothing to hide
    with dg.build_resources({"storage": resource}) as built:
        assert built.storage.settings().resolved_database_url == url


def test_the_fake_provider_renders_locally_only() -> None:
    registry = LocalRendererResource().registry()
    assert registry.names == ["local"] and registry.get(None).name == "local"
    with pytest.raises(ProviderError) as err:
        registry.get("replicate")
    assert err.value.code == "provider_unavailable"
