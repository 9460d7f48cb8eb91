"""What a webhook body says: SPEC.md's payload and, in the same body, the shape the TypeScript
SDK's docs (EXECUTION.md, COMPOSABLE.md) show its users — ``{executionId, status, video: {url,
duration, aspectRatio, status}}`` — with statuses in the vocabulary of the submission's format."""

from __future__ import annotations

from typing import Any

from tests.helpers import submit
from vidassets.webhooks.events import build_payload

HOOK = {"url": "https://hooks.example.com/x", "secret": "s"}
SPEC_FIELDS = {"type", "executionId", "status", "outputs", "rootUrl", "createdAt", "completedAt"}


def sdk_body(**extra: Any) -> dict[str, Any]:
    return {"jobs": [{"id": "job1", "type": "generate", "params": {"prompt": "p", "duration": 2}},
                     {"id": "job2", "type": "reframe", "params": {"aspectRatio": "9:16"}, "dependsOn": ["job1"]}],
            "webhook": HOOK, **extra}


def documented_body() -> dict[str, Any]:
    body = sdk_body()
    return {"executionPlan": {"jobs": [{**j, "operation": j.pop("type")} for j in body["jobs"]]},
            "options": {"webhookUrl": HOOK["url"], "webhookSecret": HOOK["secret"]}}


def _complete(services, eid: str) -> None:  # type: ignore[no-untyped-def]
    for job_id, ratio in (("job1", "16:9"), ("job2", "9:16")):
        services.repo.job_completed(eid, job_id, {"key": f"executions/{eid}/{job_id}/out.mp4", "digest": job_id,
                                                  "duration": 2.0, "aspectRatio": ratio})
    services.repo.finish(eid, "completed", result={"jobId": "job2", "key": f"executions/{eid}/job2/out.mp4",
                                                   "duration": 2.0, "aspectRatio": "9:16"})


def test_a_completed_execution_carries_both_shapes(services) -> None:  # type: ignore[no-untyped-def]
    for body in (sdk_body(), documented_body()):
        eid = submit(services, body)
        _complete(services, eid)
        payload = build_payload(services.repo.get(eid), services, "execution.completed")
        assert SPEC_FIELDS <= set(payload) and payload["status"] == "completed"
        assert set(payload["outputs"]) == {"job1", "job2"} and payload["outputs"]["job2"]["operation"] == "reframe"
        assert payload["video"] == {"url": payload["rootUrl"], "duration": 2.0, "aspectRatio": "9:16",
                                    "status": "completed"}
        assert "error" not in payload


def test_no_video_before_the_root_output_exists(services) -> None:  # type: ignore[no-untyped-def]
    eid = submit(services, sdk_body())
    services.repo.job_completed(eid, "job1", {"key": f"executions/{eid}/job1/out.mp4", "digest": "d"})
    services.repo.job_failed(eid, "job2", status="failed", error="ffmpeg exploded", error_code="ffmpeg_failed")
    services.repo.finish(eid, "failed", error="job 'job2' failed", error_code="ffmpeg_failed", result={"jobId": "job2"})
    payload = build_payload(services.repo.get(eid), services, "execution.failed")
    assert payload["status"] == "failed" and payload["errorCode"] == "ffmpeg_failed" and payload["rootUrl"] is None
    assert "video" not in payload and set(payload["outputs"]) == {"job1"}


def test_cancellation_reads_failed_for_the_sdk_format_only(services) -> None:  # type: ignore[no-untyped-def]
    for body, status, code in ((sdk_body(), "failed", "cancelled"), (documented_body(), "cancelled", "cancelled")):
        eid = submit(services, body)
        assert services.repo.fail_if_active(eid, "cancelled", "execution cancelled", "cancelled")
        payload = build_payload(services.repo.get(eid), services, "execution.cancelled")
        assert (payload["status"], payload["errorCode"], payload["type"]) == (status, code, "execution.cancelled")
        assert "cancelled" in payload["error"]


def test_a_job_that_asks_for_its_own_webhook_gets_the_reference_payload(services) -> None:  # type: ignore[no-untyped-def]
    """``sendJobWebhook: true`` (today's SDK): when that job ends, the execution's URL gets
    ``{executionId, jobId, operation, status, result, error, completedAt}``; other jobs send none."""
    import json

    from vidassets.execution.executor import PlanExecutor
    from vidassets.execution.operations import OperationRunner
    from vidassets.providers import default_registry

    executor = PlanExecutor(services, OperationRunner(services, default_registry()), max_workers=2)

    body = sdk_body()
    body["jobs"][0]["params"] |= {"sendJobWebhook": True, "resolution": "160x90", "duration": 1}
    eid = submit(services, body)
    _, outcome = executor.run_to_end(eid, "run-1")
    assert executor.finalize(eid, outcome) == "completed"
    rows = services.webhooks.for_execution(eid)
    events = {row.event: json.loads(row.payload) for row, _attempts in rows}
    assert set(events) == {"job.completed", "execution.completed"}, set(events)
    job = events["job.completed"]
    assert set(job) == {"executionId", "jobId", "operation", "status", "result", "error", "completedAt"}
    assert (job["executionId"], job["jobId"], job["operation"], job["status"]) == (eid, "job1", "generate", "completed")
    assert job["result"]["url"] and job["result"]["type"] == "video" and job["result"]["duration"] == 1.0
    assert job["error"] is None and job["completedAt"].endswith("Z")
    assert all(row.url == HOOK["url"] for row, _ in rows)
