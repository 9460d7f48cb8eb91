"""The HTTP contract without Dagster: acceptance, validation errors, status shape, listing.

Dagster is deliberately unreachable here, which also shows that acceptance is durable: the
202 comes back, the launch failure is recorded, and the execution waits for the sensor.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient


def gen(job_id: str, **params: Any) -> dict[str, Any]:
    return {"id": job_id, "type": "generate", "params": {"prompt": f"clip {job_id}", "duration": 1, **params}}


SDK_PLAN = {"jobs": [gen("a"), gen("b"), {"id": "m", "type": "merge", "params": {"transition": "fade"}, "dependsOn": ["a", "b"]}]}


def test_submit_accepts_sdk_shape_and_returns_location(client: TestClient) -> None:
    resp = client.post("/api/execute", json=SDK_PLAN)
    assert resp.status_code == 202, resp.text
    body = resp.json()
    assert body["id"] == body["executionId"] and body["status"] == "pending"
    assert resp.headers["location"].endswith(f"/api/execute/{body['id']}/status")
    status = client.get(f"/api/execute/{body['id']}/status").json()
    assert status["status"] == "pending" and status["totalJobs"] == 3 and status["completedJobs"] == 0
    assert status["progress"] == 0 and status["currentJob"] is None
    assert [j["id"] for j in status["jobs"]] == ["a", "b", "m"]
    assert {j["operation"] for j in status["jobs"]} == {"generate", "merge"}
    assert status["createdAt"].endswith("Z") or "+00:00" in status["createdAt"]


def test_launch_failure_is_recorded_not_lost(client: TestClient) -> None:
    eid = client.post("/api/execute", json=SDK_PLAN).json()["id"]
    services = client.app.state.services  # type: ignore[attr-defined]
    deadline = time.time() + 10
    while services.repo.get(eid).launch_attempts == 0 and time.time() < deadline:
        time.sleep(0.05)
    row = services.repo.get(eid)
    assert row.launch_attempts == 1 and "unreachable" in row.launch_error and row.run_id is None
    assert eid in [r.id for r in services.repo.unlaunched(older_than_s=-1)]


def test_documented_shape_is_accepted(client: TestClient) -> None:
    resp = client.post("/api/execute", json={"executionPlan": {"jobs": SDK_PLAN["jobs"], "rootJobIds": ["m"]},
                                             "options": {"webhookUrl": "https://example.com/h", "webhookSecret": "s3cr3t"}})
    assert resp.status_code == 202, resp.text
    row = client.app.state.services.repo.get(resp.json()["id"])  # type: ignore[attr-defined]
    assert row.webhook_url == "https://example.com/h"
    assert row.webhook_secret_enc and "s3cr3t" not in row.webhook_secret_enc  # encrypted at rest


def test_provider_keys_never_stored_in_plaintext_or_returned(client: TestClient) -> None:
    plan = {"jobs": [gen("a", apiKey="sk-live-123")], "providerApiKeys": {"replicate": "r8_abc"}}
    eid = client.post("/api/execute", json=plan).json()["id"]
    row = client.app.state.services.repo.get(eid)  # type: ignore[attr-defined]
    stored = json.dumps({"plan": row.plan, "jobs": [j.params for j in row.jobs], "secrets": row.secrets_enc})
    assert "sk-live-123" not in stored and "r8_abc" not in stored
    assert client.app.state.services.box.open(row.secrets_enc) == {  # type: ignore[attr-defined]
        "providers": {"replicate": "r8_abc"}, "jobs": {"a": "sk-live-123"}}
    assert "sk-live-123" not in client.get(f"/api/execute/{eid}/status").text


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"jobs": []}, 422, "invalid_plan", "jobs"),
        ({}, 422, "validation_error", "body"),
        ({"jobs": [{"id": "a", "type": "reframe", "params": {"aspectRatio": "7:3"}}]}, 422, "invalid_plan",
         "jobs[0].params.aspectRatio"),
        ({"jobs": [gen("a", url="http://x/y.mp4", provider="local")]}, 422, "invalid_plan", "jobs[0].params"),
        ({"jobs": "nope"}, 422, "validation_error", "jobs"),
        ({"jobs": [{"id": 5, "type": "generate"}]}, 422, "validation_error", "jobs[0].id"),
        ({"jobs": [gen("a")], "baseExecutionId": "doesnotexist"}, 404, "base_not_found", None),
    ],
)
def test_bad_input_is_a_clear_4xx(client: TestClient, body: dict[str, Any], status: int, code: str,
                                  field: str | None) -> None:
    resp = client.post("/api/execute", json=body)
    assert resp.status_code == status, resp.text
    payload = resp.json()
    assert payload["code"] == code and payload["error"]
    if field:
        assert any(d["field"] == field for d in payload["details"]), payload


def test_malformed_json_and_oversized_bodies(client: TestClient) -> None:
    resp = client.post("/api/execute", content=b'{"jobs": [', headers={"content-type": "application/json"})
    assert resp.status_code == 422 and resp.json()["code"] == "validation_error"
    big = {"jobs": [gen("a", prompt="x" * (1024 * 1024 + 10))]}
    resp = client.post("/api/execute", json=big)
    assert resp.status_code == 413 and resp.json()["code"] == "too_large"


def test_unknown_execution_is_404_json(client: TestClient) -> None:
    resp = client.get("/api/execute/0123456789abcdef/status")
    assert resp.status_code == 404 and resp.json()["code"] == "not_found"
    assert client.get("/api/nothing-here").json()["code"] == "not_found"


def test_list_executions_with_cursor_and_status_filter(client: TestClient) -> None:
    ids = [client.post("/api/execute", json=SDK_PLAN).json()["id"] for _ in range(3)]
    page = client.get("/api/executions", params={"limit": 2}).json()
    assert [e["id"] for e in page["data"]] == [ids[2], ids[1]] and page["nextCursor"] == ids[1]
    rest = client.get("/api/executions", params={"limit": 2, "cursor": page["nextCursor"]}).json()
    assert [e["id"] for e in rest["data"]] == [ids[0]] and rest["nextCursor"] is None
    assert client.get("/api/executions", params={"status": "completed"}).json()["count"] == 0
    assert client.get("/api/executions", params={"status": "bogus"}).status_code == 422


def test_health_ready_and_openapi(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["database"]["status"] == "ok" and checks["objectStore"]["status"] == "ok"
    assert checks["dagster"]["status"] == "down" and checks["dagster"]["reason"]
    spec = client.get("/openapi.json").json()
    assert "/api/execute" in spec["paths"] and "/api/execute/{execution_id}/status" in spec["paths"]
