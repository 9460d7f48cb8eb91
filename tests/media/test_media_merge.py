"""merge: stream copy when possible, normalisation otherwise, transition arithmetic and validation."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from vidassets.media import (
    MediaInfo,
    MediaParamError,
    Transition,
    build_merge_command,
    default_profile,
    merge,
    plan_merge,
    probe,
)


def fake_info(name: str, **overrides: Any) -> MediaInfo:
    """A MediaInfo as a probe of one of our own 320x180 clips would return (for argv tests)."""
    base = MediaInfo(
        path=Path(f"/media/{name}"),
        duration=2.0,
        width=320,
        height=180,
        fps=24.0,
        video_codec="h264",
        audio_codec="aac",
        has_audio=True,
        rotation=0,
        pix_fmt="yuv420p",
        size_bytes=1000,
        format_name="mov,mp4,m4a,3gp,3g2,mj2",
        video_duration=2.0,
        audio_duration=2.0,
        sample_rate=48000,
        channels=2,
        video_profile="High",
    )
    return replace(base, **overrides)


# ------------------------------------------------------------------ Transition


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, Transition("cut")),
        ("crossfade", Transition("crossfade", 0.5)),
        ("CUT", Transition("cut")),
        ({"type": "fade", "duration": 1}, Transition("fade", 1.0)),
        ({"type": "wipe", "duration": "0.25"}, Transition("wipe", 0.25)),
        ("none", Transition("cut")),
    ],
)
def test_transition_parse(value: Any, expected: Transition) -> None:
    assert Transition.parse(value) == expected


@pytest.mark.parametrize("value", ["spin", {"type": "fade", "duration": -1}, {"type": "fade", "duration": "x"}, 42])
def test_transition_parse_rejects(value: Any) -> None:
    with pytest.raises(MediaParamError):
        Transition.parse(value)


# ---------------------------------------------------------------- pure argv


def test_compatible_cut_uses_concat_demuxer_with_stream_copy(tmp_path: Path) -> None:
    infos = [fake_info("a.mp4"), fake_info("b.mp4", duration=1.5, video_duration=1.5), fake_info("c'q.mp4")]
    command = build_merge_command(
        infos, tmp_path / "out.mp4", Transition("cut"), default_profile(), list_path=tmp_path / "l.txt"
    )
    assert command.stream_copy is True
    argv = command.argv
    assert argv[argv.index("-f") + 1] == "concat"
    assert argv[argv.index("-c") + 1] == "copy"
    assert "-filter_complex" not in argv and "libx264" not in argv
    assert command.output_duration == pytest.approx(5.5)
    assert command.concat_list is not None
    assert "file '/media/c'\\''q.mp4'" in command.concat_list  # quote escaped ffconcat-style


@pytest.mark.parametrize(
    "change",
    [
        {"width": 640, "height": 360},
        {"fps": 30.0},
        {"has_audio": False, "audio_codec": None},
        {"video_codec": "hevc"},
        {"pix_fmt": "yuv444p"},
        {"sample_rate": 44100},
        {"video_profile": "Main"},
        {"rotation": 90},
    ],
)
def test_incompatible_inputs_are_reencoded(change: dict[str, Any], tmp_path: Path) -> None:
    infos = [fake_info("a.mp4"), fake_info("b.mp4", **change)]
    command = build_merge_command(infos, tmp_path / "out.mp4")
    assert command.stream_copy is False
    assert "copy" not in command.argv
    graph = command.argv[command.argv.index("-filter_complex") + 1]
    assert "concat=n=2:v=1:a=1" in graph
    first, second = graph.split(";[1:v:0]")
    # the first clip sets the target and is not touched; the second gets only what differs
    assert "scale=" not in first.split(";")[0] and "fps=" not in first.split(";")[0]
    if "width" in change or "rotation" in change:
        assert "scale=320:180" in second and "pad=320:180" in second
    if "fps" in change:
        assert "fps=24" in second
    if "pix_fmt" in change:
        assert "format=yuv420p" in second
    if "has_audio" in change:
        assert "anullsrc=r=48000:cl=stereo" in graph
    if "sample_rate" in change:
        assert "aresample=48000" in graph


def test_transition_builds_xfade_chain(tmp_path: Path) -> None:
    infos = [fake_info("a.mp4"), fake_info("b.mp4", video_duration=3.0, duration=3.0), fake_info("c.mp4")]
    command = build_merge_command(infos, tmp_path / "o.mp4", Transition("dissolve", 0.5))
    graph = command.argv[command.argv.index("-filter_complex") + 1]
    assert command.stream_copy is False
    assert "xfade=transition=dissolve:duration=0.5:offset=1.5" in graph
    assert "xfade=transition=dissolve:duration=0.5:offset=4" in graph
    assert graph.count("acrossfade=d=0.5") == 2
    assert command.output_duration == pytest.approx(7.0 - 2 * 0.5)


def test_transition_longer_than_clip_is_refused(tmp_path: Path) -> None:
    infos = [fake_info("a.mp4"), fake_info("b.mp4", duration=0.8, video_duration=0.8)]
    with pytest.raises(MediaParamError, match="too long"):
        build_merge_command(infos, tmp_path / "o.mp4", Transition("crossfade", 1.0))
    # a middle clip takes part in two transitions
    infos = [fake_info("a.mp4"), fake_info("b.mp4", duration=1.5, video_duration=1.5), fake_info("c.mp4")]
    with pytest.raises(MediaParamError, match="input 2"):
        build_merge_command(infos, tmp_path / "o.mp4", Transition("fade", 1.0))


def test_merge_needs_inputs(tmp_path: Path) -> None:
    with pytest.raises(MediaParamError):
        build_merge_command([], tmp_path / "o.mp4")


# -------------------------------------------------------------------- real


def test_cut_merge_of_compatible_clips_stream_copies(clip_av: Path, clip_av2: Path, tmp_path: Path) -> None:
    out = tmp_path / "cut.mp4"
    plan = plan_merge([clip_av, clip_av2], out)
    assert plan.stream_copy is True
    info = merge([clip_av, clip_av2], out)
    expected = probe(clip_av).video_duration + probe(clip_av2).video_duration  # type: ignore[operator]
    assert abs((info.video_duration or 0) - expected) <= 1 / 24 + 1e-3
    assert abs(info.duration - expected) <= 1 / 24 + 1e-3
    assert (info.width, info.height, info.has_audio) == (320, 180, True)


def test_cut_merge_normalises_mixed_inputs(
    clip_av: Path, clip_noaudio: Path, clip_square30: Path, tmp_path: Path
) -> None:
    inputs = [clip_av, clip_square30, clip_noaudio]
    assert plan_merge(inputs, tmp_path / "o.mp4").stream_copy is False
    info = merge(inputs, tmp_path / "mixed.mp4")
    assert (info.width, info.height) == (320, 180)
    assert info.fps == pytest.approx(24.0)
    assert info.has_audio and info.audio_codec == "aac"
    assert abs(info.duration - (2.0 + 1.5 + 2.0)) <= 1 / 24 + 1e-3
    assert abs((info.audio_duration or 0) - (info.video_duration or 0)) <= 0.05


@pytest.mark.parametrize("kind", ["crossfade", "wipe"])
def test_transition_merge_duration(
    kind: str, clip_av: Path, clip_av2: Path, clip_square30: Path, tmp_path: Path
) -> None:
    inputs = [clip_av, clip_av2, clip_square30]
    info = merge(inputs, tmp_path / f"{kind}.mp4", transition={"type": kind, "duration": 0.5})
    expected = 2.0 + 1.5 + 1.5 - 2 * 0.5
    assert abs((info.video_duration or 0) - expected) <= 1 / 24 + 1e-3
    assert abs(info.duration - expected) <= 1 / 24 + 0.03
    assert info.has_audio


def test_transition_longer_than_real_clip_is_refused(clip_av: Path, clip_av2: Path, tmp_path: Path) -> None:
    with pytest.raises(MediaParamError):
        merge([clip_av, clip_av2], tmp_path / "o.mp4", transition={"type": "fade", "duration": 1.8})
    assert not (tmp_path / "o.mp4").exists()
