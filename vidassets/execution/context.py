"""What an operation handler receives and returns (:mod:`vidassets.execution.operations` and
:mod:`vidassets.execution.media_ops` both hand these around, so they live apart from both)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidassets.plan.operations import Operation
from vidassets.plan.params import OperationParams
from vidassets.providers.ledger import Ledger
from vidassets.render.compiler import Recipe


@dataclass
class JobContext:
    execution_id: str
    job_id: str
    operation: Operation
    params: OperationParams  # the validated per-operation model (see plan.params.parse_stored)
    inputs: Sequence[Path]
    workdir: Path
    on_progress: Callable[[float], None]
    cancel: threading.Event
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)  # provider -> key, plus "job" for the job's own
    vendor_jobs: Ledger | None = None  # this job's vendor-job ledger: paid vendor jobs are created once per attempt
    # A fused render (vidassets.render): the recipe, its sources' local files and stored results.
    recipe: Recipe | None = None
    sources: Mapping[str, Path] = field(default_factory=dict)
    source_results: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    input_ids: Sequence[str] = ()  # the input jobs' ids, in the order of ``inputs`` (a source job's dependsOn)
    preset: str = "standard"  # the plan's render preset: the encoder profile (media.render_profile)
    render_note: str | None = None  # why the render compiler left this job out of a graph


@dataclass(frozen=True)
class JobOutput:
    path: Path
    provider: str | None = None
    model: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    external: bool = False  # bytes made outside our ffmpeg (a provider): decoded in full before use
    # What the job's input artefacts are, when the render did not read them (a fused render
    # predicts them): the checks compare against these. None: the inputs it was given.
    inputs: Sequence[Mapping[str, Any]] | None = None
