"""render_local_clip: sizes, durations, audio bed, determinism, visible differences, text safety."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vidassets.media import MediaParamError, build_render_command, clip_palette, parse_resolution, render_local_clip
from vidassets.media.fonts import covers
from vidassets.media.generate import caption_lines


@pytest.mark.parametrize(
    ("aspect", "resolution", "expected"),
    [
        ("16:9", "720p", (1280, 720)),
        ("9:16", "720p", (720, 1280)),
        ("1:1", "1080p", (1080, 1080)),
        ("21:9", "720p", (1680, 720)),
        ("4:5", "480p", (480, 600)),
        ("9:16", "480p", (480, 854)),
        ("16:9", "321x181", (320, 180)),
    ],
)
def test_resolution_rules(aspect: str, resolution: str, expected: tuple[int, int]) -> None:
    assert parse_resolution(resolution, aspect) == expected


@pytest.mark.parametrize("bad", [("16:9", "999p"), ("5:4", "720p"), ("16:9", "99999x10")])
def test_resolution_rejects_unknown(bad: tuple[str, str]) -> None:
    with pytest.raises(MediaParamError):
        parse_resolution(bad[1], bad[0])


@pytest.mark.parametrize(
    ("kwargs", "size"),
    [
        ({"aspect_ratio": "16:9", "resolution": "320x180", "fps": 24, "duration": 1.5}, (320, 180)),
        ({"aspect_ratio": "9:16", "resolution": "180p", "fps": 30, "duration": 1.3}, None),
        ({"aspect_ratio": "1:1", "resolution": "240x240", "fps": 12, "duration": 1.0}, (240, 240)),
        ({"aspect_ratio": "4:5", "resolution": "192x240", "fps": 25, "duration": 0.7}, (192, 240)),
    ],
)
def test_render_honours_size_duration_and_fps(
    tmp_path: Path, kwargs: dict[str, Any], size: tuple[int, int] | None
) -> None:
    if size is None:
        with pytest.raises(MediaParamError):
            render_local_clip(tmp_path / "x.mp4", prompt="p", **kwargs)
        return
    info = render_local_clip(tmp_path / "x.mp4", prompt="a red balloon", **kwargs)
    assert (info.width, info.height) == size
    assert info.fps == pytest.approx(kwargs["fps"])
    frame = 1.0 / kwargs["fps"]
    assert abs((info.video_duration or 0) - kwargs["duration"]) <= frame + 1e-6
    assert abs(info.duration - kwargs["duration"]) <= frame + 1e-6
    assert info.has_audio and info.audio_codec == "aac" and info.sample_rate == 48000 and info.channels == 2
    assert info.video_codec == "h264" and info.pix_fmt == "yuv420p"


def test_named_resolution_orientation(tmp_path: Path) -> None:
    info = render_local_clip(tmp_path / "v.mp4", prompt="tall", duration=0.5, aspect_ratio="9:16", resolution="360p")
    assert (info.width, info.height) == (360, 640)


def test_audio_bed_is_not_silent(tmp_path: Path, helpers: Any) -> None:
    out = render_local_clip(tmp_path / "a.mp4", prompt="sound", duration=1.5, resolution="160x90").path
    assert helpers.audio_rms(out, 0.3, 1.0) > 0.01


def test_render_is_byte_identical_for_same_inputs(tmp_path: Path) -> None:
    args = {"prompt": "A fox: [jumps], 100% {fast}", "duration": 1.0, "resolution": "320x180", "seed": 7}
    a = render_local_clip(tmp_path / "a.mp4", **args).path.read_bytes()
    b = render_local_clip(tmp_path / "b.mp4", **args).path.read_bytes()
    assert a == b


def test_different_prompts_and_seeds_differ_visibly(tmp_path: Path, helpers: Any) -> None:
    common = {"duration": 1.0, "resolution": "320x180"}
    base = render_local_clip(tmp_path / "base.mp4", prompt="a cat on a roof", seed=1, **common).path
    other_seed = render_local_clip(tmp_path / "seed.mp4", prompt="a cat on a roof", seed=2, **common).path
    other_prompt = render_local_clip(tmp_path / "prompt.mp4", prompt="a dog in the sea", seed=1, **common).path
    assert len({p.read_bytes() for p in (base, other_seed, other_prompt)}) == 3
    # Compare the picture above the caption area: mean colour must differ clearly.
    means = [helpers.frame_at(p, 0.5)[:100].reshape(-1, 3).mean(axis=0) for p in (base, other_seed, other_prompt)]
    assert np.abs(means[0] - means[1]).max() > 12
    assert np.abs(means[0] - means[2]).max() > 12


def test_motion_over_time(tmp_path: Path, helpers: Any) -> None:
    out = render_local_clip(tmp_path / "m.mp4", prompt="", duration=2.0, resolution="160x90").path
    first, last = helpers.frame_at(out, 0.0), helpers.frame_at(out, 1.9)
    assert np.abs(first - last).mean() > 2.0


def test_prompt_never_enters_the_filtergraph(tmp_path: Path) -> None:
    prompt = "'; drawtext=text=pwned:[out] %{pts} a:b,c;d[e]\\f"
    textfile = tmp_path / "caption-0.txt"
    argv = build_render_command(
        tmp_path / "o.mp4",
        width=320,
        height=180,
        duration=1.0,
        fps=24,
        palette=clip_palette(prompt, 0),
        captions=[(textfile, Path("/fonts/NotoSans-Regular.ttf"))],
    )
    joined = "\n".join(argv)
    assert "pwned" not in joined and "%{pts}" not in joined
    graph = argv[argv.index("-filter_complex") + 1]
    assert "textfile=" in graph and "expansion=none" in graph and "fontfile=" in graph
    for flag in ("+bitexact",):
        assert flag in argv
    assert argv[argv.index("-map_metadata") + 1] == "-1"
    assert "-threads:v" in argv  # x264 output depends on its thread count: pinned


def test_injection_prompt_renders(tmp_path: Path) -> None:
    prompt = "'; drawtext=text=pwned:[out] %{pts} {\\b1} a:b,c;d[e]\\f%g"
    info = render_local_clip(tmp_path / "i.mp4", prompt=prompt, duration=0.5, resolution="320x180")
    assert info.duration == pytest.approx(0.5, abs=1 / 24)


def test_caption_lines_split_by_font() -> None:
    lines = caption_lines("A cat in 東京 مرحبا", 1280, 36)
    assert [line.text for line in lines] == ["A cat in", "東京", "مرحبا"]
    assert all(covers(line.font, line.text) for line in lines)  # drawtext has no glyph fallback
    assert {line.font.name for line in lines} == {
        "NotoSans-Regular.ttf",
        "wqy-microhei.ttc",
        "NotoSansArabic-Regular.ttf",
    }
    mixed = caption_lines("A cat in 東京", 1280, 36)  # one font covers both scripts: one line
    assert [(line.text, line.font.name) for line in mixed] == [("A cat in 東京", "wqy-microhei.ttc")]
    assert caption_lines("plain words", 1280, 36)[0].font.name == "NotoSans-Regular.ttf"
    long = caption_lines("word " * 200, 320, 16)
    assert len(long) == 3 and long[-1].text.endswith("…")


@pytest.mark.parametrize(
    "bad", [{"duration": 0}, {"duration": -1}, {"fps": 0}, {"fps": 24.5}, {"aspect_ratio": "2:1"}, {"seed": "x"}]
)
def test_render_rejects_bad_params(tmp_path: Path, bad: dict[str, Any]) -> None:
    kwargs: dict[str, Any] = {"prompt": "p", "duration": 1.0, "resolution": "160x90", **bad}
    with pytest.raises(MediaParamError):
        render_local_clip(tmp_path / "x.mp4", **kwargs)
    assert not list(tmp_path.iterdir())
