"""Typed SDK errors: branch on the class, read the server's code and message from attributes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vidassets_sdk.models import ExecutionStatus


class VidassetsError(Exception):
    """Base class of every error the SDK raises."""


class ApiError(VidassetsError):
    """The API answered with an error status; fields come from its ``{"error", "code", "details"}`` body."""

    def __init__(self, status: int, code: str, message: str, details: Any = None,
                 retry_after: float | None = None):
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.retry_after = retry_after


class ApiConnectionError(VidassetsError):
    """The API could not be reached (connection refused, DNS, timeout)."""


class ExecutionFailed(VidassetsError):
    """The execution ended ``failed`` or ``cancelled``; ``status`` is its final status."""

    def __init__(self, error: str, code: str, status: ExecutionStatus):
        super().__init__(f"execution {status.id} {status.status}: {error}")
        self.error = error
        self.code = code
        self.status = status


class ExecutionTimeout(VidassetsError):
    """``wait()`` gave up; ``status`` is the last status seen (the execution keeps running)."""

    def __init__(self, execution_id: str, timeout: float, status: ExecutionStatus | None):
        state = status.status if status else "unknown"
        super().__init__(f"execution {execution_id} still {state} after {timeout:g}s")
        self.execution_id = execution_id
        self.timeout = timeout
        self.status = status
