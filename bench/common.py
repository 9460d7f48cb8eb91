"""Shared bench plumbing: start servers the way users do, drive load with wrk, parse results.

Benchmarks print ratios measured side by side in one run on this machine; they are not tests.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(url)


def start_uvicorn(app: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """The same command line for every app under test, so only the app differs."""
    return subprocess.Popen([sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
                             "--no-access-log", "--log-level", "warning"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@dataclass
class Load:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    total: int


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, *, seconds: int = 10, connections: int = 64, threads: int = 2, headers: dict[str, str] | None = None,
        body: str | None = None, rate: float | None = None) -> Load:
    """Run wrk (Debian package) and parse throughput and latency percentiles.

    Without ``rate`` every connection sends its next request as soon as the last one is answered:
    that measures peak throughput, and latency there is just connections / throughput (Little's
    law). With ``rate`` (requests/s over all connections) each connection waits a random pause
    (mean connections / rate) between requests: the latency a client sees at that load.
    """
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    lua = ""
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for k, v in (headers or {}).items():
        args += ["-H", f"{k}: {v}"]
    if body is not None:
        lua += (f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\n'
                'wrk.headers["Content-Type"] = "application/json"\n')
    if rate:
        # wrk waits delay() *plus* the response time between a connection's requests; pacing at
        # connections / rate alone would undershoot, so a nominal 10 % is added (the achieved
        # rate is what gets reported).
        mean_ms = max(1, round(1000.0 * connections / (1.1 * rate)))
        lua += f"function delay()\n  return math.random(0, {2 * mean_ms})\nend\n"
    script = None
    if lua:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        script.write(lua)
        script.close()
        args += ["-s", script.name]
    out = subprocess.run([*args, url], capture_output=True, text=True, timeout=seconds + 60).stdout
    if script:
        os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    non = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return Load(rps, p50, p99, int(non.group(1)) if non else 0, total)


def results_file() -> Path:
    return ROOT / "bench" / "results.md"


def append_results(section: str, lines: list[str]) -> None:
    """bench/results.md keeps the latest output of each benchmark under its own heading."""
    path = results_file()
    text = path.read_text() if path.exists() else "# Benchmark results\n\nWritten by `make bench` on this machine.\n"
    block = f"## {section}\n\n```\n" + "\n".join(lines) + "\n```\n"
    pattern = re.compile(rf"## {re.escape(section)}\n\n```\n.*?\n```\n", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block
    path.write_text(text)
