"""merge options: per-clip trims and volumes, audio beds under the clips (offset, volume, fades,
ducking, limiting), on real ffmpeg with lavfi clips and tones measured from the decoded output."""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from tests.frames import frame_at
from vidassets.media import (
    InvalidMediaError,
    MediaInfo,
    MediaParamError,
    RunResult,
    Transition,
    build_merge_command,
    default_profile,
    merge,
    plan_merge,
    run_ffmpeg,
)
from vidassets.media.mix import AudioBed, ClipOptions

PROFILE = default_profile()
# ``vidassets.media.merge`` the attribute is the function; the module is needed for monkeypatching
merge_module = importlib.import_module("vidassets.media.merge")
RATE = 48000
FRAME = 1 / 24


# ------------------------------------------------------------------ media


def tone_clip(out: Path, *, amp: float, freq: int, duration: float) -> Path:
    """320x180 24 fps grey picture with a stereo sine of peak ``amp`` (like the conftest clips)."""
    run_ffmpeg([
        "-f", "lavfi", "-i", f"color=gray:s=320x180:r=24:d={duration}",
        "-f", "lavfi", "-i", f"aevalsrc={amp}*sin(2*PI*{freq}*t):s={RATE}:c=stereo:d={duration}",
        "-map", "0:v:0", "-map", "1:a:0", *PROFILE.audio_args(), *PROFILE.video_args(),
        *PROFILE.container_args(), str(out),
    ])  # fmt: skip
    return out


def tone_wav(out: Path, *, amp: float, freq: int, duration: float, rate: int = 44100) -> Path:
    """A mono WAV sine: an audio-only bed in another sample rate and layout than the profile's."""
    run_ffmpeg(["-f", "lavfi", "-i", f"aevalsrc={amp}*sin(2*PI*{freq}*t):s={rate}:d={duration}",
                "-c:a", "pcm_s16le", "-f", "wav", str(out)])
    return out


@pytest.fixture(scope="module")
def mix_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mix")


@pytest.fixture(scope="module")
def speech(mix_dir: Path) -> Path:
    """2 s, 1 kHz at peak 0.14 (about -20 dBFS RMS, a normal speech level)."""
    return tone_clip(mix_dir / "speech.mp4", amp=0.14, freq=1000, duration=2.0)


@pytest.fixture(scope="module")
def quarter(mix_dir: Path) -> Path:
    """1.5 s, 440 Hz at peak 0.25."""
    return tone_clip(mix_dir / "quarter.mp4", amp=0.25, freq=440, duration=1.5)


@pytest.fixture(scope="module")
def loud(mix_dir: Path) -> Path:
    """1.5 s, 440 Hz at peak 0.9."""
    return tone_clip(mix_dir / "loud.mp4", amp=0.9, freq=440, duration=1.5)


@pytest.fixture(scope="module")
def music(mix_dir: Path) -> Path:
    """5 s, 300 Hz at peak 0.25, mono 44.1 kHz (heard at peak 0.25 on each channel, not 3 dB less)."""
    return tone_wav(mix_dir / "music.wav", amp=0.25, freq=300, duration=5.0)


@pytest.fixture(scope="module")
def short_music(mix_dir: Path) -> Path:
    """1 s, 300 Hz at peak 0.25."""
    return tone_wav(mix_dir / "short.wav", amp=0.25, freq=300, duration=1.0)


# ---------------------------------------------------------------- readers


def samples(path: Path) -> np.ndarray:
    """The first channel of the decoded audio, float, indexed from t=0 at 48 kHz."""
    chunks: list[np.ndarray] = []
    start: float | None = None
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            assert frame.sample_rate == RATE
            if start is None:
                start = float(frame.time or 0.0)
            data = frame.to_ndarray()
            if frame.format.is_packed:
                data = data.reshape(-1, len(frame.layout.channels)).T
            chunks.append(data[0].astype(np.float64))
    assert start is not None and abs(start) < 1e-3, f"audio starts at {start}"
    return np.concatenate(chunks)


def window(x: np.ndarray, start: float, end: float) -> np.ndarray:
    seg = x[int(start * RATE):int(end * RATE)]
    assert len(seg) > 0.9 * (end - start) * RATE, "window past the end of the audio"
    return seg


def db(value: float) -> float:
    return 20 * math.log10(max(value, 1e-9))


def tone_db(x: np.ndarray, freq: float, start: float, end: float) -> float:
    """Peak amplitude (dBFS) of the ``freq`` sine in ``[start, end)``: a Hann-windowed projection,
    so another tone in the mix (a clip's, a bed's) does not count."""
    seg = window(x, start, end)
    hann = np.hanning(len(seg))
    t = np.arange(len(seg)) / RATE
    amplitude = 2 * abs(np.sum(seg * hann * np.exp(-2j * np.pi * freq * t))) / hann.sum()
    return db(float(amplitude))


def rms_db(x: np.ndarray, start: float, end: float) -> float:
    seg = window(x, start, end)
    return db(float(np.sqrt(np.mean(seg**2))))


def near(info: MediaInfo, expected: float) -> None:
    assert abs((info.video_duration or 0) - expected) <= FRAME + 1e-3, (info.video_duration, expected)
    assert abs((info.audio_duration or 0) - expected) <= 0.05, (info.audio_duration, expected)
    assert abs(info.duration - expected) <= FRAME + 0.03, (info.duration, expected)


def diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean())


# ----------------------------------------------------------------- trims


def test_trims_change_durations_and_keep_each_clip_start(clip_av: Path, clip_av2: Path, tmp_path: Path) -> None:
    out = tmp_path / "trim.mp4"
    info = merge([clip_av, clip_av2], out, clips=[ClipOptions(trim=1.0), ClipOptions(trim=0.75)])
    near(info, 1.75)
    # 1.2 s into the output is 0.2 s into the second clip: the first was cut at 1.0 s
    shown = frame_at(out, 1.2)
    assert diff(shown, frame_at(clip_av2, 0.2)) < 8 < diff(shown, frame_at(clip_av, 1.2))
    assert diff(frame_at(out, 0.9), frame_at(clip_av, 0.9)) < 8


def test_trims_with_transitions_overlap_the_trimmed_clips(
    clip_av: Path, clip_av2: Path, clip_square30: Path, tmp_path: Path
) -> None:
    clips = [ClipOptions(trim=1.25), ClipOptions(), ClipOptions(trim=1.0)]
    info = merge([clip_av, clip_av2, clip_square30], tmp_path / "x.mp4", clips=clips,
                 transition={"type": "crossfade", "duration": 0.5})
    near(info, 1.25 + 1.5 + 1.0 - 2 * 0.5)


def test_transition_too_long_for_a_trimmed_clip(clip_av: Path, clip_av2: Path, tmp_path: Path) -> None:
    with pytest.raises(MediaParamError, match="too long for input 1"):
        merge([clip_av, clip_av2], tmp_path / "o.mp4", clips=[ClipOptions(trim=0.4), ClipOptions()],
              transition={"type": "fade", "duration": 0.5})
    assert not (tmp_path / "o.mp4").exists()


def test_trim_is_rounded_to_the_frame_and_longer_trims_keep_the_whole_clip(
    clip_av: Path, clip_av2: Path, tmp_path: Path
) -> None:
    plain = plan_merge([clip_av, clip_av2], tmp_path / "o.mp4")
    assert plain.stream_copy
    whole = plan_merge([clip_av, clip_av2], tmp_path / "o.mp4", clips=[ClipOptions(trim=9), ClipOptions(trim=1.5)])
    assert whole.argv == plain.argv
    cut = plan_merge([clip_av, clip_av2], tmp_path / "o.mp4", clips=[ClipOptions(trim=1.01), ClipOptions()])
    assert not cut.stream_copy
    assert cut.output_duration == pytest.approx(24 / 24 + 1.5)
    assert "trim=end_frame=24" in cut.argv[cut.argv.index("-filter_complex") + 1]


# ---------------------------------------------------------------- volume


@pytest.mark.parametrize("volume", [0.5, 2.0])
def test_clip_volume_scales_its_sound(volume: float, quarter: Path, tmp_path: Path) -> None:
    out = tmp_path / "vol.mp4"
    info = merge([quarter, quarter], out, clips=[ClipOptions(volume=volume), ClipOptions()])
    near(info, 3.0)
    x = samples(out)
    scaled, reference = tone_db(x, 440, 0.3, 1.2), tone_db(x, 440, 1.8, 2.7)
    assert reference == pytest.approx(db(0.25), abs=0.5)
    assert scaled - reference == pytest.approx(db(volume), abs=0.5)


def test_muted_clip(quarter: Path, tmp_path: Path) -> None:
    out = tmp_path / "mute.mp4"
    merge([quarter, quarter], out, clips=[ClipOptions(volume=0), ClipOptions()])
    x = samples(out)
    assert rms_db(x, 0.05, 1.4) < -60 < tone_db(x, 440, 1.8, 2.7)


# ------------------------------------------------------------------ beds


def test_bed_starts_at_its_offset_and_is_cut_at_the_video_end(
    clip_noaudio: Path, music: Path, tmp_path: Path
) -> None:
    out = tmp_path / "bed.mp4"
    info = merge([clip_noaudio], out, beds=[AudioBed(music, offset=1.0)])
    near(info, 2.0)  # the 5 s bed does not lengthen the 2 s video
    x = samples(out)
    assert rms_db(x, 0.0, 0.95) < -60
    assert tone_db(x, 300, 1.1, 1.95) == pytest.approx(db(0.25), abs=1.0)


def test_bed_volume_and_fades(clip_noaudio: Path, music: Path, tmp_path: Path) -> None:
    out = tmp_path / "fades.mp4"
    info = merge([clip_noaudio], out, beds=[AudioBed(music, volume=0.5, fade_in=0.5, fade_out=0.5)])
    near(info, 2.0)
    x = samples(out)
    steady = tone_db(x, 300, 0.6, 1.4)
    assert steady == pytest.approx(db(0.125), abs=1.0)
    assert rms_db(x, 0.0, 0.1) < rms_db(x, 0.6, 1.4) - 10  # fading in
    # the fade-out ends at the video's end (2 s), not at the bed's (5 s)
    assert rms_db(x, 1.9, 1.98) < rms_db(x, 0.6, 1.4) - 10


def test_short_bed_stops_where_it_ends(clip_noaudio: Path, short_music: Path, tmp_path: Path) -> None:
    out = tmp_path / "short.mp4"
    info = merge([clip_noaudio], out, beds=[AudioBed(short_music, offset=0.5)])
    near(info, 2.0)
    x = samples(out)
    assert tone_db(x, 300, 0.6, 1.4) == pytest.approx(db(0.25), abs=1.0)
    assert rms_db(x, 1.6, 1.95) < -60


def test_two_beds_mix_without_normalising(clip_noaudio: Path, music: Path, short_music: Path,
                                          tmp_path: Path) -> None:
    out = tmp_path / "two.mp4"
    merge([clip_noaudio], out, beds=[AudioBed(music), AudioBed(short_music, offset=1.0, volume=0)],
          duck=False)
    x = samples(out)
    # amix's default would divide each input by 2 (-6 dB)
    assert tone_db(x, 300, 0.1, 0.9) == pytest.approx(db(0.25), abs=1.0)


@pytest.mark.parametrize("duck", [True, False])
def test_ducking_lowers_the_bed_under_the_clips_sound(
    duck: bool, speech: Path, clip_noaudio: Path, music: Path, tmp_path: Path
) -> None:
    out = tmp_path / f"duck{duck}.mp4"
    info = merge([speech, clip_noaudio], out, beds=[AudioBed(music)], duck=duck)
    near(info, 4.0)
    x = samples(out)
    under_speech, in_silence = tone_db(x, 300, 0.5, 1.5), tone_db(x, 300, 2.8, 3.8)
    assert in_silence == pytest.approx(db(0.25), abs=1.0)
    if duck:
        assert 4 <= in_silence - under_speech <= 14
    else:
        assert abs(in_silence - under_speech) < 1
    assert tone_db(x, 1000, 0.5, 1.5) == pytest.approx(db(0.14), abs=1.0)  # the clip's sound is kept


def test_no_ducking_without_clip_sound(clip_noaudio: Path, music: Path, tmp_path: Path) -> None:
    command = plan_merge([clip_noaudio], tmp_path / "o.mp4", beds=[AudioBed(music)])
    graph = command.argv[command.argv.index("-filter_complex") + 1]
    assert "sidechaincompress" not in graph and "amix=inputs=2" in graph and "normalize=0" in graph


def test_loud_mix_is_limited(loud: Path, music: Path, tmp_path: Path) -> None:
    out = tmp_path / "loud.mp4"
    merge([loud], out, clips=[ClipOptions(volume=2.0)], beds=[AudioBed(music, volume=2.0)], duck=False)
    x = samples(out)
    peak = float(np.abs(x).max())
    assert 0.6 < peak <= 1.0  # loud, but no sample past full scale (without the limiter: ~2.3)


def test_options_render_in_one_ffmpeg_run(
    clip_av: Path, clip_av2: Path, music: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []
    real: Callable[..., RunResult] = merge_module.run_ffmpeg

    def counting(argv: list[str], **kwargs: Any) -> RunResult:
        calls.append(list(argv))
        return real(argv, **kwargs)

    monkeypatch.setattr(merge_module, "run_ffmpeg", counting)
    out = tmp_path / "one.mp4"
    info = merge([clip_av, clip_av2], out, transition="crossfade", clips=[ClipOptions(trim=1.5, volume=0.8),
                 ClipOptions()], beds=[AudioBed(music, offset=0.5, volume=0.4, fade_out=0.3)])
    near(info, 1.5 + 1.5 - 0.5)
    assert len(calls) == 1
    assert "-filter_complex" in calls[0] and "copy" not in calls[0]


# ---------------------------------------------------- plain merge unchanged


def fake_info(name: str, **overrides: Any) -> MediaInfo:
    base = MediaInfo(path=Path(f"/media/{name}"), duration=2.0, width=320, height=180, fps=24.0, video_codec="h264",
                     audio_codec="aac", has_audio=True, rotation=0, pix_fmt="yuv420p", size_bytes=1000,
                     format_name="mov,mp4,m4a,3gp,3g2,mj2", video_duration=2.0, audio_duration=2.0,
                     sample_rate=48000, channels=2, video_profile="High")
    return replace(base, **overrides)


@pytest.mark.parametrize("transition", [Transition("cut"), Transition("dissolve", 0.5)])
def test_options_that_change_nothing_give_the_plain_command(transition: Transition, tmp_path: Path) -> None:
    infos = [fake_info("a.mp4"), fake_info("b.mp4", fps=30.0)]
    plain = build_merge_command(infos, tmp_path / "o.mp4", transition)
    same = build_merge_command(infos, tmp_path / "o.mp4", transition,
                               clips=[ClipOptions(volume=1.0), ClipOptions(trim=2.5)], beds=())
    assert same == plain


def test_options_force_a_reencode_of_compatible_clips(tmp_path: Path) -> None:
    infos = [fake_info("a.mp4"), fake_info("b.mp4")]
    assert build_merge_command(infos, tmp_path / "o.mp4").stream_copy
    command = build_merge_command(infos, tmp_path / "o.mp4", clips=[ClipOptions(volume=0.5), ClipOptions()])
    graph = command.argv[command.argv.index("-filter_complex") + 1]
    assert not command.stream_copy and "volume=0.5" in graph and "alimiter" not in graph
    loud = build_merge_command(infos, tmp_path / "o.mp4", clips=[ClipOptions(volume=1.5), ClipOptions()])
    assert "alimiter" in loud.argv[loud.argv.index("-filter_complex") + 1]


# ------------------------------------------------------------ validation


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ClipOptions(trim=0), "trim"),
        (lambda: ClipOptions(trim=-1), "trim"),
        (lambda: ClipOptions(trim=float("nan")), "trim"),
        (lambda: ClipOptions(volume=2.5), "volume"),
        (lambda: ClipOptions(volume=-0.1), "volume"),
        (lambda: AudioBed(Path("m.wav"), offset=-1), "offset"),
        (lambda: AudioBed(Path("m.wav"), offset=float("inf")), "offset"),
        (lambda: AudioBed(Path("m.wav"), volume=3), "volume"),
        (lambda: AudioBed(Path("m.wav"), fade_in=-0.5), "fade_in"),
        (lambda: AudioBed(Path("m.wav"), fade_out=float("nan")), "fade_out"),
    ],
)
def test_bad_options_are_refused(make: Callable[[], object], message: str) -> None:
    with pytest.raises(MediaParamError, match=message):
        make()


def test_bed_starting_after_the_end_is_refused(clip_av: Path, clip_av2: Path, music: Path, tmp_path: Path) -> None:
    beds = [AudioBed(music), AudioBed(music, offset=3.5)]  # the clips last 2 + 1.5 s
    with pytest.raises(MediaParamError, match=r"audio bed 2 \(music.wav\) starts at 3.5s"):
        merge([clip_av, clip_av2], tmp_path / "o.mp4", beds=beds)
    with pytest.raises(MediaParamError, match="audio bed 1"):  # trims shorten the video under it
        merge([clip_av, clip_av2], tmp_path / "o.mp4", beds=[AudioBed(music, offset=2.0)],
              clips=[ClipOptions(trim=1), ClipOptions(trim=1)])
    assert not (tmp_path / "o.mp4").exists()


def test_clip_options_must_match_the_inputs(clip_av: Path, tmp_path: Path) -> None:
    with pytest.raises(MediaParamError, match="options for 2 clips but 1"):
        merge([clip_av], tmp_path / "o.mp4", clips=[ClipOptions(), ClipOptions()])


def test_bed_without_sound_is_invalid_media(clip_av: Path, clip_noaudio: Path, text_file: Path,
                                            tmp_path: Path) -> None:
    with pytest.raises(InvalidMediaError, match="no audio stream"):
        merge([clip_av], tmp_path / "o.mp4", beds=[AudioBed(clip_noaudio)])
    with pytest.raises(InvalidMediaError):
        merge([clip_av], tmp_path / "o.mp4", beds=[AudioBed(text_file)])
