"""EBU R128 loudness as ffmpeg measures it, against what BS.1770 predicts for known signals.

A full-scale 1 kHz sine in one channel reads -3.01 LUFS (the -0.691 dB constant cancels the
K-weighting's gain at 1 kHz), so a sine peaking at -20 dBFS reads -23.01 LUFS, and the same sine
in both channels of a stereo file doubles the power: -20.0 LUFS.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from vidassets.media import FFmpegError, MediaError, run_ffmpeg
from vidassets.media.loudness import SILENCE_LUFS, build_loudness_command, measure_loudness, parse_loudness


def _sine(out: Path, *, amplitude: float, seconds: float = 3.0, stereo: bool = False, codec: str = "pcm_s16le") -> Path:
    """A 1 kHz sine peaking at ``amplitude`` (1.0 = full scale); lavfi's ``sine`` is fixed at 1/8."""
    layout = "stereo" if stereo else "mono"
    expr = f"{amplitude}*sin(2*PI*1000*t)"
    source = f"aevalsrc={expr}|{expr}:s=48000:c={layout}:d={seconds}" if stereo else f"aevalsrc={expr}:s=48000:d={seconds}"
    run_ffmpeg(["-f", "lavfi", "-i", source, "-c:a", codec, str(out)])
    return out


def test_a_minus_20_dbfs_sine_reads_what_bs1770_predicts(tmp_path: Path) -> None:
    loudness = measure_loudness(_sine(tmp_path / "sine.wav", amplitude=0.1))
    assert abs(loudness.integrated_lufs - (-23.01)) <= 1.5, loudness
    assert loudness.true_peak_dbfs is not None and abs(loudness.true_peak_dbfs - (-20.0)) <= 0.5, loudness
    assert abs(loudness.duration - 3.0) < 0.05 and not loudness.silent


def test_stereo_doubles_the_power_and_a_lossy_encode_keeps_the_level(tmp_path: Path) -> None:
    stereo = measure_loudness(_sine(tmp_path / "stereo.wav", amplitude=0.1, stereo=True))
    assert abs(stereo.integrated_lufs - (-20.0)) <= 1.5, stereo
    mp3 = measure_loudness(_sine(tmp_path / "sine.mp3", amplitude=0.1, codec="libmp3lame"))
    assert abs(mp3.integrated_lufs - (-23.01)) <= 1.5, mp3


def test_louder_input_measures_louder_by_the_gain(tmp_path: Path) -> None:
    quiet = measure_loudness(_sine(tmp_path / "quiet.wav", amplitude=0.05))
    loud = measure_loudness(_sine(tmp_path / "loud.wav", amplitude=0.5))
    assert abs((loud.integrated_lufs - quiet.integrated_lufs) - 20.0) <= 0.5, (quiet, loud)


def test_silence_is_the_floor_not_an_error(tmp_path: Path) -> None:
    silent = tmp_path / "silent.wav"
    run_ffmpeg(["-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono:d=2", "-c:a", "pcm_s16le", str(silent)])
    loudness = measure_loudness(silent)
    assert loudness.integrated_lufs == SILENCE_LUFS and loudness.silent
    assert loudness.true_peak_dbfs == float("-inf")
    assert abs(loudness.duration - 2.0) < 0.05


def test_no_audio_stream_raises_a_media_error(tmp_path: Path) -> None:
    still = tmp_path / "still.png"
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc=s=64x64", "-frames:v", "1", str(still)])
    with pytest.raises(MediaError):
        measure_loudness(still)


SUMMARY = """[Parsed_ebur128_0 @ 0x1] Summary:

  Integrated loudness:
    I:         {i} LUFS
    Threshold: -33.0 LUFS

  Loudness range:
    LRA:         0.0 LU
    Threshold:   0.0 LUFS
    LRA low:     0.0 LUFS
    LRA high:    0.0 LUFS
{peak}
[out#0/null @ 0x2] video:0KiB audio:281KiB
size=N/A time=00:01:02.50 bitrate=N/A speed= 188x
"""


def test_parse_reads_the_last_summary_and_older_builds_infinities() -> None:
    peak = "\n  True peak:\n    Peak:       -1.5 dBFS"
    # A tag printed at the start ("I: ... LUFS" in a title) must not be taken for the measurement.
    text = "    title: Summary:\n    I:   -1.0 LUFS\n" + SUMMARY.format(i="-16.4", peak=peak)
    parsed = parse_loudness(text)
    assert (parsed.integrated_lufs, parsed.true_peak_dbfs, parsed.duration) == (-16.4, -1.5, 62.5)
    old = parse_loudness(SUMMARY.format(i="-inf", peak="\n  True peak:\n    Peak:       -inf dBFS"))
    assert old.integrated_lufs == SILENCE_LUFS and old.true_peak_dbfs == float("-inf")
    no_peak = parse_loudness(SUMMARY.format(i="-23.0", peak=""))
    assert no_peak.true_peak_dbfs is None and no_peak.integrated_lufs == -23.0


def test_parse_without_a_summary_raises() -> None:
    with pytest.raises(FFmpegError):
        parse_loudness("[in#0] Error opening input\n")


def test_command_maps_only_audio_and_keeps_the_summary_level() -> None:
    argv = build_loudness_command(Path("/tmp/x.wav"))
    assert argv[argv.index("-map") + 1] == "0:a:0" and "ebur128=peak=true:framelog=quiet" in argv
    assert argv[argv.index("-loglevel") + 1].endswith("info")
