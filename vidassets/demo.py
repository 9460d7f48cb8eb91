"""``make demo``: start the embedded stack, submit a plan using all five operations over HTTP,
print progress and where the output is.

The lip-sync audio track is generated locally and served from a loopback HTTP server: the
embedded default accepts loopback URLs (production turns on the SSRF guard).
"""

from __future__ import annotations

import functools
import http.server
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from vidassets import media


def demo_plan(audio_url: str) -> dict[str, Any]:
    return {
        "executionPlan": {
            "jobs": [
                {"id": "sunrise", "operation": "generate",
                 "params": {"provider": "local", "prompt": "Sunrise over misty hills", "duration": 3,
                            "resolution": "720p", "aspectRatio": "16:9", "seed": 7}},
                {"id": "city", "operation": "generate",
                 "params": {"provider": "local", "prompt": "Neon city at night", "duration": 3,
                            "resolution": "720p", "aspectRatio": "16:9", "seed": 11}},
                {"id": "cut", "operation": "merge", "dependsOn": ["sunrise", "city"],
                 "params": {"transition": {"type": "crossfade", "duration": 0.5}}},
                {"id": "vertical", "operation": "reframe", "dependsOn": ["cut"],
                 "params": {"aspectRatio": "9:16", "strategy": "blur"}},
                {"id": "voiced", "operation": "lipSync", "dependsOn": ["vertical"],
                 "params": {"audioUrl": audio_url, "volume": 0.8}},
                {"id": "captioned", "operation": "addSubtitles", "dependsOn": ["voiced"],
                 "params": {"text": "From the quiet hills at dawn to the bright city at night.", "style": "bold"}},
            ],
            "rootJobIds": ["captioned"],
        }
    }


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


def serve_folder(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def make_voice_track(path: Path, duration: float = 6.0) -> Path:
    """A short melodic track standing in for a voice-over."""
    path.parent.mkdir(parents=True, exist_ok=True)
    media.run_ffmpeg([
        "-f", "lavfi", "-i", f"sine=frequency=330:duration={duration}:sample_rate=48000",
        "-f", "lavfi", "-i", f"sine=frequency=495:duration={duration}:sample_rate=48000",
        "-filter_complex", "[0:a][1:a]amix=inputs=2,volume=0.6[a]", "-map", "[a]",
        "-c:a", "aac", "-b:a", "128k", str(path),
    ], timeout=60)
    return path


def run_demo(api_url: str, artefacts_dir: Path | None, work: Path, timeout_s: float = 600.0,
             api_key: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    voice = make_voice_track(work / "voice.m4a")
    server, base = serve_folder(voice.parent)
    try:
        plan = demo_plan(f"{base}/{voice.name}")
        resp = httpx.post(f"{api_url}/api/execute", json=plan, headers=headers, timeout=30)
        resp.raise_for_status()
        accepted = resp.json()
        status_url = resp.headers["Location"]
        print(f"accepted execution {accepted['executionId']} (HTTP {resp.status_code})")
        print(f"status: {status_url}")
        deadline = time.monotonic() + timeout_s
        last = None
        while True:
            status: dict[str, Any] = httpx.get(f"{api_url}/api/execute/{accepted['id']}/status", headers=headers,
                                               timeout=10).json()
            line = (f"  {status['status']:<10} {status['progress']:5.1f}%  "
                    f"{status['completedJobs']}/{status['totalJobs']} jobs"
                    + (f"  running: {status['currentJob']}" if status.get("currentJob") else ""))
            if line != last:
                print(line, flush=True)
                last = line
            if status["status"] in ("completed", "failed", "cancelled"):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"execution not finished after {timeout_s:.0f}s")
            time.sleep(0.5)
        if status["status"] != "completed":
            raise RuntimeError(f"execution {status['status']}: {status.get('error')}")
        result = status["result"]
        final = result["outputs"][result["jobId"]]
        print(f"output URL: {result['url']}")
        print(f"output: {final['width']}x{final['height']}, {final['duration']:.2f}s, audio={final['hasAudio']}")
        if artefacts_dir is not None:
            key = status["jobs"][-1]["result"]["url"].split("/api/artefacts/", 1)[-1].split("?", 1)[0]
            print(f"output file: {artefacts_dir / key}")
        return status
    finally:
        server.shutdown()
