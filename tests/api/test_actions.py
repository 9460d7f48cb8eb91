"""Cancel, retry, webhooks, idempotency and base executions through the HTTP API."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Receiver
from vidassets.webhooks.deliver import WebhookDeliverer


def plan(*job_ids: str, **extra: Any) -> dict[str, Any]:
    return {"jobs": [{"id": j, "type": "generate", "params": {"prompt": f"p {j}", "duration": 1}} for j in job_ids], **extra}


def _complete(client: TestClient, eid: str) -> None:
    repo = client.app.state.services.repo  # type: ignore[attr-defined]
    for job in repo.jobs(eid):
        repo.job_completed(eid, job.job_id, {"key": f"executions/{eid}/{job.job_id}/generated_clips-x.mp4",
                                             "digest": job.job_id * 8, "duration": 1.0})
    repo.finish(eid, "completed", result={"jobId": job.job_id})


def documented(*job_ids: str, **options: Any) -> dict[str, Any]:
    return {"executionPlan": {"jobs": plan(*job_ids)["jobs"]}, "options": options}


def test_cancel_before_launch_ends_at_once_and_sends_the_webhook(client: TestClient, receiver: Receiver) -> None:
    """In the documented format a cancelled execution says ``cancelled`` (the SDK format: see
    test_sdk_contract.py, where it reads ``failed``)."""
    eid = client.post("/api/execute", json=documented("a", webhookUrl=receiver.url, webhookSecret="s")).json()["id"]
    resp = client.post(f"/api/execute/{eid}/cancel")
    assert resp.status_code == 202 and resp.json()["status"] == "cancelled"
    status = client.get(f"/api/execute/{eid}/status").json()
    assert status["status"] == "cancelled" and status["jobs"][0]["status"] == "cancelled"
    assert client.post(f"/api/execute/{eid}/cancel").status_code == 409
    WebhookDeliverer(client.app.state.services).deliver_due()  # type: ignore[attr-defined]
    hooks = client.get(f"/api/execute/{eid}/webhooks").json()
    assert hooks["count"] == 1 and hooks["data"][0]["event"] == "execution.cancelled"
    assert hooks["data"][0]["status"] == "delivered" and hooks["data"][0]["attempts"][0]["statusCode"] == 200
    again = client.post(f"/api/execute/{eid}/webhooks/redeliver").json()
    assert again["data"][0]["status"] == "pending"
    WebhookDeliverer(client.app.state.services).deliver_due()  # type: ignore[attr-defined]
    assert len(receiver.received) == 2


def test_retry_resets_only_what_failed(client: TestClient) -> None:
    eid = client.post("/api/execute", json=plan("a", "b")).json()["id"]
    repo = client.app.state.services.repo  # type: ignore[attr-defined]
    assert client.post(f"/api/execute/{eid}/retry").status_code == 409  # still pending
    repo.job_completed(eid, "a", {"key": "k", "digest": "d"})
    repo.job_failed(eid, "b", status="failed", error="provider exploded", error_code="provider_error")
    repo.finish(eid, "failed", error="job 'b' failed", error_code="provider_error")
    resp = client.post(f"/api/execute/{eid}/retry")
    assert resp.status_code == 202 and resp.json()["jobs"] == ["b"]
    status = client.get(f"/api/execute/{eid}/status").json()
    assert status["status"] == "pending" and status["error"] is None
    assert [j["status"] for j in status["jobs"]] == ["completed", "pending"]


def test_idempotency_key_replays_and_conflicts(client: TestClient) -> None:
    headers = {"Idempotency-Key": "order-42"}
    first = client.post("/api/execute", json=plan("a"), headers=headers)
    again = client.post("/api/execute", json=plan("a"), headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    other = client.post("/api/execute", json=plan("b"), headers=headers)
    assert other.status_code == 409 and other.json()["code"] == "idempotency_conflict"
    assert client.get("/api/executions").json()["count"] == 1


def test_base_execution_reuse_is_recorded(client: TestClient) -> None:
    base = client.post("/api/execute", json={"jobs": [
        {"id": "a", "type": "generate", "params": {"prompt": "one", "duration": 1}},
        {"id": "b", "type": "generate", "params": {"prompt": "two", "duration": 1}},
        {"id": "cut", "type": "merge", "params": {}, "dependsOn": ["a", "b"]},
    ]}).json()["id"]
    documented = {"executionPlan": {"jobs": [{"id": "a", "operation": "generate", "params": {"prompt": "one"}}]},
                  "options": {"baseExecutionId": base}}
    unfinished = client.post("/api/execute", json=documented)
    assert unfinished.status_code == 409 and unfinished.json()["code"] == "base_not_completed"
    waiting = client.post("/api/execute", json={**plan("a"), "baseExecutionId": base})  # the SDK's variants wait
    assert waiting.status_code == 202 and waiting.json()["status"] == "pending"
    _complete(client, base)
    variant = client.post("/api/execute", json={"jobs": [
        {"id": "a", "type": "generate", "params": {"prompt": "one", "duration": 1}},          # same → reused
        {"id": "b", "type": "generate", "params": {"prompt": "CHANGED", "duration": 1}},      # new params → runs
        {"id": "tall", "type": "reframe", "params": {"aspectRatio": "9:16"}, "dependsOn": ["cut"]},  # base-only input
    ], "baseExecutionId": base})
    assert variant.status_code == 202, variant.text
    status = client.get(f"/api/execute/{variant.json()['id']}/status").json()
    jobs = {j["id"]: j for j in status["jobs"]}
    assert status["baseExecutionId"] == base
    assert jobs["a"]["status"] == "completed" and jobs["a"]["result"]["reusedFrom"] == base
    assert jobs["cut"]["status"] == "completed" and jobs["cut"]["result"]["reusedFrom"] == base
    assert jobs["b"]["status"] == "pending" and jobs["tall"]["status"] == "pending"
    base_status = client.get(f"/api/execute/{base}/status").json()
    base_a = next(j for j in base_status["jobs"] if j["id"] == "a")
    assert jobs["a"]["result"]["digest"] == base_a["result"]["digest"]  # same artefact, same data version
    assert jobs["a"]["result"]["url"].split("?")[0] == base_a["result"]["url"].split("?")[0]


def test_unknown_base_is_404(client: TestClient) -> None:
    resp = client.post("/api/execute", json={**plan("a"), "baseExecutionId": "ffffffffffffffff"})
    assert resp.status_code == 404 and resp.json()["details"]["field"] == "baseExecutionId"
