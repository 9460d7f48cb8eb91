"""The plan executor on real ffmpeg, on both backends: outputs, checkpoints, failures, subsets, cancel."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from tests.helpers import five_op_plan, submit
from vidassets import media
from vidassets.execution.executor import PlanExecutor
from vidassets.plan import AssetKind


def _run(executor: PlanExecutor, eid: str, **kwargs):  # type: ignore[no-untyped-def]
    return executor.run_to_end(eid, kwargs.pop("run_id", "run-1"), **kwargs)


def test_five_operations_produce_a_checked_output(services, executor, media_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    eid = submit(services, five_op_plan(f"{media_url}/voice.m4a"))
    done, summary = _run(executor, eid)
    assert summary.status == "completed", summary.failures
    assert [d.kind for d in done] == [AssetKind.GENERATED_CLIPS, AssetKind.MERGED_CUT, AssetKind.REFRAMED,
                                      AssetKind.LIPSYNCED, AssetKind.SUBTITLED, AssetKind.DELIVERED]
    assert done[0].job_ids == ("a", "b") and sorted(summary.ran) == ["a", "b", "caps", "cut", "tall", "voice"]
    assert executor.finalize(eid, summary) == "completed"

    row = services.repo.get(eid)
    assert row.status == "completed" and row.result["jobId"] == "caps"
    jobs = {j.job_id: j for j in row.jobs}
    assert all(j.status == "completed" and j.attempts == 1 for j in jobs.values())
    final = jobs["caps"].result
    assert final["key"].startswith(f"executions/{eid}/caps/subtitled-")
    assert final["aspectRatio"] == "9:16" and final["hasAudio"] is True
    assert jobs["a"].result["provider"] == "local" and jobs["a"].result["details"]["offline"] is True
    assert "no lip-sync model" in jobs["voice"].result["details"]["mode"]

    out = services.store.fetch(final["key"], tmp_path)
    info = media.probe(out)
    assert info.height > info.width and abs(info.width / info.height - 9 / 16) < 0.02
    assert info.has_audio
    assert abs(info.duration - (1.0 + 1.0 - 0.25)) <= 1 / 24 + 0.03
    assert jobs["cut"].result["duration"] == jobs["caps"].result["duration"] or \
        abs(jobs["cut"].result["duration"] - final["duration"]) < 0.1


def test_resume_never_redoes_finished_jobs(services, executor, media_url: str) -> None:  # type: ignore[no-untyped-def]
    eid = submit(services, five_op_plan(f"{media_url}/voice.m4a"))
    _, first = _run(executor, eid)
    assert first.status == "completed"
    # A crash after "tall" finished: the later jobs never completed.
    services.repo.reset_jobs(eid, ["voice", "caps"])
    done, second = _run(executor, eid, run_id="run-2")
    assert second.status == "completed"
    assert sorted(second.ran) == ["caps", "voice"]
    jobs = {j.job_id: j for j in services.repo.jobs(eid)}
    assert jobs["a"].attempts == 1 and jobs["tall"].attempts == 1 and jobs["caps"].attempts == 2
    assert jobs["caps"].run_id == "run-2" and jobs["a"].run_id == "run-1"
    assert [d.kind for d in done] == [AssetKind.LIPSYNCED, AssetKind.SUBTITLED, AssetKind.DELIVERED]


def test_rerender_of_the_last_kind_reruns_only_its_jobs(services, executor, media_url: str) -> None:  # type: ignore[no-untyped-def]
    eid = submit(services, five_op_plan(f"{media_url}/voice.m4a"))
    _run(executor, eid)
    done, summary = _run(executor, eid, run_id="run-ui", kinds=[AssetKind.SUBTITLED], mode="rerender")
    assert summary.status == "completed" and list(summary.ran) == ["caps"]
    assert [d.kind for d in done] == [AssetKind.SUBTITLED, AssetKind.DELIVERED]  # caps is the root
    attempts = {j.job_id: j.attempts for j in services.repo.jobs(eid)}
    assert attempts == {"a": 1, "b": 1, "cut": 1, "tall": 1, "voice": 1, "caps": 2}


def test_a_bad_input_fails_its_branch_and_names_the_job(services, executor, media_url: str) -> None:  # type: ignore[no-untyped-def]
    eid = submit(services, {"jobs": [
        {"id": "good", "type": "generate", "params": {"prompt": "fine", "duration": 1, "resolution": "160x90"}},
        {"id": "bad", "type": "generate", "params": {"url": f"{media_url}/notes.mp4"}},
        {"id": "cut", "type": "merge", "params": {}, "dependsOn": ["good", "bad"]},
        {"id": "solo", "type": "reframe", "params": {"aspectRatio": "1:1"}, "dependsOn": ["good"]},
    ]})
    done, summary = _run(executor, eid)
    assert summary.status == "failed"
    assert summary.failures["bad"].code == "invalid_media"
    assert summary.failures["cut"].code == "upstream_failed"
    jobs = {j.job_id: j for j in services.repo.jobs(eid)}
    assert jobs["good"].status == "completed" and jobs["solo"].status == "completed"
    assert jobs["bad"].status == "failed" and jobs["cut"].status == "cancelled"
    assert AssetKind.REFRAMED in [d.kind for d in done]  # the independent branch still landed
    assert AssetKind.MERGED_CUT not in [d.kind for d in done]
    assert executor.finalize(eid, summary) == "failed"
    row = services.repo.get(eid)
    assert "bad" in row.error and row.error_code == "invalid_media"


def test_imported_media_and_url_inputs(services, executor, media_url: str) -> None:  # type: ignore[no-untyped-def]
    eid = submit(services, {"jobs": [
        {"id": "imp", "type": "generate", "params": {"url": f"{media_url}/clip.mp4"}},
        {"id": "sq", "type": "reframe", "params": {"aspectRatio": "1:1", "url": f"{media_url}/clip.mp4"}},
    ]})
    _, summary = _run(executor, eid)
    assert summary.status == "completed", summary.failures
    jobs = {j.job_id: j.result for j in services.repo.jobs(eid)}
    assert jobs["imp"]["provider"] == "url" and abs(jobs["imp"]["duration"] - 1.0) < 0.1
    assert jobs["sq"]["width"] == jobs["sq"]["height"]


def test_cancel_stops_running_ffmpeg(services, executor) -> None:  # type: ignore[no-untyped-def]
    eid = submit(services, {"jobs": [
        {"id": "long", "type": "generate", "params": {"prompt": "a long one", "duration": 120, "resolution": "1080p"}},
        {"id": "after", "type": "reframe", "params": {"aspectRatio": "1:1"}, "dependsOn": ["long"]},
    ]})

    def cancel_when_running() -> None:
        deadline = time.time() + 30
        while time.time() < deadline:
            if any(j.status == "processing" for j in services.repo.jobs(eid)):
                time.sleep(0.5)
                services.repo.request_cancel(eid)
                return
            time.sleep(0.05)

    threading.Thread(target=cancel_when_running, daemon=True).start()
    started = time.monotonic()
    _, summary = _run(executor, eid)
    assert summary.status == "cancelled"
    assert time.monotonic() - started < 20
    assert {j.job_id: j.status for j in services.repo.jobs(eid)} == {"long": "cancelled", "after": "cancelled"}
    assert executor.finalize(eid, summary) == "cancelled"


def test_result_cache_reuses_artefacts_per_tenant_and_can_be_cleared(services, executor) -> None:  # type: ignore[no-untyped-def]
    plan = {"jobs": [
        {"id": "a", "type": "generate", "params": {"prompt": "cached", "duration": 1, "resolution": "160x90"}},
        {"id": "r", "type": "reframe", "params": {"aspectRatio": "1:1"}, "dependsOn": ["a"]},
    ]}
    first = submit(services, plan)
    _, s1 = _run(executor, first)
    assert s1.status == "completed"
    second = submit(services, plan)
    _, s2 = _run(executor, second)
    results = {j.job_id: j.result for j in services.repo.jobs(second)}
    assert results["a"]["cacheHit"] is True and results["a"]["cachedFrom"] == first
    assert results["r"]["cacheHit"] is True
    first_results = {j.job_id: j.result for j in services.repo.jobs(first)}
    assert results["a"]["key"] == first_results["a"]["key"]  # the same artefact, not a copy
    assert "executionId" not in results["a"]

    other_tenant = submit(services, plan, tenant="someone-else")
    _run(executor, other_tenant)
    assert not any((j.result or {}).get("cacheHit") for j in services.repo.jobs(other_tenant))

    assert services.cache.invalidate_execution(first) == 2
    third = submit(services, plan)
    _run(executor, third)
    assert not any((j.result or {}).get("cacheHit") for j in services.repo.jobs(third))


def test_a_variant_runs_only_its_new_jobs(services, executor, media_url: str) -> None:  # type: ignore[no-untyped-def]
    from tests.helpers import five_op_plan

    base = submit(services, five_op_plan(f"{media_url}/voice.m4a"))
    _, s1 = _run(executor, base)
    assert executor.finalize(base, s1) == "completed"
    variant_plan = five_op_plan(f"{media_url}/voice.m4a")
    jobs = variant_plan["executionPlan"]["jobs"]
    jobs[-1]["params"]["text"] = "a different caption"  # only the subtitles change
    variant_plan["options"] = {"baseExecutionId": base}
    variant = submit(services, variant_plan)
    done, s2 = _run(executor, variant)
    assert s2.status == "completed" and list(s2.ran) == ["caps"]  # nothing shared was rendered again
    base_jobs = {j.job_id: j.result for j in services.repo.jobs(base)}
    results = {j.job_id: j.result for j in services.repo.jobs(variant)}
    for shared in ("a", "b", "cut", "tall", "voice"):
        assert results[shared]["reusedFrom"] == base and results[shared]["key"] == base_jobs[shared]["key"]
    assert results["caps"]["key"] != base_jobs["caps"]["key"] and "reusedFrom" not in results["caps"]
    reused_kinds = [d.kind for d in done if not d.ran]
    assert AssetKind.GENERATED_CLIPS in reused_kinds  # still reported, so the variant's lineage shows the reuse


def test_a_dependent_execution_of_only_new_jobs_builds_on_the_base_output(services, executor, media_url: str,  # type: ignore[no-untyped-def]
                                                                           tmp_path: Path) -> None:
    """The SDK's "dependent execution request": only the new jobs and baseExecutionId; a job
    with no input builds on the base's final job."""
    base = submit(services, five_op_plan(f"{media_url}/voice.m4a"))
    _, first = _run(executor, base)
    assert first.status == "completed"
    assert executor.finalize(base, first) == "completed"
    variant = submit(services, {"jobs": [
        {"id": "job1", "type": "lipSync", "params": {"audioUrl": f"{media_url}/voice.m4a"}, "output": "$job1"},
        {"id": "job2", "type": "reframe", "params": {"aspectRatio": "1:1"}, "dependsOn": ["job1"], "output": "$job2"},
    ], "baseExecutionId": base})
    jobs = {j.job_id: j for j in services.repo.jobs(variant)}
    assert tuple(jobs["job1"].depends_on) == ("caps",) and jobs["caps"].status == "completed"
    _, summary = _run(executor, variant, run_id="run-v")
    assert summary.status == "completed" and sorted(summary.ran) == ["job1", "job2"]
    out = services.store.fetch(services.repo.jobs(variant)[-1].result["key"], tmp_path)
    info = media.probe(out)
    assert info.width == info.height and info.has_audio
