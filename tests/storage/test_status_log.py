"""Status lines: one per execution or job status change, from the repository method that makes it,
on both backends; a failed job's line carries its stack; hostile error text stays on one line."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.docs.doc_tables import first_column
from tests.helpers import LogLines as Lines
from tests.helpers import capture_log, merge_of_two_plan, submit
from vidassets.execution.executor import PlanExecutor
from vidassets.execution.operations import OperationRunner
from vidassets.providers import default_registry
from vidassets.storage.repo import new_execution_id

ENVELOPE = {"ts", "level", "logger", "msg"}




@pytest.fixture
def status_lines() -> Iterator[Lines]:
    with capture_log("vidassets.status", Lines()) as handler:
        yield handler


def _changes(entries: list[dict]) -> list[tuple]:  # type: ignore[type-arg]
    return [(e.get("job_id"), e.get("old_status"), e["new_status"]) for e in entries]


_plan = merge_of_two_plan


def test_every_status_change_of_a_run_is_one_line(services, status_lines: Lines) -> None:  # type: ignore[no-untyped-def]
    repo, eid = services.repo, new_execution_id()
    repo.create(execution_id=eid, tenant_id="acme", plan=_plan())
    repo.start_run(eid, "run-1")
    repo.job_started(eid, "a", "run-1")
    repo.job_progress(eid, "a", 0.5)  # progress is not a status change
    repo.job_completed(eid, "a", {"key": "k/a.mp4"})
    repo.job_started(eid, "b", "run-1")
    repo.job_failed(eid, "b", status="failed", error="boom", error_code="ffmpeg_failed")
    repo.job_failed(eid, "m", status="cancelled", error="input job 'b' failed", error_code="upstream_failed")
    repo.job_failed(eid, "m", status="cancelled", error="again", error_code="upstream_failed")  # unchanged: no line
    repo.finish(eid, "failed", error="job 'b': boom", error_code="ffmpeg_failed")
    entries = status_lines.entries()
    assert _changes(entries) == [
        (None, None, "pending"), (None, "pending", "processing"),
        ("a", "pending", "processing"), ("a", "processing", "completed"),
        ("b", "pending", "processing"), ("b", "processing", "failed"),
        ("m", "pending", "cancelled"), (None, "processing", "failed")]
    assert all(e["execution_id"] == eid and e["tenant_id"] == "acme" and e["logger"] == "vidassets.status"
               for e in entries)
    jobs = [e for e in entries if "job_id" in e]
    assert all(e["event"] == "job.status" and e["operation"] in ("generate", "merge") for e in jobs)
    assert all(e["event"] == "execution.status" and "operation" not in e for e in entries if "job_id" not in e)
    failed_job, skipped, failed_execution = entries[5], entries[6], entries[7]
    assert failed_job["level"] == "error" and failed_job["error_code"] == "ffmpeg_failed" and failed_job["error"] == "boom"
    assert "exc" not in failed_job  # recorded outside an exception handler: no stack to give
    assert skipped["level"] == "warning" and skipped["error_code"] == "upstream_failed"
    assert failed_execution["level"] == "error" and failed_execution["error_code"] == "ffmpeg_failed"
    assert entries[1]["run_id"] == "run-1" and entries[2]["run_id"] == "run-1"
    documented = first_column("Status lines") | first_column("Every line")
    assert {key for e in entries for key in e} - ENVELOPE <= documented


def test_a_job_failed_inside_its_handler_carries_the_stack(services, status_lines: Lines) -> None:  # type: ignore[no-untyped-def]
    repo, eid = services.repo, new_execution_id()
    repo.create(execution_id=eid, tenant_id="acme", plan=_plan())
    repo.job_started(eid, "a", "run-1")
    hostile = 'bad prompt\n{"level":"critical","msg":"forged"}\u2028\x85 api_key=r8_SECRETSECRETSECRET'

    def render() -> None:
        raise ValueError(hostile)

    try:
        render()
    except ValueError as exc:
        repo.job_failed(eid, "a", status="failed", error=str(exc), error_code="internal_error")
    status_lines.lines = status_lines.lines[-1:]
    [entry] = status_lines.entries()  # one line despite the newlines in the message
    assert entry["new_status"] == "failed" and entry["error"].startswith('bad prompt\n{"level"')
    assert "Traceback (most recent call last)" in entry["exc"] and "in render" in entry["exc"]
    assert "ValueError: bad prompt" in entry["exc"]
    assert "SECRETSECRET" not in json.dumps(entry) and entry["level"] == "error"


def test_actions_from_outside_the_run_are_logged(services, status_lines: Lines) -> None:  # type: ignore[no-untyped-def]
    repo, eid = services.repo, new_execution_id()
    repo.create(execution_id=eid, tenant_id="acme", plan=_plan())
    repo.start_run(eid, "run-1")
    repo.job_started(eid, "a", "run-1")
    repo.job_completed(eid, "a", {"key": "k/a.mp4"})
    status_lines.entries()
    assert repo.fail_if_active(eid, "cancelled", "execution cancelled", "cancelled")
    assert _changes(status_lines.entries()) == [(None, "processing", "cancelled"), ("b", "pending", "cancelled"),
                                                ("m", "pending", "cancelled")]
    assert not repo.fail_if_active(eid, "failed", "run died", "run_failed")  # nothing active: nothing logged
    assert status_lines.entries() == []
    assert sorted(repo.prepare_retry(eid)) == ["b", "m"]
    assert _changes(status_lines.entries()) == [(None, "cancelled", "pending"), ("b", "cancelled", "pending"),
                                                ("m", "cancelled", "pending")]


def test_a_real_failing_run_logs_each_job_with_its_stack(services, media_url: str,  # type: ignore[no-untyped-def]
                                                         status_lines: Lines) -> None:
    """The executor on real ffmpeg: the job that cannot decode its input logs its stack; the job
    that depended on it is skipped without one; the execution's end is one line."""
    executor = PlanExecutor(services, OperationRunner(services, default_registry()), max_workers=2)
    eid = submit(services, {"jobs": [
        {"id": "good", "type": "generate", "params": {"prompt": "fine", "duration": 1, "resolution": "160x90"}},
        {"id": "bad", "type": "generate", "params": {"url": f"{media_url}/notes.mp4"}},
        {"id": "cut", "type": "merge", "params": {}, "dependsOn": ["good", "bad"]},
    ]}, tenant="acme")
    _, outcome = executor.run_to_end(eid, "run-9")
    assert executor.finalize(eid, outcome) == "failed"
    by_job: dict[str | None, list[dict]] = {}  # type: ignore[type-arg]
    for entry in status_lines.entries():
        by_job.setdefault(entry.get("job_id"), []).append(entry)
    bad = by_job["bad"][-1]
    assert (bad["old_status"], bad["new_status"], bad["error_code"]) == ("processing", "failed", "invalid_media")
    assert bad["operation"] == "generate" and bad["run_id"] == "run-9"  # from the job runner's log context
    assert "Traceback (most recent call last)" in bad["exc"] and "Error" in bad["exc"].splitlines()[-1]
    cut = by_job["cut"][-1]
    assert (cut["new_status"], cut["error_code"]) == ("cancelled", "upstream_failed") and "exc" not in cut
    assert [e["new_status"] for e in by_job["good"]] == ["processing", "completed"]
    assert [(e.get("old_status"), e["new_status"]) for e in by_job[None]] == [(None, "pending"), ("pending", "processing"),
                                                                         ("processing", "failed")]
    assert by_job[None][-1]["error_code"] == "invalid_media" and by_job[None][-1]["tenant_id"] == "acme"
