"""Where the TypeScript SDK's contract and ours differ, the SDK wins for requests in its wire format
(top-level ``jobs`` with ``type``), through the real app: cancellation reads ``failed``, its
non-unified generateVideo is accepted, reframe's ``crop`` is honoured. Also the submit-time bounds
and SSRF checks as an HTTP client sees them: 422 JSON naming the job and the field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Receiver, make_client
from vidassets.settings import Settings
from vidassets.webhooks.deliver import WebhookDeliverer

SEEDANCE = "bytedance/seedance-1-pro"


def gen(job_id: str, **params: Any) -> dict[str, Any]:
    return {"id": job_id, "type": "generate", "params": {"prompt": f"clip {job_id}", "duration": 1, **params},
            "output": f"${job_id}"}


def services_of(client: TestClient):  # type: ignore[no-untyped-def]
    return client.app.state.services  # type: ignore[attr-defined]


def test_a_cancelled_sdk_format_execution_reads_failed(client: TestClient, receiver: Receiver) -> None:
    """The SDK polls until completed or failed: a cancellation must end its loop."""
    body = {"jobs": [gen("job1"), {"id": "job2", "type": "reframe", "params": {"aspectRatio": "9:16"},
                                   "dependsOn": ["job1"], "output": "$job2"}],
            "webhook": {"url": receiver.url, "secret": "s"}}
    eid = client.post("/api/execute", json=body).json()["executionId"]
    assert client.post(f"/api/execute/{eid}/cancel").status_code == 202
    status = client.get(f"/api/execute/{eid}/status").json()
    assert status["status"] == "failed" and status["errorCode"] == "cancelled" and "cancel" in status["error"]
    assert {j["status"] for j in status["jobs"]} == {"failed"} and {j["errorCode"] for j in status["jobs"]} == {"cancelled"}
    assert status["failedJobs"] == 2
    row = services_of(client).repo.get(eid)
    assert row.status == "cancelled" and row.plan["wireFormat"] == "sdk"  # stored as it is; reported per format
    WebhookDeliverer(services_of(client)).deliver_due()
    (_, raw), = receiver.received
    payload = json.loads(raw)
    assert payload["status"] == "failed" and payload["errorCode"] == "cancelled" and payload["type"] == "execution.cancelled"
    assert client.post(f"/api/execute/{eid}/retry").status_code == 202  # still retryable as a cancellation


def test_a_cancelled_documented_execution_reads_cancelled(client: TestClient) -> None:
    eid = client.post("/api/execute", json={"executionPlan": {"jobs": [gen("a")]}}).json()["id"]
    client.post(f"/api/execute/{eid}/cancel")
    status = client.get(f"/api/execute/{eid}/status").json()
    assert status["status"] == "cancelled" and status["jobs"][0]["status"] == "cancelled"
    assert services_of(client).repo.get(eid).plan["wireFormat"] == "documented"


def test_the_sdks_non_unified_generate_video_is_accepted(client: TestClient) -> None:
    params = {"provider": "replicate", "modelId": SEEDANCE, "apiKey": "r8_live_key", "unified": False,
              "model": {"provider": "replicate", "modelId": SEEDANCE, "options": {"apiKey": "r8_live_key"}},
              "image": "https://cdn.example.com/a.png", "aspect_ratio": "9:16", "camera_fixed": False}
    resp = client.post("/api/execute", json={"jobs": [{"id": "job1", "type": "generate", "params": params,
                                                       "output": "$job1"}]})
    assert resp.status_code == 202, resp.text
    eid = resp.json()["executionId"]
    row = services_of(client).repo.get(eid)
    stored = row.jobs[0].params
    assert stored["aspectRatio"] == "9:16" and stored["startImage"] == "https://cdn.example.com/a.png"
    assert stored["cameraMotion"] == "dynamic" and stored["model"] == SEEDANCE
    assert "r8_live_key" not in json.dumps({"plan": row.plan, "params": stored})
    assert services_of(client).box.open(row.secrets_enc) == {"jobs": {"job1": "r8_live_key"}}
    assert "r8_live_key" not in client.get(f"/api/execute/{eid}/status").text


def test_reframe_crop_is_stored_as_the_strategy_the_renderer_reads(client: TestClient) -> None:
    body = {"jobs": [gen("a"), {"id": "r", "type": "reframe", "params": {"aspectRatio": "1:1", "crop": "top"},
                                "dependsOn": ["a"]}]}
    eid = client.post("/api/execute", json=body).json()["id"]
    assert services_of(client).repo.get(eid).jobs[1].params["strategy"] == "top"
    body["jobs"][1]["params"]["strategy"] = "bottom"
    resp = client.post("/api/execute", json=body)
    assert resp.status_code == 422 and resp.json()["code"] == "invalid_plan"
    assert resp.json()["details"] == [{"field": "jobs[1].params.crop", "jobId": "r",
                                       "message": "crop 'top' and strategy 'bottom' disagree; they are synonyms, give one"}]


@pytest.mark.parametrize(("jobs", "field", "job_id"), [
    ([gen("a", resolution="4098x720")], "jobs[0].params.resolution", "a"),
    ([gen("a", resolution="321x180")], "jobs[0].params.resolution", "a"),
    ([gen("a", resolution="2160p", aspectRatio="9:21")], "jobs[0].params.resolution", "a"),
    ([gen("a", fps=61)], "jobs[0].params.fps", "a"),
    ([gen("a", duration=0.001)], "jobs[0].params.duration", "a"),
    ([gen("a"), {"id": "m", "type": "merge", "params": {}, "dependsOn": ["a"] * 33}], "jobs[1].dependsOn", "m"),
    ([gen("a"), {"id": "m", "type": "merge", "params": {}, "dependsOn": ["a"] * 65}], "jobs[1].dependsOn", "m"),
    ([*[gen(f"c{i}", duration=600) for i in range(7)],
      {"id": "m", "type": "merge", "params": {}, "dependsOn": [f"c{i}" for i in range(7)]}], "jobs[7].dependsOn", "m"),
    ([gen("a"), gen("b"), {"id": "m", "type": "merge", "params": {"transition": "crossfade", "transitionDuration": 2},
                           "dependsOn": ["a", "b"]}], "jobs[2].params.transition.duration", "m"),
    ([gen("a"), {"id": "l", "type": "lipSync", "params": {"audioUrl": "https://h.example.com/a.m4a", "volume": 9},
                 "dependsOn": ["a"]}], "jobs[1].params.volume", "l"),
])
def test_out_of_bounds_numbers_are_422_naming_job_and_field(client: TestClient, jobs: list[dict[str, Any]], field: str,
                                                            job_id: str) -> None:
    resp = client.post("/api/execute", json={"jobs": jobs})
    assert resp.status_code == 422, resp.text
    payload = resp.json()
    assert payload["code"] == "invalid_plan" and payload["error"]
    assert any(d["field"] == field and d.get("jobId") == job_id for d in payload["details"]), payload


def test_private_literals_are_refused_at_submit_with_the_guard_on(settings: Settings) -> None:
    strict = make_client(settings.model_copy(update={"allow_private_urls": False}))
    cases = [
        ({"jobs": [{"id": "g", "type": "generate", "params": {"url": "http://10.0.0.7/clip.mp4"}}]}, "jobs[0].params.url"),
        ({"jobs": [gen("g"), {"id": "l", "type": "lipSync", "params": {"audioUrl": "http://[::1]:8080/a.m4a"},
                              "dependsOn": ["g"]}]}, "jobs[1].params.audioUrl"),
        ({"jobs": [gen("g", startImage="http://2130706433/a.png")]}, "jobs[0].params.startImage"),
        ({"jobs": [gen("g")], "webhook": {"url": "http://192.168.1.20/hook"}}, "webhook.url"),
        ({"executionPlan": {"jobs": [gen("g")]}, "options": {"webhookUrl": "https://172.16.0.1/hook"}}, "options.webhookUrl"),
    ]
    for body, field in cases:
        resp = strict.post("/api/execute", json=body)
        assert resp.status_code == 422, (field, resp.text)
        assert resp.json()["code"] == "invalid_plan" and [d["field"] for d in resp.json()["details"]] == [field]
    # Names are not resolved at submit: the connect-time guard refuses them (test_ssrf.py).
    assert strict.post("/api/execute", json={"jobs": [gen("g")], "webhook": {"url": "http://localhost:9/h"}}).status_code == 202


def test_metadata_is_refused_even_when_private_urls_are_allowed(client: TestClient) -> None:
    assert services_of(client).settings.allow_private_urls  # the embedded default
    ok = client.post("/api/execute", json={"jobs": [{"id": "g", "type": "generate", "params": {"url": "http://10.0.0.7/c.mp4"}}]})
    assert ok.status_code == 202
    for body, field, code in [
        ({"jobs": [{"id": "g", "type": "generate", "params": {"url": "http://169.254.169.254/latest/"}}]},
         "jobs[0].params.url", "invalid_plan"),
        ({"jobs": [gen("g", endImage="http://metadata.google.internal/computeMetadata/v1/")]},
         "jobs[0].params.endImage", "invalid_plan"),
        ({"jobs": [gen("g")], "webhook": {"url": "http://[fd00:ec2::254]/"}}, "webhook.url", "validation_error"),
    ]:
        resp = client.post("/api/execute", json=body)
        assert resp.status_code == 422 and resp.json()["code"] == code, resp.text
        assert [d["field"] for d in resp.json()["details"]] == [field] and "metadata" in resp.json()["error"]
