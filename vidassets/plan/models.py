"""Wire shapes of ``POST /api/execute`` and the one internal plan they normalise to.

Shape A (documented): ``{"executionPlan": {"jobs": [...], "rootJobIds": [...]}, "options": {...}}``.
Shape B (TypeScript SDK): ``{"jobs": [...], "baseExecutionId", "webhook": {...}, "providerApiKeys"}``.
The pydantic models below only check structure; :func:`vidassets.plan.normalize.normalize_request`
checks meaning (operations, params, graph) and reports every problem with its field path.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

from vidassets.plan.operations import AssetKind, Operation
from vidassets.plan.params import HttpUrl
from vidassets.plan.wire import DOCUMENTED, SDK, WireFormat
from vidassets.plan.wire_current import is_current

#: Quality/speed of every encode in the plan (docs/PLANS.md, "Render presets").
RenderPreset = Literal["draft", "standard", "high"]
RENDER_PRESET_DOC = ("draft: fast, small previews (short side at most 360 px); standard: the default; "
                     "high: slower, higher quality")
JOB_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$"
EXECUTION_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}$"


class JobIn(BaseModel):
    """One job as a client sends it. ``type`` and ``operation`` are synonyms."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(pattern=JOB_ID_PATTERN, description="Unique within the plan; letters, digits, _ . : -")
    operation: str | None = Field(default=None, max_length=64)
    type: str | None = Field(default=None, max_length=64)
    params: dict[str, Any] = Field(default_factory=dict)
    # Its length is a plan rule (``bounds.MAX_DEPENDS_ON``), checked where the error can name the job.
    dependsOn: list[str] = Field(default_factory=list,
                                 validation_alias=AliasChoices("dependsOn", "depends_on", "inputs"))
    output: Any = None


class ExecutionPlanIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    jobs: list[JobIn]
    rootJobIds: list[str] | None = None
    # Today's TypeScript SDK sends the base execution here (vidassets.plan.wire_current).
    baseExecutionId: str | None = Field(default=None, pattern=EXECUTION_ID_PATTERN)


class OptionsIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    baseExecutionId: str | None = Field(default=None, pattern=EXECUTION_ID_PATTERN)
    webhookUrl: HttpUrl | None = None
    webhookSecret: str | None = Field(default=None, min_length=1, max_length=512)
    renderPreset: RenderPreset | None = Field(default=None, description=RENDER_PRESET_DOC)
    # Today's TypeScript SDK: ``webhook: {url, secret}`` and the provider keys, under options.
    webhook: WebhookIn | None = None
    providerApiKeys: dict[str, str] | None = Field(default=None, repr=False)  # secrets: never in a repr or log

    @model_validator(mode="before")
    @classmethod
    def _webhook_as_url(cls, data: Any) -> Any:
        """Today's SDK's ``executeFromPlan`` sends ``webhook`` as the URL, its secret beside it."""
        if isinstance(data, dict) and isinstance(data.get("webhook"), str):
            data = {**data, "webhook": {"url": data["webhook"], "secret": data.get("webhookSecret")}}
        return data


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    url: HttpUrl
    secret: str | None = Field(default=None, min_length=1, max_length=512)


def unsafe_json_values(value: Any, path: str = "") -> list[tuple[str, str]]:
    """Values JSON parsers accept but that cannot be stored and run faithfully: NaN/Infinity
    (JSON columns would store null), NUL characters (PostgreSQL text refuses them) and lone
    UTF-16 surrogates (not encodable as UTF-8). Returns (field path, problem) pairs."""
    found: list[tuple[str, str]] = []
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        found.append((path or "body", "NaN and Infinity are not allowed"))
    elif isinstance(value, str):
        if "\x00" in value:
            found.append((path or "body", "NUL characters are not allowed"))
        else:
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                found.append((path or "body", "invalid Unicode (lone surrogate)"))
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str):
                found += [(where, f"key: {msg}") for _, msg in unsafe_json_values(key, where)]
            found += unsafe_json_values(item, where)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += unsafe_json_values(item, f"{path}[{i}]")
    return found


class PlanCreate(BaseModel):
    """Body of ``POST /api/execute``: either shape A or shape B (not both)."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
                    "executionPlan": {
                        "jobs": [
                            {"id": "a", "operation": "generate", "params": {"prompt": "sunrise over hills", "duration": 3}},
                            {"id": "b", "operation": "generate", "params": {"prompt": "city at night", "duration": 3}},
                            {"id": "cut", "operation": "merge",
                             "params": {"transition": {"type": "crossfade", "duration": 0.5}}, "dependsOn": ["a", "b"]},
                            {"id": "vertical", "operation": "reframe", "params": {"aspectRatio": "9:16"}, "dependsOn": ["cut"]},
                        ],
                        "rootJobIds": ["vertical"],
                    },
                    "options": {"webhookUrl": "https://example.com/hooks/vidassets"},
                }
            ]
        },
    )

    # Shape A
    executionPlan: ExecutionPlanIn | None = None
    options: OptionsIn | None = None
    # Shape B
    jobs: list[JobIn] | None = None
    rootJobIds: list[str] | None = None
    baseExecutionId: str | None = Field(default=None, pattern=EXECUTION_ID_PATTERN)
    webhook: WebhookIn | None = None
    webhookUrl: HttpUrl | None = None
    webhookSecret: str | None = Field(default=None, min_length=1, max_length=512)
    providerApiKeys: dict[str, str] | None = Field(default=None, repr=False)  # secrets: never in a repr or log
    renderPreset: RenderPreset | None = Field(default=None, description=RENDER_PRESET_DOC)

    @model_validator(mode="after")
    def _one_shape(self) -> PlanCreate:
        if self.executionPlan is None and self.jobs is None:
            raise ValueError("send either executionPlan.jobs (documented format) or jobs (SDK format)")
        if self.executionPlan is not None and self.jobs is not None:
            raise ValueError("send executionPlan or top-level jobs, not both")
        if len(self.provider_api_keys[1]) > 16:
            raise ValueError("providerApiKeys: too many entries")
        return self

    @property
    def job_list(self) -> list[JobIn]:
        return self.executionPlan.jobs if self.executionPlan is not None else list(self.jobs or [])

    @property
    def root_job_ids(self) -> list[str] | None:
        return self.executionPlan.rootJobIds if self.executionPlan is not None else self.rootJobIds

    @property
    def base_execution_id(self) -> str | None:
        if self.options and self.options.baseExecutionId:
            return self.options.baseExecutionId
        if self.executionPlan is not None and self.executionPlan.baseExecutionId:
            return self.executionPlan.baseExecutionId
        return self.baseExecutionId

    @property
    def provider_api_keys(self) -> tuple[str, dict[str, str]]:
        """The per-request provider keys and the field they came from (``options.providerApiKeys``
        for today's TypeScript SDK, top-level ``providerApiKeys`` for the original one)."""
        if self.options is not None and self.options.providerApiKeys:
            return "options.providerApiKeys", self.options.providerApiKeys
        return "providerApiKeys", self.providerApiKeys or {}

    @property
    def render_preset(self) -> RenderPreset:
        """``options.renderPreset`` (documented format) or ``renderPreset`` (SDK); ``standard``."""
        if self.options and self.options.renderPreset:
            return self.options.renderPreset
        return self.renderPreset or "standard"

    @property
    def wire_format(self) -> WireFormat:
        """Shape A is the documented format; top-level ``jobs`` is the TypeScript SDK's, and so is
        shape A in today's SDK's dialect (it too only knows pending/processing/completed/failed)."""
        return DOCUMENTED if self.executionPlan is not None and not is_current(self) else SDK

    @property
    def webhook_config(self) -> WebhookConfig | None:
        found = self.webhook_source
        return found[1] if found else None

    @property
    def webhook_source(self) -> tuple[str, WebhookConfig] | None:
        """The webhook in force and the field its URL came from (for errors that name it)."""
        if self.options and self.options.webhookUrl:
            return "options.webhookUrl", WebhookConfig(self.options.webhookUrl, self.options.webhookSecret)
        if self.options and self.options.webhook is not None:
            return "options.webhook.url", WebhookConfig(self.options.webhook.url, self.options.webhook.secret)
        if self.webhook is not None:
            return "webhook.url", WebhookConfig(self.webhook.url, self.webhook.secret)
        if self.webhookUrl:
            return "webhookUrl", WebhookConfig(self.webhookUrl, self.webhookSecret)
        return None


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    secret: str | None = None


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class PlanJob:
    """A validated job: canonical operation, normalised JSON params (no secrets), ordered inputs."""

    id: str
    operation: Operation
    params: Mapping[str, Any]
    depends_on: tuple[str, ...] = ()

    @property
    def kind(self) -> AssetKind:
        return self.operation.asset_kind

    @property
    def params_hash(self) -> str:
        """Identity of the work: what base-execution reuse and the result cache compare."""
        body = canonical_json({"op": self.operation.value, "params": dict(self.params),
                               "dependsOn": list(self.depends_on)})
        return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class Plan:
    jobs: tuple[PlanJob, ...]
    root_job_ids: tuple[str, ...]
    render_preset: RenderPreset = "standard"

    def job(self, job_id: str) -> PlanJob:
        for job in self.jobs:
            if job.id == job_id:
                return job
        raise KeyError(job_id)

    @property
    def edges(self) -> dict[str, tuple[str, ...]]:
        return {job.id: job.depends_on for job in self.jobs}


@dataclass(frozen=True)
class Submission:
    """Everything a request asks for, validated. Secrets are kept apart from the plan."""

    plan: Plan
    base_execution_id: str | None = None
    webhook: WebhookConfig | None = None
    provider_keys: Mapping[str, str] = field(default_factory=dict, repr=False)  # secrets: kept out of reprs
    job_keys: Mapping[str, str] = field(default_factory=dict, repr=False)  # per-job apiKey, by job id
    wire_format: WireFormat = DOCUMENTED  # decides the status vocabulary the client is answered in
