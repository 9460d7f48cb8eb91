"""Dagster resources: typed, configured wrappers around the plain clients in ``storage/`` and
``providers/``.

Their config fields are the settings that say *where* things are (database, artefact store,
vendor endpoints); ``definitions.py`` binds them from :func:`~vidassets.settings.get_settings`,
so the UI shows what a code location runs against. Values that carry credentials are bound as
``dg.EnvVar`` when the environment sets them (the UI then shows the variable, not the value), and
secrets that are not fields at all (API keys, the encryption key, S3 credentials) stay in
:class:`~vidassets.settings.Settings`, which a resource completes from the environment.

* :class:`StorageResource` — executions/jobs database, artefact store, result cache, limits:
  one :class:`~vidassets.services.Services`, built when Dagster initialises the resource (once
  per run, or per sensor/schedule evaluation).
* :class:`ProviderResource` — the providers generate / lip-sync / transcription jobs go
  through: :class:`VideoProviderResource` (the local renderer and the HTTP vendors) in
  production, :class:`LocalRendererResource` (the local renderer only, no network) in tests.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from typing import Any

import dagster as dg
from pydantic import PrivateAttr

from vidassets.providers.local import LocalProvider
from vidassets.providers.registry import ProviderRegistry, default_registry
from vidassets.services import Services, build_services
from vidassets.settings import Settings


def _secret_field(env_name: str, value: str | None) -> Any:
    """``dg.EnvVar(env_name)`` when the environment sets it, else the value (a default such as
    the embedded SQLite path, which carries no credentials)."""
    return dg.EnvVar(env_name) if os.environ.get(env_name) else value


# dagster's ConfigurableResource is generic in the value a resource hands its users, with no default for
# the type variable; subclassing it bare (the resource is its own value) is dagster's documented usage, and
# subscripting it would create a new pydantic model class at run time.
class _SettingsFields(dg.ConfigurableResource):  # type: ignore[type-arg]
    """A resource whose fields are :class:`Settings` fields of the same name."""

    def settings(self) -> Settings:
        """This resource's fields over the process's Settings (environment) for the rest."""
        return Settings(**{name: getattr(self, name) for name in type(self).model_fields})


class StorageResource(_SettingsFields):
    """Executions/jobs database, artefact store, result cache and limits (VIDASSETS_* settings)."""

    # Bound by from_settings; Settings holds the defaults.
    data_dir: str
    database_url: str | None
    artefact_store: str
    artefacts_dir: str | None
    s3_bucket: str
    s3_prefix: str
    s3_endpoint_url: str | None
    s3_region: str
    redis_url: str | None
    public_base_url: str

    _services: Services | None = PrivateAttr(default=None)

    @classmethod
    def from_settings(cls, s: Settings) -> StorageResource:
        return cls(
            data_dir=str(s.data_dir), database_url=_secret_field("VIDASSETS_DATABASE_URL", s.database_url),
            artefact_store=s.artefact_store, artefacts_dir=str(s.artefacts_dir) if s.artefacts_dir else None,
            s3_bucket=s.s3_bucket, s3_prefix=s.s3_prefix, s3_endpoint_url=s.s3_endpoint_url, s3_region=s.s3_region,
            redis_url=_secret_field("VIDASSETS_REDIS_URL", s.redis_url), public_base_url=s.public_base_url,
        )

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._services = build_services(self.settings())

    def services(self) -> Services:
        if self._services is None:  # used outside Dagster's resource lifecycle (a plain call)
            self._services = build_services(self.settings())
        return self._services


class ProviderResource(dg.ConfigurableResource, ABC):  # type: ignore[type-arg]  # bare, as _SettingsFields
    """The providers a run's generate / lip-sync / transcription jobs go through."""

    @abstractmethod
    def registry(self) -> ProviderRegistry: ...


class VideoProviderResource(ProviderResource, _SettingsFields):
    """The local renderer and the HTTP vendors (Replicate, fal, Vertex). Server-side API keys come
    from Settings (``VIDASSETS_*_API_KEY``); plans may bring their own."""

    # Bound by from_settings; Settings holds the defaults.
    media_timeout_s: float
    replicate_base_url: str
    fal_base_url: str
    vertex_base_url: str | None
    vertex_project: str | None
    vertex_location: str
    provider_poll_interval_s: float
    provider_timeout_s: float
    provider_max_retries: int

    @classmethod
    def from_settings(cls, s: Settings) -> VideoProviderResource:
        return cls(**{name: getattr(s, name) for name in cls.model_fields})

    def registry(self) -> ProviderRegistry:
        return default_registry(self.media_timeout_s, settings=self.settings())


class LocalRendererResource(ProviderResource):
    """The fake: only the local ffmpeg renderer, no network. A plan naming a vendor fails with
    ``provider_unavailable``, as on a server that does not offer it."""

    media_timeout_s: float = 600.0

    def registry(self) -> ProviderRegistry:
        return ProviderRegistry({"local": LocalProvider(self.media_timeout_s)})
