"""Plans and submission helpers shared by the tests."""

from __future__ import annotations

from typing import Any

from vidassets.plan import PlanCreate
from vidassets.runs.submit import accept


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
