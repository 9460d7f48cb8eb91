"""A fake vidassets API on loopback, on the standard library only (the SDK's tests need no server).

It answers like the real API: ``202`` with ``{id, executionId, status, createdAt, statusUrl}`` and a
``Location``, typed JSON errors, Bearer auth. The plan decides the execution: a prompt mentioning
"doomed" ends failed, "forever" never ends, anything else goes pending -> processing (50 %) ->
in_progress (unchanged) -> completed. ``fault()`` queues replies answered once, before the routes.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API_KEY = "va_test_key_123"
CREATED = "2025-01-01T00:00:00Z"
OPERATIONS = ("generate", "merge", "reframe", "lipSync", "addSubtitles")
OUTPUT_URL = "http://127.0.0.1/artefacts/ex_ok/generate_1.mp4"


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: Mapping[str, str]
    body: Any


class FakeApi:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.faults: list[tuple[str, re.Pattern[str], Reply]] = []
        self.polls: dict[str, int] = {}
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.httpd.daemon_threads = True
        self.api_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api/execute"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def fault(self, method: str, pattern: str, *replies: Reply) -> None:
        with self.lock:
            self.faults.extend((method, re.compile(pattern), reply) for reply in replies)

    def count(self, method: str, pattern: str) -> int:
        return sum(1 for r in self.requests if r.method == method and re.search(pattern, r.path))

    def answer(self, request: Request) -> Reply:
        with self.lock:
            self.requests.append(request)
            for index, (method, pattern, reply) in enumerate(self.faults):
                if method == request.method and pattern.search(request.path):
                    del self.faults[index]
                    return reply
        if request.headers.get("authorization") != f"Bearer {API_KEY}":
            return Reply(401, {"error": "missing or invalid API key", "code": "unauthorized"})
        if (request.method, request.path) == ("POST", "/api/execute"):
            return self.submit(request.body)
        match = re.fullmatch(r"/api/execute/(ex_ok|ex_bad|ex_slow)/(status|cancel|retry)", request.path)
        if not match:
            return Reply(404, {"error": f"no execution at {request.path}", "code": "not_found"})
        execution_id, action = match.groups()
        with self.lock:
            if action == "status":
                self.polls[execution_id] = self.polls.get(execution_id, 0) + 1
                return Reply(200, status_body(execution_id, self.polls[execution_id]))
            if action == "retry":
                self.polls[execution_id] = 0
                return Reply(202, {"id": execution_id, "status": "pending", "jobs": ["generate_1"]})
            if execution_id == "ex_ok" and self.polls.get(execution_id, 0) >= 4:
                return Reply(409, {"error": "execution is already completed", "code": "conflict",
                                   "details": {"status": "completed"}})
            return Reply(202, {"id": execution_id, "status": "cancelled", "jobs": ["generate_1"]})

    def submit(self, body: Any) -> Reply:
        plan = body.get("executionPlan", body) if isinstance(body, dict) else {}
        jobs = plan.get("jobs") or []
        for index, job in enumerate(jobs):
            operation = job.get("operation") or job.get("type")
            if operation not in OPERATIONS:
                issue = {"field": f"executionPlan.jobs[{index}].operation", "message": "unknown operation"}
                return Reply(422, {"error": "invalid plan", "code": "invalid_plan", "details": [issue]})
        prompts = " ".join(str((job.get("params") or {}).get("prompt", "")) for job in jobs)
        execution_id = "ex_bad" if "doomed" in prompts else "ex_slow" if "forever" in prompts else "ex_ok"
        status_url = f"{self.api_url}/{execution_id}/status"
        return Reply(202, {"id": execution_id, "executionId": execution_id, "status": "pending",
                           "createdAt": CREATED, "statusUrl": status_url}, {"Location": status_url})


def _handler_for(api: FakeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes

        def _serve(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            request = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                              json.loads(raw) if raw else None)
            reply = api.answer(request)
            payload = b"" if reply.body is None else json.dumps(reply.body).encode()
            self.send_response(reply.status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _serve  # noqa: N815 - the stdlib's names

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def status_body(execution_id: str, poll: int) -> dict[str, Any]:
    """What ``GET .../status`` answers on the ``poll``-th look."""
    def job(status: str, progress: float, **extra: Any) -> dict[str, Any]:
        return {"id": "generate_1", "operation": "generate", "status": status, "progress": progress, **extra}

    base = {"id": execution_id, "executionId": execution_id, "totalJobs": 1, "completedJobs": 0, "failedJobs": 0,
            "createdAt": CREATED, "currentJob": "generate_1"}
    if execution_id == "ex_slow":
        return {**base, "status": "processing", "progress": 10, "jobs": [job("processing", 10)]}
    if execution_id == "ex_bad" and poll >= 2:
        error = {"error": "the provider refused the prompt", "errorCode": "content_policy"}
        return {**base, "status": "failed", "progress": 0, "failedJobs": 1, "currentJob": None,
                "error": "generate_1: the provider refused the prompt", "errorCode": "content_policy",
                "jobs": [job("failed", 0, **error)], "completedAt": CREATED}
    if execution_id == "ex_bad" or poll in (2, 3):
        progress = 0 if execution_id == "ex_bad" else 50
        return {**base, "status": "in_progress" if poll == 3 else "processing", "progress": progress,
                "jobs": [job("processing", progress)]}
    if poll == 1:
        return {**base, "status": "pending", "progress": 0, "currentJob": None, "jobs": [job("pending", 0)]}
    return {**base, "status": "completed", "progress": 100, "completedJobs": 1, "currentJob": None,
            "jobs": [job("completed", 100, result={"url": OUTPUT_URL})],
            "result": {"url": OUTPUT_URL, "jobId": "generate_1", "outputs": {"generate_1": {"url": OUTPUT_URL}},
                       "aspectRatio": "16:9", "duration": 3.0},
            "completedAt": CREATED}
