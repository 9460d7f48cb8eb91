"""A fake Replicate for the multi-host test and bench: a process on the services host.

Speaks the predictions API vidassets' Replicate client uses (create, poll ``urls.get``, cancel,
download the output) over real HTTP; every prediction takes ``--delay`` seconds of wall time
(``--slow-delay`` for prompts starting with "slow") and returns the same small mp4. ``GET /stats``
counts what was asked, so a test can tell a job that ran twice from one that ran once.
Run: ``python tests/multihost/vendor.py --host H --port P``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.server
import json
import re
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path


def make_clip() -> bytes:
    import imageio_ffmpeg

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "clip.mp4"
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
                        "testsrc2=size=320x180:rate=25:duration=1", "-f", "lavfi", "-i",
                        "sine=frequency=440:duration=1", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt",
                        "yuv420p", "-g", "50", "-c:a", "aac", "-shortest", "-movflags", "+faststart", str(out)],
                       check=True)
        return out.read_bytes()


def serve(host: str, port: int, delay: float, slow_delay: float = 120.0) -> None:
    clip = make_clip()
    lock = threading.Lock()
    predictions: dict[str, dict] = {}
    stats = {"created": 0, "polls": 0, "downloads": 0, "cancelled": 0, "prompts": []}
    base = f"http://{host}:{port}"

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _reply(self, status: int, body: object, content_type: str = "application/json") -> None:
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self) -> None:  # noqa: N802 - stdlib name
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            if re.fullmatch(r"/v1/(models/[^/]+/[^/]+/)?predictions", self.path):
                body = json.loads(raw or b"{}")
                prompt = str((body.get("input") or {}).get("prompt") or "")
                model = self.path.split("/models/", 1)[1].rsplit("/predictions", 1)[0] if "/models/" in self.path else None
                pid = uuid.uuid4().hex
                with lock:
                    predictions[pid] = {"at": time.monotonic(), "status": "starting",
                                        "delay": slow_delay if prompt.startswith("slow") else delay,
                                        "created_at": dt.datetime.now(dt.UTC).isoformat(), "input": body.get("input"),
                                        "model": model, "version": body.get("version")}
                    stats["created"] += 1
                    stats["prompts"].append(prompt)
                url = f"{base}/v1/predictions/{pid}"
                return self._reply(201, {"id": pid, "status": "starting", "urls": {"get": url, "cancel": f"{url}/cancel"}})
            match = re.fullmatch(r"/v1/predictions/([0-9a-f]+)/cancel", self.path)
            if match and match.group(1) in predictions:
                with lock:
                    predictions[match.group(1)]["status"] = "canceled"
                    stats["cancelled"] += 1
                return self._reply(200, {"id": match.group(1), "status": "canceled"})
            return self._reply(404, {"detail": f"no route for POST {self.path}"})

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            if self.path == "/stats":
                with lock:
                    return self._reply(200, dict(stats))
            if self.path.split("?", 1)[0] == "/v1/predictions":  # the list a lost create is looked up in
                with lock:
                    items = [{"id": pid, "status": p["status"], "created_at": p["created_at"], "source": "api",
                              "model": p["model"], "version": p["version"], "input": p["input"],
                              "urls": {"get": f"{base}/v1/predictions/{pid}",
                                       "cancel": f"{base}/v1/predictions/{pid}/cancel"}}
                             for pid, p in reversed(predictions.items())]
                return self._reply(200, {"next": None, "previous": None, "results": items})
            if self.path == "/files/clip.mp4":
                with lock:
                    stats["downloads"] += 1
                return self._reply(200, clip, "video/mp4")
            match = re.fullmatch(r"/v1/predictions/([0-9a-f]+)", self.path)
            if match and match.group(1) in predictions:
                pid = match.group(1)
                with lock:
                    stats["polls"] += 1
                    p = predictions[pid]
                elapsed = time.monotonic() - p["at"]
                if p["status"] == "canceled":
                    return self._reply(200, {"id": pid, "status": "canceled"})
                if elapsed >= p["delay"]:
                    return self._reply(200, {"id": pid, "status": "succeeded", "output": [f"{base}/files/clip.mp4"],
                                             "logs": "100%"})
                pct = int(100 * elapsed / p["delay"])
                return self._reply(200, {"id": pid, "status": "processing", "logs": f"{pct}%|###"})
            return self._reply(404, {"detail": f"no route for GET {self.path}"})

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    print(f"fake replicate on {base} (delay {delay}s)", flush=True)
    server.serve_forever(poll_interval=0.2)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--delay", type=float, default=3.0, help="seconds per prediction")
    parser.add_argument("--slow-delay", type=float, default=120.0, help="for prompts starting with 'slow'")
    args = parser.parse_args()
    serve(args.host, args.port, args.delay, args.slow_delay)
