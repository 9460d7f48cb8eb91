"""Staleness: which outputs a scheduled or on-demand re-render picks up."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.helpers import five_op_plan, submit
from vidassets.plan import AssetKind
from vidassets.plan import operations as ops
from vidassets.runs.rerender import parse_since, plan_rerender


def test_parse_since() -> None:
    assert parse_since("7d") == dt.timedelta(days=7)
    assert parse_since("12h") == dt.timedelta(hours=12)
    assert parse_since(" 30m ") == dt.timedelta(minutes=30)
    for bad in ("7", "d7", "7y", "", "-1d"):
        with pytest.raises(ValueError):
            parse_since(bad)


def test_renderer_bump_and_changed_inputs_make_outputs_stale(services, executor, media_url: str,  # type: ignore[no-untyped-def]
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    eid = submit(services, five_op_plan(f"{media_url}/voice.m4a"))
    _, summary = executor.run_to_end(eid, "r1")
    executor.finalize(eid, summary)
    db = services.settings.resolved_database_url
    all_kinds = list(AssetKind)
    assert plan_rerender(db, all_kinds, dt.timedelta(days=1)).partitions == {}

    current = ops.RENDERER_VERSIONS[AssetKind.SUBTITLED]
    bumped = str(int(current) + 1)
    monkeypatch.setitem(ops.RENDERER_VERSIONS, AssetKind.SUBTITLED, bumped)
    plan = plan_rerender(db, all_kinds, dt.timedelta(days=1))
    assert plan.partitions == {eid: {AssetKind.SUBTITLED}}
    assert plan.reasons[(eid, "caps")] == f"renderer {current} -> {bumped}"
    assert plan_rerender(db, [AssetKind.REFRAMED], dt.timedelta(days=1)).partitions == {}
    monkeypatch.setitem(ops.RENDERER_VERSIONS, AssetKind.SUBTITLED, current)

    # The reframe output is re-rendered (new digest): what was made from it is now stale.
    tall = next(j for j in services.repo.jobs(eid) if j.job_id == "tall")
    services.repo.job_completed(eid, "tall", {**tall.result, "digest": "f" * 64})
    plan = plan_rerender(db, all_kinds, dt.timedelta(days=1))
    assert plan.partitions == {eid: {AssetKind.LIPSYNCED}}
    assert plan.reasons[(eid, "voice")] == "an input was re-rendered"
    # Outside the window, or another tenant's: not picked up.
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    assert plan_rerender(db, all_kinds, dt.timedelta(days=1), now=later).partitions == {}
    assert plan_rerender(db, all_kinds, dt.timedelta(days=1), tenant_id="nobody").partitions == {}
