"""The long-lived clients a process needs, built once from Settings.

The API (through a dependency) and the Dagster resources (once per run worker) both call
:func:`build_services`; neither builds clients of its own.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from vidassets.limits.rate import RateLimiter, make_limiter, redis_client
from vidassets.limits.slots import Slots, make_slots
from vidassets.media.config import configure as configure_media
from vidassets.net.guard import AddressPolicy
from vidassets.settings import Settings, media_config
from vidassets.storage.artefacts import ArtefactStore, LocalArtefactStore, S3ArtefactStore, s3_client
from vidassets.storage.cache import ResultCache
from vidassets.storage.crypto import SecretBox
from vidassets.storage.repo import ExecutionRepository
from vidassets.storage.webhook_repo import WebhookRepository


@dataclass
class Services:
    settings: Settings
    repo: ExecutionRepository
    webhooks: WebhookRepository  # the webhook outbox: deliveries and their attempts
    store: ArtefactStore
    box: SecretBox
    policy: AddressPolicy
    cache: ResultCache
    limiter: RateLimiter  # provider request limits (shared bucket in Redis when configured)
    slots: Slots  # provider concurrency limits

    def s3(self) -> Any:
        return settings_s3_client(self.settings)


def settings_s3_client(s: Settings) -> Any:
    return s3_client(s.s3_endpoint_url, s.s3_region, s.s3_access_key_id,
                     s.s3_secret_access_key.get_secret_value() if s.s3_secret_access_key else None)


def build_services(settings: Settings) -> Services:
    configure_media(media_config(settings))
    key = settings.encryption_key()
    if settings.artefact_store == "s3":
        s = settings
        store: ArtefactStore = S3ArtefactStore(settings_s3_client(s), s.s3_bucket, s.s3_prefix, s.presigned_url_ttl_s)
    else:
        store = LocalArtefactStore(settings.resolved_artefacts_dir, settings.public_base_url,
                                   signing_key=key, default_ttl_s=settings.presigned_url_ttl_s)
    return Services(
        settings=settings,
        repo=ExecutionRepository(settings.resolved_database_url),
        webhooks=WebhookRepository(settings.resolved_database_url),
        store=store,
        box=SecretBox(key),
        policy=AddressPolicy(allow_private=settings.allow_private_urls, allowlist=tuple(settings.url_allowlist)),
        cache=ResultCache(settings.resolved_database_url,
                          redis_client(settings.redis_url) if settings.redis_url else None, settings.cache_ttl_s),
        limiter=make_limiter(settings.redis_url),
        slots=make_slots(settings.redis_url, settings.data_dir.resolve(), lease_s=settings.provider_timeout_s + 60),
    )


@functools.lru_cache(maxsize=1)
def get_services() -> Services:
    """This process's services, built from :func:`get_settings` on first use."""
    from vidassets.settings import get_settings

    return build_services(get_settings())
