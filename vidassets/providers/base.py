"""The provider interface: turn a generation request into a media file.

Real vendors (Replicate, fal, Vertex) speak HTTP with the caller's key; the embedded ``local``
provider renders offline with ffmpeg. The executor only sees :class:`VideoProvider`, so wiring
decides which one runs (as ``HNClient`` does in Dagster's fully-featured example).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol

ProgressCallback = Callable[[float], None]


class ProviderError(RuntimeError):
    """A provider failed. ``retryable`` separates network/5xx/429 from auth/input/policy errors."""

    def __init__(self, message: str, *, code: str = "provider_error", retryable: bool = False):
        super().__init__(message)
        self.code = code
        self.retryable = retryable


@dataclass(frozen=True)
class GenerateRequest:
    prompt: str | None
    duration: float
    aspect_ratio: str
    resolution: str
    fps: int = 24
    seed: int | None = None
    model: str | None = None
    negative_prompt: str | None = None
    start_image: str | None = None
    end_image: str | None = None
    camera_motion: Any = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "GenerateRequest":
        known = {"provider", "model", "prompt", "negativePrompt", "duration", "resolution", "aspectRatio",
                 "seed", "fps", "startImage", "endImage", "cameraMotion", "unified", "url"}
        return cls(
            prompt=params.get("prompt"), duration=float(params.get("duration", 5.0)),
            aspect_ratio=params.get("aspectRatio", "16:9"), resolution=params.get("resolution", "720p"),
            fps=int(params.get("fps", 24)), seed=params.get("seed"), model=params.get("model"),
            negative_prompt=params.get("negativePrompt"), start_image=params.get("startImage"),
            end_image=params.get("endImage"), camera_motion=params.get("cameraMotion"),
            extra={k: v for k, v in params.items() if k not in known},
        )


@dataclass(frozen=True)
class ProviderResult:
    path: Path
    provider: str
    model: str | None
    offline: bool = False
    details: Mapping[str, Any] = field(default_factory=dict)


class VideoProvider(Protocol):
    name: str

    def generate(self, request: GenerateRequest, *, out: Path, api_key: str | None,
                 on_progress: ProgressCallback, cancel: threading.Event) -> ProviderResult: ...
