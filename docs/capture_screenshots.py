"""Take the screenshots in docs/producers.md from a real run (headless Chromium).

    .venv/bin/python docs/capture_screenshots.py     (needs Debian's chromium at /usr/bin/chromium)

Starts the embedded stack on spare ports, runs the demo plan and a plan in another order (reframe
each clip, then merge, then captions), then captures the Dagster UI pages a producer uses.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vidassets.demo import demo_plan, make_voice_track, serve_folder  # noqa: E402
from vidassets.settings import Settings  # noqa: E402
from vidassets.stack import Stack, stack_env  # noqa: E402
from vidassets.storage.keys import ApiKeyRepository  # noqa: E402
from vidassets.storage.migrate import upgrade  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
OUT = ROOT / "docs" / "img"


def shoot(url: str, name: str, size: str = "1600,1000", wait_ms: int = 12000) -> None:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={profile}", f"--window-size={size}", "--hide-scrollbars",
                        f"--virtual-time-budget={wait_ms}", f"--screenshot={OUT / name}", url],
                       check=True, capture_output=True, timeout=120)
    print(f"captured {name}")


def run_plan(api_url: str, headers: dict[str, str], body: dict) -> str:
    eid = httpx.post(f"{api_url}/api/execute", json=body, headers=headers).json()["id"]
    while httpx.get(f"{api_url}/api/execute/{eid}/status", headers=headers).json()["status"] not in (
            "completed", "failed"):
        time.sleep(1)
    return eid


def reframe_each_then_merge() -> dict:
    def clip(jid: str, prompt: str) -> dict:
        return {"id": jid, "operation": "generate", "params": {"prompt": prompt, "duration": 2, "resolution": "640x360"}}

    return {"executionPlan": {"jobs": [
        clip("a", "sunrise over hills"), clip("b", "city at night"),
        {"id": "ta", "operation": "reframe", "params": {"aspectRatio": "9:16"}, "dependsOn": ["a"]},
        {"id": "tb", "operation": "reframe", "params": {"aspectRatio": "9:16", "strategy": "blur"}, "dependsOn": ["b"]},
        {"id": "cut", "operation": "merge", "params": {"transition": "crossfade"}, "dependsOn": ["ta", "tb"]},
        {"id": "caps", "operation": "addSubtitles", "params": {"text": "Any order works"}, "dependsOn": ["cut"]},
    ], "rootJobIds": ["caps"]}}


def main() -> None:
    data = Path(tempfile.mkdtemp(prefix="vidassets-shots-")) / "data"
    settings = Settings(data_dir=data, public_base_url="http://127.0.0.1:3400")
    upgrade(settings.resolved_database_url)
    key, _ = ApiKeyRepository(settings.resolved_database_url).create("producer", "screenshots")
    env = stack_env(data, {"VIDASSETS_PUBLIC_BASE_URL": "http://127.0.0.1:3400"}, api_port=3400, dagster_port=3401)
    with Stack(env=env, api_port=3400, dagster_port=3401, log_dir=data / "logs").start() as stack:
        stack.wait_ready(240)
        voice = make_voice_track(data / "demo" / "voice.m4a")
        server, base = serve_folder(voice.parent)
        headers = {"Authorization": f"Bearer {key}"}
        eid = run_plan(stack.api_url, headers, demo_plan(f"{base}/{voice.name}"))
        other = run_plan(stack.api_url, headers, reframe_each_then_merge())
        server.shutdown()
        ui = stack.dagster_url
        shoot(f"{ui}/asset-groups/video/lineage", "lineage.png")
        shoot(f"{ui}/assets/subtitled?view=events&partition={eid}", "subtitled-events.png")
        shoot(f"{ui}/assets/delivered?view=events&partition={other}", "delivered-lineage.png", size="1600,1300")
        shoot(f"{ui}/assets/reframed?view=checks", "reframed-checks.png")
        shoot(f"{ui}/assets/subtitled?view=partitions&partition={eid}", "subtitled-partition.png")
        shoot(f"{ui}/automation", "automation.png")
        print(f"execution {eid}")


if __name__ == "__main__":
    main()
