"""Single-generation rendering through the executor, on both backends: every artefact is one
encode from the stored clips, the root lands first (the execution is ``completed`` and the status
lists what is still landing), intermediates follow in the same run, and a failed intermediate
never takes a landed result back. ``render_mode=steps`` keeps today's path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.presenters import execution_public
from tests.helpers import five_op_plan, submit
from vidassets.execution.executor import PlanExecutor
from vidassets.execution.operations import OperationRunner
from vidassets.media import runner
from vidassets.providers import default_registry
from vidassets.render import fused
from vidassets.services import build_services

STEPS = ("cut", "tall", "voice", "caps")


@pytest.fixture
def mp4_writes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[str]]]:
    """The argv of every ffmpeg run that writes an MP4."""
    runs: list[list[str]] = []
    real = runner._run

    def counting(full: list[str], *args: Any, **kwargs: Any) -> Any:
        if any(a == "-f" and b == "mp4" for a, b in zip(full, full[1:], strict=False)):
            runs.append(list(full))
        return real(full, *args, **kwargs)

    monkeypatch.setattr(runner, "_run", counting)
    yield runs


def _per_job(runs: list[list[str]], eid: str) -> dict[str, int]:
    """Runs per job: a job renders under ``<work dir>/<execution>/<job>/``."""
    out: dict[str, int] = {}
    for argv in runs:
        parts = Path(argv[-1]).parts
        if eid in parts:
            job = parts[parts.index(eid) + 1]
            out[job] = out.get(job, 0) + 1
    return out


def test_every_artefact_is_encoded_once_and_the_result_lands_first(  # type: ignore[no-untyped-def]
        services, executor: PlanExecutor, media_url: str, mp4_writes: list[list[str]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    eid = submit(services, five_op_plan(f"{media_url}/voice.m4a"))
    seen: dict[str, Any] = {}
    land = PlanExecutor._land

    def watching(self: PlanExecutor, execution_id: str, plan: Any) -> bool:
        landed = land(self, execution_id, plan)
        seen["status"] = execution_public(services.repo.view(execution_id), services.store)
        return landed

    monkeypatch.setattr(PlanExecutor, "_land", watching)
    _, outcome = executor.run_to_end(eid, "run-1")
    assert outcome.status == "completed" and outcome.landed, outcome.failures
    # When the result landed: completed, with the root's output, the intermediates still landing.
    early = seen["status"]
    assert early.status == "completed" and early.result.jobId == "caps" and early.result.url
    assert set(early.landing) == {"cut", "tall", "voice"}
    assert executor.finalize(eid, outcome) == "completed"
    row = services.repo.get(eid)
    assert row.status == "completed" and execution_public(row, services.store).landing == []
    jobs = {j.job_id: j for j in row.jobs}
    assert all(j.status == "completed" and j.attempts == 1 for j in jobs.values())
    assert all(jobs["caps"].completed_at <= jobs[j].completed_at for j in ("cut", "tall", "voice"))
    # One encode per artefact, from the clips (the clips are the local provider's renders).
    assert {j: n for j, n in _per_job(mp4_writes, eid).items() if j in STEPS} == dict.fromkeys(STEPS, 1)
    render = jobs["caps"].result["details"]["render"]
    assert render == {"fused": True, "steps": list(STEPS), "sources": ["a", "b"], "encodes": 1}
    assert jobs["caps"].result["details"]["cues"] >= 1 and jobs["voice"].result["provider"] == "local"
    assert all(c["passed"] for j in STEPS for c in jobs[j].result["checks"]), [
        (j, c) for j in STEPS for c in jobs[j].result["checks"] if not c["passed"]]
    # Once the intermediates landed, the root records their digests (staleness compares like with like).
    assert jobs["caps"].result["inputDigests"] == [jobs["voice"].result["digest"]]


def test_a_failed_intermediate_never_takes_the_result_back(  # type: ignore[no-untyped-def]
        services, executor: PlanExecutor, media_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    real = fused.render_recipe

    def failing_tall(recipe: Any, *args: Any, **kwargs: Any) -> Any:
        if recipe.job_id == "tall":
            raise fused.media.FFmpegError("simulated encoder crash")
        return real(recipe, *args, **kwargs)

    monkeypatch.setattr("vidassets.execution.operations.render_recipe", failing_tall)
    eid = submit(services, five_op_plan(f"{media_url}/voice.m4a", duration=0.8))
    _, outcome = executor.run_to_end(eid, "run-1")
    assert outcome.landed and outcome.status == "failed" and set(outcome.failures) == {"tall"}
    assert executor.finalize(eid, outcome) == "completed"
    row = services.repo.get(eid)
    assert row.status == "completed" and row.result["jobId"] == "caps" and row.error is None
    assert {j.job_id: j.status for j in row.jobs}["tall"] == "failed"
    # A retry (resume) renders what is missing and nothing else; the execution stays completed.
    monkeypatch.setattr("vidassets.execution.operations.render_recipe", real)
    _, again = executor.run_to_end(eid, "run-2")
    assert again.status == "completed" and again.ran == ("tall",) and again.landed
    assert executor.finalize(eid, again) == "completed"
    assert services.repo.get(eid).status == "completed"


def test_steps_mode_renders_each_job_from_its_input(  # type: ignore[no-untyped-def]
        settings, media_url: str, mp4_writes: list[list[str]]) -> None:
    services = build_services(settings.model_copy(update={"render_mode": "steps"}))
    executor = PlanExecutor(services, OperationRunner(services, default_registry()), max_workers=2)
    eid = submit(services, five_op_plan(f"{media_url}/voice.m4a", duration=0.8))
    _, outcome = executor.run_to_end(eid, "run-1")
    assert outcome.status == "completed" and not outcome.landed
    jobs = {j.job_id: j for j in services.repo.jobs(eid)}
    assert "render" not in jobs["caps"].result["details"]
    assert jobs["caps"].result["inputDigests"] == [jobs["voice"].result["digest"]]
    # The voice step copies the picture (no video encode) — today's path, unchanged.
    voice_runs = [argv for argv in mp4_writes if "/voice/" in argv[-1]]
    assert len(voice_runs) == 1 and "libx264" not in voice_runs[0]


def test_a_step_left_out_of_the_graph_says_why(services, executor: PlanExecutor, media_url: str) -> None:  # type: ignore[no-untyped-def]
    body = five_op_plan(f"{media_url}/voice.m4a", duration=0.8)
    body["executionPlan"]["jobs"][3]["params"]["strategy"] = "smart"
    eid = submit(services, body)
    _, outcome = executor.run_to_end(eid, "run-1")
    assert outcome.status == "completed", outcome.failures
    jobs = {j.job_id: j.result for j in services.repo.jobs(eid)}
    assert jobs["tall"]["details"]["render"] == {"fused": False,
                                                 "reason": "smart crop analyses its input's pictures"}
    assert jobs["caps"]["details"]["render"]["sources"] == ["tall"]
    assert jobs["caps"]["details"]["render"]["steps"] == ["voice", "caps"]


def test_a_draft_preset_renders_small_previews(services, executor: PlanExecutor, media_url: str) -> None:  # type: ignore[no-untyped-def]
    body = five_op_plan(f"{media_url}/voice.m4a", size="1280x720", duration=0.5)
    body["options"] = {"renderPreset": "draft"}
    eid = submit(services, body)
    assert services.repo.get(eid).plan["renderPreset"] == "draft"
    _, outcome = executor.run_to_end(eid, "run-1")
    assert outcome.status == "completed", outcome.failures
    caps = {j.job_id: j.result for j in services.repo.jobs(eid)}["caps"]
    assert min(caps["width"], caps["height"]) <= 360 and caps["aspectRatio"] == "9:16"


def test_a_variant_sent_while_intermediates_land_waits_and_adopts_them(  # type: ignore[no-untyped-def]
        services, executor: PlanExecutor, media_url: str) -> None:
    from tests.execution.test_variants import _sdk_variant
    from vidassets.dagster.sensors import _base_ready
    from vidassets.plan import PlanCreate
    from vidassets.runs.submit import accept

    base_plan = five_op_plan(f"{media_url}/voice.m4a", duration=0.8)
    base = submit(services, base_plan)
    _, outcome = executor.run_to_end(base, "run-base")
    assert executor.finalize(base, outcome) == "completed"
    services.repo.reset_jobs(base, ["cut"])  # as if "cut" were still landing
    accepted = accept(services, PlanCreate.model_validate(_sdk_variant(base_plan, base, media_url)),
                      tenant_id="default")
    assert accepted.waiting_for == base
    assert not _base_ready(services, services.repo.get(accepted.row.id))
    _, again = executor.run_to_end(base, "run-base-2")
    assert again.ran == ("cut",) and services.repo.get(base).status == "completed"
    assert _base_ready(services, services.repo.get(accepted.row.id))
    jobs = {j.job_id: j for j in services.repo.jobs(accepted.row.id)}
    assert jobs["cut"].status == "completed" and jobs["cut"].result["reusedFrom"] == base
