"""reframe: sizes for every aspect x strategy, no upscaling by default, smart crop follows the subject."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vidassets.media import (
    ASPECT_RATIOS,
    STRATEGIES,
    MediaInfo,
    MediaParamError,
    build_reframe_command,
    output_size,
    plan_smart_crop,
    probe,
    reframe,
    run_ffmpeg,
)
from vidassets.media.smart import MAX_SPEED, InterestSample, crop_path, piecewise_expr


def info_of(width: int, height: int, **kw: Any) -> MediaInfo:
    base = MediaInfo(
        path=Path("/media/src.mp4"), duration=2.0, width=width, height=height, fps=24.0, video_codec="h264",
        audio_codec="aac", has_audio=True, rotation=0, pix_fmt="yuv420p", size_bytes=1, format_name="mp4",
        video_duration=2.0, sample_rate=48000, channels=2,
    )  # fmt: skip
    return replace(base, **kw)


@pytest.mark.parametrize(
    ("aspect", "strategy", "expected"),
    [
        ("9:16", "pad", (1080, 1920)),
        ("9:16", "blur", (1080, 1920)),
        ("9:16", "center", (608, 1080)),
        ("1:1", "center", (1080, 1080)),
        ("21:9", "top", (1920, 822)),
        ("4:5", "pad", (1080, 1350)),
        ("16:9", "smart", (1920, 1080)),
    ],
)
def test_documented_sizes_for_1080p(aspect: str, strategy: str, expected: tuple[int, int]) -> None:
    assert output_size(info_of(1920, 1080), aspect, strategy) == expected


def test_allow_upscale_scales_crops_to_the_canvas() -> None:
    assert output_size(info_of(1920, 1080), "9:16", "center", allow_upscale=True) == (1080, 1920)


def test_rotated_source_uses_display_dims() -> None:
    assert output_size(info_of(1920, 1080, rotation=90), "9:16", "center") == (1080, 1920)


@pytest.mark.parametrize("aspect", list(ASPECT_RATIOS))
@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_every_aspect_and_strategy(aspect: str, strategy: str, tiny_clip: Path, tmp_path: Path) -> None:
    src = probe(tiny_clip)
    out = reframe(tiny_clip, tmp_path / "o.mp4", aspect_ratio=aspect, strategy=strategy)
    assert (out.width, out.height) == output_size(src, aspect, strategy)
    assert out.width % 2 == 0 and out.height % 2 == 0
    target = float(ASPECT_RATIOS[aspect])
    assert out.width / out.height == pytest.approx(target, rel=0.05)
    if strategy not in ("pad", "blur"):
        assert out.width <= src.width and out.height <= src.height  # no upscale by default
    assert out.has_audio and out.duration == pytest.approx(src.duration, abs=1 / 24 + 0.03)


def test_anchor_strategies_pick_the_right_part(tmp_path: Path, helpers: Any) -> None:
    """Left half red, right half blue: left/right crops must show that colour."""
    src = tmp_path / "split.mp4"
    run_ffmpeg(
        ["-f", "lavfi", "-i", "color=red:s=320x180:d=0.5,drawbox=x=160:y=0:w=160:h=180:color=blue:t=fill",
         "-pix_fmt", "yuv420p", "-c:v", "libx264", "-f", "mp4", str(src)]
    )  # fmt: skip
    left = helpers.frame_at(reframe(src, tmp_path / "l.mp4", aspect_ratio="9:16", strategy="left").path, 0.2)
    right = helpers.frame_at(reframe(src, tmp_path / "r.mp4", aspect_ratio="9:16", strategy="right").path, 0.2)
    assert left[..., 0].mean() > 150 and left[..., 2].mean() < 80
    assert right[..., 2].mean() > 150 and right[..., 0].mean() < 80


def test_unknown_aspect_and_strategy(tiny_clip: Path, tmp_path: Path) -> None:
    with pytest.raises(MediaParamError):
        reframe(tiny_clip, tmp_path / "o.mp4", aspect_ratio="2:1")
    with pytest.raises(MediaParamError):
        reframe(tiny_clip, tmp_path / "o.mp4", aspect_ratio="1:1", strategy="zoom")


def test_smart_argv_has_time_varying_crop(tmp_path: Path) -> None:
    samples = [InterestSample(t / 3, 0.1 + 0.8 * t / 9, 0.5, "saliency") for t in range(10)]
    path = crop_path(samples, 320, 180, 102, 180)
    command = build_reframe_command(
        info_of(320, 180), tmp_path / "o.mp4", aspect_ratio="9:16", strategy="smart", path=path
    )
    graph = command.argv[command.argv.index("-filter_complex") + 1]
    assert "clip(t-" in graph and "crop=w=102:h=180" in graph


def test_piecewise_expression_matches_interpolation() -> None:
    times, values = [0.0, 1.0, 2.5], [10.0, 50.0, 20.0]
    expr = piecewise_expr(times, values)
    for t in (0.0, 0.5, 1.0, 2.0, 3.0):
        # evaluate the ffmpeg expression with Python semantics for clip()
        got = eval(
            expr.replace("clip", "_clip"), {"_clip": lambda x, lo, hi: min(max(x, lo), hi), "t": t}
        )  # trusted: our own expression
        assert got == pytest.approx(float(np.interp(t, times, values)), abs=0.05)


def test_smart_crop_follows_a_moving_subject(box_clip: Path) -> None:
    info = probe(box_clip)
    path = plan_smart_crop(info, "9:16")
    assert path.w == 102 and path.h == 180
    centres = [path.centre_at(t)[0] for t in np.arange(0.0, 2.9, 1 / 24)]
    truth = [20 + 80 * t + 20 for t in np.arange(0.0, 2.9, 1 / 24)]
    # moves the same way as the box, and keeps it inside the crop
    assert centres[-1] - centres[0] > 120
    assert np.corrcoef(centres, truth)[0, 1] > 0.98
    for c, x in zip(centres, truth, strict=True):
        assert abs(c - min(max(x, 51), 269)) < 51 - 20 + 1e-6  # the 40 px box stays within the 102 px window
    # smooth: bounded change from one frame to the next
    steps = np.abs(np.diff(centres))
    assert steps.max() <= MAX_SPEED * 320 / 24 + 1e-6


def test_smart_crop_ignores_jitter() -> None:
    """A subject that jitters by a few pixels must not make the crop shake."""
    rng = np.random.default_rng(0)
    samples = [InterestSample(t / 3, 0.5 + rng.normal(0, 0.01), 0.5, "saliency") for t in range(30)]
    path = crop_path(samples, 1920, 1080, 608, 1080)
    xs = [path.at(t)[0] for t in np.arange(0, 10, 1 / 30)]
    assert max(xs) - min(xs) < 2.0


def test_smart_reframe_output_keeps_the_box(box_clip: Path, tmp_path: Path, helpers: Any) -> None:
    out = reframe(box_clip, tmp_path / "smart.mp4", aspect_ratio="9:16", strategy="smart")
    assert (out.width, out.height) == (102, 180)
    for t in (0.5, 1.5, 2.5):
        frame = helpers.frame_at(out.path, t)
        assert (frame.mean(axis=2) > 200).sum() > 400, f"box not visible at {t}s"  # most of the 40x40 box


def test_smart_on_static_subject_holds_still(tmp_path: Path) -> None:
    src = tmp_path / "static.mp4"
    run_ffmpeg(
        ["-f", "lavfi", "-i", "color=gray:s=320x180:r=24:d=1.5,drawbox=x=200:y=70:w=40:h=40:color=white:t=fill",
         "-pix_fmt", "yuv420p", "-c:v", "libx264", "-f", "mp4", str(src)]
    )  # fmt: skip
    path = plan_smart_crop(probe(src), "1:1")
    centres = [path.centre_at(t)[0] for t in np.arange(0, 1.5, 1 / 24)]
    assert max(centres) - min(centres) < 1.0
    assert abs(centres[0] - 220) <= 180 / 2 - 20  # the off-centre subject is inside the 180 px window


def test_sizes_follow_aspect_exactly_for_large_sources() -> None:
    for aspect, ratio in ASPECT_RATIOS.items():
        w, h = output_size(info_of(3840, 2160), aspect, "pad")
        assert abs(Fraction(w, h) - ratio) < Fraction(1, 100)


def test_smart_on_rotated_source_tracks_in_display_orientation(box_clip: Path, tmp_path: Path) -> None:
    """A 90° display matrix turns the left-to-right box into a bottom-to-top one."""
    rotated = tmp_path / "rotated.mp4"
    run_ffmpeg(["-display_rotation", "90", "-i", str(box_clip), "-c", "copy", "-f", "mp4", str(rotated)])
    info = probe(rotated)
    assert (info.display_width, info.display_height) == (180, 320)
    path = plan_smart_crop(info, "16:9")
    assert (path.w, path.h) == (180, 102)
    ys = [path.centre_at(t)[1] for t in (0.0, 1.0, 2.0, 2.9)]
    assert ys == sorted(ys, reverse=True) and ys[0] - ys[-1] > 120
    out = reframe(rotated, tmp_path / "o.mp4", aspect_ratio="16:9", strategy="smart")
    assert (out.width, out.height) == (180, 102)


def test_progress_reported_by_operations(tiny_clip: Path, tmp_path: Path) -> None:
    seen: list[float] = []
    reframe(tiny_clip, tmp_path / "o.mp4", aspect_ratio="1:1", on_progress=seen.append)
    assert seen and seen == sorted(seen) and seen[-1] == 1.0


def _reframe_from_plan(params: dict[str, Any], src: Path, tmp_path: Path) -> Path:
    """Validate a reframe job as the API does, then render it through the executor's handler."""
    import threading

    from tests.conftest import embedded_settings
    from vidassets.execution.operations import JobContext, OperationRunner
    from vidassets.plan import Operation, PlanCreate, normalize_request
    from vidassets.plan.params import parse_stored
    from vidassets.providers import default_registry
    from vidassets.services import build_services

    job = {"id": "r", "type": "reframe", "params": {"url": "https://media.example.com/band.mp4", **params}}
    stored = normalize_request(PlanCreate.model_validate({"jobs": [job]})).plan.job("r").params
    services = build_services(embedded_settings(tmp_path / "data"))
    workdir = tmp_path / "work" / "-".join(f"{k}={v}" for k, v in sorted(params.items()))
    workdir.mkdir(parents=True)
    ctx = JobContext(execution_id="e", job_id="r", operation=Operation.REFRAME, params=parse_stored("reframe", stored),
                     inputs=[src],
                     workdir=workdir, on_progress=lambda _: None, cancel=threading.Event())
    return OperationRunner(services, default_registry(settings=services.settings)).run(ctx).path


def test_a_plans_top_crop_reaches_the_renderer(tmp_path: Path, helpers: Any) -> None:
    """``crop: top`` — the original plan's name for the strategy — goes from the plan through the
    reframe handler into ffmpeg: a portrait frame with a red band across its top keeps the band when
    cut to 1:1; the default (centre) crop cuts it off."""
    src = tmp_path / "band.mp4"
    run_ffmpeg(
        ["-f", "lavfi", "-i", "color=blue:s=180x320:d=0.5,drawbox=x=0:y=0:w=180:h=60:color=red:t=fill",
         "-pix_fmt", "yuv420p", "-c:v", "libx264", "-f", "mp4", str(src)]
    )  # fmt: skip
    top = helpers.frame_at(_reframe_from_plan({"aspectRatio": "1:1", "crop": "top"}, src, tmp_path), 0.2)
    centre = helpers.frame_at(_reframe_from_plan({"aspectRatio": "1:1"}, src, tmp_path), 0.2)
    assert top.shape[:2] == centre.shape[:2] == (180, 180)
    band = top[5:50]
    assert band[..., 0].mean() > 150 and band[..., 2].mean() < 80  # red: the band is kept
    assert centre[5:50][..., 2].mean() > 150 and centre[5:50][..., 0].mean() < 80  # blue: cut off
    bottom = helpers.frame_at(_reframe_from_plan({"aspectRatio": "1:1", "strategy": "bottom"}, src, tmp_path), 0.2)
    assert bottom[..., 0].mean() < 80  # no red anywhere in the bottom crop
