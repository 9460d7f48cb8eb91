"""What the API returns, as frozen dataclasses parsed leniently from its JSON.

Parsing is lenient on purpose: a newer server may add fields (kept in ``raw``) and an older one
may say ``in_progress`` where the current one says ``processing``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

Status = Literal["pending", "processing", "completed", "failed", "cancelled"]
TERMINAL: frozenset[str] = frozenset({"completed", "failed", "cancelled"})
_ALIASES = {"in_progress": "processing", "running": "processing", "canceled": "cancelled", "queued": "pending"}


def _status(value: Any) -> Status:
    text = str(value or "pending").lower()
    return cast(Status, _ALIASES.get(text, text))


def _float(value: Any, default: float = 0.0) -> float:
    return float(value) if isinstance(value, (int, float)) else default


def _int(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) else 0


@dataclass(frozen=True)
class JobStatus:
    id: str
    operation: str
    status: Status
    progress: float = 0.0
    result: Mapping[str, Any] | None = None
    error: str | None = None
    error_code: str | None = None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> JobStatus:
        return cls(id=str(body.get("id", "")), operation=str(body.get("operation") or body.get("type") or ""),
                   status=_status(body.get("status")), progress=_float(body.get("progress")),
                   result=body.get("result"), error=body.get("error"), error_code=body.get("errorCode"))


@dataclass(frozen=True)
class ExecutionResult:
    url: str | None
    outputs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    job_id: str | None = None
    aspect_ratio: str | None = None
    duration: float | None = None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> ExecutionResult:
        duration = body.get("duration")
        return cls(url=body.get("url"), outputs=dict(body.get("outputs") or {}), job_id=body.get("jobId"),
                   aspect_ratio=body.get("aspectRatio"),
                   duration=float(duration) if isinstance(duration, (int, float)) else None)


@dataclass(frozen=True)
class ExecutionStatus:
    """Body of ``GET /api/execute/{id}/status``."""

    id: str
    status: Status
    progress: float = 0.0
    total_jobs: int = 0
    completed_jobs: int = 0
    failed_jobs: int = 0
    current_job: str | None = None
    jobs: tuple[JobStatus, ...] = ()
    result: ExecutionResult | None = None
    error: str | None = None
    error_code: str | None = None
    created_at: str | None = None
    completed_at: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> ExecutionStatus:
        result = body.get("result")
        return cls(
            id=str(body.get("id") or body.get("executionId") or ""), status=_status(body.get("status")),
            progress=_float(body.get("progress")), total_jobs=_int(body.get("totalJobs")),
            completed_jobs=_int(body.get("completedJobs")), failed_jobs=_int(body.get("failedJobs")),
            current_job=body.get("currentJob"),
            jobs=tuple(JobStatus.from_json(j) for j in body.get("jobs") or [] if isinstance(j, Mapping)),
            result=ExecutionResult.from_json(result) if isinstance(result, Mapping) else None,
            error=body.get("error"), error_code=body.get("errorCode"), created_at=body.get("createdAt"),
            completed_at=body.get("completedAt"), raw=dict(body),
        )

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def url(self) -> str | None:
        """The root output's URL, once completed."""
        return self.result.url if self.result else None

    @property
    def fingerprint(self) -> tuple[Any, ...]:
        """What ``on_progress`` callers care about; a change in any of it is reported."""
        return (self.status, self.progress, self.current_job, self.completed_jobs, self.failed_jobs)


@dataclass(frozen=True)
class Accepted:
    """Body of the ``202`` from ``POST /api/execute``."""

    id: str
    status: Status
    created_at: str | None = None
    status_url: str | None = None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Accepted:
        execution_id = body.get("executionId") or body.get("id")
        if not execution_id:
            raise ValueError("the API accepted the plan but returned no execution id")
        return cls(id=str(execution_id), status=_status(body.get("status")), created_at=body.get("createdAt"),
                   status_url=body.get("statusUrl"))


@dataclass(frozen=True)
class ActionResult:
    """Body of ``POST .../cancel`` and ``POST .../retry``: the jobs the action touched."""

    id: str
    status: Status
    jobs: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> ActionResult:
        return cls(id=str(body.get("id", "")), status=_status(body.get("status")),
                   jobs=tuple(str(j) for j in body.get("jobs") or []))
