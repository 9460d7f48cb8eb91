"""Providers by name. ``url`` (media import) is handled by the executor, not here."""

from __future__ import annotations

from vidassets.providers.base import ProviderError, VideoProvider
from vidassets.providers.local import LocalProvider


class ProviderRegistry:
    def __init__(self, providers: dict[str, VideoProvider] | None = None):
        self._providers: dict[str, VideoProvider] = dict(providers or {})

    def register(self, provider: VideoProvider) -> None:
        self._providers[provider.name] = provider

    def get(self, name: str | None) -> VideoProvider:
        key = name or "local"
        try:
            return self._providers[key]
        except KeyError:
            raise ProviderError(f"provider {key!r} is not configured on this server",
                                code="provider_unavailable") from None

    @property
    def names(self) -> list[str]:
        return sorted(self._providers)


def default_registry(timeout_s: float | None = None) -> ProviderRegistry:
    return ProviderRegistry({"local": LocalProvider(timeout_s)})
