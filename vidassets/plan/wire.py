"""Which wire format a submission used, and how its state reads in that format's vocabulary.

Shape A (``executionPlan``, the documented format) has five statuses. Shape B is the TypeScript
SDK's own format, and the SDK only knows ``pending processing completed failed``: it polls until
``completed`` or ``failed`` and would poll a ``cancelled`` execution forever. So an execution
submitted in shape B reports a cancellation as ``failed`` with ``errorCode: "cancelled"`` (on the
status endpoint and in webhooks); shape-A clients keep seeing ``cancelled``.

The format is recorded at submission in the stored plan JSON (``wireFormat``), next to the jobs
and roots it describes. Executions stored before it was recorded read as the documented format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

WireFormat = Literal["documented", "sdk"]
DOCUMENTED: WireFormat = "documented"
SDK: WireFormat = "sdk"
PLAN_KEY = "wireFormat"  # where the stored plan JSON keeps it
CANCELLED_CODE = "cancelled"
CANCELLED_MESSAGE = "execution cancelled"


def wire_format_of(plan: Mapping[str, Any] | None) -> WireFormat:
    return SDK if (plan or {}).get(PLAN_KEY) == SDK else DOCUMENTED


@dataclass(frozen=True)
class Reported:
    """A status with its error, as one wire format's client should read it."""

    status: str
    error: str | None
    error_code: str | None


def reported(wire: WireFormat, status: str, error: str | None, error_code: str | None) -> Reported:
    """``cancelled`` becomes ``failed`` (code ``cancelled``) for the SDK; everything else as stored."""
    if wire != SDK or status != "cancelled":
        return Reported(status, error, error_code)
    message = error or CANCELLED_MESSAGE
    if "cancel" not in message.lower():
        message = f"{CANCELLED_MESSAGE}: {message}"
    return Reported("failed", message, CANCELLED_CODE)
