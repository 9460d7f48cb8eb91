"""replace_audio: fit rules, stream copy of the video, volume."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from vidassets.media import InvalidMediaError, MediaParamError, build_replace_audio_command, probe, replace_audio

FRAME = 1 / 24


@pytest.mark.parametrize(
    ("fit", "expected"),
    [("video", 2.0), ("shortest", 2.0), ("audio", 3.0)],
)
def test_fit_rules_with_longer_audio(fit: str, expected: float, clip_av: Path, tone_wav: Path, tmp_path: Path) -> None:
    info = replace_audio(clip_av, tone_wav, tmp_path / f"{fit}.mp4", fit=fit)  # type: ignore[arg-type]
    assert abs((info.video_duration or 0) - expected) <= FRAME + 1e-3
    assert abs(info.duration - expected) <= FRAME + 0.03
    assert info.has_audio and info.audio_codec == "aac" and info.sample_rate == 48000 and info.channels == 2


def test_fit_rules_with_shorter_audio(clip_av: Path, tmp_path: Path, helpers: Any) -> None:
    short = helpers.make_clip(tmp_path / "short.mp4", duration=1.0, tone=880)
    padded = replace_audio(clip_av, short, tmp_path / "video.mp4", fit="video")
    assert abs(padded.duration - 2.0) <= FRAME + 0.03
    assert helpers.audio_rms(padded.path, 1.2, 1.9) < 1e-3  # padded with silence
    assert helpers.audio_rms(padded.path, 0.2, 0.8) > 0.05
    shortest = replace_audio(clip_av, short, tmp_path / "shortest.mp4", fit="shortest")
    assert abs(shortest.duration - 1.0) <= FRAME + 0.03
    trimmed = replace_audio(clip_av, short, tmp_path / "audio.mp4", fit="audio")
    assert abs(trimmed.duration - 1.0) <= FRAME + 0.03


def test_fit_audio_loop_extends_video(clip_av2: Path, tone_wav: Path, tmp_path: Path) -> None:
    info = replace_audio(clip_av2, tone_wav, tmp_path / "loop.mp4", fit="audio", extend="loop")
    assert abs((info.video_duration or 0) - 3.0) <= FRAME + 1e-3


def test_video_is_stream_copied_unless_fit_audio(clip_av: Path, tone_wav: Path, tmp_path: Path) -> None:
    video, audio = probe(clip_av), probe(tone_wav, require_video=False)
    for fit in ("video", "shortest"):
        command = build_replace_audio_command(video, audio, tmp_path / "o.mp4", fit=fit)  # type: ignore[arg-type]
        assert command.video_copied
        assert command.argv[command.argv.index("-c:v") + 1] == "copy"
    command = build_replace_audio_command(video, audio, tmp_path / "o.mp4", fit="audio")
    assert not command.video_copied and "libx264" in command.argv
    # "shortest" with a shorter audio must cut the video: re-encoded for a frame-exact cut
    short_audio = replace(audio, duration=1.0, audio_duration=1.0)
    command = build_replace_audio_command(video, short_audio, tmp_path / "o.mp4", fit="shortest")
    assert not command.video_copied and command.output_duration == 1.0


def test_video_bytes_are_untouched_by_copy(clip_av: Path, tone_wav: Path, tmp_path: Path) -> None:
    import av

    def packets(path: Path) -> list[bytes]:
        with av.open(str(path)) as c:
            return [bytes(p) for p in c.demux(video=0) if p.size]

    out = replace_audio(clip_av, tone_wav, tmp_path / "o.mp4")
    assert packets(out.path) == packets(clip_av)


def test_volume_is_applied(clip_av: Path, tone_wav: Path, tmp_path: Path, helpers: Any) -> None:
    loud = replace_audio(clip_av, tone_wav, tmp_path / "loud.mp4", volume=1.0)
    quiet = replace_audio(clip_av, tone_wav, tmp_path / "quiet.mp4", volume=0.5)
    loud_rms, quiet_rms = helpers.audio_rms(loud.path, 0.2, 1.8), helpers.audio_rms(quiet.path, 0.2, 1.8)
    assert quiet_rms == pytest.approx(loud_rms * 0.5, rel=0.1)
    muted = replace_audio(clip_av, tone_wav, tmp_path / "muted.mp4", volume=0.0)
    assert helpers.audio_rms(muted.path) < 1e-4


def test_audio_from_a_video_file(clip_av: Path, clip_av2: Path, tmp_path: Path) -> None:
    info = replace_audio(clip_av, clip_av2, tmp_path / "o.mp4")
    assert abs(info.duration - 2.0) <= FRAME + 0.03


def test_bad_params(clip_av: Path, clip_noaudio: Path, tone_wav: Path, tmp_path: Path) -> None:
    with pytest.raises(MediaParamError):
        replace_audio(clip_av, tone_wav, tmp_path / "o.mp4", volume=-1)
    with pytest.raises(MediaParamError):
        replace_audio(clip_av, tone_wav, tmp_path / "o.mp4", fit="longest")  # type: ignore[arg-type]
    with pytest.raises(InvalidMediaError, match="no audio"):
        replace_audio(clip_av, clip_noaudio, tmp_path / "o.mp4")
    assert not (tmp_path / "o.mp4").exists()
