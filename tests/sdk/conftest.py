"""A fake vidassets API on loopback for the SDK tests.

It answers like the real API (202 + ``{id, executionId, status, createdAt, statusUrl}``, typed JSON
errors) and validates every posted plan with the real normaliser. Execution IDs are chosen by the
plan: a job whose prompt mentions "doomed" ends failed, "forever" never ends, anything else goes
pending -> processing (50 %) -> processing (unchanged) -> completed.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

import pytest

from tests.providers.fakes import FakeServer, Reply, Seen
from vidassets.plan import PlanCreate, PlanValidationError, normalize_request

API_KEY = "va_test_key_123"
CREATED = "2025-01-01T00:00:00Z"


class FakeApi(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.polls: dict[str, int] = {}
        self.bodies: list[Any] = []

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/execute"

    def route(self, seen: Seen) -> Reply:
        if seen.headers.get("authorization") != f"Bearer {API_KEY}":
            return Reply(401, {"error": "missing or invalid API key", "code": "unauthorized"})
        if seen.method == "POST" and seen.path == "/api/execute":
            return self._submit(seen)
        match = re.fullmatch(r"/api/execute/([^/]+)/(status|cancel|retry)", seen.path)
        if not match:
            return Reply(404, {"error": "not found", "code": "not_found"})
        execution_id, action = match.groups()
        if execution_id not in ("ex_ok", "ex_bad", "ex_slow"):
            return Reply(404, {"error": f"execution {execution_id!r} not found", "code": "not_found"})
        if action == "status" and seen.method == "GET":
            with self.lock:
                self.polls[execution_id] = self.polls.get(execution_id, 0) + 1
                poll = self.polls[execution_id]
            return Reply(200, status_body(execution_id, poll))
        if action == "cancel" and seen.method == "POST":
            if execution_id == "ex_ok" and self.polls.get("ex_ok", 0) >= 4:
                return Reply(409, {"error": "execution is already completed", "code": "conflict",
                                   "details": {"status": "completed"}})
            return Reply(202, {"id": execution_id, "status": "cancelled", "jobs": ["generate_1"]})
        if action == "retry" and seen.method == "POST":
            self.polls[execution_id] = 0
            return Reply(202, {"id": execution_id, "status": "pending", "jobs": ["generate_1"]})
        return Reply(405, {"error": "method not allowed", "code": "method_not_allowed"})

    def _submit(self, seen: Seen) -> Reply:
        self.bodies.append(seen.body)
        try:
            submission = normalize_request(PlanCreate.model_validate(seen.body))
        except PlanValidationError as exc:
            return Reply(422, {"error": str(exc), "code": "invalid_plan", "details": [i.as_dict() for i in exc.issues]})
        except ValueError as exc:  # pydantic's ValidationError
            return Reply(422, {"error": "invalid request body", "code": "invalid_request", "details": str(exc)})
        prompts = " ".join(str(job.params.get("prompt", "")) for job in submission.plan.jobs)
        execution_id = "ex_bad" if "doomed" in prompts else "ex_slow" if "forever" in prompts else "ex_ok"
        status_url = f"{self.api_url}/{execution_id}/status"
        return Reply(202, {"id": execution_id, "executionId": execution_id, "status": "pending",
                           "createdAt": CREATED, "statusUrl": status_url}, {"Location": status_url})


def _job(status: str, progress: float, **extra: Any) -> dict[str, Any]:
    return {"id": "generate_1", "operation": "generate", "status": status, "progress": progress,
            "dependsOn": [], "attempts": 1, **extra}


def status_body(execution_id: str, poll: int) -> dict[str, Any]:
    base = {"id": execution_id, "executionId": execution_id, "totalJobs": 1, "failedJobs": 0,
            "createdAt": CREATED, "baseExecutionId": None}
    if execution_id == "ex_slow":
        return {**base, "status": "processing", "progress": 10, "completedJobs": 0, "currentJob": "generate_1",
                "jobs": [_job("processing", 10)]}
    if execution_id == "ex_bad":
        if poll < 2:
            return {**base, "status": "processing", "progress": 0, "completedJobs": 0, "currentJob": "generate_1",
                    "jobs": [_job("processing", 0)]}
        return {**base, "status": "failed", "progress": 0, "completedJobs": 0, "failedJobs": 1, "currentJob": None,
                "error": "generate_1: the provider refused the prompt", "errorCode": "content_policy",
                "jobs": [_job("failed", 0, error="the provider refused the prompt", errorCode="content_policy")],
                "completedAt": CREATED}
    if poll == 1:
        return {**base, "status": "pending", "progress": 0, "completedJobs": 0, "currentJob": None,
                "jobs": [_job("pending", 0)]}
    if poll in (2, 3):
        return {**base, "status": "in_progress" if poll == 3 else "processing", "progress": 50, "completedJobs": 0,
                "currentJob": "generate_1", "jobs": [_job("processing", 50)]}
    url = "http://127.0.0.1/artefacts/ex_ok/generate_1.mp4"
    return {**base, "status": "completed", "progress": 100, "completedJobs": 1, "currentJob": None,
            "jobs": [_job("completed", 100, result={"url": url})],
            "result": {"url": url, "jobId": "generate_1", "outputs": {"generate_1": {"url": url}},
                       "aspectRatio": "16:9", "duration": 3.0},
            "completedAt": CREATED}


@pytest.fixture
def api() -> Iterator[FakeApi]:
    server = FakeApi()
    yield server
    server.stop()
