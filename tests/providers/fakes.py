"""Fake vendor servers on 127.0.0.1 and a fake clock (also used by the SDK tests).

Each fake speaks the vendor's real endpoints over real HTTP (``http.server`` in a thread), records
every request, serves a real mp4, and accepts injected faults (``server.fault(method, pattern,
Reply(...))``) that are answered once, in order, before the normal route runs. A fault with
``after=True`` lets the route run first (a create really creates) and answers in its place; one
with ``drop=True`` closes the connection without any answer (a lost response). The fake clock
makes polling, backoff and ``Retry-After`` instant while recording every wait.

The vendor fakes count what they were asked to create (``created``: the jobs a real vendor would
bill), give each its own id (``p1``, ``p2`` ...), and call ``on_create`` / ``on_download`` /
``on_answered`` hooks in the request's thread, so a test can stop the world at that point (kill
the worker).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import http.server
import itertools
import json
import re
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.providers.fake_hooks import Deliverer, FalSigner, Sent, dumps, replicate_secret, standard_headers
from vidassets.providers.http import HttpPolicy, Timing

KEY = "r8_SeCrEtKeY0123456789abcdef"


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: Any = None  # dict/list -> JSON, bytes -> raw, None -> empty
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    drop: bool = False  # close the connection without an answer
    after: bool = False  # as a fault: the normal route runs first (its side effects happen), then this answers
    hold: threading.Event | None = None  # send half the body, then wait for this before the rest


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
        self.on_download: Callable[[str], None] | None = None
        self.on_answered: Callable[[Seen], None] | None = None  # after an answer was sent in full
        self.download_hold: threading.Event | None = None  # set: downloads stall half-way until it is set
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
                if reply.drop:
                    self.close_connection = True
                    return
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
                    if reply.hold is not None:
                        self.wfile.write(payload[:len(payload) // 2])
                        self.wfile.flush()
                        reply.hold.wait(60)
                        payload = payload[len(payload) // 2:]
                    self.wfile.write(payload)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    return
                if server.on_answered is not None:
                    server.on_answered(seen)

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
        fault: Reply | None = None
        with self.lock:
            self.requests.append(seen)
            for index, (method, pattern, reply) in enumerate(self.faults):
                if method == seen.method and pattern.search(seen.path):
                    del self.faults[index]
                    fault = reply
                    break
        if fault is not None and not fault.after:
            return fault
        if seen.method == "GET" and seen.path.startswith("/files/"):
            name = seen.path[len("/files/"):]
            if self.on_download is not None:
                self.on_download(name)
            data = self.files.get(name)
            answer = Reply(200, data, {"content-type": "video/mp4"}, hold=self.download_hold) if data is not None \
                else Reply(404, {"detail": "no"})
        else:
            answer = self.route(seen)
        return fault or answer

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


def _utc(stamp: dt.datetime) -> str:
    return stamp.isoformat().replace("+00:00", "Z")


class VendorFake(FakeServer):
    """What the vendor fakes share: jobs finish after ``polls_needed`` polls (counted over all
    jobs), ``on_poll(n)`` / ``on_create(id)`` hooks, ids ``{prefix}1``, ``{prefix}2`` ..."""

    def __init__(self) -> None:
        super().__init__()
        self.polls_needed = 3
        self.polls = 0
        self.on_poll: Callable[[int], None] | None = None
        self.on_create: Callable[[str], None] | None = None  # after the job exists, before the answer
        self._ids = itertools.count(1)

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids)}"

    def poll(self) -> int:
        """Count a poll (calling ``on_poll``); the number of polls so far."""
        with self.lock:
            self.polls += 1
            polls = self.polls
        if self.on_poll:
            self.on_poll(polls)
        return polls

    def made(self, job_id: str) -> None:
        if self.on_create:
            self.on_create(job_id)


class FakeReplicate(VendorFake):
    """Replicate's predictions API: create (``/v1/predictions``, ``/v1/models/{owner}/{name}/predictions``),
    get, cancel and list (``GET /v1/predictions?created_after=``, newest first, paginated with
    ``next``). Polls finish after ``polls_needed`` (counted over all predictions)."""

    def __init__(self) -> None:
        super().__init__()
        self.status = "succeeded"
        self.error: str | None = None
        self.output: Any = None  # default: the served clip's URL
        self.page_size = 100
        self.predictions: dict[str, dict[str, Any]] = {}
        # Webhooks: the account's signing secret; a prediction created with ``webhook`` gets a
        # signed delivery of its final state when it completes (``complete``).
        self.webhook_secret = replicate_secret()
        self.hooks = Deliverer()
        self.uploads = ReplicateFilesApi(self)  # POST /v1/files: inputs too large to inline
        # A prediction made at a version is of that version's model (``owner/name``), as Replicate
        # lists it; versions this fake does not know are of "acme/versioned".
        self.versions: dict[str, str] = {}

    @property
    def created(self) -> int:
        """Predictions created: what Replicate would bill."""
        return len(self.predictions)

    def prediction(self, pid: str) -> dict[str, Any]:
        p = self.predictions[pid]
        own = f"{self.url}/v1/predictions/{pid}"
        return {"id": pid, "model": p["model"], "version": p["version"], "input": p["input"], "source": "api",
                "status": p["status"], "created_at": _utc(p["created_at"]), "urls": {"get": own, "cancel": f"{own}/cancel"}}

    def route(self, seen: Seen) -> Reply:
        if seen.path.startswith("/v1/files"):
            return self.uploads.route(seen)
        create = re.fullmatch(r"/v1/(?:models/([^/]+/[^/]+)/)?predictions", seen.path)
        if seen.method == "POST" and create:
            body = seen.body if isinstance(seen.body, dict) else {}
            with self.lock:
                pid = self.next_id("p")
                version = str(body.get("version", "v-latest"))
                self.predictions[pid] = {"model": create.group(1) or self.versions.get(version, "acme/versioned"),
                                         "version": version,
                                         "input": body.get("input"), "status": "starting",
                                         "created_at": dt.datetime.now(dt.UTC),
                                         "cancel_after": seen.headers.get("cancel-after"),
                                         "webhook": body.get("webhook"), "events": body.get("webhook_events_filter"),
                                         "done": False}
            self.made(pid)
            return Reply(201, self.prediction(pid))
        if seen.method == "GET" and seen.path == "/v1/predictions":
            return self._list(seen)
        match = re.fullmatch(r"/v1/predictions/(p\d+)(/cancel)?", seen.path)
        if match and match.group(1) in self.predictions:
            pid, cancel = match.groups()
            if seen.method == "POST" and cancel:
                self.predictions[pid]["status"] = "canceled"
                return Reply(200, self.prediction(pid))
            if seen.method == "GET" and not cancel:
                return self._poll(pid)
        return super().route(seen)

    def _poll(self, pid: str) -> Reply:
        polls = self.poll()
        answer = self.prediction(pid)
        if answer["status"] == "canceled":
            return Reply(200, answer)
        if polls >= self.polls_needed or self.predictions[pid]["done"]:
            return Reply(200, self.final(pid))
        return Reply(200, {**answer, "status": "processing", "logs": f"step\n{polls * 30}%|###"})

    def final(self, pid: str) -> dict[str, Any]:
        """The prediction once it ended (as a poll or a webhook delivery shows it)."""
        output = self.output
        if output is None:
            output = replicate_media_output(self, pid) or [self.file_url("out.mp4")]
        return {**self.prediction(pid), "status": self.status, "error": self.error, "logs": "100%",
                "output": output if self.status == "succeeded" else None,
                "metrics": {"predict_time": 4.2, "total_time": 4.5}}

    def delivery(self, pid: str, **signing: Any) -> tuple[str, bytes, dict[str, str]]:
        """The signed ``completed`` delivery of a prediction: URL, body, headers."""
        body = dumps(self.final(pid))
        return str(self.predictions[pid]["webhook"]), body, standard_headers(self.webhook_secret, body, **signing)

    def complete(self, pid: str, *, deliver: bool = True) -> Sent | None:
        """End the prediction now; deliver its webhook if it asked for one (``completed`` events)."""
        with self.lock:
            self.predictions[pid]["done"] = True
            p = dict(self.predictions[pid])
        if not deliver or not p["webhook"] or "completed" not in (p["events"] or ["completed"]):
            return None
        return self.hooks.post(*self.delivery(pid))

    def _list(self, seen: Seen) -> Reply:
        after = seen.query.get("created_after", [None])[0]
        since = dt.datetime.fromisoformat(after.replace("Z", "+00:00")) if after else None
        cursor = int(seen.query.get("cursor", ["0"])[0])
        with self.lock:
            chosen = [pid for pid, p in self.predictions.items() if since is None or p["created_at"] >= since]
        chosen.sort(key=lambda pid: self.predictions[pid]["created_at"], reverse=True)
        page = chosen[cursor:cursor + self.page_size]
        following = f"{self.url}/v1/predictions?cursor={cursor + self.page_size}" + (f"&created_after={after}" if after else "")
        return Reply(200, {"previous": None, "results": [self.prediction(pid) for pid in page],
                           "next": following if cursor + self.page_size < len(chosen) else None})


class FakeFal(VendorFake):
    """The fal queue: submit, status (IN_QUEUE -> IN_PROGRESS -> COMPLETED), response, cancel."""

    def __init__(self) -> None:
        super().__init__()
        self.result: Reply | None = None  # default: {"video": {"url": <served clip>}}
        self.submitted: dict[str, dict[str, Any]] = {}
        # Webhooks: fal's signing key (its JWKS served at /.well-known/jwks.json); a request
        # submitted with ``?fal_webhook=`` gets a signed delivery when it completes (``complete``).
        self.signer = FalSigner()
        self.hooks = Deliverer()

    @property
    def jwks_url(self) -> str:
        return f"{self.url}/.well-known/jwks.json"

    @property
    def created(self) -> int:
        """Requests queued: what fal would bill."""
        return len(self.submitted)

    def route(self, seen: Seen) -> Reply:
        match = re.fullmatch(r"/([^/]+/[^/]+)/requests/([^/]+)(/status|/cancel)?", seen.path)
        if match:
            app, rid, tail = match.groups()
            if tail == "/status" and seen.method == "GET":
                polls = self.poll()
                if polls >= self.polls_needed or self.submitted.get(rid, {}).get("done"):
                    return Reply(200, {"status": "COMPLETED", "request_id": rid, "metrics": {"inference_time": 2.5}})
                if polls == 1:
                    return Reply(202, {"status": "IN_QUEUE", "queue_position": 2, "request_id": rid})
                return Reply(202, {"status": "IN_PROGRESS", "logs": [{"message": f"{polls * 30}% done"}]})
            if tail == "/cancel" and seen.method == "PUT":
                return Reply(202, {"status": "CANCELLATION_REQUESTED"})
            if tail is None and seen.method == "GET":
                images = fal_image_result(self, rid)
                return self.result or images or Reply(200, {"video": {"url": self.file_url("out.mp4"),
                                                                      "content_type": "video/mp4"}})
        if seen.method == "GET" and seen.path == "/.well-known/jwks.json":
            return Reply(200, self.signer.jwks())
        if seen.method == "POST":
            app = "/".join(seen.path.strip("/").split("/")[:2])
            with self.lock:
                rid = self.next_id("r")
                self.submitted[rid] = {"path": seen.path, "body": seen.body,
                                       "timeout": seen.headers.get("x-fal-request-timeout"),
                                       "webhook": seen.query.get("fal_webhook", [None])[0], "done": False}
            self.made(rid)
            root = f"{self.url}/{app}/requests/{rid}"
            return Reply(200, {"request_id": rid, "status": "IN_QUEUE", "status_url": f"{root}/status",
                               "response_url": root, "cancel_url": f"{root}/cancel"})
        return super().route(seen)


    def delivery(self, rid: str, **signing: Any) -> tuple[str, bytes, dict[str, str]]:
        """The signed delivery of a completed request: URL, body, headers (as fal posts it)."""
        body = dumps({"request_id": rid, "gateway_request_id": rid, "status": "OK",
                      "payload": {"video": {"url": self.file_url("out.mp4"), "content_type": "video/mp4"}}})
        return str(self.submitted[rid]["webhook"]), body, self.signer.headers(rid, body, **signing)

    def complete(self, rid: str, *, deliver: bool = True) -> Sent | None:
        """Finish the request now; post its webhook if it was submitted with one."""
        with self.lock:
            self.submitted[rid]["done"] = True
            webhook = self.submitted[rid]["webhook"]
        if not deliver or not webhook:
            return None
        return self.hooks.post(*self.delivery(rid))


class FakeVertex(VendorFake):
    """``:predictLongRunning`` / ``:fetchPredictOperation`` / ``operations/...:cancel``."""

    OP = "projects/proj/locations/us-central1/publishers/google/models/veo-2.0-generate-001/operations/op1"

    def __init__(self) -> None:
        super().__init__()
        self.response: Any = None  # default: the served clip inline as base64
        self.error: Any = None
        self.created = 0  # operations started: what Google would bill

    def route(self, seen: Seen) -> Reply:
        if seen.method == "POST" and seen.path.endswith(":predictLongRunning"):
            with self.lock:
                self.created += 1
            self.made(self.OP)
            return Reply(200, {"name": self.OP})
        if seen.method == "POST" and seen.path.endswith(":fetchPredictOperation"):
            if self.poll() < self.polls_needed:
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
                              "request_timeout_s": 5.0, "cancel_timeout_s": 2.0, "jitter": 0.0}
    return HttpPolicy(**{**values, **overrides})


# -- vendors' file APIs (inputs too large to inline: vidassets/providers/uploads.py) -------------


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None
    content_type: str | None
    data: bytes


def multipart(seen: Seen) -> dict[str, Part]:
    """The parts of a ``multipart/form-data`` body, by field name (RFC 7578, as a vendor reads them)."""
    found = re.search(r'boundary="?([^";]+)"?', seen.headers.get("content-type", ""))
    raw = seen.body if isinstance(seen.body, bytes) else b""
    parts: dict[str, Part] = {}
    if found is None:
        return parts
    for chunk in raw.split(b"--" + found.group(1).encode())[1:-1]:
        head, _, data = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        field_name = re.search(r'\bname="([^"]*)"', disposition)
        filename = re.search(r'\bfilename="([^"]*)"', disposition)
        if field_name:
            parts[field_name.group(1)] = Part(field_name.group(1), filename.group(1) if filename else None,
                                              headers.get("content-type"), data.removesuffix(b"\r\n"))
    return parts


class ReplicateFilesApi:
    """Replicate's Files API on the FakeReplicate: ``POST /v1/files`` (multipart ``content``, optional
    ``metadata`` JSON) answers 201 with the file object and ``urls.get``; ``GET /v1/files/{id}``."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.stored: dict[str, Part] = {}
        self._ids = itertools.count(1)

    def file(self, fid: str) -> dict[str, Any]:
        part = self.stored[fid]
        now = dt.datetime.now(dt.UTC)
        return {"id": fid, "name": part.filename, "content_type": part.content_type, "size": len(part.data),
                "etag": f"\"{fid}\"", "checksums": {}, "metadata": {}, "created_at": _utc(now),
                "expires_at": _utc(now + dt.timedelta(days=1)), "urls": {"get": f"{self.server.url}/v1/files/{fid}"}}

    def route(self, seen: Seen) -> Reply:
        if seen.method == "POST" and seen.path == "/v1/files":
            part = multipart(seen).get("content")
            if part is None or not part.data:
                return Reply(400, {"title": "Invalid request", "detail": "content is required"})
            with self.server.lock:
                fid = f"f{next(self._ids)}"
                self.stored[fid] = part
            return Reply(201, self.file(fid))
        match = re.fullmatch(r"/v1/files/(f\d+)", seen.path)
        if seen.method == "GET" and match and match.group(1) in self.stored:
            return Reply(200, self.file(match.group(1)))
        return Reply(404, {"detail": "Not found."})


class FakeFalStorage(FakeServer):
    """fal's storage upload: ``POST /storage/upload/initiate?storage_type=gcs`` (``Authorization: Key``,
    ``{file_name, content_type}``) answers ``{upload_url, file_url}``; ``PUT`` the bytes to the signed
    ``upload_url`` with that content type; ``file_url`` then serves them."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key
        self.pending: dict[str, tuple[str, str]] = {}  # upload id -> (declared content type, file name)
        self.stored: dict[str, tuple[str, bytes]] = {}
        self._ids = itertools.count(1)

    def route(self, seen: Seen) -> Reply:
        if seen.method == "POST" and seen.path == "/storage/upload/initiate":
            if seen.headers.get("authorization") != f"Key {self.key}":
                return Reply(401, {"detail": "Unauthorized"})
            body = seen.body if isinstance(seen.body, dict) else {}
            if seen.query.get("storage_type") != ["gcs"] or not body.get("content_type") or not body.get("file_name"):
                return Reply(422, {"detail": [{"msg": "file_name and content_type are required"}]})
            with self.lock:
                uid = f"u{next(self._ids)}"
                self.pending[uid] = (str(body["content_type"]), f"{uid}-{body['file_name']}")
            return Reply(200, {"upload_url": f"{self.url}/upload/{uid}?X-Goog-Signature=s1g",
                               "file_url": f"{self.url}/files/{uid}-{body['file_name']}"})
        match = re.fullmatch(r"/upload/(u\d+)", seen.path)
        if seen.method == "PUT" and match and match.group(1) in self.pending:
            uid = match.group(1)
            content_type, name = self.pending[uid]
            if seen.headers.get("content-type") != content_type or "X-Goog-Signature" not in seen.query:
                return Reply(403, b"<Error><Code>SignatureDoesNotMatch</Code></Error>")
            data = seen.body if isinstance(seen.body, bytes) else json.dumps(seen.body).encode()
            with self.lock:
                del self.pending[uid]
                self.stored[uid] = (content_type, data)
                self.files[name] = data
            return Reply(200, None)
        return super().route(seen)


# -- real media the image, speech and matting models return ------------------------------------


@functools.lru_cache(maxsize=1)
def real_media() -> Mapping[str, bytes]:
    """Real files made once per process with ffmpeg, as the media models return them:

    * ``png``: 64x48 RGBA, red, its left half fully transparent (a background remover's cut-out);
    * ``jpg`` (blue) and ``webp`` (green), 64x48;
    * ``mp3``: 1 s of 440 Hz (ID3-tagged, as ffmpeg writes it) and ``mp3_bare`` (no tag: it starts
      with an MPEG frame, as some TTS vendors answer); ``wav``: the same tone;
    * ``mp4``: 1 s of 160x90 green screen with a white box in the middle (a matting model's output).
    """
    from vidassets.media import run_ffmpeg

    made: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="vendor-media-") as scratch:
        jobs = {
            "png": ["-f", "lavfi", "-i", "color=c=red:s=64x48:d=1", "-vf", "format=rgba,geq=r=220:g=20:b=20:a='255*gte(X,32)'",
                    "-frames:v", "1"],
            "jpg": ["-f", "lavfi", "-i", "color=c=blue:s=64x48:d=1", "-frames:v", "1", "-q:v", "3"],
            "webp": ["-f", "lavfi", "-i", "color=c=green:s=64x48:d=1", "-frames:v", "1", "-c:v", "libwebp"],
            "mp3": ["-f", "lavfi", "-i", "sine=f=440:r=44100:d=1", "-c:a", "libmp3lame", "-b:a", "64k"],
            "mp3_bare": ["-f", "lavfi", "-i", "sine=f=440:r=44100:d=1", "-c:a", "libmp3lame", "-b:a", "64k",
                         "-id3v2_version", "0", "-write_xing", "0", "-f", "mp3"],
            "wav": ["-f", "lavfi", "-i", "sine=f=440:r=44100:d=1", "-c:a", "pcm_s16le"],
            "mp4": ["-f", "lavfi", "-i", "color=c=0x00FF00:s=160x90:r=12:d=1",
                    "-vf", "drawbox=x=60:y=25:w=40:h=40:color=white:t=fill", "-c:v", "libx264", "-pix_fmt", "yuv420p"],
        }
        for name, argv in jobs.items():
            out = Path(scratch) / (f"{name}.mp3" if name == "mp3_bare" else f"out.{name}")
            run_ffmpeg([*argv, str(out)], timeout=60)
            made[name] = out.read_bytes()
    return made


#: What each SDK media model on Replicate returns (its published output schema): the file's format
#: (``None``: from the input's ``output_format``, default jpg, as Nano Banana does) and whether the
#: output is a list of URIs (Seedream) or one URI.
REPLICATE_MEDIA: dict[str, tuple[str | None, bool]] = {
    "google/nano-banana": (None, False), "bytedance/seedream-4": ("jpg", True),
    "codeplugtech/background_remover": ("png", False), "elevenlabs/turbo-v2.5": ("mp3", False),
    "arielreplicate/robust_video_matting": ("mp4", False), "nateraw/video-background-remover": ("mp4", False),
}


def replicate_media_output(server: FakeReplicate, pid: str) -> Any:
    """The output of a prediction of one of the SDK's media models, served at an extension-less
    URL (vendors' URLs say little about the content); None for other models."""
    prediction = server.predictions[pid]
    known = REPLICATE_MEDIA.get(prediction["model"])
    if known is None:
        return None
    kind, listed = known
    given = prediction["input"] if isinstance(prediction["input"], Mapping) else {}
    kind = kind or ("png" if given.get("output_format") == "png" else "jpg")
    server.files[f"{pid}-output"] = real_media()[kind]
    url = server.file_url(f"{pid}-output")
    return [url] if listed else url


_FAL_IMAGE_TYPES = {"jpeg": ("jpg", "image/jpeg"), "png": ("png", "image/png"), "webp": ("webp", "image/webp")}


def fal_image_result(server: FakeFal, rid: str) -> Reply | None:
    """``{"images": [{"url", "content_type", ...}], "description"}`` for a Nano Banana request (its
    ``output_format``, default png); None for other endpoints."""
    submitted = server.submitted.get(rid)
    if submitted is None or not submitted["path"].strip("/").startswith("fal-ai/nano-banana"):
        return None
    body = submitted["body"] if isinstance(submitted["body"], Mapping) else {}
    kind, content_type = _FAL_IMAGE_TYPES.get(str(body.get("output_format") or "png"), _FAL_IMAGE_TYPES["png"])
    data = real_media()[kind]
    server.files[f"{rid}-image"] = data
    return Reply(200, {"images": [{"url": server.file_url(f"{rid}-image"), "content_type": content_type,
                                   "file_name": f"output.{kind}", "file_size": len(data), "width": 64, "height": 48}],
                       "description": ""})
