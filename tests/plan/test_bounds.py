"""Bounds on every number a client sends that reaches a renderer: inside them a plan is accepted,
outside them it is refused with an issue naming the job and the field (vidassets/plan/bounds.py)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vidassets.media.geometry import RESOLUTIONS, parse_aspect, parse_resolution, size_for
from vidassets.plan import PlanCreate, PlanValidationError, Submission, bounds, normalize_request
from vidassets.plan.params import ASPECT_RATIOS

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def gen(job_id: str, **params: Any) -> dict[str, Any]:
    return {"id": job_id, "type": "generate", "params": {"prompt": f"clip {job_id}", "duration": 1, **params}}


def merge(job_id: str, deps: list[str], **params: Any) -> dict[str, Any]:
    return {"id": job_id, "type": "merge", "params": params, "dependsOn": deps}


def verdict(*jobs: dict[str, Any], **top: Any) -> Submission | list[dict[str, Any]]:
    try:
        return normalize_request(PlanCreate.model_validate({"jobs": list(jobs), **top}))
    except PlanValidationError as exc:
        return [i.as_dict() for i in exc.issues]


def refused(outcome: Submission | list[dict[str, Any]], field: str, job_id: str | None) -> str:
    """The message of the issue on ``field`` (asserting there is one, for ``job_id``)."""
    assert isinstance(outcome, list), outcome
    found = [i for i in outcome if i["field"] == field]
    assert found, outcome
    assert found[0].get("jobId") == job_id, found
    return found[0]["message"]


# -- sizes -----------------------------------------------------------------------------------------------------

even_sides = st.integers(bounds.MIN_DIMENSION // 2, bounds.MAX_SIDE // 2).map(lambda n: 2 * n)


@SETTINGS
@given(even_sides, even_sides, st.sampled_from(ASPECT_RATIOS))
def test_any_even_size_within_the_bounds_is_accepted(width: int, height: int, aspect: str) -> None:
    outcome = verdict(gen("a", resolution=f"{width}x{height}", aspectRatio=aspect))
    assert isinstance(outcome, Submission), outcome
    assert parse_resolution(outcome.plan.job("a").params["resolution"], aspect) == (width, height)


@SETTINGS
@given(st.integers(10, 99_999), st.integers(10, 99_999))
def test_sizes_outside_the_bounds_or_odd_are_refused(width: int, height: int) -> None:
    inside = all(bounds.MIN_DIMENSION <= side <= bounds.MAX_SIDE and side % 2 == 0 for side in (width, height))
    outcome = verdict(gen("a", resolution=f"{width}x{height}"))
    if inside:
        assert isinstance(outcome, Submission), outcome
    else:
        refused(outcome, "jobs[0].params.resolution", "a")


@pytest.mark.parametrize("aspect", ASPECT_RATIOS)
@pytest.mark.parametrize("name", ["360p", "480p", "540p", "720p", "1080p", "1440p", "2160p"])
def test_named_sizes_are_accepted_when_the_frame_fits(name: str, aspect: str) -> None:
    width, height = size_for(RESOLUTIONS[name], parse_aspect(aspect))
    outcome = verdict(gen("a", resolution=name, aspectRatio=aspect))
    if max(width, height) <= bounds.MAX_SIDE:
        assert isinstance(outcome, Submission), outcome
    else:
        assert "outside" in refused(outcome, "jobs[0].params.resolution", "a")


# -- rates and durations ---------------------------------------------------------------------------------------

@SETTINGS
@given(st.integers(bounds.MIN_FPS, bounds.MAX_FPS), st.floats(0.0, bounds.MAX_CLIP_S, exclude_min=True))
def test_a_duration_is_accepted_iff_it_holds_a_frame(fps: int, duration: float) -> None:
    outcome = verdict(gen("a", fps=fps, duration=duration))
    if duration * fps >= 1:
        assert isinstance(outcome, Submission), outcome
    else:
        assert "one frame" in refused(outcome, "jobs[0].params.duration", "a")


@pytest.mark.parametrize(("field", "value"), [("fps", 0), ("fps", bounds.MAX_FPS + 1), ("duration", bounds.MAX_CLIP_S + 1),
                                              ("duration", 0), ("duration", -1)])
def test_rates_and_durations_out_of_bounds(field: str, value: float) -> None:
    refused(verdict(gen("a", **{field: value})), f"jobs[0].params.{field}", "a")


@SETTINGS
@given(st.floats(0, bounds.MAX_VOLUME))
def test_any_volume_within_the_bound_is_accepted(volume: float) -> None:
    lip = {"id": "l", "type": "lipSync", "params": {"audioUrl": "https://h.example.com/a.m4a", "volume": volume},
           "dependsOn": ["a"]}
    assert isinstance(verdict(gen("a"), lip), Submission)


def test_volume_above_the_bound_is_refused() -> None:
    lip = {"id": "l", "type": "lipSync", "params": {"audioUrl": "https://h.example.com/a.m4a",
                                                    "volume": bounds.MAX_VOLUME + 0.5}, "dependsOn": ["a"]}
    refused(verdict(gen("a"), lip), "jobs[1].params.volume", "l")


# -- counts ------------------------------------------------------------------------------------------------------

@SETTINGS
@given(st.integers(1, bounds.MAX_DEPENDS_ON + 8))
def test_merge_inputs_are_bounded(n: int) -> None:
    outcome = verdict(gen("a"), merge("m", ["a"] * n))
    if n <= bounds.MAX_MERGE_INPUTS:
        assert isinstance(outcome, Submission), outcome
    elif n <= bounds.MAX_DEPENDS_ON:
        assert "at most 32 inputs" in refused(outcome, "jobs[1].dependsOn", "m")
    else:
        assert "dependencies per job" in refused(outcome, "jobs[1].dependsOn", "m")


def test_too_many_dependencies_is_one_issue_not_one_per_entry() -> None:
    outcome = verdict(gen("a"), merge("m", ["ghost"] * 5000))
    assert isinstance(outcome, list) and len(outcome) == 1, outcome[:3]


def test_root_job_ids_are_bounded() -> None:
    assert "at most 3 root jobs" in verdict_with(max_jobs=3, jobs=[gen("a")], rootJobIds=["a"] * 4)[0]["message"]


def verdict_with(*, max_jobs: int, jobs: list[dict[str, Any]], **top: Any) -> list[dict[str, Any]]:
    with pytest.raises(PlanValidationError) as info:
        normalize_request(PlanCreate.model_validate({"jobs": jobs, **top}), max_jobs=max_jobs)
    return [i.as_dict() for i in info.value.issues]


# -- merged durations and transitions --------------------------------------------------------------------------

clip_lengths = st.lists(st.floats(0.05, bounds.MAX_CLIP_S), min_size=1, max_size=8)


@SETTINGS
@given(clip_lengths, st.sampled_from(["cut", "fade", "dissolve", "wipe"]), st.floats(0.05, bounds.MAX_TRANSITION_S))
def test_a_merge_is_accepted_iff_its_transition_fits_every_clip_and_its_length_the_bound(
        lengths: list[float], kind: str, seconds: float) -> None:
    """The same rule the renderer applies (media/merge.py): the first and last clips overlap once,
    the middle ones twice; and the merged length (sum less overlaps) stays within MAX_MERGED_S."""
    jobs = [gen(f"c{i}", duration=d) for i, d in enumerate(lengths)]
    outcome = verdict(*jobs, merge("m", [f"c{i}" for i in range(len(lengths))],
                                   transition={"type": kind, "duration": seconds}))
    t = 0.0 if kind == "cut" else seconds
    n = len(lengths)
    fits = n < 2 or all(d >= (1 if i in (0, n - 1) else 2) * t for i, d in enumerate(lengths))
    short_enough = sum(lengths) - t * (n - 1) <= bounds.MAX_MERGED_S
    if fits and short_enough:
        assert isinstance(outcome, Submission), outcome
        return
    assert isinstance(outcome, list), (lengths, kind, seconds)
    if not fits:
        assert "transition" in refused(outcome, f"jobs[{n}].params.transition.duration", "m")
    if not short_enough:
        assert "at least" in refused(outcome, f"jobs[{n}].dependsOn", "m")


def test_merged_length_follows_the_plan_through_other_operations() -> None:
    six = [gen(f"c{i}", duration=600) for i in range(6)]
    cut = merge("m1", [f"c{i}" for i in range(6)])
    tall = {"id": "r", "type": "reframe", "params": {"aspectRatio": "9:16"}, "dependsOn": ["m1"]}
    voice = {"id": "v", "type": "lipSync", "params": {"audioUrl": "https://h.example.com/a.m4a"}, "dependsOn": ["r"]}
    assert isinstance(verdict(*six, cut, tall, voice), Submission)  # 3600 s: the limit
    outcome = verdict(*six, cut, tall, voice, merge("m2", ["v", "c0"]))
    assert "4200 s" in refused(outcome, "jobs[9].dependsOn", "m2")


def test_unknown_lengths_are_not_guessed() -> None:
    """Imports, audio-length fits and base-execution jobs may be any length: decided at run time."""
    imported = {"id": "i", "type": "generate", "params": {"url": "https://h.example.com/v.mp4"}}
    fitted = {"id": "f", "type": "lipSync", "params": {"audioUrl": "https://h.example.com/a.m4a", "fit": "audio"},
              "dependsOn": ["a"]}
    assert isinstance(verdict(gen("a"), imported, fitted,
                              merge("m", ["i", "f"], transition={"type": "fade", "duration": 9})), Submission)
    variant = {"jobs": [gen("a"), merge("m", ["base_cut", "a"], transition="fade")]}
    assert isinstance(normalize_request(PlanCreate.model_validate(variant), external_job_ids=["base_cut"]), Submission)
    short = {"jobs": [gen("a", duration=0.4), merge("m", ["base_cut", "a"], transition="fade")]}
    with pytest.raises(PlanValidationError) as info:  # a known input that is too short is still refused
        normalize_request(PlanCreate.model_validate(short), external_job_ids=["base_cut"])
    assert [i.field for i in info.value.issues] == ["jobs[1].params.transition.duration"]
