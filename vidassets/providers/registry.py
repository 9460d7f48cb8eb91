"""Providers by name, one table per job kind. ``url`` (media import) is handled by the executor.

A name that is not registered for a kind raises ``ProviderError(code="provider_unavailable")``,
which the executor reports on the job, so a plan naming a vendor this server does not offer (or
a vendor that does not offer that kind, such as lip sync on ``google-cloud``) fails clearly.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from vidassets.net.guard import AddressPolicy
from vidassets.providers.base import (
    ImageProvider,
    LipSyncProvider,
    MattingProvider,
    ProviderError,
    SpeechProvider,
    TranscriptionProvider,
    VideoProvider,
)
from vidassets.providers.fal import FalProvider
from vidassets.providers.gemini import GeminiProvider
from vidassets.providers.google_auth import google_credentials
from vidassets.providers.http import HttpPolicy, Timing
from vidassets.providers.local import LocalProvider
from vidassets.providers.replicate import ReplicateProvider
from vidassets.providers.uploads import FalStorage, InputResolver, publicly_reachable
from vidassets.providers.vertex import VertexProvider

if TYPE_CHECKING:
    from vidassets.settings import Settings

P = TypeVar("P")


def _lookup(table: Mapping[str, P], name: str, kind: str) -> P:
    try:
        return table[name]
    except KeyError:
        raise ProviderError(f"{kind} provider {name!r} is not configured on this server",
                            code="provider_unavailable") from None


class ProviderRegistry:
    def __init__(self, providers: dict[str, VideoProvider] | None = None, *,
                 lip_sync: dict[str, LipSyncProvider] | None = None,
                 transcribers: dict[str, TranscriptionProvider] | None = None,
                 images: dict[str, ImageProvider] | None = None,
                 speech: dict[str, SpeechProvider] | None = None,
                 matting: dict[str, MattingProvider] | None = None):
        self._providers: dict[str, VideoProvider] = dict(providers or {})
        self._lip_sync: dict[str, LipSyncProvider] = dict(lip_sync or {})
        self._transcribers: dict[str, TranscriptionProvider] = dict(transcribers or {})
        self._images: dict[str, ImageProvider] = dict(images or {})
        self._speech: dict[str, SpeechProvider] = dict(speech or {})
        self._matting: dict[str, MattingProvider] = dict(matting or {})

    def register(self, provider: VideoProvider) -> None:
        self._providers[provider.name] = provider

    def get(self, name: str | None) -> VideoProvider:
        """The video provider called ``name`` (``local`` when the plan names none)."""
        return _lookup(self._providers, name or "local", "video")

    def lip_sync(self, name: str) -> LipSyncProvider:
        return _lookup(self._lip_sync, name, "lip-sync")

    def transcriber(self, name: str) -> TranscriptionProvider:
        return _lookup(self._transcribers, name, "transcription")

    def image(self, name: str) -> ImageProvider:
        return _lookup(self._images, name, "image")

    def speech(self, name: str) -> SpeechProvider:
        return _lookup(self._speech, name, "speech")

    def matting(self, name: str) -> MattingProvider:
        return _lookup(self._matting, name, "background-removal")

    @property
    def names(self) -> list[str]:
        return sorted(self._providers)

    @property
    def lip_sync_names(self) -> list[str]:
        return sorted(self._lip_sync)

    @property
    def transcriber_names(self) -> list[str]:
        return sorted(self._transcribers)

    @property
    def image_names(self) -> list[str]:
        return sorted(self._images)

    @property
    def speech_names(self) -> list[str]:
        return sorted(self._speech)

    @property
    def matting_names(self) -> list[str]:
        return sorted(self._matting)


def default_registry(timeout_s: float | None = None, settings: Settings | None = None, *,
                     timing: Timing | None = None) -> ProviderRegistry:
    """``local`` plus the HTTP vendors, configured from settings (``get_settings()`` when omitted).

    ``timeout_s`` bounds the local renderer's ffmpeg run (the media timeout); the vendors' overall
    timeout is ``settings.provider_timeout_s``. Vendors are registered even without a server-side
    key because a plan may bring its own (``providerApiKeys`` or a job's ``apiKey``).
    """
    if settings is None:
        from vidassets.settings import get_settings

        settings = get_settings()
    policy = HttpPolicy.from_settings(settings)
    replicate = ReplicateProvider(base_url=settings.replicate_base_url, api_key=settings.replicate_api_key,
                                  policy=policy, timing=timing)
    fal = FalProvider(base_url=settings.fal_base_url, api_key=settings.fal_api_key, policy=policy, timing=timing)
    s3 = _s3_factory(settings)
    replicate.inputs = _inputs(settings, replicate.inputs, s3)
    fal.inputs = _inputs(settings, dataclasses.replace(fal.inputs, files=FalStorage(settings.fal_storage_url)), s3)
    vertex = _google(settings, policy, timing)
    vertex.s3 = s3
    return ProviderRegistry(
        {"local": LocalProvider(timeout_s), "replicate": replicate, "fal": fal, "google-cloud": vertex},
        lip_sync={"replicate": replicate, "fal": fal},
        transcribers={"replicate": replicate, "fal": fal},
        # fal hosts no TTS or video matting model the SDK offers: only what exists is registered.
        images={"replicate": replicate, "fal": fal},
        speech={"replicate": replicate, **_speech_apis(settings, policy, timing)},
        matting={"replicate": replicate},
    )


def _speech_apis(settings: Settings, policy: HttpPolicy, timing: Timing | None) -> dict[str, SpeechProvider]:
    """ElevenLabs and Hume through their own APIs, when their client modules are present (a build
    without one does not offer it; an import error *inside* one is a bug and is raised)."""
    found: dict[str, SpeechProvider] = {}
    for vendor, module, cls, base_url, key in (
            ("elevenlabs", "vidassets.providers.elevenlabs", "ElevenLabsProvider", settings.elevenlabs_base_url,
             settings.elevenlabs_api_key),
            ("hume", "vidassets.providers.hume", "HumeProvider", settings.hume_base_url, settings.hume_api_key)):
        try:
            client = getattr(importlib.import_module(module), cls)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        found[vendor] = client(base_url=base_url, api_key=key, policy=policy, timing=timing)
    return found


def _google(settings: Settings, policy: HttpPolicy, timing: Timing | None) -> VertexProvider:
    """Veo on Vertex AI (renewing credentials from a key file or ADC, else a static token), with
    the Gemini API behind it for API keys (docs/providers.md, "Google credentials")."""
    images = AddressPolicy(allow_private=settings.allow_private_urls, allowlist=tuple(settings.url_allowlist))
    clock = (timing or Timing()).clock
    gemini = GeminiProvider(base_url=settings.gemini_base_url, api_key=settings.gemini_api_key, policy=policy,
                            timing=timing, image_policy=images)
    return VertexProvider(
        project=settings.vertex_project, location=settings.vertex_location, base_url=settings.vertex_base_url,
        api_key=settings.google_access_token, policy=policy, timing=timing, image_policy=images,
        credentials=google_credentials(credentials_file=settings.google_credentials_file,
                                       use_adc=settings.google_use_adc, clock=clock),
        gemini=gemini, gcs_base_url=settings.gcs_base_url,
    )


def _s3_factory(settings: Settings) -> Callable[[], Any]:
    """A boto3 client for ``s3://`` inputs, made on first use (one per process)."""
    @functools.cache
    def client() -> Any:
        from vidassets.storage.artefacts import s3_client

        secret = settings.s3_secret_access_key.get_secret_value() if settings.s3_secret_access_key else None
        return s3_client(settings.s3_endpoint_url, settings.s3_region, settings.s3_access_key_id, secret)

    return client


def _inputs(settings: Settings, resolver: InputResolver, s3: Callable[[], Any]) -> InputResolver:
    """A vendor's input resolver with this server's S3 access and limits: a presigned ``s3://``
    input lives as long as the vendor job may (the timeout, Replicate's Cancel-After margin, slack),
    and S3 URLs go to vendors only when the endpoint is public (AWS, or a name that resolves to
    public addresses: not a MinIO on the private network)."""
    endpoint = settings.s3_endpoint_url

    @functools.cache
    def store_public() -> bool:
        return endpoint is None or publicly_reachable(endpoint)

    return dataclasses.replace(resolver, s3=s3, max_bytes=settings.fetch_max_bytes, store_public=store_public,
                               url_ttl_s=int(settings.provider_timeout_s) + 180)
