"""Memory: a ~1 GB input through import, merge and reframe; peak RSS of the run worker.

The run worker here is a real Dagster materialisation of ``render_plan`` in a child process (as
the code server spawns one per run); ffmpeg runs in its own processes and is reported apart.
Target (issue 8): the run worker's peak RSS < 300 MB, whatever the input size.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import ROOT, append_results  # noqa: E402

from vidassets import media  # noqa: E402
from vidassets.demo import serve_folder  # noqa: E402

CHILD = r'''
import json, os, resource, sys
import dagster as dg
from vidassets.contract import launch_tags
from vidassets.dagster.assets import render_plan
from vidassets.dagster.partitions import executions_partitions
from vidassets.dagster.resources import StorageResource, VideoProviderResource
from vidassets.plan import PlanCreate
from vidassets.services import get_services
from vidassets.storage.migrate import upgrade
from vidassets.runs.submit import accept

services = get_services()
upgrade(services.settings.resolved_database_url)
eid = accept(services, PlanCreate.model_validate(json.loads(sys.argv[1])), tenant_id="bench").row.id
with dg.instance_for_test(temp_dir=sys.argv[2]) as instance:
    instance.add_dynamic_partitions(executions_partitions.name, [eid])
    result = dg.materialize([render_plan], instance=instance, partition_key=eid, tags=launch_tags(eid),
                            resources={"storage": StorageResource.from_settings(services.settings),
                                       "provider": VideoProviderResource.from_settings(services.settings)})
row = services.repo.get(eid)
print(json.dumps({"ok": result.success, "status": row.status,
                  "worker_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "ffmpeg_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                  "output": {j.job_id: (j.result or {}).get("size") for j in row.jobs}}))
'''


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=1024)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="vidassets-mem-"))
    big = root / "media" / "big.mp4"
    big.parent.mkdir(parents=True)
    seconds = 60
    bitrate = int(args.size_mb * 8 / seconds)  # Mbit/s so the file lands near the requested size
    media.run_ffmpeg(["-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration={seconds}",
                      "-f", "lavfi", "-i", f"sine=frequency=300:duration={seconds}:sample_rate=48000",
                      "-c:v", "libx264", "-preset", "ultrafast", "-b:v", f"{bitrate}M", "-minrate", f"{bitrate}M",
                      "-maxrate", f"{bitrate}M", "-bufsize", f"{bitrate}M", "-x264-params", "nal-hrd=cbr",
                      "-pix_fmt", "yuv420p", "-c:a", "aac", str(big)], timeout=1800)
    size_mb = big.stat().st_size / 1e6
    server, base = serve_folder(big.parent)
    plan = {"jobs": [
        {"id": "a", "type": "generate", "params": {"url": f"{base}/big.mp4"}},
        {"id": "b", "type": "generate", "params": {"url": f"{base}/big.mp4"}},
        {"id": "cut", "type": "merge", "params": {}, "dependsOn": ["a", "b"]},
        {"id": "tall", "type": "reframe", "params": {"aspectRatio": "9:16"}, "dependsOn": ["cut"]},
    ]}
    env = dict(os.environ, VIDASSETS_DATA_DIR=str(root / "data"), VIDASSETS_CONTACT_SHEETS="true",
               VIDASSETS_FETCH_MAX_BYTES=str(4 * 1024**3), VIDASSETS_LOG_LEVEL="WARNING")
    home = root / "dagster_home"
    home.mkdir()
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(plan), str(home)], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=3600)
    server.shutdown()
    result = json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else {"error": out.stderr[-2000:]}
    if "error" in result:
        raise SystemExit(result["error"])
    lines = [
        f"input: {size_mb:.0f} MB (60 s 1080p), imported twice, cut-merged ({2 * size_mb / 1000:.1f} GB), reframed to 9:16",
        f"execution {result['status']}; outputs (bytes): {result['output']}",
        f"run worker peak RSS: {result['worker_peak_mb']:.0f} MB  (target < 300 MB)  "
        f"{'ok' if result['worker_peak_mb'] < 300 else 'MISSED'}",
        f"largest ffmpeg child peak RSS: {result['ffmpeg_peak_mb']:.0f} MB (separate processes)",
    ]
    print("\n".join(lines))
    append_results("Memory", lines)


if __name__ == "__main__":
    main()
