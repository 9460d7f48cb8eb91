"""Orchestration overhead: the reference plan end to end through HTTP and Dagster, against the
same operations called directly (the media layer, whose own overhead over hand-written ffmpeg
commands bench/media.py measures), in one run on this machine.

Reference plan: 3 local clips of 5 s 720p -> merge -> reframe 9:16 -> lipSync -> addSubtitles.
Targets (issue 8): end-to-end <= 1.10 x raw + 2 s; submit -> run started <= 1.5 s (p50).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from common import append_results, free_port  # noqa: E402

from vidassets import media  # noqa: E402
from vidassets.demo import make_voice_track, serve_folder  # noqa: E402
from vidassets.settings import Settings  # noqa: E402
from vidassets.stack import Stack, stack_env  # noqa: E402
from vidassets.storage.keys import ApiKeyRepository  # noqa: E402
from vidassets.storage.migrate import upgrade  # noqa: E402

TEXT = "Three clips, one cut, a vertical frame, a new voice and these words."


def reference_plan(audio_url: str, seed: int) -> dict:
    jobs = [{"id": f"clip{i}", "operation": "generate",
             "params": {"prompt": f"reference clip {i}", "duration": 5, "resolution": "720p", "seed": seed + i}}
            for i in range(3)]
    jobs += [
        {"id": "cut", "operation": "merge", "dependsOn": ["clip0", "clip1", "clip2"],
         "params": {"transition": {"type": "crossfade", "duration": 0.5}}},
        {"id": "tall", "operation": "reframe", "dependsOn": ["cut"], "params": {"aspectRatio": "9:16"}},
        {"id": "voice", "operation": "lipSync", "dependsOn": ["tall"], "params": {"audioUrl": audio_url}},
        {"id": "caps", "operation": "addSubtitles", "dependsOn": ["voice"], "params": {"text": TEXT}},
    ]
    return {"executionPlan": {"jobs": jobs, "rootJobIds": ["caps"]}}


def raw(work: Path, voice: Path, seed: int) -> float:
    """The same work, called directly and sequentially: no HTTP, no Dagster, no storage."""
    started = time.perf_counter()
    clips = [media.render_local_clip(work / f"c{i}.mp4", prompt=f"reference clip {i}", duration=5,
                                     resolution="720p", seed=seed + i).path for i in range(3)]
    cut = media.merge(clips, work / "cut.mp4", transition=media.Transition("crossfade", 0.5)).path
    tall = media.reframe(cut, work / "tall.mp4", aspect_ratio="9:16").path
    voiced = media.replace_audio(tall, voice, work / "voiced.mp4").path
    info = media.probe(voiced)
    media.burn_subtitles(voiced, work / "caps.mp4", cues=media.cues_from_text(TEXT, info.duration))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--latency-samples", type=int, default=7)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="vidassets-orch-"))
    data = root / "data"
    settings = Settings(data_dir=data)
    upgrade(settings.resolved_database_url)
    key, _ = ApiKeyRepository(settings.resolved_database_url).create("bench", "bench", rate_limit_per_min=10**6)
    voice = make_voice_track(root / "media" / "voice.m4a", duration=20)
    server, base = serve_folder(voice.parent)
    api_port, dagster_port = free_port(), free_port()
    env = stack_env(data, {"VIDASSETS_LOG_LEVEL": "WARNING"}, api_port=api_port, dagster_port=dagster_port)
    headers = {"Authorization": f"Bearer {key}"}
    e2e_times, raw_times, start_latency = [], [], []
    with Stack(env=env, api_port=api_port, dagster_port=dagster_port, log_dir=data / "logs").start() as stack:
        stack.wait_ready(240)
        client = httpx.Client(base_url=stack.api_url, headers=headers, timeout=30)

        def run(plan: dict) -> tuple[float, float]:
            t0 = time.perf_counter()
            eid = client.post("/api/execute", json=plan).json()["id"]
            started = None
            while True:
                status = client.get(f"/api/execute/{eid}/status").json()
                if started is None and status["status"] != "pending":
                    started = time.perf_counter() - t0
                if status["status"] in ("completed", "failed", "cancelled"):
                    if status["status"] != "completed":
                        raise SystemExit(f"execution {status['status']}: {status.get('error')}")
                    return time.perf_counter() - t0, started or 0.0
                time.sleep(0.05)

        # Submit -> run started: small plans, so the measurement is the launch path alone.
        for i in range(args.latency_samples):
            _, started = run({"jobs": [{"id": "c", "type": "generate",
                                        "params": {"prompt": f"latency {i}", "duration": 1, "resolution": "160x90"}}]})
            start_latency.append(started)
        for i in range(args.repeat):
            seed = 1000 * (i + 1)  # fresh content each time: nothing served from the result cache
            total, _ = run(reference_plan(f"{base}/{voice.name}", seed))
            e2e_times.append(total)
            work = root / f"raw{i}"
            work.mkdir()
            raw_times.append(raw(work, voice, seed + 500))
    server.shutdown()
    best_e2e, best_raw = min(e2e_times), min(raw_times)
    budget = 1.10 * best_raw + 2.0
    p50 = statistics.median(start_latency)
    lines = [
        "Reference plan: 3 x 5 s 720p local clips -> merge (crossfade) -> reframe 9:16 -> lipSync -> addSubtitles",
        f"end to end through HTTP + Dagster: best {best_e2e:.2f}s  (runs: {', '.join(f'{t:.2f}' for t in e2e_times)})",
        f"same operations called directly:   best {best_raw:.2f}s  (runs: {', '.join(f'{t:.2f}' for t in raw_times)})",
        f"ratio {best_e2e / best_raw:.2f}; budget 1.10 x raw + 2 s = {budget:.2f}s  "
        f"{'ok' if best_e2e <= budget else 'MISSED'}",
        f"submit -> run started: p50 {p50:.2f}s, min {min(start_latency):.2f}s, max {max(start_latency):.2f}s "
        f"over {len(start_latency)}  (target p50 <= 1.5 s)  {'ok' if p50 <= 1.5 else 'MISSED'}",
    ]
    print("\n".join(lines))
    append_results("Orchestration overhead", lines)


if __name__ == "__main__":
    sys.exit(main())
