"""Auth, tenants, rate limits, metrics, readiness, secret hygiene."""

from __future__ import annotations

import json
import logging

import pytest

from tests.conftest import make_client
from vidassets.logs import JsonFormatter, log_context, redact
from vidassets.settings import Settings
from vidassets.storage.keys import ApiKeyRepository

PLAN = {"jobs": [{"id": "a", "type": "generate", "params": {"prompt": "p", "duration": 1}}]}


def test_requests_without_a_valid_key_are_401(settings: Settings) -> None:
    client = make_client(settings.model_copy(update={"key_cache_s": 0.0}))
    good = client.headers["Authorization"]
    for header in (None, "Bearer", "Basic abc", "Bearer va_0000000000000000_" + "x" * 43, good + "x"):
        if header is None:
            client.headers.pop("Authorization")
        else:
            client.headers["Authorization"] = header
        resp = client.post("/api/execute", json=PLAN)
        assert resp.status_code == 401 and resp.json()["code"] == "unauthorized", header
        assert resp.headers["www-authenticate"] == "Bearer"
    client.headers["Authorization"] = good
    assert client.post("/api/execute", json=PLAN).status_code == 202
    key_id = good.split("_")[1]
    assert ApiKeyRepository(settings.resolved_database_url).revoke(key_id)
    assert client.get("/api/executions").status_code == 401  # revoked (no cache in this app)


def test_another_tenants_execution_is_404_everywhere(settings: Settings) -> None:
    alice = make_client(settings, tenant="alice")
    bob = make_client(settings, tenant="bob")
    eid = alice.post("/api/execute", json=PLAN).json()["id"]
    for method, path in (("get", f"/api/execute/{eid}/status"), ("get", f"/api/execute/{eid}"),
                         ("post", f"/api/execute/{eid}/cancel"), ("post", f"/api/execute/{eid}/retry"),
                         ("get", f"/api/execute/{eid}/webhooks")):
        resp = getattr(bob, method)(path)
        assert resp.status_code == 404 and resp.json()["code"] == "not_found", path
    assert bob.get("/api/executions").json()["count"] == 0
    assert alice.get("/api/executions").json()["count"] == 1
    resp = bob.post("/api/execute", json={**PLAN, "baseExecutionId": eid})
    assert resp.status_code == 404 and resp.json()["code"] == "base_not_found"


def test_rate_limit_answers_429_with_headers(settings: Settings) -> None:
    client = make_client(settings, rate_limit_per_min=3)
    codes = [client.get("/api/executions") for _ in range(4)]
    assert [r.status_code for r in codes] == [200, 200, 200, 429]
    assert codes[0].headers["x-ratelimit-limit"] == "3" and codes[0].headers["x-ratelimit-remaining"] == "2"
    limited = codes[3]
    assert limited.json()["code"] == "rate_limited"
    assert int(limited.headers["retry-after"]) >= 1 and limited.headers["x-ratelimit-remaining"] == "0"
    other = make_client(settings, rate_limit_per_min=3)  # limits are per key
    assert other.get("/api/executions").status_code == 200
    assert "vidassets_rate_limit_rejections_total 1.0" in client.get("/metrics").text


def test_metrics_expose_the_families(settings: Settings) -> None:
    client = make_client(settings)
    client.post("/api/execute", json=PLAN)
    text = client.get("/metrics").text
    for family in ("vidassets_http_requests_total", "vidassets_http_request_duration_seconds_bucket",
                   "vidassets_executions", "vidassets_queue_depth", "vidassets_jobs",
                   "vidassets_job_duration_seconds", "vidassets_provider_errors", "vidassets_cache_hits",
                   "vidassets_webhook_attempts", "vidassets_rate_limit_rejections_total"):
        assert family in text, family
    assert 'route="/api/execute",status="202"' in text
    assert 'vidassets_executions{status="pending"} 1.0' in text


def test_ready_reports_a_stopped_redis(settings: Settings) -> None:
    client = make_client(settings.model_copy(update={"redis_url": "redis://127.0.0.1:9/0"}))
    resp = client.get("/ready")
    assert resp.status_code == 503
    checks = resp.json()["checks"]
    assert checks["redis"]["status"] == "down" and "Connection" in checks["redis"]["reason"]
    assert checks["database"]["status"] == "ok"
    # A stopped Redis does not stop the API: limits fail open, submissions are still accepted.
    assert client.post("/api/execute", json=PLAN).status_code == 202


def test_secrets_never_reach_logs_or_answers(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    client = make_client(settings)
    secrets_in = ["sk-live-abcdef123456", "r8_ABCDEFGHIJKLMNOP", "whsec_c2VjcmV0c2VjcmV0"]
    body = {"jobs": [{"id": "a", "type": "generate", "params": {"prompt": "p", "apiKey": secrets_in[0]}}],
            "providerApiKeys": {"replicate": secrets_in[1]},
            "webhook": {"url": "https://hooks.example.com/x", "secret": secrets_in[2]}}
    caplog.set_level(logging.DEBUG)
    eid = client.post("/api/execute", json=body).json()["id"]
    answers = client.get(f"/api/execute/{eid}/status").text + client.get("/api/executions").text
    token = client.headers["Authorization"].split()[1]
    for secret in [*secrets_in, token]:
        assert secret not in caplog.text and secret not in answers
    row = client.app.state.services.repo.get(eid)  # type: ignore[attr-defined]
    assert all(s not in json.dumps(row.plan) for s in secrets_in)


def test_log_lines_are_json_with_context_and_redacted() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "calling with Authorization: Bearer abcdefghijk and "
                               "api_key=r8_SECRETSECRETSECRET url=https://s3/x?X-Amz-Signature=deadbeef", None, None)
    with log_context(execution_id="e1", job_id="j1", request_id="r1"):
        line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["execution_id"] == "e1" and entry["job_id"] == "j1" and entry["request_id"] == "r1"
    assert "abcdefghijk" not in line and "SECRETSECRET" not in line and "deadbeef" not in line
    assert redact("token=va_0123456789abcdef_" + "A" * 43) == "token=[REDACTED]"
