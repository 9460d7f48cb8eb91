"""Fake vendor servers on 127.0.0.1 and a fake clock (also used by the SDK tests).

Each fake speaks the vendor's real endpoints over real HTTP (``http.server`` in a thread), records
every request, serves a real mp4, and accepts injected faults (``server.fault(method, pattern,
Reply(...))``) that are answered once, in order, before the normal route runs. The fake clock makes
polling, backoff and ``Retry-After`` instant while recording every wait.
"""

from __future__ import annotations

import base64
import http.server
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping
from urllib.parse import parse_qs, urlsplit

from vidassets.providers.http import HttpPolicy, Timing

KEY = "r8_SeCrEtKeY0123456789abcdef"


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: Any = None  # dict/list -> JSON, bytes -> raw, None -> empty
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: Any


class FakeServer:
    """A threaded HTTP server whose answers come from :meth:`route` (overridden per vendor)."""

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.faults: list[tuple[str, re.Pattern[str], Reply]] = []
        self.files: dict[str, bytes] = {}
        self.lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in two writes

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body: Any = json.loads(raw) if raw else None
                except ValueError:
                    body = raw
                parts = urlsplit(self.path)
                seen = Seen(self.command, parts.path, parse_qs(parts.query),
                            {k.lower(): v for k, v in self.headers.items()}, body)
                reply = server.dispatch(seen)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                payload = reply.body if isinstance(reply.body, bytes) else \
                    (b"" if reply.body is None else json.dumps(reply.body).encode())
                try:
                    self.send_response(reply.status)
                    if not isinstance(reply.body, bytes):
                        self.send_header("content-type", "application/json")
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_DELETE = _handle  # noqa: N815 - stdlib names

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def fault(self, method: str, pattern: str, *replies: Reply) -> None:
        with self.lock:
            self.faults.extend((method, re.compile(pattern), reply) for reply in replies)

    def dispatch(self, seen: Seen) -> Reply:
        with self.lock:
            self.requests.append(seen)
            for index, (method, pattern, reply) in enumerate(self.faults):
                if method == seen.method and pattern.search(seen.path):
                    del self.faults[index]
                    return reply
        if seen.method == "GET" and seen.path.startswith("/files/"):
            data = self.files.get(seen.path[len("/files/"):])
            return Reply(200, data, {"content-type": "video/mp4"}) if data is not None else Reply(404, {"detail": "no"})
        return self.route(seen)

    def route(self, seen: Seen) -> Reply:
        return Reply(404, {"detail": f"no route for {seen.method} {seen.path}"})

    def count(self, method: str, pattern: str) -> int:
        regex = re.compile(pattern)
        return sum(1 for r in self.requests if r.method == method and regex.search(r.path))

    def seen(self, method: str, pattern: str) -> list[Seen]:
        regex = re.compile(pattern)
        return [r for r in self.requests if r.method == method and regex.search(r.path)]

    def file_url(self, name: str) -> str:
        return f"{self.url}/files/{name}"


class FakeReplicate(FakeServer):
    """``/v1/predictions`` and ``/v1/models/{owner}/{name}/predictions``; polls finish after ``polls_needed``."""

    def __init__(self) -> None:
        super().__init__()
        self.polls_needed = 3
        self.status = "succeeded"
        self.error: str | None = None
        self.output: Any = None  # default: the served clip's URL
        self.on_poll: Callable[[int], None] | None = None
        self.polls = 0

    def route(self, seen: Seen) -> Reply:
        base = f"{self.url}/v1/predictions/p1"
        if seen.method == "POST" and re.fullmatch(r"/v1/(models/[^/]+/[^/]+/)?predictions", seen.path):
            return Reply(201, {"id": "p1", "status": "starting", "urls": {"get": base, "cancel": f"{base}/cancel"}})
        if seen.method == "GET" and seen.path == "/v1/predictions/p1":
            self.polls += 1
            if self.on_poll:
                self.on_poll(self.polls)
            if self.polls >= self.polls_needed:
                output = self.output if self.output is not None else [self.file_url("out.mp4")]
                return Reply(200, {"id": "p1", "status": self.status, "error": self.error,
                                   "output": output if self.status == "succeeded" else None, "logs": "100%"})
            return Reply(200, {"id": "p1", "status": "processing", "logs": f"step\n{self.polls * 30}%|###"})
        if seen.method == "POST" and seen.path == "/v1/predictions/p1/cancel":
            return Reply(200, {"id": "p1", "status": "canceled"})
        return super().route(seen)


class FakeFal(FakeServer):
    """The fal queue: submit, status (IN_QUEUE -> IN_PROGRESS -> COMPLETED), response, cancel."""

    def __init__(self) -> None:
        super().__init__()
        self.polls_needed = 3
        self.result: Reply | None = None  # default: {"video": {"url": <served clip>}}
        self.on_poll: Callable[[int], None] | None = None
        self.polls = 0

    def route(self, seen: Seen) -> Reply:
        match = re.fullmatch(r"/([^/]+/[^/]+)/requests/([^/]+)(/status|/cancel)?", seen.path)
        if match:
            app, rid, tail = match.groups()
            if tail == "/status" and seen.method == "GET":
                self.polls += 1
                if self.on_poll:
                    self.on_poll(self.polls)
                if self.polls >= self.polls_needed:
                    return Reply(200, {"status": "COMPLETED", "request_id": rid})
                if self.polls == 1:
                    return Reply(202, {"status": "IN_QUEUE", "queue_position": 2, "request_id": rid})
                return Reply(202, {"status": "IN_PROGRESS", "logs": [{"message": f"{self.polls * 30}% done"}]})
            if tail == "/cancel" and seen.method == "PUT":
                return Reply(202, {"status": "CANCELLATION_REQUESTED"})
            if tail is None and seen.method == "GET":
                return self.result or Reply(200, {"video": {"url": self.file_url("out.mp4"), "content_type": "video/mp4"}})
        if seen.method == "POST":
            app = "/".join(seen.path.strip("/").split("/")[:2])
            root = f"{self.url}/{app}/requests/r1"
            return Reply(200, {"request_id": "r1", "status_url": f"{root}/status", "response_url": root,
                               "cancel_url": f"{root}/cancel"})
        return super().route(seen)


class FakeVertex(FakeServer):
    """``:predictLongRunning`` / ``:fetchPredictOperation`` / ``operations/...:cancel``."""

    OP = "projects/proj/locations/us-central1/publishers/google/models/veo-2.0-generate-001/operations/op1"

    def __init__(self) -> None:
        super().__init__()
        self.polls_needed = 3
        self.response: Any = None  # default: the served clip inline as base64
        self.error: Any = None
        self.on_poll: Callable[[int], None] | None = None
        self.polls = 0

    def route(self, seen: Seen) -> Reply:
        if seen.method == "POST" and seen.path.endswith(":predictLongRunning"):
            return Reply(200, {"name": self.OP})
        if seen.method == "POST" and seen.path.endswith(":fetchPredictOperation"):
            self.polls += 1
            if self.on_poll:
                self.on_poll(self.polls)
            if self.polls < self.polls_needed:
                return Reply(200, {"name": self.OP, "done": False})
            if self.error is not None:
                return Reply(200, {"name": self.OP, "done": True, "error": self.error})
            response = self.response if self.response is not None else {
                "@type": "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse",
                "videos": [{"bytesBase64Encoded": base64.b64encode(self.files["out.mp4"]).decode(),
                            "mimeType": "video/mp4"}]}
            return Reply(200, {"name": self.OP, "done": True, "response": response})
        if seen.method == "POST" and seen.path.endswith(":cancel"):
            return Reply(200, {})
        return super().route(seen)


class FakeClock:
    """Monotonic time that only moves when someone sleeps; every sleep is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    @property
    def timing(self) -> Timing:
        return Timing(clock=self.clock, sleep=self.sleep)


def policy(**overrides: Any) -> HttpPolicy:
    values: dict[str, Any] = {"timeout_s": 120.0, "poll_interval_s": 1.0, "poll_factor": 1.5,
                              "poll_max_interval_s": 5.0, "max_retries": 3, "backoff_s": 0.5,
                              "request_timeout_s": 5.0, "cancel_timeout_s": 2.0}
    return HttpPolicy(**{**values, **overrides})


