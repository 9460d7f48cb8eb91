"""Today's SDK's local media jobs through the executor, on both backends: a merge of a video, a
still image and a music bed, then a layer with a logo over it (issue 19). The artefacts are
probed, stored and checked like every other; the layer's checks include its placement."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from api.presenters import execution_public
from tests.frames import frame_at
from tests.helpers import submit
from vidassets import media
from vidassets.execution.executor import PlanExecutor


@pytest.fixture(scope="module")
def stills(media_dir: Path) -> dict[str, str]:
    """A red logo with a transparent border and a blue photo, in the served folder."""
    media.run_ffmpeg(["-f", "lavfi", "-i", "color=c=red:s=48x48,format=rgba,pad=64:64:8:8:color=black@0",
                      "-frames:v", "1", str(media_dir / "logo.png")], timeout=60)
    media.run_ffmpeg(["-f", "lavfi", "-i", "color=c=blue:s=320x240", "-frames:v", "1",
                      str(media_dir / "photo.jpg")], timeout=60)
    return {"logo": "logo.png", "photo": "photo.jpg"}


def plan(base: str, stills: dict[str, str]) -> dict[str, Any]:
    """What today's SDK posts for compose(layers([{media: merge([...])}, {media: logo, placement}]))."""
    merge = {"id": "job2", "type": "merge", "output": "$job2", "params": {"items": [
        {"url": f"{base}/clip.mp4", "type": "video"},
        {"url": f"{base}/{stills['photo']}", "type": "image", "duration": 1.5},
        {"url": f"{base}/voice.m4a", "type": "audio", "offset": 0.5, "volume": 0.5}]}}
    layer = {"id": "job1", "type": "layer", "output": "$job1", "dependsOn": ["job2"], "params": {"layers": [
        {"media": "_videoJobDependency:job2"},
        {"media": [f"{base}/{stills['logo']}"], "placement": "top-right"}]}}
    return {"executionPlan": {"jobs": [merge, layer]}, "options": {}}


def test_a_merge_of_video_image_and_music_then_a_logo_layer(  # type: ignore[no-untyped-def]
        services, executor: PlanExecutor, media_url: str, stills: dict[str, str], tmp_path: Path) -> None:
    eid = submit(services, plan(media_url, stills))
    _, outcome = executor.run_to_end(eid, "run-1")
    assert executor.finalize(eid, outcome) == "completed", outcome.failures
    view = execution_public(services.repo.get(eid), services.store)
    jobs = {j.id: j for j in view.jobs}
    assert view.status == "completed", [(j.id, j.status, j.error) for j in view.jobs]
    merged, layered = jobs["job2"].result, jobs["job1"].result
    assert merged is not None and layered is not None
    assert abs(merged["duration"] - 2.5) <= 0.1 and merged["hasAudio"]
    assert merged["details"]["audioTracks"] == 1 and merged["details"]["render"]["fused"] is False
    assert layered["mediaType"] == "video" and abs(layered["duration"] - 2.5) <= 0.1
    assert all(c["passed"] for c in layered["checks"]), layered["checks"]
    assert "placement" in {c["name"] for c in layered["checks"]}
    (logo,) = [c for c in layered["details"]["layout"] if c["layer"] == 1]
    row = next(j for j in services.repo.get(eid).jobs if j.job_id == "job1")
    out = Path(services.store.fetch(row.result["key"], tmp_path))
    frame = frame_at(out, 0.3)
    cx, cy = logo["x"] + logo["w"] // 2, logo["y"] + logo["h"] // 2
    red = frame[cy, cx]
    assert red[0] > 180 and red[1] < 80 and red[2] < 80, red  # the logo's red, where the layout says
    assert logo["x"] + logo["w"] <= 320 and logo["y"] < 40  # top-right of a 320-wide canvas
    corner = frame[logo["y"] + 2, logo["x"] + 2]  # inside the transparent border: the merge shows through
    assert not (corner[0] > 180 and corner[1] < 80 and corner[2] < 80), corner
    assert np.isfinite(frame).all()
    assert view.result is not None and view.result.type == "video" and view.result.format == "mp4"
