"""The Dagster definitions on a real instance: partitions, per-kind materialisations, subsets."""

from __future__ import annotations

import dagster as dg
import pytest

from tests.helpers import five_op_plan, submit
from vidassets.contract import DATA_VERSION_TAG, JOB_NAME, MODE_RESUME, MODE_TAG
from vidassets.dagster.assets import render_plan
from vidassets.dagster.definitions import defs
from vidassets.dagster.partitions import executions_partitions
from vidassets.dagster.resources import LocalRendererResource, StorageResource
from vidassets.services import get_services
from vidassets.settings import get_settings

KINDS = ["generated_clips", "merged_cut", "reframed", "lipsynced", "subtitled", "delivered"]  # the five-op plan's
TRANSFORMS = ["background_removed", "merged_cut", "reframed", "lipsynced", "subtitled", "layered"]
SOURCES = {"generated_images", "image_cutouts", "generated_audio", "generated_clips"}
ALL_KINDS = SOURCES | set(TRANSFORMS) | {"delivered"}


def _materialize(instance, eid: str, selection=None, tags=None):  # type: ignore[no-untyped-def]
    instance.add_dynamic_partitions(executions_partitions.name, [eid])
    return dg.materialize(
        [render_plan], instance=instance, partition_key=eid, selection=selection, raise_on_error=False,
        resources={"storage": StorageResource.from_settings(get_settings()), "provider": LocalRendererResource()},
        tags=tags or {},
    )


def test_definitions_declare_a_graph_true_for_every_plan_shape() -> None:
    repo = defs.get_repository_def()
    job = defs.resolve_job_def(JOB_NAME)
    assert job.partitions_def == executions_partitions
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys == ALL_KINDS
    parents = {k: {p.to_user_string() for p in graph.get(dg.AssetKey(k)).parent_keys} for k in ALL_KINDS}
    # No transform kind may sit upstream of another: plans use them in any order. Sources: images
    # first (a clip may start from one, a cut-out is made from one), speech on its own.
    assert parents["generated_images"] == parents["generated_audio"] == set()
    assert parents["image_cutouts"] == {"generated_images"}
    assert parents["generated_clips"] == {"generated_images", "image_cutouts", "generated_audio"}
    assert all(parents[t] == SOURCES for t in TRANSFORMS)
    assert parents["delivered"] == ALL_KINDS - {"delivered"}
    kinds = {k: graph.get(dg.AssetKey(k)).kinds for k in ALL_KINDS}
    assert kinds["generated_images"] == {"image", "provider"} and kinds["layered"] == {"video", "ffmpeg"}
    assert kinds["generated_audio"] == {"audio", "provider"}
    assert {s.name for s in repo.sensor_defs} >= {"launch_unlaunched_executions", "record_failed_runs"}


def test_a_run_materialises_each_kind_with_metadata(settings_in_env, instance, media_url: str) -> None:  # type: ignore[no-untyped-def]
    services = get_services()
    eid = submit(services, five_op_plan(f"{media_url}/voice.m4a"))
    result = _materialize(instance, eid, tags={MODE_TAG: MODE_RESUME})
    assert result.success
    mats = result.get_asset_materialization_events()
    assert [m.asset_key.to_user_string() for m in mats] == KINDS
    for event in mats:
        mat = event.materialization
        assert mat.partition == eid
        md = mat.metadata
        assert md["step_count"].value >= 1 and md["size_bytes"].value > 0
        assert md["resolution"].value and md["provider"].value
        assert mat.tags and mat.tags.get(DATA_VERSION_TAG)
    sub = instance.get_latest_materialization_event(dg.AssetKey("subtitled"))
    assert sub.asset_materialization.metadata["job_ids"].value == ["caps"]
    delivered = instance.get_latest_materialization_event(dg.AssetKey("delivered")).asset_materialization
    assert delivered.metadata["job_ids"].value == ["caps"]
    assert delivered.metadata["plan_inputs"].value == {"caps": ["voice"]}
    assert "voice" in delivered.metadata["lineage"].value and "lipsynced" in delivered.metadata["lineage"].value
    merged = instance.get_latest_materialization_event(dg.AssetKey("merged_cut")).asset_materialization
    assert merged.metadata["plan_inputs"].value == {"cut": ["a", "b"]}
    assert services.repo.get(eid).status == "completed"


def test_ui_style_subset_rematerialises_one_kind(settings_in_env, instance, media_url: str) -> None:  # type: ignore[no-untyped-def]
    services = get_services()
    eid = submit(services, five_op_plan(f"{media_url}/voice.m4a"))
    assert _materialize(instance, eid, tags={MODE_TAG: MODE_RESUME}).success
    again = _materialize(instance, eid, selection=[dg.AssetKey("subtitled")])  # no mode tag: re-render
    assert again.success
    # The root is downstream of the subtitles: ``delivered`` is touched too (a runtime materialisation).
    assert [m.asset_key.to_user_string() for m in again.get_asset_materialization_events()] == ["subtitled", "delivered"]
    attempts = {j.job_id: j.attempts for j in services.repo.jobs(eid)}
    assert attempts["caps"] == 2 and attempts["a"] == 1


def test_failed_execution_fails_the_run(settings_in_env, instance, media_url: str) -> None:  # type: ignore[no-untyped-def]
    services = get_services()
    eid = submit(services, {"jobs": [{"id": "bad", "type": "generate", "params": {"url": f"{media_url}/notes.mp4"}}]})
    result = _materialize(instance, eid, tags={MODE_TAG: MODE_RESUME})
    assert not result.success
    row = services.repo.get(eid)
    assert row.status == "failed" and row.error_code == "invalid_media"


def test_asset_checks_pass_on_good_output_and_fail_on_a_broken_one(settings_in_env, instance, media_url: str,  # type: ignore[no-untyped-def]
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from vidassets.execution.operations import JobOutput, OperationRunner

    services = get_services()
    good = submit(services, five_op_plan(f"{media_url}/voice.m4a"))
    result = _materialize(instance, good, tags={MODE_TAG: MODE_RESUME})
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == 21 and all(e.passed for e in evaluations), [
        (e.asset_key.to_user_string(), e.check_name) for e in evaluations if not e.passed]

    def broken_reframe(self, ctx):  # type: ignore[no-untyped-def]
        """A renderer bug: returns its input unchanged instead of reframing it."""
        out = ctx.workdir / "output.mp4"
        shutil.copyfile(ctx.inputs[0], out)
        return JobOutput(out)

    monkeypatch.setattr(OperationRunner, "_reframe", broken_reframe)
    monkeypatch.setenv("VIDASSETS_RENDER_MODE", "steps")  # the one-step-at-a-time renderer is the broken one
    plan = five_op_plan(f"{media_url}/voice.m4a")
    plan["executionPlan"]["jobs"][0]["params"]["seed"] = 99  # not served from the result cache
    bad = submit(services, plan)
    result = _materialize(instance, bad, tags={MODE_TAG: MODE_RESUME})
    assert result.success  # checks warn; they do not fail the run
    failed = {(e.asset_key.to_user_string(), e.check_name) for e in result.get_asset_check_evaluations() if not e.passed}
    assert ("reframed", "resolution") in failed
    job = next(j for j in services.repo.jobs(bad) if j.job_id == "tall")
    resolution = next(c for c in job.result["checks"] if c["name"] == "resolution")
    assert resolution["passed"] is False and "9:16 expected" in resolution["message"]


def test_rematerialising_after_a_renderer_bump_updates_the_api_and_sends_a_webhook(  # type: ignore[no-untyped-def]
        settings_in_env, instance, media_url: str, receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from api.presenters import execution_public
    from vidassets.plan.operations import RENDERER_VERSIONS, AssetKind
    from vidassets.webhooks.deliver import WebhookDeliverer

    services = get_services()
    plan = five_op_plan(f"{media_url}/voice.m4a")
    plan["options"] = {"webhookUrl": receiver.url, "webhookSecret": "s3cret"}
    eid = submit(services, plan)
    assert _materialize(instance, eid, tags={MODE_TAG: MODE_RESUME}).success
    WebhookDeliverer(services).deliver_due()
    first_key = services.repo.get(eid).result["key"]

    monkeypatch.setitem(RENDERER_VERSIONS, AssetKind.SUBTITLED, str(int(RENDERER_VERSIONS[AssetKind.SUBTITLED]) + 1))
    assert _materialize(instance, eid, selection=[dg.AssetKey("subtitled")]).success
    row = services.repo.get(eid)
    new_key = row.result["key"]
    assert new_key != first_key and row.status == "completed"
    assert services.store.exists(first_key)  # the earlier artefact is kept
    public = execution_public(row, services.store)
    assert new_key.split("/")[-1] in public.result.url
    WebhookDeliverer(services).deliver_due()
    events = [json.loads(body) for _, body in receiver.received]
    assert [e["type"] for e in events] == ["execution.completed", "execution.updated"]
    assert new_key.split("/")[-1] in events[1]["rootUrl"]


def test_checks_can_be_evaluated_from_stored_results(settings_in_env, instance, media_url: str) -> None:  # type: ignore[no-untyped-def]
    from vidassets.dagster.assets import stored_check_results

    services = get_services()
    eid = submit(services, five_op_plan(f"{media_url}/voice.m4a"))
    assert _materialize(instance, eid, tags={MODE_TAG: MODE_RESUME}).success
    wanted = {dg.AssetCheckKey(dg.AssetKey("reframed"), n) for n in ("decodable", "duration", "resolution", "audio")}
    results = list(stored_check_results(services, eid, wanted))
    assert {r.check_name for r in results} == {"decodable", "duration", "resolution", "audio"}
    assert all(r.passed for r in results)


def test_a_variant_materialisation_names_its_base_with_the_same_data_version(settings_in_env, instance, media_url: str) -> None:  # type: ignore[no-untyped-def]
    services = get_services()
    base = submit(services, five_op_plan(f"{media_url}/voice.m4a"))
    assert _materialize(instance, base, tags={MODE_TAG: MODE_RESUME}).success
    plan = five_op_plan(f"{media_url}/voice.m4a")
    plan["executionPlan"]["jobs"][-1]["params"]["text"] = "variant caption"
    plan["options"] = {"baseExecutionId": base}
    variant = submit(services, plan)
    result = _materialize(instance, variant, tags={MODE_TAG: MODE_RESUME})
    mats = {m.asset_key.to_user_string(): m.materialization for m in result.get_asset_materialization_events()}
    assert set(mats) == set(KINDS)
    clips = mats["generated_clips"]
    assert clips.metadata["base_execution"].value == base
    assert clips.metadata["reused_from"].value == {"a": base, "b": base}
    assert clips.metadata["ran_in_this_run"].value == []
    base_clips = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("generated_clips"), asset_partitions=[base]), limit=1).records[0]
    assert clips.tags[DATA_VERSION_TAG] == base_clips.asset_materialization.tags[DATA_VERSION_TAG]
    assert mats["subtitled"].metadata["ran_in_this_run"].value == ["caps"]
