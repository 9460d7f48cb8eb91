"""The Dagster materialisation of a kind shows what its vendor jobs billed and cost (from the job
results' provider details, which the ledger filled), and nothing when no vendor reported usage."""

from __future__ import annotations

from typing import Any

from vidassets.dagster.assets import materialization
from vidassets.execution.executor import KindDone
from vidassets.plan.operations import AssetKind


def result(job: str, **details: Any) -> dict[str, Any]:
    return {"key": f"k/{job}.mp4", "uri": f"/tmp/{job}.mp4", "digest": job, "duration": 5.0, "width": 160,
            "height": 90, "size": 10, "provider": "replicate", "model": "acme/video-1", "details": details}


def test_billed_seconds_and_cost_are_summed_into_the_metadata() -> None:
    results = {"a": result("a", predictionId="p1", billedSeconds=4.2, costUsd=0.042),
               "b": result("b", predictionId="p2", billedSeconds=1.3),  # unpriced: no cost of its own
               "c": result("c")}
    done = KindDone(kind=AssetKind.GENERATED_CLIPS, job_ids=("a", "b", "c"), results=results, ran=("a", "b", "c"))
    metadata = materialization(done, base_execution_id=None).metadata or {}
    assert metadata["vendor_billed_s"] == 5.5 and metadata["provider_cost_usd"] == 0.042


def test_no_vendor_usage_means_no_usage_metadata() -> None:
    done = KindDone(kind=AssetKind.GENERATED_CLIPS, job_ids=("a",), results={"a": result("a")}, ran=("a",))
    metadata = materialization(done, base_execution_id=None).metadata or {}
    assert "vendor_billed_s" not in metadata and "provider_cost_usd" not in metadata
