"""Dagster resources: thin typed wrappers around the plain clients in ``storage/`` and ``providers/``.

Both read the process's Settings (environment) so the run worker, the daemon's sensors and the
API share one configuration; tests bind their own instances.
"""

from __future__ import annotations

import dagster as dg

from vidassets.providers.registry import ProviderRegistry, default_registry
from vidassets.services import Services, get_services


class StorageResource(dg.ConfigurableResource):
    """Executions/jobs database, artefact store and secret box, as configured by VIDASSETS_* env."""

    def services(self) -> Services:
        return get_services()


class VideoProviderResource(dg.ConfigurableResource):
    """The providers generate / lip-sync / transcription jobs go through."""

    def registry(self) -> ProviderRegistry:
        settings = get_services().settings
        return default_registry(settings.media_timeout_s, settings=settings)
