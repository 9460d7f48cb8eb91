"""One place for configuration: every knob is an environment variable prefixed ``VIDASSETS_``.

The defaults describe the *embedded* deployment (SQLite, a local artefact folder, in-process
cache and limits) so that a fresh clone runs with no configuration at all. Production sets
``VIDASSETS_DATABASE_URL`` (PostgreSQL), ``VIDASSETS_REDIS_URL`` and ``VIDASSETS_ARTEFACT_STORE=s3``.

Settings are read through :func:`get_settings` (cached) rather than an import-time global, so
tests can change the environment and call ``get_settings.cache_clear()``.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from vidassets.media.config import MediaConfig


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="VIDASSETS_", env_file=".env", env_ignore_empty=True, extra="ignore"
    )

    # Where the embedded default keeps its state (database, artefacts, secret key, Dagster home).
    data_dir: Path = Path(".vidassets")

    # Relational store for executions, jobs, webhooks, API keys. SQLite path is relative to data_dir.
    database_url: str | None = None

    # Artefacts: "local" keeps them under data_dir/artefacts; "s3" uses any S3-compatible endpoint.
    artefact_store: Literal["local", "s3"] = "local"
    artefacts_dir: Path | None = None
    s3_bucket: str = "vidassets"
    s3_prefix: str = ""
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    presigned_url_ttl_s: int = 3600

    # Redis for cache and rate limits; None means in-process (embedded default).
    redis_url: str | None = None

    # The public base URL of this API; local artefacts are served below it.
    public_base_url: str = "http://localhost:3000"

    # Dagster: where the API sends GraphQL mutations to add partitions and launch runs.
    dagster_graphql_url: str = "http://127.0.0.1:3001/graphql"
    dagster_location_name: str = "vidassets"
    dagster_repository_name: str = "__repository__"
    dagster_timeout_s: float = 10.0
    # How long the API waits after committing an execution before the reconciliation sensor
    # considers it "not launched" and launches it itself.
    launch_grace_s: float = 30.0

    # Plan limits (SPEC / issue: jobs <= 200, body <= 1 MiB, text <= 20,000 chars).
    max_jobs: int = 200
    max_body_bytes: int = 1024 * 1024
    max_text_chars: int = 20_000
    max_duration_s: float = 600.0

    # Execution: how many plan jobs of one execution run at once inside the run worker.
    job_concurrency: int = 2
    # A preview strip (contact sheet) per output, shown in the Dagster UI and the API.
    contact_sheets: bool = True
    media_timeout_s: float = 1800.0
    # ffmpeg: the binary (default: ffmpeg on PATH, else the imageio-ffmpeg wheel's), how many run
    # at once per process (default: one per two cores), x264 preset and CRF, a ceiling per run.
    ffmpeg: str | None = None
    ffmpeg_slots: int | None = Field(default=None, ge=1, le=64)
    ffmpeg_preset: str | None = None
    ffmpeg_crf: int | None = Field(default=None, ge=0, le=51)
    ffmpeg_timeout: float | None = Field(default=None, gt=0)
    # Rendering (docs/ARCHITECTURE.md, "Rendering"): ``fused`` encodes every artefact once from its
    # stored sources, the plan's root outputs first; ``steps`` is the old one-encode-per-step path
    # (kept so benches compare both). A graph longer than ``render_fuse_max_seconds`` of source
    # media, or with more than ``render_fuse_max_inputs`` inputs, renders step by step instead.
    render_mode: Literal["fused", "steps"] = "fused"
    render_fuse_max_seconds: float = Field(default=1200.0, gt=0)
    render_fuse_max_inputs: int = Field(default=24, ge=1, le=256)
    work_dir: Path | None = None

    # URL fetching (media imports, audio tracks, subtitle files).
    fetch_max_bytes: int = 2 * 1024 * 1024 * 1024
    fetch_timeout_s: float = 120.0
    # The embedded default accepts loopback/private URLs (local development). Production turns
    # this off so the SSRF guard refuses private, loopback, link-local and metadata addresses.
    allow_private_urls: bool = True
    url_allowlist: list[str] = Field(default_factory=list)

    # Symmetric key that encrypts secrets at rest (webhook secrets, provider keys).
    # Generated into data_dir/secret.key on the embedded default when not set.
    secret_key: SecretStr | None = None

    # API authentication: Bearer API keys (see `vidassets keys`). Turning it off serves every
    # request as `default_tenant` and logs a warning at start-up; never do that in production.
    auth_enabled: bool = True
    default_tenant: str = "local"
    # Requests per minute per API key (a key may carry its own limit).
    rate_limit_per_min: int = 600
    # How long a verified key is trusted without a database read (revocation delay).
    key_cache_s: float = 10.0
    cors_origins: list[str] = Field(default_factory=list)

    # Providers. Base URLs are configurable for proxies and tests; server-side keys are used
    # when a plan brings none of its own (params.apiKey or providerApiKeys).
    replicate_base_url: str = "https://api.replicate.com/v1"
    replicate_api_key: SecretStr | None = None
    fal_base_url: str = "https://queue.fal.run"
    fal_api_key: SecretStr | None = None
    vertex_base_url: str | None = None  # default: https://{vertex_location}-aiplatform.googleapis.com/v1
    vertex_project: str | None = None
    vertex_location: str = "us-central1"
    google_access_token: SecretStr | None = None  # static, never renewed (it lapses within the hour)
    # Google (docs/providers.md, "Google credentials"): Vertex with a service-account key file, or
    # Application Default Credentials, whose tokens are renewed ahead of expiry and after a 401; the
    # Gemini API with an API key when no Vertex credential is set (or a caller's key is an API key).
    # Base URLs are configurable for proxies and tests.
    google_credentials_file: Path | None = None
    google_use_adc: bool = False
    gemini_api_key: SecretStr | None = None
    gemini_base_url: str = "https://generativelanguage.googleapis.com/v1beta"
    gcs_base_url: str = "https://storage.googleapis.com"
    # Text to speech straight from the vendors today's SDK names (docs/providers.md, "Speech").
    elevenlabs_base_url: str = "https://api.elevenlabs.io"
    elevenlabs_api_key: SecretStr | None = None
    hume_base_url: str = "https://api.hume.ai"
    hume_api_key: SecretStr | None = None
    # Inputs to vendors (docs/providers.md, "Inputs to vendors"): fal's storage API for uploads.
    fal_storage_url: str = "https://rest.fal.ai"
    provider_poll_interval_s: float = 2.0
    provider_timeout_s: float = 900.0
    provider_max_retries: int = 5
    # Requests per minute per provider (token bucket shared through Redis, or in-process).
    provider_rate_limits: dict[str, int] = Field(default_factory=lambda: {"replicate": 60, "fal": 60, "google-cloud": 30})
    # Concurrent calls per provider across all run workers (Redis leases or local file locks).
    provider_concurrency: dict[str, int] = Field(default_factory=lambda: {"replicate": 4, "fal": 4, "google-cloud": 2})
    # Vendor-job ledger (docs/providers.md): how long a claim to send a create holds without renewal
    # (default: one request plus the longest Retry-After, with margin: 390 s), how long to wait
    # before looking for a job whose create got no answer, and between looks at a create another
    # live worker is sending.
    vendor_claim_lease_s: float | None = Field(default=None, gt=0)
    vendor_lookup_settle_s: float = Field(default=5.0, ge=0)
    vendor_ledger_wait_s: float = Field(default=1.0, gt=0)
    # Vendor webhooks in (docs/providers.md, "Webhooks setup"). The public base URL vendors can
    # reach this API at; unset: no webhooks, polling only. Replicate deliveries are verified with
    # the account's signing secret (whsec_...), fal's with the ED25519 keys of its JWKS.
    vendor_webhook_base_url: str | None = None
    replicate_webhook_secret: SecretStr | None = None
    fal_webhook_jwks_url: str = "https://rest.alpha.fal.ai/.well-known/jwks.json"
    vendor_webhook_tolerance_s: float = Field(default=300.0, gt=0)  # a delivery's timestamp, either way
    # With webhooks, polling is the slow fallback: its interval grows up to this; the ledger row
    # (where a delivery lands) is read every vendor_ledger_check_s meanwhile.
    vendor_webhook_poll_max_interval_s: float = Field(default=60.0, gt=0)
    vendor_ledger_check_s: float = Field(default=1.0, gt=0)
    # Prices for costs (docs/providers.md, "Costs"): {"replicate": {"owner/model": {"per_second": 0.1}},
    # "fal": {"*": {"per_job": 0.5}}}; a vendor job with no price has no cost (never guessed).
    vendor_prices: dict[str, dict[str, dict[str, float]]] = Field(default_factory=dict)
    # Result cache time-to-live (Redis); the durable record lives in the database.
    cache_ttl_s: int = 7 * 24 * 3600

    # Scheduled re-render of stale outputs (off by default): cron, kinds, window of executions.
    rerender_schedule_enabled: bool = False
    rerender_cron: str = "0 3 * * *"
    # Our own renders (a stale vendor output is not paid for again unless asked for by name).
    rerender_kinds: list[str] = Field(default_factory=lambda: ["generated_clips", "merged_cut", "reframed",
                                                               "lipsynced", "subtitled", "layered"])
    rerender_window: str = "7d"

    # Bounded partitions (docs/DEPLOYMENT.md, "Retention of partitions"): Dagster keeps a partition
    # only for executions in a window, the newest ``partition_retention_max`` brought in within
    # ``partition_retention_days``; older ones leave the Dagster instance (their records, artefacts
    # and lineage stay here) and come back on demand. ``prune_partitions`` removes at most
    # ``partition_prune_batch`` per tick; 0 days or 0 max turns that limit off.
    partition_retention_days: float = Field(default=14.0, ge=0)
    partition_retention_max: int = Field(default=5_000, ge=0)
    partition_prune_batch: int = Field(default=2_000, ge=1, le=100_000)
    partition_prune_interval_s: int = Field(default=30, ge=1)

    log_level: str = "INFO"
    # ``json``: one JSON object per line (the fields are in docs/OPERATIONS.md); ``text``: plain lines.
    log_format: Literal["json", "text"] = "json"

    @field_validator("public_base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("vendor_webhook_base_url")
    @classmethod
    def _strip_webhook_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else None

    @field_validator("replicate_webhook_secret")
    @classmethod
    def _signing_secret(cls, value: SecretStr | None) -> SecretStr | None:
        """Replicate's signing secret is ``whsec_`` + base64: checked at start-up, not at the first delivery."""
        if value is not None:
            try:
                base64.b64decode(value.get_secret_value().removeprefix("whsec_"), validate=True)
            except binascii.Error:
                raise ValueError("must be whsec_ followed by base64 (GET /v1/webhooks/default/secret)") from None
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            url = self.database_url
            # Accept the common "postgres://" and plain "postgresql://" spellings.
            if url.startswith("postgres://"):
                url = "postgresql+psycopg2://" + url[len("postgres://") :]
            elif url.startswith("postgresql://"):
                url = "postgresql+psycopg2://" + url[len("postgresql://") :]
            return url
        return f"sqlite:///{(self.data_dir / 'vidassets.db').resolve()}"

    @property
    def resolved_artefacts_dir(self) -> Path:
        return (self.artefacts_dir or self.data_dir / "artefacts").resolve()

    @property
    def resolved_work_dir(self) -> Path:
        return (self.work_dir or self.data_dir / "work").resolve()

    def encryption_key(self) -> bytes:
        """Return the Fernet key, creating one under data_dir on first use (embedded default)."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        from cryptography.fernet import Fernet

        path = self.data_dir / "secret.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                # O_EXCL: when two processes start together, exactly one key is ever written.
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(Fernet.generate_key())
        return path.read_bytes().strip()


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def media_config(settings: Settings) -> MediaConfig:
    """The media layer's knobs from these settings (applied by :func:`vidassets.services.build_services`)."""
    from vidassets.media.config import MediaConfig

    return MediaConfig(ffmpeg=settings.ffmpeg, slots=settings.ffmpeg_slots, preset=settings.ffmpeg_preset,
                       crf=settings.ffmpeg_crf, timeout_s=settings.ffmpeg_timeout)
