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


class ExecutionResult(BaseModel):
    model_config = ConfigDict(extra="allow")
    url: str | None
    jobId: str | None = None
    outputs: dict[str, dict[str, Any]]
    aspectRatio: str | None = None
    duration: float | None = None


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
