from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest

from vidassets import media
from vidassets.execution.executor import PlanExecutor
from vidassets.execution.operations import OperationRunner
from vidassets.plan import PlanCreate
from vidassets.providers import default_registry
from vidassets.submissions import accept


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Files a plan can point at by URL: a voice track, a real clip, a non-media file."""
    folder = tmp_path_factory.mktemp("served")
    media.run_ffmpeg(["-f", "lavfi", "-i", "sine=frequency=440:duration=3:sample_rate=48000",
                      "-c:a", "aac", str(folder / "voice.m4a")], timeout=60)
    media.run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=24:duration=1",
                      "-c:v", "libx264", "-pix_fmt", "yuv420p", str(folder / "clip.mp4")], timeout=60)
    (folder / "notes.mp4").write_text("this is not a video\n" * 100)
    return folder


@pytest.fixture(scope="session")
def media_url(media_dir: Path) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(media_dir)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def executor(services) -> PlanExecutor:  # type: ignore[no-untyped-def]
    return PlanExecutor(services, OperationRunner(services, default_registry()), max_workers=2,
                        progress_interval_s=0.2)


def submit(services, body: dict[str, Any], **kwargs: Any) -> str:  # type: ignore[no-untyped-def]
    return accept(services, PlanCreate.model_validate(body), tenant_id=kwargs.pop("tenant", "default"), **kwargs).row.id


def five_op_plan(audio_url: str, *, size: str = "320x180", duration: float = 1.0) -> dict[str, Any]:
    return {"executionPlan": {"jobs": [
        {"id": "a", "operation": "generate", "params": {"prompt": "red dawn", "duration": duration, "resolution": size, "seed": 1}},
        {"id": "b", "operation": "generate", "params": {"prompt": "blue dusk", "duration": duration, "resolution": size, "seed": 2}},
        {"id": "cut", "operation": "merge", "params": {"transition": {"type": "crossfade", "duration": 0.25}}, "dependsOn": ["a", "b"]},
        {"id": "tall", "operation": "reframe", "params": {"aspectRatio": "9:16", "strategy": "center"}, "dependsOn": ["cut"]},
        {"id": "voice", "operation": "lipSync", "params": {"audioUrl": audio_url, "volume": 0.7}, "dependsOn": ["tall"]},
        {"id": "caps", "operation": "addSubtitles", "params": {"text": "hello there: a [test], 100%", "style": "bold"},
         "dependsOn": ["voice"]},
    ], "rootJobIds": ["caps"]}}
