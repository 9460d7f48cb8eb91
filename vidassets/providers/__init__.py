"""Providers: the interface, the embedded local renderer, and the registry."""

from vidassets.providers.base import GenerateRequest, ProviderError, ProviderResult, VideoProvider
from vidassets.providers.registry import ProviderRegistry, default_registry

__all__ = ["GenerateRequest", "ProviderError", "ProviderRegistry", "ProviderResult", "VideoProvider", "default_registry"]
