"""Validation errors that name the job and the field, so the API can answer 422 precisely."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PlanIssue:
    """One problem with a plan: ``field`` is a dotted path such as ``jobs[2].params.aspectRatio``."""

    field: str
    message: str
    job_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "message": self.message}
        if self.job_id is not None:
            out["jobId"] = self.job_id
        return out


class PlanValidationError(ValueError):
    """Raised with every issue found (not just the first) so a client can fix them in one go."""

    def __init__(self, issues: Sequence[PlanIssue]):
        self.issues = list(issues)
        first = self.issues[0] if self.issues else PlanIssue("", "invalid plan")
        more = f" (and {len(self.issues) - 1} more)" if len(self.issues) > 1 else ""
        super().__init__(f"{first.field}: {first.message}{more}")


def loc_to_field(loc: Sequence[str | int]) -> str:
    """Render a pydantic ``loc`` tuple as ``a.b[2].c``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
