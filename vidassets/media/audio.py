"""Replacing a video's audio track (the ``lipSync`` operation without a lip-sync model).

``fit`` decides the output length:

* ``"video"`` (default): the video's length; the new audio is trimmed or
  padded with silence (``apad``) to match. Video is stream-copied.
* ``"shortest"``: the shorter of the two. When the audio is at least as long
  as the video this is ``"video"`` (stream copy). When the video must be cut
  it is re-encoded: a stream copy can only stop at a packet boundary, and with
  B-frames (x264's default) ``-t`` overshoots and ``-shortest`` undershoots by
  up to a few frames, while a re-encode cuts on the exact frame.
* ``"audio"``: the audio's length. The video must change, so it is
  re-encoded: ``extend="freeze"`` holds the last frame (``tpad``),
  ``extend="loop"`` repeats the video (``-stream_loop``); a longer video is
  trimmed.

Audio is always re-encoded with the profile because ``volume`` must be applied
and the result must be AAC 48 kHz stereo.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from .errors import InvalidMediaError, MediaParamError
from .files import atomic_output, local_input
from .filters import fmt_num
from .graph import FilterGraph, Stream
from .probe import MediaInfo, probe
from .profile import EncoderProfile, default_profile
from .runner import ProgressCallback, run_ffmpeg
from .streams import square_pixels

Fit = Literal["shortest", "video", "audio"]
Extend = Literal["freeze", "loop"]
MAX_VOLUME = 10.0


@dataclass(frozen=True)
class ReplaceAudioCommand:
    argv: list[str]
    output_duration: float
    video_copied: bool


def _duration(info: MediaInfo, kind: str) -> float:
    value = (info.video_duration if kind == "video" else info.audio_duration) or info.duration
    if value <= 0:
        raise InvalidMediaError(f"{info.path.name}: could not determine the {kind} duration")
    return value


def build_replace_audio_command(
    video: MediaInfo,
    audio: MediaInfo,
    out: Path,
    *,
    volume: float = 1.0,
    fit: Fit = "video",
    extend: Extend = "freeze",
    profile: EncoderProfile | None = None,
) -> ReplaceAudioCommand:
    """Pure: the command putting ``audio``'s first audio stream on ``video``'s picture."""
    profile = profile or default_profile()
    if fit not in ("shortest", "video", "audio"):
        raise MediaParamError(f"fit must be 'shortest', 'video' or 'audio', got {fit!r}")
    if extend not in ("freeze", "loop"):
        raise MediaParamError(f"extend must be 'freeze' or 'loop', got {extend!r}")
    if not 0 <= volume <= MAX_VOLUME:
        raise MediaParamError(f"volume must be within 0..{MAX_VOLUME:g}, got {volume}")
    if not audio.has_audio:
        raise InvalidMediaError(f"{audio.path.name} has no audio stream")
    dv, da = _duration(video, "video"), _duration(audio, "audio")
    total = fitted_duration(video, audio, fit)
    d = fmt_num(total)
    audio_chain = f"[1:a:0]{','.join(_audio_filters(volume, total, profile))}[aout]"
    loop = fit == "audio" and extend == "loop" and da > dv
    argv = [*(["-stream_loop", "-1"] if loop else []), "-i", str(video.path), "-i", str(audio.path)]
    if _reencodes(video, audio, fit):
        video_chain = _video_filters(video, total, da, loop, profile)
        graph = f"[0:v:0]{','.join(video_chain)}[vout];{audio_chain}"
        argv += ["-filter_complex", graph, "-map", "[vout]", "-map", "[aout]", *profile.video_args()]
        copied = False
    else:
        argv += ["-filter_complex", audio_chain, "-map", "0:v:0", "-map", "[aout]", "-c:v", "copy"]
        copied = True
    argv += [
        *profile.audio_args(),
        "-t",
        d,
        "-map_metadata",
        "-1",
        *profile.container_args(),
        str(out),
    ]
    return ReplaceAudioCommand(argv=argv, output_duration=total, video_copied=copied)


def fitted_duration(video: MediaInfo, audio: MediaInfo, fit: Fit) -> float:
    """How long the output lasts for ``fit`` (see the module doc)."""
    dv, da = _duration(video, "video"), _duration(audio, "audio")
    return {"video": dv, "shortest": min(dv, da), "audio": da}[fit]


def _reencodes(video: MediaInfo, audio: MediaInfo, fit: Fit) -> bool:
    """Whether the picture must change (trimmed or extended) rather than be copied."""
    frame = 1.0 / video.fps if video.fps > 0 else 0.04
    return fit == "audio" or (fit == "shortest" and fitted_duration(video, audio, fit) < _duration(video, "video") - frame / 2)


def _audio_filters(volume: float, total: float, profile: EncoderProfile) -> list[str]:
    return [f"volume={fmt_num(volume, 4)}", f"aresample={profile.audio_rate}",
            f"aformat=sample_fmts=fltp:channel_layouts={profile.channel_layout}",
            "apad", f"atrim=duration={fmt_num(total)}", "asetpts=PTS-STARTPTS"]


def _video_filters(video: MediaInfo, total: float, audio_duration: float, loop: bool,
                   profile: EncoderProfile) -> list[str]:
    """The picture cut (or frozen on its last frame) to ``total`` seconds."""
    dv = _duration(video, "video")
    chain = [*square_pixels(video)]
    if audio_duration > dv and not loop:
        chain.append(f"tpad=stop_mode=clone:stop_duration={fmt_num(audio_duration - dv + 1)}")
    return [*chain, f"trim=duration={fmt_num(total)}", "setpts=PTS-STARTPTS", f"format={profile.pix_fmt}"]


def replace_audio_fragment(graph: FilterGraph, stream: Stream, audio: MediaInfo, *, volume: float = 1.0,
                           fit: Fit = "video", profile: EncoderProfile | None = None) -> Stream:
    """The audio replacement as a graph fragment: ``audio`` (added as an input) on ``stream``'s
    picture, which is trimmed or frozen only when ``fit`` says the length changes."""
    profile = profile or default_profile()
    if not audio.has_audio:
        raise InvalidMediaError(f"{audio.path.name} has no audio stream")
    total = fitted_duration(stream.info, audio, fit)
    graph.discard(stream.audio, audio=True)  # the new track replaces it
    index = graph.add_input(audio.path)
    aout = graph.label("an")
    graph.chain([f"{index}:a:0"], _audio_filters(volume, total, profile), [aout])
    video = stream.video
    if _reencodes(stream.info, audio, fit):
        video = graph.label("vt")
        graph.chain([stream.video], _video_filters(stream.info, total, _duration(audio, "audio"), False, profile),
                    [video])
    info = replace(stream.info, duration=total, video_duration=total, audio_duration=total, has_audio=True,
                   audio_codec=None, sample_rate=profile.audio_rate, channels=profile.audio_channels)
    return Stream(video, aout, info)


def replace_audio(
    video: Path,
    audio: Path,
    out: Path,
    *,
    volume: float = 1.0,
    fit: Fit = "video",
    extend: Extend = "freeze",
    profile: EncoderProfile | None = None,
    timeout: float | None = None,
    on_progress: ProgressCallback | None = None,
) -> MediaInfo:
    """Replace ``video``'s audio with ``audio`` at ``volume`` (see module doc for ``fit``)."""
    video_info = probe(local_input(video))
    audio_info = probe(local_input(audio), require_video=False)
    with atomic_output(Path(out)) as part:
        command = build_replace_audio_command(
            video_info, audio_info, part, volume=volume, fit=fit, extend=extend, profile=profile
        )
        run_ffmpeg(command.argv, timeout=timeout, on_progress=on_progress, expected_duration=command.output_duration)
    return probe(Path(out), known_rotation=video_info.rotation if command.video_copied else 0)
