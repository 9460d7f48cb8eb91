"""The synchronous client against the fake API on loopback."""

from __future__ import annotations

import socket
import time

import pytest
from fake_api import API_KEY, OUTPUT_URL, FakeApi, Reply

from vidassets_sdk import (
    ApiConnectionError,
    ApiError,
    Execution,
    ExecutionFailed,
    ExecutionStatus,
    ExecutionTimeout,
    Pipeline,
    compose,
    execute,
    generate_video,
    merge,
)


def plan(prompt: str = "sunrise") -> Pipeline:
    return compose(merge(generate_video(prompt=prompt, duration=3), generate_video(prompt="dusk")))


def test_execute_and_wait_until_completed(api: FakeApi) -> None:
    execution = plan().execute(api_url=api.api_url, api_key=API_KEY, idempotency_key="order-42")
    assert execution.id == "ex_ok" and execution.accepted is not None
    assert execution.accepted.status == "pending" and execution.accepted.status_url == f"{api.api_url}/ex_ok/status"
    submit = api.requests[0]
    assert submit.headers["authorization"] == f"Bearer {API_KEY}"
    assert submit.headers["idempotency-key"] == "order-42"
    assert submit.headers["user-agent"].startswith("vidassets-sdk-python/")
    assert submit.body["executionPlan"]["rootJobIds"] == ["merge_1"]

    seen: list[ExecutionStatus] = []
    final = execution.wait(timeout=10, poll_interval=0.01, on_progress=seen.append)
    assert final.status == "completed" and final.url == OUTPUT_URL
    assert final.result is not None and final.result.duration == 3.0 and final.result.aspect_ratio == "16:9"
    # Reported on change only: the third poll ("in_progress", same 50 %) is not a change.
    assert [(s.status, s.progress) for s in seen] == [("pending", 0), ("processing", 50), ("completed", 100)]
    assert seen[1].current_job == "generate_1" and seen[1].jobs[0].status == "processing"
    assert api.count("GET", r"/ex_ok/status$") == 4
    assert all(r.headers["authorization"] == f"Bearer {API_KEY}" for r in api.requests)


def test_failed_execution_raises_typed_error(api: FakeApi) -> None:
    execution = execute(plan("a doomed idea"), api_url=api.api_url, api_key=API_KEY)
    with pytest.raises(ExecutionFailed) as info:
        execution.wait(timeout=10, poll_interval=0.01)
    assert info.value.code == "content_policy"
    assert info.value.error == "generate_1: the provider refused the prompt"
    assert info.value.status.status == "failed" and info.value.status.jobs[0].error_code == "content_policy"


def test_wait_times_out_and_backs_off(api: FakeApi) -> None:
    execution = execute(plan("forever and ever"), api_url=api.api_url, api_key=API_KEY)
    started = time.monotonic()
    with pytest.raises(ExecutionTimeout) as info:
        execution.wait(timeout=0.3, poll_interval=0.02, max_poll_interval=0.1)
    assert 0.25 < time.monotonic() - started < 2.0
    assert info.value.status is not None and info.value.status.status == "processing"
    assert 2 <= api.count("GET", r"/ex_slow/status$") <= 15  # polled again, backed off, not hammered


def test_cancel_and_retry(api: FakeApi) -> None:
    execution = execute(plan("forever"), api_url=api.api_url, api_key=API_KEY)
    cancelled = execution.cancel()
    assert cancelled.status == "cancelled" and cancelled.jobs == ("generate_1",)
    assert execution.retry().status == "pending"
    assert [r.path for r in api.requests[1:]] == ["/api/execute/ex_slow/cancel", "/api/execute/ex_slow/retry"]


def test_cancelling_a_finished_execution_is_a_conflict(api: FakeApi) -> None:
    execution = execute(plan(), api_url=api.api_url, api_key=API_KEY)
    execution.wait(timeout=10, poll_interval=0.01)
    with pytest.raises(ApiError) as info:
        execution.cancel()
    assert (info.value.status, info.value.code) == (409, "conflict")
    assert info.value.details == {"status": "completed"}


def test_api_errors_are_typed(api: FakeApi) -> None:
    with pytest.raises(ApiError) as info:
        execute(plan(), api_url=api.api_url, api_key="wrong")
    assert (info.value.status, info.value.code, info.value.message) == (401, "unauthorized", "missing or invalid API key")

    bad = {"executionPlan": {"jobs": [{"id": "a", "operation": "explode", "params": {}}]}}
    with pytest.raises(ApiError) as info:
        execute(bad, api_url=api.api_url, api_key=API_KEY)
    assert info.value.status == 422 and info.value.code == "invalid_plan"
    assert info.value.details[0]["field"] == "executionPlan.jobs[0].operation"

    with pytest.raises(ApiError) as info:
        Execution("nope", api_url=api.api_url, api_key=API_KEY).status()
    assert (info.value.status, info.value.code) == (404, "not_found")


def test_error_bodies_that_are_not_json(api: FakeApi) -> None:
    api.fault("GET", r"/status$", Reply(502, None), Reply(200, None))
    with pytest.raises(ApiError) as info:
        Execution("ex_ok", api_url=api.api_url, api_key=API_KEY).status()
    assert (info.value.status, info.value.code) == (502, "http_502")
    status = Execution("ex_ok", api_url=api.api_url, api_key=API_KEY).status()  # empty 200 body
    assert status.status == "pending" and status.id == ""


def test_429_honours_retry_after(api: FakeApi) -> None:
    api.fault("POST", r"^/api/execute$", Reply(429, {"error": "too many requests", "code": "rate_limited"},
                                               {"Retry-After": "1"}))
    started = time.monotonic()
    execution = execute(plan(), api_url=api.api_url, api_key=API_KEY)
    assert execution.id == "ex_ok" and time.monotonic() - started >= 0.95
    assert api.count("POST", r"^/api/execute$") == 2


def test_rate_limit_that_persists_surfaces_as_api_error(api: FakeApi) -> None:
    api.fault("GET", r"/status$", *[Reply(429, {"error": "slow down", "code": "rate_limited"},
                                          {"Retry-After": "0"})] * 4)
    with pytest.raises(ApiError) as info:
        Execution("ex_ok", api_url=api.api_url, api_key=API_KEY).status()
    assert info.value.status == 429 and info.value.retry_after == 0.0
    assert api.count("GET", r"/status$") == 4


def test_a_ready_made_body_gets_the_options(api: FakeApi) -> None:
    body = {"jobs": [{"id": "clip", "type": "generate", "params": {"prompt": "x", "modelId": "m"}}]}
    execution = execute(body, api_url=api.api_url + "/", api_key=API_KEY, webhook_url="https://hooks.example/x",
                        webhook_secret="s3cret", provider_api_keys={"fal": "k"})
    assert execution.id == "ex_ok"
    assert api.requests[0].body == {**body, "webhook": {"url": "https://hooks.example/x", "secret": "s3cret"},
                                    "providerApiKeys": {"fal": "k"}}

    documented = {"executionPlan": {"jobs": body["jobs"]}, "options": {"webhookUrl": "https://old"}}
    execute(documented, api_url=api.api_url, api_key=API_KEY, webhook_url="https://new", base_execution_id="ex_0")
    assert api.requests[1].body["options"] == {"webhookUrl": "https://new", "baseExecutionId": "ex_0"}


def test_unreachable_api() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ApiConnectionError):
        execute(plan(), api_url=f"http://127.0.0.1:{port}/api/execute")
