"""burn_subtitles: placement, timing, literal rendering of hostile text, Unicode, path escaping."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vidassets.media import Cue, build_burn_command, burn_subtitles, probe, render_local_clip, subtitle_style

INJECTIONS = [
    "'; drawtext=text=pwned:[out]",
    "%{pts} %{localtime}",
    "{\\b1}not bold{\\b0} {\\pos(10,10)}",
    "a:b,c;d[e]\\f%g",
    "literal \\N not a newline \\h",
]


@pytest.fixture(scope="module")
def flat_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A uniform gray clip (so any text shows up clearly), 320x180, 2 s, with audio."""
    out = tmp_path_factory.mktemp("burn") / "gray.mp4"
    from vidassets.media import default_profile, run_ffmpeg

    p = default_profile()
    run_ffmpeg(
        ["-f", "lavfi", "-i", "color=0x606060:s=320x180:r=24:d=2", "-f", "lavfi", "-i", "sine=d=2:r=48000",
         "-map", "0:v", "-map", "1:a", *p.video_args(), *p.audio_args(), *p.container_args(), str(out)]
    )  # fmt: skip
    return out


BIG = subtitle_style(font_size=24)


def ink(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pixels that clearly changed between two frames (text, outline or box)."""
    return np.abs(a - b).mean(axis=2) > 40


def band_ink(a: np.ndarray, b: np.ndarray) -> tuple[int, int]:
    """Changed-pixel counts in the top and bottom thirds."""
    mask = ink(a, b)
    third = mask.shape[0] // 3
    return int(mask[:third].sum()), int(mask[-third:].sum())


def test_bottom_and_top_positions(flat_clip: Path, tmp_path: Path, helpers: Any) -> None:
    cues = [Cue(0.5, 1.5, "Hello subtitles")]
    before = helpers.frame_at(flat_clip, 1.0)
    bottom = burn_subtitles(flat_clip, tmp_path / "b.mp4", cues=cues)
    top = burn_subtitles(flat_clip, tmp_path / "t.mp4", cues=cues, style=subtitle_style(position="top"))
    b_top, b_bottom = band_ink(before, helpers.frame_at(bottom.path, 1.0))
    t_top, t_bottom = band_ink(before, helpers.frame_at(top.path, 1.0))
    assert b_bottom > 100 and b_top == 0
    assert t_top > 100 and t_bottom == 0
    assert bottom.duration == pytest.approx(2.0, abs=0.05) and bottom.has_audio


def test_nothing_changes_outside_cue_times(flat_clip: Path, tmp_path: Path, helpers: Any) -> None:
    out = burn_subtitles(flat_clip, tmp_path / "o.mp4", cues=[Cue(0.8, 1.2, "Only now")], style=BIG)
    for t in (0.2, 0.6, 1.5, 1.9):
        assert np.abs(helpers.frame_at(flat_clip, t) - helpers.frame_at(out.path, t)).max() < 8
    assert ink(helpers.frame_at(flat_clip, 1.0), helpers.frame_at(out.path, 1.0)).sum() > 200


def test_audio_is_copied(flat_clip: Path, tmp_path: Path) -> None:
    argv = build_burn_command(probe(flat_clip), tmp_path / "o.mp4", tmp_path / "s.ass")
    assert argv[argv.index("-c:a") + 1] == "copy"
    vf = argv[argv.index("-vf") + 1]
    assert vf.startswith("ass=filename=") and "fontsdir=" in vf


@pytest.mark.parametrize("text", INJECTIONS)
def test_injection_strings_render_literally(
    text: str, flat_clip: Path, tmp_path: Path, helpers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    captured: dict[str, str] = {}
    import vidassets.media.burn as burn_module

    original = burn_module.build_burn_command

    def spy(info: Any, out: Path, ass_file: Path, profile: Any = None, **kw: Any) -> list[str]:
        captured["ass"] = ass_file.read_text(encoding="utf-8")
        argv = original(info, out, ass_file, profile, **kw)
        captured["argv"] = "\n".join(argv)
        return argv

    monkeypatch.setattr(burn_module, "build_burn_command", spy)
    out = burn_subtitles(flat_clip, tmp_path / "o.mp4", cues=[Cue(0.0, 2.0, text)], style=BIG)
    # the text never reaches the command line; the ASS file holds it escaped
    assert text not in captured["argv"] and "pwned" not in captured["argv"]
    assert burn_module.ass_escape(text) in captured["ass"]
    assert "{\\b1}" not in captured["ass"].split("[Events]")[1].replace("\\{\\b1\\}", "")
    # ... and it is drawn (the frame differs from the untouched one)
    assert ink(helpers.frame_at(out.path, 1.0), helpers.frame_at(flat_clip, 1.0)).sum() > 200


def test_injection_is_drawn_as_text_not_obeyed(flat_clip: Path, tmp_path: Path, helpers: Any) -> None:
    """``{\\pos(10,10)}`` would move the line to the top-left if interpreted; literal, it stays at the bottom."""
    before = helpers.frame_at(flat_clip, 1.0)
    out = burn_subtitles(flat_clip, tmp_path / "o.mp4", cues=[Cue(0.0, 2.0, "{\\pos(10,10)}x")], style=BIG)
    top, bottom = band_ink(before, helpers.frame_at(out.path, 1.0))
    assert bottom > 100 and top == 0
    # and the literal override text is much wider than the single "x" it would reduce to
    lone = burn_subtitles(flat_clip, tmp_path / "x.mp4", cues=[Cue(0.0, 2.0, "x")], style=BIG)
    assert ink(before, helpers.frame_at(out.path, 1.0)).sum() > 4 * ink(before, helpers.frame_at(lone.path, 1.0)).sum()


@pytest.mark.parametrize("text", ["你好世界", "مرحبا بالعالم", "Ünïcødé ñ — «quotes»", "한국어 テスト"])
def test_unicode_renders(text: str, flat_clip: Path, tmp_path: Path, helpers: Any) -> None:
    out = burn_subtitles(flat_clip, tmp_path / "u.mp4", cues=[Cue(0.0, 2.0, text)], style=BIG)
    assert ink(helpers.frame_at(out.path, 1.0), helpers.frame_at(flat_clip, 1.0)).sum() > 200


@pytest.mark.parametrize("text", ["你好世界", "مرحبا"])
def test_glyphs_are_real_not_tofu(text: str, flat_clip: Path, tmp_path: Path, helpers: Any) -> None:
    """Rendering must differ clearly from the same number of characters no font has (.notdef boxes)."""
    before = helpers.frame_at(flat_clip, 1.0)
    style = subtitle_style(font_size=40)
    real = burn_subtitles(flat_clip, tmp_path / "r.mp4", cues=[Cue(0.0, 2.0, text)], style=style)
    tofu = burn_subtitles(flat_clip, tmp_path / "t.mp4", cues=[Cue(0.0, 2.0, "\ue000" * len(text))], style=style)
    real_ink = ink(before, helpers.frame_at(real.path, 1.0))
    tofu_ink = ink(before, helpers.frame_at(tofu.path, 1.0))
    assert (real_ink ^ tofu_ink).sum() > 0.5 * real_ink.sum()


def test_weird_paths_are_escaped(tmp_path: Path, flat_clip: Path) -> None:
    weird = tmp_path / "it's a [dir]; with, commas: and %"
    weird.mkdir()
    src = weird / "in put's.mp4"
    src.write_bytes(flat_clip.read_bytes())
    out = burn_subtitles(src, weird / "out, final.mp4", cues=[Cue(0.0, 1.0, "ok")])
    assert out.path.exists() and out.duration == pytest.approx(2.0, abs=0.05)


def test_works_on_video_without_audio(clip_noaudio: Path, tmp_path: Path) -> None:
    out = burn_subtitles(clip_noaudio, tmp_path / "o.mp4", cues=[Cue(0.0, 1.0, "hi")])
    assert out.has_audio and out.audio_codec == "aac"


def test_generated_clip_with_subtitles(tmp_path: Path) -> None:
    clip = render_local_clip(tmp_path / "g.mp4", prompt="demo", duration=1.0, resolution="320x180")
    out = burn_subtitles(
        clip.path, tmp_path / "s.mp4", cues=[Cue(0.1, 0.9, "caption")], style=subtitle_style("minimal")
    )
    assert out.duration == pytest.approx(1.0, abs=0.05)
