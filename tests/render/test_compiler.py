"""The render compiler (pure): what each job's render composes, what it waits for, and that the
final result is scheduled before the intermediates it contains — for hand-picked plans and for
any plan shape the Hypothesis generator draws."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.plan_shapes import Shape, media_plans
from vidassets.execution.scheduler import Scheduler
from vidassets.render.compiler import RenderPlan, Step, compile_plan, source_reason

VOICE = "https://example.com/voice.m4a"


@dataclass(frozen=True)
class Job:
    job_id: str
    operation: str
    params: Mapping[str, Any] = field(default_factory=dict)
    depends_on: Sequence[str] = ()


def reference() -> dict[str, Job]:
    """3 clips -> merge with crossfade -> reframe 9:16 -> new audio -> captions."""
    jobs = [Job(c, "generate", {"prompt": c}) for c in ("a", "b", "c")]
    jobs += [Job("cut", "merge", {"transition": {"type": "crossfade", "duration": 0.5}}, ("a", "b", "c")),
             Job("tall", "reframe", {"aspectRatio": "9:16", "strategy": "center"}, ("cut",)),
             Job("voice", "lipSync", {"audioUrl": VOICE}, ("tall",)),
             Job("caps", "addSubtitles", {"text": "hello"}, ("voice",))]
    return {j.job_id: j for j in jobs}


def test_the_reference_chain_renders_every_artefact_from_the_clips() -> None:
    plan = compile_plan(reference(), ["caps"])
    assert set(plan.reasons) == {"a", "b", "c"}
    for job, steps in {"cut": ("cut",), "tall": ("cut", "tall"), "voice": ("cut", "tall", "voice"),
                       "caps": ("cut", "tall", "voice", "caps")}.items():
        recipe = plan.recipes[job]
        assert recipe.steps == steps and recipe.sources == ("a", "b", "c")
        assert recipe.composed == (len(steps) > 1)
    edges = {j.job_id: tuple(j.depends_on) for j in reference().values()}
    assert plan.edges(edges)["caps"] == ("a", "b", "c")  # waits for the clips, not for "voice"
    assert plan.after == {"cut": ("caps",), "tall": ("caps",), "voice": ("caps",)}


def test_a_provider_step_in_the_middle_splits_the_graph() -> None:
    jobs = reference()
    jobs["voice"] = Job("voice", "lipSync", {"audioUrl": VOICE, "provider": "replicate"}, ("tall",))
    plan = compile_plan(jobs, ["caps"])
    assert plan.reasons["voice"] == "a provider model renders it"
    assert plan.recipes["caps"].steps == ("caps",) and plan.recipes["caps"].sources == ("voice",)
    # "tall" feeds the provider: it must land before it, so it waits for nothing.
    assert "tall" not in plan.after and plan.after["cut"] == ("tall",)


def test_transcribed_captions_and_smart_crops_read_their_input_artefact() -> None:
    jobs = reference()
    jobs["caps"] = Job("caps", "addSubtitles", {"language": "en"}, ("voice",))
    jobs["tall"] = Job("tall", "reframe", {"aspectRatio": "9:16", "strategy": "smart"}, ("cut",))
    plan = compile_plan(jobs, ["caps"])
    assert plan.reasons["caps"] == "captions are transcribed from its input's speech"
    assert plan.reasons["tall"] == "smart crop analyses its input's pictures"
    assert plan.recipes["voice"].sources == ("tall",)
    assert set(plan.recipes) == {"cut", "voice"} and not plan.after


def test_a_job_importing_its_own_input_is_a_source() -> None:
    job = Job("tall", "reframe", {"aspectRatio": "9:16", "url": "https://example.com/a.mp4"})
    assert source_reason(job) == "imports its own input (params.url)"


def test_recipe_description_names_sources_by_position() -> None:
    recipe = compile_plan(reference(), ["caps"]).recipes["tall"]
    described = recipe.describe()
    assert described["op"] == "reframe" and described["in"][0]["op"] == "merge"
    assert described["in"][0]["in"] == [{"source": 0}, {"source": 1}, {"source": 2}]
    assert recipe.fetches is False and compile_plan(reference(), ["caps"]).recipes["voice"].fetches is True


def _jobs_of(shape: Shape) -> dict[str, Job]:
    return {j["id"]: Job(j["id"], j["operation"], j.get("params", {}), tuple(j.get("dependsOn", ())))
            for j in shape.jobs}


def _ancestors(jobs: Mapping[str, Job], jid: str) -> set[str]:
    out: set[str] = set()
    todo = list(jobs[jid].depends_on)
    while todo:
        dep = todo.pop()
        if dep not in out:
            out.add(dep)
            todo.extend(jobs[dep].depends_on)
    return out


def _landing_order(plan: RenderPlan, jobs: Mapping[str, Job]) -> list[str]:
    """The order one worker finishes the jobs in (the executor's loop, with instant jobs)."""
    edges = plan.edges({j: tuple(job.depends_on) for j, job in jobs.items()})
    scheduler = Scheduler(edges, set(jobs), (), after=plan.after)
    order: list[str] = []
    while not scheduler.finished_all:
        ready = scheduler.ready(1)
        assert ready, f"deadlock with {order} done"
        scheduler.finished(ready[0])
        order.append(ready[0])
    return order


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_plan_compiles_to_recipes_from_sources_and_lands_the_result_first(data: st.DataObject) -> None:
    shape: Shape = data.draw(media_plans("https://example.com/media", max_ops=7), label="plan")
    jobs = _jobs_of(shape)
    roots = list(shape.body["executionPlan"]["rootJobIds"])
    plan = compile_plan(jobs, roots)
    assert set(plan.recipes) | set(plan.reasons) == set(jobs) and not set(plan.recipes) & set(plan.reasons)
    for jid, recipe in plan.recipes.items():
        ancestors = _ancestors(jobs, jid)
        # Sources: stored artefacts upstream; steps: every job between them and this one.
        assert set(recipe.sources) <= ancestors and all(s in plan.reasons for s in recipe.sources)
        assert recipe.steps[-1] == jid and set(recipe.steps[:-1]) <= ancestors - set(plan.reasons)
        for step in recipe.step.walk():
            assert [i.job_id if isinstance(i, Step) else i for i in step.inputs] == list(jobs[step.job_id].depends_on)
    order = _landing_order(plan, jobs)
    assert sorted(order) == sorted(jobs)
    for jid, outers in plan.after.items():
        for outer in outers:
            assert order.index(outer) < order.index(jid), (shape.describe(), jid, outer)
    for root in roots:
        if root in plan.recipes:
            for inner in plan.recipes[root].steps[:-1]:
                if root not in _descendants_via(plan, jobs, inner):
                    assert order.index(root) < order.index(inner), (shape.describe(), root, inner)


def _descendants_via(plan: RenderPlan, jobs: Mapping[str, Job], jid: str) -> set[str]:
    """Jobs that read ``jid``'s stored artefact, directly or not (under the compiled edges)."""
    edges = plan.edges({j: tuple(job.depends_on) for j, job in jobs.items()})
    out: set[str] = set()
    todo = [jid]
    while todo:
        current = todo.pop()
        for child, deps in edges.items():
            if current in deps and child not in out:
                out.add(child)
                todo.append(child)
    return out


def test_an_intermediate_waits_for_its_root_whatever_the_root_does() -> None:
    from vidassets.execution.errors import JobFailure

    plan = compile_plan(reference(), ["caps"])
    edges = plan.edges({j: tuple(job.depends_on) for j, job in reference().items()})
    scheduler = Scheduler(edges, set(reference()), (), after=plan.after)
    assert scheduler.ready(10) == ["a", "b", "c"]
    for clip in ("a", "b", "c"):
        scheduler.finished(clip)
    assert scheduler.ready(10) == ["caps"]  # cut, tall and voice wait for the final result
    assert scheduler.failed("caps", JobFailure("ffmpeg_failed", "boom")) == []  # nothing depends on it
    assert sorted(scheduler.ready(10)) == ["cut", "tall", "voice"]  # a failed root still lets them land
