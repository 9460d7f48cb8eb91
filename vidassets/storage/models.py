"""SQLAlchemy tables: executions, their jobs, and the ids that tie them to Dagster.

JSON columns use JSONB on PostgreSQL and JSON text on SQLite. Timestamps are timezone-aware UTC.
Secrets (webhook secret, provider keys) are stored encrypted (see ``crypto.py``), never in plaintext.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, TypeDecorator, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC on every backend (SQLite drops the offset; this puts it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: object) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC) if value is not None else None

    def process_result_value(self, value: dt.datetime | None, dialect: object) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value


class Base(DeclarativeBase):
    pass


class ExecutionRow(Base):
    __tablename__ = "executions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True, default="default")
    status: Mapped[str] = mapped_column(String(16), index=True, default="pending")
    plan: Mapped[dict[str, Any]] = mapped_column(JSONType)
    base_execution_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    webhook_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    webhook_secret_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    secrets_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    request_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    worker: Mapped[str | None] = mapped_column(String(128), nullable=True)  # host:pid of the run worker
    launch_attempts: Mapped[int] = mapped_column(Integer, default=0)
    launch_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    launched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancel_requested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Bounded partitions (0009, vidassets/dagster/retention.py): when the execution's Dagster
    # partition was added or last brought back (NULL: archived, it has none), and when it left.
    partition_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True, default=utcnow,
                                                             index=True)
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    jobs: Mapped[list[ExecutionJobRow]] = relationship(
        back_populates="execution", order_by="ExecutionJobRow.position", cascade="all, delete-orphan"
    )

    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key", name="uq_executions_tenant_idempotency"),
        Index("ix_executions_tenant_created", "tenant_id", "id"),
    )


class ExecutionJobRow(Base):
    __tablename__ = "execution_jobs"

    execution_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("executions.id", ondelete="CASCADE"), primary_key=True
    )
    job_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    operation: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(JSONType)
    params_hash: Mapped[str] = mapped_column(String(64))
    depends_on: Mapped[list[str]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Denormalised from ``result`` so metrics can aggregate in SQL on any backend.
    elapsed_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    provider: Mapped[str | None] = mapped_column(String(64), nullable=True)
    cache_hit: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    execution: Mapped[ExecutionRow] = relationship(back_populates="jobs")


class WebhookDeliveryRow(Base):
    """One message to one receiver (the outbox). ``payload`` is the exact body, fixed at enqueue
    time, so every retry carries the same bytes and the same ``webhook-id``."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    execution_id: Mapped[str] = mapped_column(String(64), ForeignKey("executions.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class WebhookAttemptRow(Base):
    """Every attempt, kept for the owner to inspect (status code, latency, error)."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(String(64), ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    latency_ms: Mapped[float] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))


class ApiKeyRow(Base):
    """An API key: only a SHA-256 hash of its secret part is stored (keys are 256-bit random,
    so a slow hash adds nothing). Each key belongs to one tenant."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(128))
    secret_hash: Mapped[str] = mapped_column(String(64))
    rate_limit_per_min: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ResultCacheRow(Base):
    """Durable record of a job result by request hash (Redis holds the hot copy with a TTL)."""

    __tablename__ = "result_cache"

    cache_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    execution_id: Mapped[str] = mapped_column(String(64), index=True)
    job_id: Mapped[str] = mapped_column(String(128))
    result: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


class VendorJobRow(Base):
    """The vendor-job ledger: one row per job a vendor was (or was about to be) asked to run.

    A row is claimed (``creating``) before the create request is sent and gets the vendor's job
    id, URLs and time (``submitted``) the moment the vendor acknowledges it, so a resumed or
    retried run, or a second worker, polls that job instead of paying for another. One row per
    ``(execution, job, step, vendor_attempt)``: the attempt only moves on when the previous vendor
    job ended in a failure (see ``vidassets/storage/vendor_jobs.py``). ``(vendor, vendor_job_id)``
    is unique, so one vendor job is never recorded for two attempts.
    """

    __tablename__ = "vendor_jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    execution_id: Mapped[str] = mapped_column(String(64), ForeignKey("executions.id", ondelete="CASCADE"), index=True)
    job_id: Mapped[str] = mapped_column(String(128))
    step: Mapped[str] = mapped_column(String(32))  # the job's vendor call: generate, lip_sync, transcribe
    vendor_attempt: Mapped[int] = mapped_column(Integer)
    vendor: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), index=True)
    input_digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the create request as sent
    vendor_job_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    get_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    cancel_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    urls: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)  # vendor-specific (fal's response URL)
    holder: Mapped[str | None] = mapped_column(String(160), nullable=True)  # host:pid:token sending the create
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    posts: Mapped[int] = mapped_column(Integer, default=0)  # create requests sent for this attempt
    vendor_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    output_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    usage: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)  # what the vendor reported
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    evidence: Mapped[list[Any]] = mapped_column(JSONType, default=list)  # what happened to the create, in order
    # Webhooks in (0008): the per-attempt token in the delivery URL, the last verified delivery, and
    # the seconds the vendor bills (normalised from ``usage``: predict / inference time, video seconds).
    hook_token: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    hook: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    billed_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)  # claimed
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)  # vendor acknowledged
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("execution_id", "job_id", "step", "vendor_attempt", name="uq_vendor_jobs_attempt"),
        UniqueConstraint("vendor", "vendor_job_id", name="uq_vendor_jobs_vendor_job"),
    )


class VendorWebhookDeliveryRow(Base):
    """A vendor webhook delivery that was accepted: its id (Replicate's ``webhook-id``, a digest of
    fal's signed message) is the primary key, so a replayed delivery is refused atomically."""

    __tablename__ = "vendor_webhook_deliveries"

    vendor: Mapped[str] = mapped_column(String(32), primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    vendor_job_row: Mapped[str] = mapped_column(String(32), ForeignKey("vendor_jobs.id", ondelete="CASCADE"),
                                                index=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
