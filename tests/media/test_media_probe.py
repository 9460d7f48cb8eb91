"""probe(): metadata of generated files and clean failures on non-media."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidassets.media import InvalidMediaError, MediaInfo, probe, run_ffmpeg


def test_probe_clip_with_audio(clip_av: Path) -> None:
    info = probe(clip_av)
    assert isinstance(info, MediaInfo)
    assert info.duration == pytest.approx(2.0, abs=0.05)
    assert (info.width, info.height) == (320, 180)
    assert info.fps == pytest.approx(24.0)
    assert info.video_codec == "h264"
    assert info.audio_codec == "aac"
    assert info.has_audio is True
    assert info.sample_rate == 48000 and info.channels == 2
    assert info.pix_fmt == "yuv420p"
    assert info.rotation == 0
    assert info.size_bytes == clip_av.stat().st_size
    assert "mp4" in info.format_name
    assert info.aspect_ratio == pytest.approx(16 / 9)


def test_probe_clip_without_audio(clip_noaudio: Path) -> None:
    info = probe(clip_noaudio)
    assert info.has_audio is False
    assert info.audio_codec is None
    assert info.duration == pytest.approx(2.0, abs=0.05)


def test_probe_other_size_and_rate(clip_square30: Path) -> None:
    info = probe(clip_square30)
    assert (info.width, info.height, info.fps) == (240, 240, 30.0)
    assert info.duration == pytest.approx(1.5, abs=0.05)


def test_probe_rotation_swaps_display_dims(tmp_path: Path, clip_av: Path) -> None:
    rotated = tmp_path / "rotated.mp4"
    run_ffmpeg(["-display_rotation", "90", "-i", str(clip_av), "-c", "copy", "-f", "mp4", str(rotated)])
    info = probe(rotated)
    assert info.rotation in (90, 270)
    assert (info.width, info.height) == (320, 180)
    assert (info.display_width, info.display_height) == (180, 320)
    assert info.aspect_ratio == pytest.approx(9 / 16)


def test_probe_still_image(still_png: Path) -> None:
    info = probe(still_png)
    assert info.is_still and info.duration == 0.0
    assert (info.width, info.height) == (201, 113)


def test_probe_audio_only(tone_wav: Path) -> None:
    with pytest.raises(InvalidMediaError, match="no video stream"):
        probe(tone_wav)
    info = probe(tone_wav, require_video=False)
    assert info.has_audio and not info.has_video
    assert info.duration == pytest.approx(3.0, abs=0.05)


def test_probe_text_file_is_invalid(text_file: Path) -> None:
    with pytest.raises(InvalidMediaError) as info:
        probe(text_file)
    assert info.value.code == "invalid_media"
    assert "not a readable media file" in info.value.message


def test_probe_truncated_faststart_mp4_is_invalid(truncated_mp4: Path) -> None:
    with pytest.raises(InvalidMediaError, match="truncated"):
        probe(truncated_mp4)


def test_probe_truncated_mp4_without_index_is_invalid(truncated_no_moov: Path) -> None:
    with pytest.raises(InvalidMediaError):
        probe(truncated_no_moov)


def test_probe_missing_and_empty(tmp_path: Path) -> None:
    with pytest.raises(InvalidMediaError, match="not found"):
        probe(tmp_path / "nope.mp4")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(InvalidMediaError, match="empty"):
        probe(empty)


def test_cover_art_is_not_the_picture_of_an_audio_file(tmp_path: Path) -> None:
    """Music files carry their artwork as a one-picture 'video' stream (attached_pic): it is audio."""
    bare, covered = tmp_path / "bare.mp3", tmp_path / "music.mp3"
    run_ffmpeg(["-f", "lavfi", "-i", "sine=frequency=660:duration=2", "-c:a", "libmp3lame", str(bare)])
    cover = tmp_path / "cover.jpg"
    run_ffmpeg(["-f", "lavfi", "-i", "color=c=red:s=64x64", "-frames:v", "1", str(cover)])
    run_ffmpeg(["-i", str(bare), "-i", str(cover), "-map", "0:a", "-map", "1:v", "-c:a", "copy", "-c:v", "mjpeg",
                "-disposition:v", "attached_pic", "-id3v2_version", "3", str(covered)])
    info = probe(covered, require_video=False)
    assert not info.has_video and info.has_audio and (info.width, info.height) == (0, 0)
    assert abs(info.duration - 2.0) < 0.1
