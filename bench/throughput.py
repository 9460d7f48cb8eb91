"""Throughput and scaling: many small executions submitted at once, completed per minute, none
lost or duplicated, with 1 and 2 concurrent runs (the Dagster run-queue limit), in one run.

Target (issue 8): >= 60 executions/min on 2 cores with 200 executions.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from common import append_results, free_port  # noqa: E402

from vidassets.settings import Settings  # noqa: E402
from vidassets.stack import Stack, stack_env  # noqa: E402
from vidassets.storage.keys import ApiKeyRepository  # noqa: E402
from vidassets.storage.migrate import upgrade  # noqa: E402


def plan(i: int) -> dict:
    return {"jobs": [{"id": "clip", "type": "generate",
                      "params": {"prompt": f"throughput {i}", "duration": 1, "resolution": "320x180", "seed": i}}]}


async def submit_all(api: str, key: str, count: int) -> list[str]:
    async with httpx.AsyncClient(base_url=api, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
        limit = asyncio.Semaphore(32)

        async def one(i: int) -> str:
            async with limit:
                resp = await client.post("/api/execute", json=plan(i), headers={"Idempotency-Key": f"tp-{i}"})
                resp.raise_for_status()
                return resp.json()["id"]

        return await asyncio.gather(*(one(i) for i in range(count)))


def measure(count: int, runs: int) -> dict:
    root = Path(tempfile.mkdtemp(prefix="vidassets-tp-"))
    data = root / "data"
    settings = Settings(data_dir=data)
    upgrade(settings.resolved_database_url)
    key, _ = ApiKeyRepository(settings.resolved_database_url).create("bench", "bench", rate_limit_per_min=10**6)
    api_port, dagster_port = free_port(), free_port()
    env = stack_env(data, {"VIDASSETS_LOG_LEVEL": "WARNING"}, api_port=api_port, dagster_port=dagster_port)
    yaml_path = data / "dagster_home" / "dagster.yaml"
    yaml_path.write_text(yaml_path.read_text().replace("max_concurrent_runs: 2", f"max_concurrent_runs: {runs}"))
    with Stack(env=env, api_port=api_port, dagster_port=dagster_port, log_dir=data / "logs").start() as stack:
        stack.wait_ready(240)
        started = time.perf_counter()
        ids = asyncio.run(submit_all(stack.api_url, key, count))
        submitted = time.perf_counter() - started
        client = httpx.Client(base_url=stack.api_url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        deadline = time.monotonic() + 3600
        while time.monotonic() < deadline:
            listing = client.get("/api/executions", params={"limit": 200, "status": ["completed", "failed", "cancelled"]}).json()
            done = listing["count"]
            cursor = listing["nextCursor"]
            while cursor:
                page = client.get("/api/executions", params={"limit": 200, "cursor": cursor,
                                                             "status": ["completed", "failed", "cancelled"]}).json()
                done += page["count"]
                cursor = page["nextCursor"]
            if done >= count:
                break
            time.sleep(2)
        elapsed = time.perf_counter() - started
        statuses = Counter(client.get(f"/api/execute/{eid}/status").json()["status"] for eid in ids)
        attempts = Counter(j["attempts"] for eid in ids for j in client.get(f"/api/execute/{eid}/status").json()["jobs"])
    return {"runs": runs, "count": count, "submitted_s": submitted, "elapsed_s": elapsed,
            "per_min": count / elapsed * 60, "statuses": dict(statuses), "unique_ids": len(set(ids)),
            "attempts": dict(attempts)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--runs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    results = [measure(args.count, r) for r in args.runs]
    lines = [f"{args.count} executions (one 1 s 320x180 local clip each) submitted at once"]
    for r in results:
        lost = r["count"] - sum(r["statuses"].values())
        lines.append(
            f"max_concurrent_runs={r['runs']}: {r['per_min']:.1f} executions/min ({r['elapsed_s']:.0f}s total, "
            f"submitted in {r['submitted_s']:.1f}s); statuses {r['statuses']}; lost {lost}; "
            f"ids unique {r['unique_ids'] == r['count']}; job attempts {r['attempts']}")
    best = max(r["per_min"] for r in results)
    lines.append(f"best {best:.1f}/min (target >= 60/min)  {'ok' if best >= 60 else 'MISSED'}")
    print("\n".join(lines))
    append_results("Throughput", lines)


if __name__ == "__main__":
    main()
