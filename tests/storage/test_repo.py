"""Executions and job checkpoints on SQLite (embedded) and PostgreSQL (production)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.helpers import merge_of_two_plan
from vidassets.storage.repo import ReusedJob, new_execution_id

_plan = merge_of_two_plan


def test_create_read_and_checkpoint_jobs(services) -> None:  # type: ignore[no-untyped-def]
    repo = services.repo
    eid = new_execution_id()
    repo.create(execution_id=eid, tenant_id="t1", plan=_plan(),
                reused=[ReusedJob("a", {"key": "k/a.mp4", "digest": "d", "reusedFrom": "base"})])
    row = repo.get(eid, "t1")
    assert row is not None and row.status == "pending"
    assert row.created_at.tzinfo is not None
    assert [j.job_id for j in row.jobs] == ["a", "b", "m"]
    assert [j.status for j in row.jobs] == ["completed", "pending", "pending"]
    assert repo.get(eid, "someone-else") is None  # tenant scoping

    repo.start_run(eid, "run-1")
    repo.job_started(eid, "b", "run-1")
    repo.job_progress(eid, "b", 0.5)
    repo.job_completed(eid, "b", {"key": "k/b.mp4"})
    repo.job_started(eid, "m", "run-1")
    repo.job_failed(eid, "m", status="failed", error="boom", error_code="ffmpeg_failed")
    jobs = {j.job_id: j for j in repo.jobs(eid)}
    assert jobs["b"].status == "completed" and jobs["b"].progress == 1.0 and jobs["b"].attempts == 1
    assert jobs["m"].status == "failed" and jobs["m"].error_code == "ffmpeg_failed"
    repo.reset_jobs(eid, ["m"])
    assert repo.jobs(eid)[2].status == "pending"

    row = repo.get(eid)
    assert row is not None and row.status == "processing" and row.run_id == "run-1"
    repo.finish(eid, "completed", result={"jobId": "m"})
    row = repo.get(eid)
    assert row is not None and row.status == "completed" and row.completed_at is not None
    assert row.result == {"jobId": "m"}


def test_list_is_newest_first_with_cursor_and_filters(services) -> None:  # type: ignore[no-untyped-def]
    repo = services.repo
    ids = []
    for _ in range(5):
        eid = new_execution_id()
        ids.append(eid)
        repo.create(execution_id=eid, tenant_id="lister", plan=_plan())
    repo.finish(ids[1], "failed", error="x", error_code="y")
    page1 = repo.list(tenant_id="lister", limit=2)
    assert [r.id for r in page1] == [ids[4], ids[3]]
    page2 = repo.list(tenant_id="lister", before=page1[-1].id, limit=10)
    assert [r.id for r in page2] == [ids[2], ids[1], ids[0]]
    assert [r.id for r in repo.list(tenant_id="lister", statuses=["failed"])] == [ids[1]]
    assert repo.list(tenant_id="nobody") == []


def test_unlaunched_and_launch_bookkeeping(services) -> None:  # type: ignore[no-untyped-def]
    repo = services.repo
    eid = new_execution_id()
    repo.create(execution_id=eid, tenant_id="t", plan=_plan())
    assert eid not in [r.id for r in repo.unlaunched(older_than_s=3600)]
    assert eid in [r.id for r in repo.unlaunched(older_than_s=-1)]
    repo.mark_launch_failed(eid, "dagster down")
    assert repo.get(eid).launch_attempts == 1  # type: ignore[union-attr]
    repo.mark_launched(eid, "run-9")
    assert eid not in [r.id for r in repo.unlaunched(older_than_s=-1)]
    assert repo.fail_if_active(eid, "failed", "crashed", "run_failed")
    assert not repo.fail_if_active(eid, "failed", "again", "run_failed")
    assert {j.status for j in repo.jobs(eid)} == {"failed"}


def test_one_launcher_at_a_time_holds_the_claim(services) -> None:  # type: ignore[no-untyped-def]
    """The API's launch queue and the reconciliation sensor both claim before launching: a slow
    launch is not doubled, a failed one is handed over at once, a dead holder's claim expires."""
    import concurrent.futures

    repo = services.repo
    eid = new_execution_id()
    repo.create(execution_id=eid, tenant_id="t", plan=_plan())
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        wins = list(pool.map(lambda _: repo.claim_launch(eid), range(8)))
    assert wins.count(True) == 1
    assert eid not in [r.id for r in repo.unlaunched(older_than_s=-1)]  # claimed: not the sensor's
    repo.mark_launch_failed(eid, "dagster down")
    assert eid in [r.id for r in repo.unlaunched(older_than_s=-1)]
    assert repo.claim_launch(eid) and not repo.claim_launch(eid)
    assert repo.claim_launch(eid, stale_after_s=-1)  # the holder died: its claim is stale
    repo.mark_launched(eid, "run-1")
    assert not repo.claim_launch(eid, stale_after_s=-1)  # it has a run


def test_idempotency_key_is_unique_per_tenant(services) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import IntegrityError

    repo = services.repo
    repo.create(execution_id=new_execution_id(), tenant_id="t", plan=_plan(), idempotency_key="k1")
    repo.create(execution_id=new_execution_id(), tenant_id="u", plan=_plan(), idempotency_key="k1")
    with pytest.raises(IntegrityError):
        repo.create(execution_id=new_execution_id(), tenant_id="t", plan=_plan(), idempotency_key="k1")
    assert repo.by_idempotency_key("t", "k1") is not None


def test_execution_ids_sort_by_creation_time() -> None:
    a = new_execution_id()
    b = new_execution_id()
    assert len(a) == 32 and a < b or a[:12] == b[:12]
    assert int(a[:12], 16) <= int(dt.datetime.now().timestamp() * 1000)


def test_concurrent_writers_lose_nothing(services) -> None:  # type: ignore[no-untyped-def]
    """Forty API threads submitting and updating at once (SQLite: they queue on the process's
    writer lock instead of sleeping in SQLite's busy handler) all commit, each exactly once."""
    from concurrent.futures import ThreadPoolExecutor

    repo = services.repo

    def submit_and_touch(i: int) -> str:
        eid = new_execution_id()
        repo.create(execution_id=eid, tenant_id="load", plan=_plan(), idempotency_key=f"k{i}")
        repo.mark_launched(eid, f"run-{i}")
        assert repo.view(eid, "load") is not None  # reads interleave with the writes
        return eid

    with ThreadPoolExecutor(max_workers=40) as pool:
        ids = list(pool.map(submit_and_touch, range(200)))
    assert len(set(ids)) == 200
    rows = repo.list(tenant_id="load", statuses=[], before=None, limit=500)
    assert sorted(r.id for r in rows) == sorted(ids)
    assert {r.run_id for r in rows} == {f"run-{i}" for i in range(200)}
