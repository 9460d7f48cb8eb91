"""The embedded provider: a deterministic clip rendered offline with ffmpeg from the prompt.

It honours duration, aspect ratio, resolution, fps and seed, and says in its result that it is
the offline renderer, so nobody mistakes its output for a model's. Nothing is paid for, so it
ignores the vendor-job ledger.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from vidassets import media
from vidassets.providers.base import GenerateRequest, ProgressCallback, ProviderError, ProviderResult

LOCAL_MODEL = "vidassets-local-renderer-v1"


class LocalProvider:
    name = "local"

    def __init__(self, timeout_s: float | None = None):
        self.timeout_s = timeout_s

    def generate(self, request: GenerateRequest, *, out: Path, api_key: str | None,
                 on_progress: ProgressCallback, cancel: threading.Event, ledger: Any = None) -> ProviderResult:
        if not request.prompt:
            raise ProviderError("the local renderer needs a prompt", code="invalid_params")
        media.render_local_clip(
            out, prompt=request.prompt, duration=request.duration, aspect_ratio=request.aspect_ratio,
            resolution=request.resolution, seed=request.seed or 0, fps=request.fps,
            timeout=self.timeout_s, on_progress=on_progress,
        )
        return ProviderResult(
            path=out, provider=self.name, model=LOCAL_MODEL, offline=True,
            details={"note": "rendered offline by the embedded local renderer (not an AI model)"},
        )
