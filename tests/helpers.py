"""Plans and submission helpers shared by the tests."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from vidassets.logs import JsonFormatter
from vidassets.plan import PlanCreate, normalize_request
from vidassets.plan.models import Plan
from vidassets.runs.submit import accept
from vidassets.settings import Settings
from vidassets.stack import Stack
from vidassets.storage.keys import ApiKeyRepository


def submit(services, body: dict[str, Any], **kwargs: Any) -> str:  # type: ignore[no-untyped-def]
    return accept(services, PlanCreate.model_validate(body), tenant_id=kwargs.pop("tenant", "default"), **kwargs).row.id


def five_op_plan(audio_url: str, *, size: str = "320x180", duration: float = 1.0) -> dict[str, Any]:
    return {"executionPlan": {"jobs": [
        {"id": "a", "operation": "generate",
         "params": {"prompt": "red dawn", "duration": duration, "resolution": size, "seed": 1}},
        {"id": "b", "operation": "generate",
         "params": {"prompt": "blue dusk", "duration": duration, "resolution": size, "seed": 2}},
        {"id": "cut", "operation": "merge", "params": {"transition": {"type": "crossfade", "duration": 0.25}},
         "dependsOn": ["a", "b"]},
        {"id": "tall", "operation": "reframe", "params": {"aspectRatio": "9:16", "strategy": "center"}, "dependsOn": ["cut"]},
        {"id": "voice", "operation": "lipSync", "params": {"audioUrl": audio_url, "volume": 0.7}, "dependsOn": ["tall"]},
        {"id": "caps", "operation": "addSubtitles", "params": {"text": "hello there: a [test], 100%", "style": "bold"},
         "dependsOn": ["voice"]},
    ], "rootJobIds": ["caps"]}}


@contextlib.contextmanager
def running_stack(settings: Settings, env: dict[str, str], *, api_port: int, dagster_port: int,
                  tenant: str, log_dir: Path) -> Iterator[Stack]:
    """The real stack (uvicorn + Dagster) with an API key of ``tenant``; its logs are printed when
    start-up or a test using it fails, and every process is stopped afterwards."""
    stack = Stack(env=env, api_port=api_port, dagster_port=dagster_port, log_dir=log_dir)
    stack.api_key = ApiKeyRepository(settings.resolved_database_url).create(tenant, "tests")[0]
    stack.start()
    try:
        stack.wait_ready(timeout_s=240)
        yield stack
    except BaseException:
        for log in sorted(log_dir.glob("*.log")):
            print(f"==== {log.name}\n{log.read_text()[-6000:]}")
        raise
    finally:
        stack.stop()


@contextlib.contextmanager
def stack_client(stack: Stack) -> Iterator[httpx.Client]:
    """An HTTP client for the real API, authenticated like the SDK (Bearer key)."""
    with httpx.Client(base_url=stack.api_url, headers={"Authorization": f"Bearer {stack.api_key}"},
                      timeout=30) as client:
        yield client


def merge_of_two_plan() -> Plan:
    """Two generates merged: the smallest plan with a dependency (storage-level tests)."""
    return normalize_request(PlanCreate.model_validate({"jobs": [
        {"id": "a", "type": "generate", "params": {"prompt": "a"}},
        {"id": "b", "type": "generate", "params": {"prompt": "b"}},
        {"id": "m", "type": "merge", "params": {}, "dependsOn": ["a", "b"]},
    ]})).plan


class LogLines(logging.Handler):
    """Each record formatted when it is logged (the log context lives in contextvars), as the
    real handler does; JSON lines unless another formatter is given."""

    def __init__(self, formatter: logging.Formatter | None = None):
        super().__init__(logging.DEBUG)
        self.setFormatter(formatter or JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def take(self) -> list[str]:
        out, self.lines = self.lines, []
        return out

    def entries(self) -> list[dict[str, Any]]:
        """The JSON lines taken so far, each checked to be one line."""
        out = []
        for line in self.take():
            assert len(line.splitlines()) == 1, line
            out.append(json.loads(line))
        return out


@contextlib.contextmanager
def capture_log(name: str, handler: LogLines) -> Iterator[LogLines]:
    """``handler`` on logger ``name`` at INFO for the block."""
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
