"""import_media: videos become clips, stills become clips, broken input is refused clearly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from vidassets.media import InvalidMediaError, MediaParamError, build_import_command, import_media, probe, run_ffmpeg


def test_profile_conformant_video_is_remuxed(clip_av: Path, tmp_path: Path) -> None:
    command = build_import_command(probe(clip_av), tmp_path / "o.mp4")
    assert command.mode == "remux"
    assert command.argv[command.argv.index("-c:v") + 1] == "copy"
    assert command.decode_check is not None and "-xerror" in command.decode_check
    info = import_media(clip_av, tmp_path / "o.mp4")
    assert info.duration == pytest.approx(2.0, abs=0.05)
    assert (info.video_codec, info.audio_codec, info.width, info.height) == ("h264", "aac", 320, 180)


def test_video_without_audio_gets_silent_track(clip_noaudio: Path, tmp_path: Path) -> None:
    info = import_media(clip_noaudio, tmp_path / "o.mp4")
    assert info.has_audio and info.audio_codec == "aac"
    assert info.duration == pytest.approx(2.0, abs=0.05)


def test_other_codecs_are_transcoded(tmp_path: Path) -> None:
    src = tmp_path / "in.webm"
    run_ffmpeg(
        [
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=161x91:r=25:d=1",
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-f",
            "webm",
            str(src),
        ]
    )
    command = build_import_command(probe(src), tmp_path / "o.mp4")
    assert command.mode == "transcode" and "-xerror" in command.argv
    info = import_media(src, tmp_path / "o.mp4")
    assert (info.video_codec, info.pix_fmt) == ("h264", "yuv420p")
    assert info.width % 2 == 0 and info.height % 2 == 0
    assert info.has_audio
    assert info.duration == pytest.approx(1.0, abs=0.05)


def test_still_image_becomes_clip(still_png: Path, tmp_path: Path) -> None:
    info = import_media(still_png, tmp_path / "still.mp4", still_duration=2.5)
    assert info.duration == pytest.approx(2.5, abs=1 / 24 + 0.03)
    assert (info.width, info.height) == (200, 112)  # made even
    assert info.has_audio and info.video_codec == "h264"


def test_still_duration_is_validated(still_png: Path, tmp_path: Path) -> None:
    with pytest.raises(MediaParamError):
        import_media(still_png, tmp_path / "x.mp4", still_duration=0)


@pytest.mark.parametrize("fixture", ["text_file", "truncated_mp4", "truncated_no_moov"])
def test_non_media_and_truncated_input_is_refused(fixture: str, request: Any, tmp_path: Path) -> None:
    src: Path = request.getfixturevalue(fixture)
    out = tmp_path / "o.mp4"
    with pytest.raises(InvalidMediaError) as info:
        import_media(src, out)
    assert info.value.code == "invalid_media"
    assert src.name in info.value.message or "truncated" in info.value.message
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no temp files left behind


def test_corrupt_packets_fail_the_decode_check(clip_av: Path, tmp_path: Path) -> None:
    """Header intact, payload garbled: only a full decode notices - and must refuse the import."""
    data = bytearray(clip_av.read_bytes())
    start = len(data) // 3
    for i in range(start, start + 4000):
        data[i] = 0xFF
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(bytes(data))
    with pytest.raises(InvalidMediaError):
        import_media(broken, tmp_path / "o.mp4")
    assert not (tmp_path / "o.mp4").exists()


def test_audio_only_is_refused(tone_wav: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidMediaError, match="no video"):
        import_media(tone_wav, tmp_path / "o.mp4")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidMediaError, match="not found"):
        import_media(tmp_path / "missing.mp4", tmp_path / "o.mp4")
