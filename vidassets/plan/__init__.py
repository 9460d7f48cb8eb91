"""Execution plans: the two wire shapes, per-operation params, DAG checks, normalisation."""

from vidassets.plan.errors import PlanIssue, PlanValidationError
from vidassets.plan.models import Plan, PlanCreate, PlanJob, Submission, WebhookConfig, canonical_json
from vidassets.plan.normalize import normalize_request
from vidassets.plan.operations import ASSET_KINDS_IN_LINEAGE_ORDER, AssetKind, Operation

__all__ = [
    "ASSET_KINDS_IN_LINEAGE_ORDER", "AssetKind", "Operation", "Plan", "PlanCreate", "PlanIssue",
    "PlanJob", "PlanValidationError", "Submission", "WebhookConfig", "canonical_json", "normalize_request",
]
