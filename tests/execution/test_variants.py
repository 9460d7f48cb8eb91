"""Variants sent before their base has finished, as the TypeScript SDK's EXECUTION.md shows:
the variant waits, adopts the base's matching outputs when the base completes, and runs only
its own jobs; a base that fails takes its waiting variants with it."""

from __future__ import annotations

import pytest

from tests.helpers import five_op_plan, submit
from vidassets.dagster.sensors import _base_ready
from vidassets.execution.executor import PlanExecutor
from vidassets.plan import PlanCreate
from vidassets.runs.submit import SubmissionError, accept


def _sdk_variant(base_plan: dict, base_id: str, media_url: str) -> dict:
    """The SDK sends the base's jobs again, plus its new ones, in its own wire format."""
    jobs = [{"id": j["id"], "type": j["operation"], "params": j["params"],
             **({"dependsOn": j["dependsOn"]} if j.get("dependsOn") else {})}
            for j in base_plan["executionPlan"]["jobs"]]
    jobs.append({"id": "fr", "type": "addSubtitles", "params": {"text": "bonjour"}, "dependsOn": ["cut"]})
    return {"jobs": jobs, "baseExecutionId": base_id}


def test_a_variant_of_a_running_base_waits_then_reuses_it(services, executor: PlanExecutor, media_url: str) -> None:  # type: ignore[no-untyped-def]
    base_plan = five_op_plan(f"{media_url}/voice.m4a")
    base = submit(services, base_plan)
    accepted = accept(services, PlanCreate.model_validate(_sdk_variant(base_plan, base, media_url)), tenant_id="default")
    assert accepted.waiting_for == base and accepted.row.status == "pending"
    variant = accepted.row.id
    assert not _base_ready(services, services.repo.get(variant))  # base still pending: keep waiting

    _, summary = executor.run_to_end(base, "run-base")
    assert executor.finalize(base, summary) == "completed"
    assert _base_ready(services, services.repo.get(variant))
    jobs = {j.job_id: j for j in services.repo.jobs(variant)}
    assert {jid for jid, j in jobs.items() if j.status == "completed"} == {"a", "b", "cut", "tall", "voice", "caps"}
    assert all(jobs[j].result["reusedFrom"] == base for j in ("a", "cut", "caps"))

    _, second = executor.run_to_end(variant, "run-variant")
    assert second.status == "completed" and list(second.ran) == ["fr"]


def test_a_documented_format_variant_of_a_running_base_is_a_conflict(services, media_url: str) -> None:  # type: ignore[no-untyped-def]
    base_plan = five_op_plan(f"{media_url}/voice.m4a")
    base = submit(services, base_plan)
    with pytest.raises(SubmissionError) as err:
        submit(services, {**base_plan, "options": {"baseExecutionId": base}})
    assert err.value.status == 409 and err.value.code == "base_not_completed"


def test_a_failed_base_fails_its_waiting_variants(services, media_url: str) -> None:  # type: ignore[no-untyped-def]
    base_plan = five_op_plan(f"{media_url}/voice.m4a")
    base = submit(services, base_plan)
    variant = accept(services, PlanCreate.model_validate(_sdk_variant(base_plan, base, media_url)),
                     tenant_id="default").row.id
    services.repo.fail_if_active(base, "failed", "provider refused", "provider_rejected")
    assert not _base_ready(services, services.repo.get(variant))
    row = services.repo.get(variant)
    assert row.status == "failed" and row.error_code == "base_failed" and base in row.error
    with pytest.raises(SubmissionError) as err:  # and a new variant of a failed base is refused
        accept(services, PlanCreate.model_validate(_sdk_variant(base_plan, base, media_url)), tenant_id="default")
    assert err.value.status == 409
