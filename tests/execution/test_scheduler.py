"""The scheduler alone (no database, no threads): ready sets, upstream failure, cancellation."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from vidassets.execution.errors import JobFailure
from vidassets.execution.scheduler import Scheduler

BOOM = JobFailure("ffmpeg_failed", "boom")
EDGES = {"a": (), "b": (), "m": ("a", "b"), "r": ("m",), "s": ("b",)}


def test_jobs_start_when_their_inputs_are_done_in_plan_order() -> None:
    s = Scheduler(EDGES, EDGES, done=())
    assert s.ready(10) == ["a", "b"]
    assert s.ready(10) == []  # running, not handed out twice
    s.finished("b")
    assert s.ready(10) == ["s"]
    s.finished("a")
    assert s.ready(1) == ["m"]
    assert s.running == 2 and not s.finished_all


def test_a_failure_skips_everything_downstream_naming_the_culprit() -> None:
    s = Scheduler(EDGES, EDGES, done=())
    s.ready(10)
    skipped = s.failed("a", BOOM)
    assert [(k.job_id, k.failure.message) for k in skipped] == [("m", "input job 'a' failed"),
                                                                  ("r", "input job 'm' failed")]
    s.finished("b")
    assert s.ready(10) == ["s"]


def test_unreachable_inputs_and_cancellation() -> None:
    s = Scheduler(EDGES, to_run={"m", "r"}, done={"a"})  # b has no output and will not run
    skipped = s.unreachable({"b": "generated_clips"})
    assert [k.job_id for k in skipped] == ["m", "r"] and "materialise generated_clips" in skipped[0].failure.message
    assert s.finished_all
    c = Scheduler(EDGES, EDGES, done=())
    assert c.ready(1) == ["a"]
    cancelled = c.cancel()
    assert {k.job_id for k in cancelled} == {"b", "m", "r", "s"} and {k.failure.code for k in cancelled} == {"cancelled"}
    assert c.ready(10) == [] and not c.finished_all  # "a" is still running
    c.finished("a")
    assert c.finished_all


@st.composite
def plans(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(1, 12))
    edges = {f"j{i}": tuple(sorted(set(draw(st.lists(st.sampled_from([f"j{k}" for k in range(i)]), max_size=3)))))
             if i else () for i in range(n)}
    failing = set(draw(st.lists(st.sampled_from(sorted(edges)), max_size=3)))
    return {"edges": edges, "failing": failing, "workers": draw(st.integers(1, 4))}


@settings(max_examples=300, deadline=None)
@given(plans())
def test_every_job_ends_exactly_once_and_never_before_its_inputs(plan: dict[str, Any]) -> None:
    s = Scheduler(plan["edges"], plan["edges"], done=())
    started: list[str] = []
    ended: dict[str, str] = {}
    running: list[str] = []
    while not s.finished_all:
        for job in s.ready(plan["workers"] - len(running)):
            assert all(ended.get(d) == "done" for d in plan["edges"][job])
            started.append(job)
            running.append(job)
        job = running.pop(0)
        if job in plan["failing"]:
            ended[job] = "failed"
            for skip in s.failed(job, BOOM):
                assert skip.job_id not in ended and skip.job_id not in started
                ended[skip.job_id] = "skipped"
        else:
            ended[job] = "done"
            s.finished(job)
    assert set(ended) == set(plan["edges"]) and len(started) == len(set(started))
    for job, state in ended.items():
        inputs_ok = all(ended[d] == "done" for d in plan["edges"][job])
        assert (state == "skipped") == (not inputs_ok)
