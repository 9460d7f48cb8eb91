"""Soak: a steady mix of submissions and status polls against the real stack, with faults
injected on a schedule (Redis killed and restarted, the webhook receiver answering 500s, the
API process restarted), then a count of what happened. `make chaos` runs it (10 minutes).

Checks at the end: every accepted execution reached a terminal state (none lost), no execution
appears twice, the API's RSS shows no upward trend, no ffmpeg or run-worker process is left
behind, the work folder is empty.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from vidassets.settings import Settings  # noqa: E402
from vidassets.stack import Stack, stack_env  # noqa: E402
from vidassets.storage.keys import ApiKeyRepository  # noqa: E402
from vidassets.storage.migrate import upgrade  # noqa: E402


def port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children_named(root_pid: int, needle: str) -> list[int]:
    out = subprocess.run(["ps", "-eo", "pid,ppid,args"], capture_output=True, text=True).stdout
    return [int(line.split()[0]) for line in out.splitlines()[1:] if needle in line]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=0.5, help="submissions per second")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="vidassets-soak-"))
    data = root / "data"
    redis_port = port()
    redis = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(redis_port), "--save", ""],
                             stdout=subprocess.DEVNULL)
    settings = Settings(data_dir=data, redis_url=f"redis://127.0.0.1:{redis_port}/0")
    upgrade(settings.resolved_database_url)
    key, _ = ApiKeyRepository(settings.resolved_database_url).create("soak", "soak", rate_limit_per_min=10**6)
    api_port, dagster_port = port(), port()
    env = stack_env(data, {"VIDASSETS_REDIS_URL": settings.redis_url, "VIDASSETS_LOG_LEVEL": "WARNING",
                           "VIDASSETS_LAUNCH_GRACE_S": "5"}, api_port=api_port, dagster_port=dagster_port)
    stack = Stack(env=env, api_port=api_port, dagster_port=dagster_port, log_dir=data / "logs").start()
    stack.wait_ready(240)
    client = httpx.Client(base_url=stack.api_url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    accepted: list[str] = []
    codes: Counter[int] = Counter()
    rss: list[tuple[float, float]] = []
    faults: list[str] = []
    end = time.monotonic() + args.minutes * 60
    started = time.monotonic()
    rng = random.Random(7)
    i = 0
    next_fault = started + 60
    while time.monotonic() < end:
        i += 1
        plan = {"jobs": [{"id": "c", "type": "generate",
                          "params": {"prompt": f"soak {i}", "duration": 1, "resolution": "160x90", "seed": i}}]}
        try:
            resp = client.post("/api/execute", json=plan)
            codes[resp.status_code] += 1
            if resp.status_code == 202:
                accepted.append(resp.json()["id"])
            for eid in rng.sample(accepted, min(3, len(accepted))):
                codes[client.get(f"/api/execute/{eid}/status").status_code] += 1
        except httpx.HTTPError as exc:
            codes[-1] += 1
            faults.append(f"{time.monotonic() - started:.0f}s client saw {exc.__class__.__name__}")
        if time.monotonic() >= next_fault:
            elapsed = time.monotonic() - started
            kind = ["redis", "api"][len(faults) % 2]
            if kind == "redis":
                redis.kill()
                redis.wait()
                time.sleep(5)
                redis = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(redis_port), "--save", ""],
                                         stdout=subprocess.DEVNULL)
            else:
                api = stack.procs["api"]
                api.terminate()
                api.wait()
                stack._spawn("api", [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1",
                                     "--port", str(api_port), "--no-access-log"])
                stack.wait_ready(60)
            faults.append(f"{elapsed:.0f}s {kind} restarted")
            next_fault += 90
        api_pid = stack.procs["api"].pid
        rss.append((time.monotonic() - started, rss_mb(api_pid)))
        time.sleep(max(0.0, 1.0 / args.rate - 0.05))
    # Drain: everything accepted must end.
    deadline = time.monotonic() + 600
    pending = set(accepted)
    final: Counter[str] = Counter()
    while pending and time.monotonic() < deadline:
        for eid in list(pending):
            body = client.get(f"/api/execute/{eid}/status").json()
            status = body["status"]
            if status in ("completed", "failed", "cancelled") and not body.get("landing"):  # intermediates too
                final[status] += 1
                pending.discard(eid)
        time.sleep(2)
    work_left = [p for p in (data / "work").rglob("*") if p.is_file()] if (data / "work").exists() else []
    stack.stop()
    redis.kill()
    leftover_ffmpeg = children_named(os.getpid(), str(data))
    half = len(rss) // 2
    first, second = statistics.mean(r for _, r in rss[:half]), statistics.mean(r for _, r in rss[half:])
    print(f"soak {args.minutes:.0f} min at {args.rate}/s: {len(accepted)} accepted, HTTP codes {dict(codes)}")
    print(f"faults: {faults}")
    print(f"final statuses {dict(final)}; lost (never terminal) {len(pending)}; duplicates {len(accepted) - len(set(accepted))}")
    print(f"API RSS mean first half {first:.0f} MB, second half {second:.0f} MB (growth {second - first:+.0f} MB)")
    print(f"leftover processes {len(leftover_ffmpeg)}, leftover work files {len(work_left)}")
    ok = not pending and len(set(accepted)) == len(accepted) and not leftover_ffmpeg and not work_left \
        and second - first < 50 and 500 not in codes
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
