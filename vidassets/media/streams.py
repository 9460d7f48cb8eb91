"""Stream-level decisions shared by the builders.

Every output has an audio track (players, concat and the next operation can
rely on it), so each builder asks :func:`audio_plan` what to do with the
input's audio: copy it when it already matches the profile (codec, rate and
channels), re-encode it otherwise, or synthesise silence of the right length
when there is none. Outputs therefore always conform to the profile.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .filters import fmt_num
from .probe import MediaInfo
from .profile import EncoderProfile


@dataclass(frozen=True)
class AudioPlan:
    """Extra inputs, ``-map`` and codec arguments that give an output its audio track."""

    inputs: list[str] = field(default_factory=list)
    map: list[str] = field(default_factory=list)
    codec: list[str] = field(default_factory=list)
    copied: bool = False


def silence_input(profile: EncoderProfile, duration: float) -> list[str]:
    """A lavfi input of ``duration`` seconds of silence in the profile's format."""
    return [
        "-f",
        "lavfi",
        "-t",
        fmt_num(duration),
        "-i",
        f"anullsrc=r={profile.audio_rate}:cl={profile.channel_layout}",
    ]


def audio_plan(info: MediaInfo, profile: EncoderProfile, *, input_index: int = 0, next_input: int = 1) -> AudioPlan:
    """How to carry ``info``'s audio into the output.

    ``next_input`` is the index the silence input will get if one is needed.
    """
    if info.has_audio:
        if (
            info.audio_codec == profile.audio_codec_name
            and info.sample_rate == profile.audio_rate
            and info.channels == profile.audio_channels
        ):
            return AudioPlan(map=["-map", f"{input_index}:a:0"], codec=["-c:a", "copy"], copied=True)
        return AudioPlan(map=["-map", f"{input_index}:a:0"], codec=profile.audio_args())
    duration = info.video_duration or info.duration
    return AudioPlan(
        inputs=silence_input(profile, duration),
        map=["-map", f"{next_input}:a:0"],
        codec=profile.audio_args(),
    )


def square_pixels(info: MediaInfo) -> list[str]:
    """Filters that make pixels square (so geometry in display pixels is exact)."""
    if abs(info.sample_aspect_ratio - 1.0) < 1e-3 or info.sample_aspect_ratio <= 0:
        return []
    return ["scale=trunc(iw*sar/2)*2:ih", "setsar=1"]
