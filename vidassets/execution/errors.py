"""Job error codes: stable strings a client can branch on, plus a human message."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JobFailure:
    code: str
    message: str
    retryable: bool = False


# Codes the executor retries inside a job (network fetches, the object store). Providers retry
# their own transient failures (5xx, 429) inside the client.
RETRYABLE_CODES = frozenset({"fetch_failed", "storage_error"})


def classify(exc: BaseException) -> JobFailure:
    """Map any exception from media, fetching, storage or providers to a stable job error."""
    code = getattr(exc, "code", None)
    message = str(exc) or exc.__class__.__name__
    retryable = bool(getattr(exc, "retryable", False)) or code in RETRYABLE_CODES
    if isinstance(code, str) and code:
        return JobFailure(code, message, retryable)
    if isinstance(exc, TimeoutError):
        return JobFailure("timeout", message, False)
    return JobFailure("internal_error", f"{exc.__class__.__name__}: {message}", False)


class JobCancelled(Exception):
    code = "cancelled"
