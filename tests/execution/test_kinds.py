"""The kind reporter on its own: for any plan shape and any finishing order, kinds come out in
an order Dagster accepts, each once, and every kind whose jobs all finished comes out."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from vidassets.execution.kinds import KindReporter, descendants, kind_members
from vidassets.plan.operations import ASSET_KINDS_IN_LINEAGE_ORDER, ASSET_PARENTS, JOB_KINDS, AssetKind

TRANSFORMS = [k for k in JOB_KINDS if k is not AssetKind.GENERATED_CLIPS]


@st.composite
def runs(draw: st.DrawFn) -> dict[str, Any]:
    """A random plan (job -> kind, edges, roots), a finishing order and a set of failing jobs."""
    kinds: dict[str, AssetKind] = {}
    edges: dict[str, tuple[str, ...]] = {}
    for i in range(draw(st.integers(1, 4))):
        kinds[f"g{i}"], edges[f"g{i}"] = AssetKind.GENERATED_CLIPS, ()
    for i in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(TRANSFORMS))
        deps = draw(st.lists(st.sampled_from(sorted(kinds)), min_size=1, max_size=3, unique=True))
        kinds[f"t{i}"], edges[f"t{i}"] = kind, tuple(deps)
    used = {d for deps in edges.values() for d in deps}
    sinks = sorted(set(kinds) - used)
    roots = draw(st.lists(st.sampled_from(sinks), min_size=1, unique=True))
    order = draw(st.permutations(sorted(kinds)))
    failing = set(draw(st.lists(st.sampled_from(sorted(kinds)), max_size=2)))
    wanted = set(draw(st.sets(st.sampled_from(ASSET_KINDS_IN_LINEAGE_ORDER), min_size=1)))
    return {"kinds": kinds, "edges": edges, "roots": roots, "order": order, "failing": failing, "wanted": wanted}


def _replay(run: dict[str, Any]) -> tuple[list[AssetKind], dict[AssetKind, frozenset[str]], set[str]]:
    """Finish jobs in ``order`` (a job only after its inputs; failures cancel everything below)."""
    members = kind_members(run["kinds"], run["roots"])
    reporter = KindReporter(members, run["wanted"])
    done: set[str] = set()
    failed = descendants(run["edges"], run["failing"])
    released: list[AssetKind] = []
    remaining = [j for j in run["order"]]
    while remaining:
        ready = next(j for j in remaining if all(d in done or d in failed for d in run["edges"][j]))
        remaining.remove(ready)
        if ready not in failed:
            done.add(ready)
        released += reporter.release(done, failed)
    released += reporter.release(done, failed, final=True)
    return released, members, done


@settings(max_examples=400, deadline=None)
@given(runs())
def test_kinds_are_released_in_dagster_order_each_once_and_all_complete_ones(run: dict[str, Any]) -> None:
    released, members, done = _replay(run)
    assert len(released) == len(set(released))
    for i, kind in enumerate(released):
        later = set(released[i + 1:])
        assert not later & set(ASSET_PARENTS[kind]), f"{kind} released before one of its parents"
    expected = {k for k in run["wanted"] if members[k] and members[k] <= done}
    assert set(released) == expected


def test_a_transform_before_its_clips_waits_for_them() -> None:
    members = kind_members({"a": AssetKind.GENERATED_CLIPS, "slow": AssetKind.GENERATED_CLIPS,
                            "r": AssetKind.REFRAMED}, ["r", "slow"])
    reporter = KindReporter(members, set(ASSET_KINDS_IN_LINEAGE_ORDER))
    assert reporter.release({"a", "r"}, set()) == []  # reframed is done, but clips may still land
    assert reporter.release({"a", "r", "slow"}, set()) == [
        AssetKind.GENERATED_CLIPS, AssetKind.REFRAMED, AssetKind.DELIVERED]


def test_a_failed_clip_lets_finished_transforms_through_but_not_delivered() -> None:
    members = kind_members({"a": AssetKind.GENERATED_CLIPS, "bad": AssetKind.GENERATED_CLIPS,
                            "r": AssetKind.REFRAMED}, ["r", "bad"])
    reporter = KindReporter(members, set(ASSET_KINDS_IN_LINEAGE_ORDER))
    assert reporter.release({"a", "r"}, {"bad"}) == [AssetKind.REFRAMED]
    assert reporter.release({"a", "r"}, {"bad"}, final=True) == []


def test_descendants_follow_the_plan_graph() -> None:
    edges = {"a": (), "b": (), "m": ("a", "b"), "r": ("m",), "s": ("b",)}
    assert descendants(edges, {"a"}) == {"a", "m", "r"}
    assert descendants(edges, {"b"}) == {"b", "m", "r", "s"}
