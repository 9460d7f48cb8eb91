"""Scaling out: provider-bound executions on 1 worker host, then on 2, in one run on this machine.

The multi-host topology of tests/multihost (network namespaces as hosts: services with its own
PostgreSQL, Redis broker, moto S3 and a fake Replicate; Dagster; API; worker hosts running
``celery -A vidassets.dagster.celery_app worker``), with the production deploy/dagster.yaml.
Each execution is one ``generate`` job on ``provider: "replicate"``, which the fake vendor
finishes after ``--delay`` seconds: the work is waiting on a vendor, so a second worker host
should double throughput until the machine's CPU (orchestration, downloads) runs out.

Per phase: a few executions one at a time (submit -> run started with idle workers), then
``--count`` submitted at once: executions/min (first submit to last completion) and submit ->
run started p50 (the database's created_at -> started_at; under a burst this includes waiting
for a free worker slot). Needs root (namespaces). Target: 2 hosts >= 1.7 x 1 host.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from common import ROOT, append_results  # noqa: E402

sys.path.insert(0, str(ROOT))
from tests.multihost.cluster import Cluster, missing_prerequisites, reap_stale  # noqa: E402

TERMINAL = ("completed", "failed", "cancelled")


def plan(tag: str, i: int) -> dict:
    return {"jobs": [{"id": "clip", "type": "generate",
                      "params": {"provider": "replicate", "prompt": f"scale {tag} {i}", "duration": 1}}]}


def wait_done(cluster: Cluster, ids: list[str], timeout_s: float) -> float:
    """Seconds until every id is terminal (polled in the database, 0.25 s resolution)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        rows = cluster.sql("SELECT count(*) FROM executions WHERE id = ANY(%(ids)s) AND status IN %(t)s",
                           {"ids": ids, "t": TERMINAL})
        if rows[0][0] == len(ids):
            return time.monotonic()
        time.sleep(0.25)
    raise TimeoutError(f"{len(ids)} executions not finished in {timeout_s:.0f}s")


def start_latencies(cluster: Cluster, ids: list[str]) -> list[float]:
    rows = cluster.sql("SELECT extract(epoch FROM started_at - created_at) FROM executions "
                       "WHERE id = ANY(%(ids)s) AND started_at IS NOT NULL", {"ids": ids})
    return sorted(float(r[0]) for r in rows)


def phase(cluster: Cluster, hosts: int, count: int, idle: int) -> dict:
    tag = f"{hosts}h"
    # Idle: one at a time, each after the previous finished.
    idle_ids = []
    for i in range(idle):
        eid = cluster.api("POST", "/api/execute", json=plan(f"{tag}-idle", i))["executionId"]
        wait_done(cluster, [eid], 300)
        idle_ids.append(eid)
    # Burst: all at once.
    cpu0 = {h: cluster.cpu_seconds(h) for h in cluster.hosts}
    t0 = time.monotonic()
    ids = [cluster.api("POST", "/api/execute", json=plan(tag, i), headers={"Idempotency-Key": f"{tag}-{i}"})["executionId"]
           for i in range(count)]
    submitted = time.monotonic() - t0
    elapsed = wait_done(cluster, ids, 1800) - t0
    cpu = {h: cluster.cpu_seconds(h) - cpu0[h] for h in cluster.hosts}
    statuses = Counter(s for (s,) in cluster.sql("SELECT status FROM executions WHERE id = ANY(%(ids)s)", {"ids": ids}))
    attempts = Counter(a for (a,) in cluster.sql("SELECT attempts FROM execution_jobs WHERE execution_id = ANY(%(ids)s)",
                                                 {"ids": ids}))
    hosts_used = Counter(w.split(":")[0] for (w,) in cluster.sql(
        "SELECT worker FROM executions WHERE id = ANY(%(ids)s)", {"ids": ids}))
    burst = start_latencies(cluster, ids)
    quiet = start_latencies(cluster, idle_ids)
    return {"hosts": hosts, "count": count, "elapsed_s": elapsed, "submitted_s": submitted,
            "per_min": count / elapsed * 60, "statuses": dict(statuses), "attempts": dict(attempts),
            "unique": len(set(ids)) == count, "workers": dict(sorted(hosts_used.items())),
            "start_p50": statistics.median(burst), "start_max": max(burst),
            "idle_p50": statistics.median(quiet) if quiet else float("nan"),
            "cpu_per_exec": {h: round(c / count, 2) for h, c in cpu.items() if c > 0.05 * count}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=32, help="executions per phase, submitted at once")
    parser.add_argument("--idle", type=int, default=3, help="executions one at a time before the burst")
    # 6 s: the Replicate client's polls (0.5 s growing 1.5x) see it done at 6.6 s.
    parser.add_argument("--delay", type=float, default=6.0, help="seconds the fake vendor takes per job")
    # Slots, not the machine's 2 shared cores, must be what runs out, or the hosts (namespaces on
    # one machine) compete for CPU and the comparison measures the machine, not the scaling.
    parser.add_argument("--concurrency", type=int, default=2, help="runs per worker host")
    args = parser.parse_args()
    missing = missing_prerequisites()
    if missing:
        raise SystemExit(f"bench/scaling.py needs: {', '.join(missing)}")
    reap_stale()
    results = []
    root = Path(tempfile.mkdtemp(prefix="vidassets-scaling-"))
    with Cluster(root, worker_hosts=2,
                 worker_concurrency=args.concurrency, vendor_delay_s=args.delay,
                 monitoring_poll_s=10, worker_lost_after_s=30,  # deploy/dagster.yaml's own values
                 worker_env={"VIDASSETS_LOG_LEVEL": "WARNING"}, worker_loglevel="WARNING") as cluster:
        try:
            cluster.start(workers=1)
            results.append(phase(cluster, 1, args.count, args.idle))
            cluster.start_worker(2)
            cluster.wait_workers(["worker1", "worker2"])
            results.append(phase(cluster, 2, args.count, args.idle))
        except BaseException:
            print(cluster.dump_logs(3000))
            print(f"logs kept in {root}/logs")
            raise
    shutil.rmtree(root, ignore_errors=True)
    one, two = results
    ratio = two["per_min"] / one["per_min"]
    lines = [f"{args.count} provider-bound executions (one generate on the fake Replicate, {args.delay:g} s each) "
             f"submitted at once; Celery run workers, {args.concurrency} runs per worker host; "
             "hosts are network namespaces on one 2-core machine"]
    for r in results:
        lost = r["count"] - sum(r["statuses"].values())
        lines.append(
            f"{r['hosts']} worker host{'s' if r['hosts'] > 1 else ''}: {r['per_min']:.1f} executions/min "
            f"({r['elapsed_s']:.0f}s total); submit -> run started p50 {r['start_p50']:.2f}s under the burst "
            f"(max {r['start_max']:.1f}s), {r['idle_p50']:.2f}s idle; statuses {r['statuses']}; lost {lost}; "
            f"ids unique {r['unique']}; job attempts {r['attempts']}; runs per host {r['workers']}; "
            f"CPU s per execution by host {r['cpu_per_exec']}")
    lines.append(f"2 hosts / 1 host: {ratio:.2f}x (target >= 1.7x)  {'ok' if ratio >= 1.7 else 'MISSED'}")
    print("\n".join(lines))
    append_results("Scaling (Celery run workers on 1 vs 2 hosts)", lines)


if __name__ == "__main__":
    main()
