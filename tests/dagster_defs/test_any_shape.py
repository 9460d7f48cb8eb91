"""Plans of any shape run to ``completed`` on a real Dagster instance, and each root's media is
what its plan implies. The named shapes are the ones users sent that the old fixed chain of
kinds refused; the property test draws random orders, nestings, fan-outs and repeated kinds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.dagster_defs.test_assets import _materialize
from tests.helpers import five_op_plan, submit
from tests.plan_shapes import Expect, Shape, assert_media_matches, media_plans, named_shapes
from vidassets import media
from vidassets.contract import MODE_RESUME, MODE_TAG
from vidassets.services import get_services

pytestmark = pytest.mark.usefixtures("settings_in_env")


@pytest.fixture
def backend() -> str:
    return "embedded"  # media-heavy: the storage backends are covered by test_assets.py


def _run(instance: dg.DagsterInstance, body: dict[str, Any]) -> tuple[str, dg.ExecuteInProcessResult]:
    eid = submit(get_services(), body)
    return eid, _materialize(instance, eid, tags={MODE_TAG: MODE_RESUME})


def _check_roots(eid: str, expect: dict[str, Expect], tmp: Path) -> None:
    services = get_services()
    jobs = {j.job_id: j for j in services.repo.jobs(eid)}
    for root, want in expect.items():
        path = services.store.fetch(jobs[root].result["key"], tmp)
        assert_media_matches(media.probe(path), want, f"{eid}/{root}")


@pytest.mark.parametrize("name", ["reframe-each-then-merge", "caption-then-voice", "merge-of-merges", "two-roots"])
def test_named_shapes_complete(name: str, instance: dg.DagsterInstance, media_url: str, tmp_path: Path) -> None:
    body = named_shapes(media_url)[name]
    eid, result = _run(instance, body)
    row = get_services().repo.get(eid)
    assert result.success and row.status == "completed", (row.status, row.error)
    kinds = [m.asset_key.to_user_string() for m in result.get_asset_materialization_events()]
    assert kinds[0] == "generated_clips" and kinds[-1] == "delivered"
    delivered = result.get_asset_materialization_events()[-1].materialization
    assert delivered.metadata["job_ids"].value == body["executionPlan"]["rootJobIds"]
    for job in body["executionPlan"]["jobs"]:
        if job.get("dependsOn"):
            mat = instance.get_latest_materialization_event(dg.AssetKey(_kind(job["operation"]))).asset_materialization
            assert mat is not None


def _kind(operation: str) -> str:
    return {"generate": "generated_clips", "merge": "merged_cut", "reframe": "reframed",
            "lipSync": "lipsynced", "addSubtitles": "subtitled"}[operation]


def test_named_shapes_have_the_media_their_plans_imply(instance: dg.DagsterInstance, media_url: str,
                                                      tmp_path: Path) -> None:
    from tests.plan_shapes import CLIP_SIZE, _merge, _reframe
    from vidassets.media.geometry import parse_resolution

    clip = Expect(*parse_resolution(CLIP_SIZE, "16:9"), 0.8, True)
    tall = _reframe(clip, "9:16", "center")
    expect = {
        "reframe-each-then-merge": {"cut": _merge([tall, _reframe(clip, "9:16", "blur")], "crossfade")},
        "caption-then-voice": {"voice": clip},
        "merge-of-merges": {"all": _merge([_merge([clip, clip], "cut"), _merge([clip, clip], "crossfade")], "wipe")},
        "two-roots": {"caps": tall, "square": _reframe(clip, "1:1", "center")},
    }
    for name, body in named_shapes(media_url).items():
        eid, result = _run(instance, body)
        assert result.success, name
        _check_roots(eid, expect[name], tmp_path / name)


@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_random_plans_complete_with_the_media_they_imply(data: st.DataObject, instance: dg.DagsterInstance,
                                                        media_url: str, tmp_path: Path) -> None:
    shape: Shape = data.draw(media_plans(media_url), label="plan")
    eid, result = _run(instance, shape.body)
    row = get_services().repo.get(eid)
    assert result.success and row.status == "completed", (shape.describe(), row.status, row.error)
    _check_roots(eid, shape.expect, tmp_path / eid)


def test_rematerialising_a_kind_rerenders_everything_downstream(instance: dg.DagsterInstance, media_url: str) -> None:
    services = get_services()
    eid, first = _run(instance, five_op_plan(f"{media_url}/voice.m4a"))
    assert first.success
    before = services.repo.get(eid).result["key"]
    again = _materialize(instance, eid, selection=[dg.AssetKey("reframed")])  # a producer's click: re-render
    assert again.success
    kinds = [m.asset_key.to_user_string() for m in again.get_asset_materialization_events()]
    assert kinds == ["reframed", "lipsynced", "subtitled", "delivered"]
    attempts = {j.job_id: j.attempts for j in services.repo.jobs(eid)}
    assert attempts == {"a": 1, "b": 1, "cut": 1, "tall": 2, "voice": 2, "caps": 2}
    row = services.repo.get(eid)
    assert row.status == "completed" and row.result["jobId"] == "caps"
    # Renders are deterministic: the API's result names the re-rendered root, same content.
    assert row.result["key"] == before or services.store.exists(row.result["key"])
    touched = instance.get_latest_materialization_event(dg.AssetKey("subtitled")).asset_materialization
    assert touched.partition == eid and touched.metadata["rerendered_because"]


def test_a_variant_of_any_shape_reuses_its_base(instance: dg.DagsterInstance, media_url: str) -> None:
    body = named_shapes(media_url)["reframe-each-then-merge"]
    base, result = _run(instance, body)
    assert result.success
    variant = {"executionPlan": {**body["executionPlan"]}, "options": {"baseExecutionId": base}}
    variant["executionPlan"]["jobs"] = [*body["executionPlan"]["jobs"], {
        "id": "caps", "operation": "addSubtitles", "params": {"text": "variant"}, "dependsOn": ["cut"]}]
    variant["executionPlan"]["rootJobIds"] = ["caps"]
    eid, result = _run(instance, variant)
    assert result.success
    mats = {m.asset_key.to_user_string(): m.materialization for m in result.get_asset_materialization_events()}
    assert mats["merged_cut"].metadata["reused_from"].value == {"cut": base}
    assert mats["subtitled"].metadata["ran_in_this_run"].value == ["caps"]
    assert {j.job_id: j.attempts for j in get_services().repo.jobs(eid)}["caps"] == 1
