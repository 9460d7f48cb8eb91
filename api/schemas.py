"""Response models, following the template's family-of-schemas naming."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ExecutionStatus = Literal["pending", "processing", "completed", "failed", "cancelled"]


class ErrorResponse(BaseModel):
    error: str
    code: str
    details: Any | None = None


class ExecutionAccepted(BaseModel):
    id: str
    executionId: str = Field(description="Same value as id (the TypeScript SDK reads executionId).")
    status: ExecutionStatus
    createdAt: dt.datetime
    statusUrl: str


class VendorJobUsage(BaseModel):
    """One paid job a vendor ran for a plan job (one per vendor attempt), and what it used."""

    vendor: str
    model: str
    status: str = Field(description="The ledger's word: creating, submitted, succeeded, failed, canceled ...")
    attempt: int
    billedSeconds: float | None = Field(default=None, description="What the vendor bills by: predict time "
                                        "(Replicate), inference time (fal), seconds of video (Google)")
    costUsd: float | None = Field(default=None, description="From the server's price table; absent when unpriced")
    usage: dict[str, Any] | None = Field(default=None, description="The vendor's own figures, as reported")


class UsageTotals(BaseModel):
    """An execution's vendor usage in all."""

    vendorJobs: int
    billedSeconds: float
    costUsd: float | None = Field(default=None, description="Sum over priced vendor jobs; absent when none is priced")
    unpricedJobs: int = Field(description="Vendor jobs whose cost is unknown (no price, or no usage reported)")


class JobPublic(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    operation: str
    status: ExecutionStatus
    progress: float = Field(description="0..100")
    dependsOn: list[str]
    attempts: int
    result: dict[str, Any] | None = None
    error: str | None = None
    errorCode: str | None = None
    startedAt: dt.datetime | None = None
    completedAt: dt.datetime | None = None
    vendorJobs: list[VendorJobUsage] = Field(default_factory=list, description="Paid vendor jobs it ran")


class ExecutionResult(BaseModel):
    model_config = ConfigDict(extra="allow")
    url: str | None
    jobId: str | None = None
    outputs: dict[str, dict[str, Any]]
    aspectRatio: str | None = None
    duration: float | None = None
    # What the final result is (today's SDK's MediaResult): an image or speech plan ends in one.
    type: Literal["video", "image", "audio"] | None = None
    format: str | None = None
    size: int | None = None


class ExecutionPublic(BaseModel):
    id: str
    executionId: str
    status: ExecutionStatus
    jobs: list[JobPublic]
    progress: float
    totalJobs: int
    completedJobs: int
    failedJobs: int
    currentJob: str | None
    result: ExecutionResult | None = None
    error: str | None = None
    errorCode: str | None = None
    baseExecutionId: str | None = None
    runId: str | None = None
    createdAt: dt.datetime
    startedAt: dt.datetime | None = None
    completedAt: dt.datetime | None = None
    usage: UsageTotals | None = Field(default=None, description="Vendor usage and cost; absent without vendor jobs")
    landing: list[str] = Field(default_factory=list, description="Jobs still rendering after the result landed: "
                               "the root outputs render first, intermediates land right after (docs/PLANS.md)")


class ExecutionSummary(BaseModel):
    id: str
    status: ExecutionStatus
    totalJobs: int
    completedJobs: int
    baseExecutionId: str | None = None
    error: str | None = None
    createdAt: dt.datetime
    completedAt: dt.datetime | None = None


class ExecutionsPublic(BaseModel):
    data: list[ExecutionSummary]
    count: int
    nextCursor: str | None = None


class WebhookAttemptPublic(BaseModel):
    attempt: int
    startedAt: dt.datetime
    statusCode: int | None
    latencyMs: float
    error: str | None
    outcome: Literal["delivered", "retry", "failed"]


class WebhookDeliveryPublic(BaseModel):
    id: str
    event: str
    url: str
    status: Literal["pending", "delivered", "failed"]
    attempts: list[WebhookAttemptPublic]
    nextAttemptAt: dt.datetime | None
    createdAt: dt.datetime
    deliveredAt: dt.datetime | None


class WebhookDeliveriesPublic(BaseModel):
    data: list[WebhookDeliveryPublic]
    count: int


class ActionAccepted(BaseModel):
    id: str
    status: ExecutionStatus
    jobs: list[str] = Field(default_factory=list, description="Jobs affected by the action")


class CacheCleared(BaseModel):
    id: str
    deleted: int = Field(description="Cache entries removed")


AssetKindName = Literal["generated_clips", "merged_cut", "reframed", "lipsynced", "subtitled"]


class RerenderRequest(BaseModel):
    kinds: list[AssetKindName] = Field(min_length=1)
    since: str = Field(default="7d", pattern=r"^\d+\s*[smhdwSMHDW]$", description="window, e.g. 7d or 12h")
    dryRun: bool = False


class RerenderAccepted(BaseModel):
    executions: list[str]
    kinds: list[str]
    backfills: list[str]
    reasons: dict[str, str] = Field(description="executionId/jobId -> why it is stale")


class PartitionPublic(BaseModel):
    """Whether an execution is a partition in Dagster now (docs/DEPLOYMENT.md, "Retention of
    partitions"). Archived executions keep their status, results and artefacts here."""

    id: str
    inDagster: bool = Field(description="False when the retention window archived it (no Dagster partition)")
    partitionAt: dt.datetime | None = Field(default=None, description="When it was added or last brought back")
    archivedAt: dt.datetime | None = Field(default=None, description="When its partition was removed")
    restored: bool = Field(default=False, description="This request brought it back")
