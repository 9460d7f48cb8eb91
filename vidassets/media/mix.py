"""Per-clip options of a merge and audio beds mixed under the merged clips.

The SDK's ``merge([...])`` items may carry a trim (``duration``) and a ``volume`` for a video
clip, and audio items (music, a voice-over) placed at an ``offset`` on the merged timeline.
:class:`ClipOptions` and :class:`AudioBed` are those options, validated when built, and
:func:`mix_beds_fragment` is the graph fragment that lays the beds under a merged stream:

* each bed is converted to the profile's format, cut where it or the video ends (its fade-out
  ends there), faded, scaled by its volume, delayed to its offset and padded with silence to the
  video's length: beds never change the output's length;
* with ducking, the beds (mixed together) go through ``sidechaincompress`` keyed by the clips'
  own sound, so music dips under speech (about 6-12 dB for speech at -24..-17 dBFS RMS; 4:1 above
  about -30 dBFS) and comes back within half a second of a pause;
* clips' sound and beds are summed with ``amix normalize=0`` (amix's default divides every input
  by the input count, which would quietly halve the dialogue) and ``alimiter`` keeps the sum
  under -1 dBFS, the headroom AAC needs not to clip on decode.

Only numbers we validated go into the graph; bed files are ordinary ``-i`` inputs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import InvalidMediaError, MediaParamError
from .files import local_input
from .filters import fmt_num
from .graph import FilterGraph, Stream
from .probe import MediaInfo, probe
from .profile import EncoderProfile

MAX_VOLUME = 2.0
#: Sidechain settings: compression starts when the clips' sound passes about -30 dBFS RMS; 4:1
#: above that. Attack is quick enough to duck a word's onset, release slow enough not to pump
#: between words.
DUCK_THRESHOLD = 0.03
DUCK_RATIO = 4.0
DUCK_ATTACK_MS = 20.0
DUCK_RELEASE_MS = 400.0
#: The limiter's ceiling (-1 dBFS). ``level=0`` stops alimiter's default auto-levelling, which
#: would raise quiet mixes up to the ceiling; ``latency=1`` removes its look-ahead delay.
LIMIT = 0.891


def _finite(value: float, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise MediaParamError(f"{what} must be a number, got {value!r}") from exc
    if not math.isfinite(number):
        raise MediaParamError(f"{what} must be a finite number, got {value!r}")
    return number


def _check_volume(volume: float, what: str) -> None:
    if not 0 <= _finite(volume, what) <= MAX_VOLUME:
        raise MediaParamError(f"{what} must be within 0..{MAX_VOLUME:g}, got {volume!r}")


@dataclass(frozen=True)
class ClipOptions:
    """One merged clip's options: keep its first ``trim`` seconds (``None``: the whole clip; more
    than its length: the whole clip) and scale its own sound by ``volume`` (0..2)."""

    trim: float | None = None
    volume: float = 1.0

    def __post_init__(self) -> None:
        if self.trim is not None and not _finite(self.trim, "clip trim") > 0:
            raise MediaParamError(f"clip trim must be more than 0 seconds, got {self.trim!r}")
        _check_volume(self.volume, "clip volume")


@dataclass(frozen=True)
class AudioBed:
    """An audio file under the merged clips, starting ``offset`` seconds into the merged video
    (silence before), at ``volume`` (0..2), with optional fades. The fade-out ends where the bed
    stops: at its own end or at the video's end, whichever comes first."""

    path: Path
    offset: float = 0.0
    volume: float = 1.0
    fade_in: float = 0.0
    fade_out: float = 0.0

    def __post_init__(self) -> None:
        if not _finite(self.offset, "audio offset") >= 0:
            raise MediaParamError(f"audio offset must be 0 or more seconds, got {self.offset!r}")
        _check_volume(self.volume, "audio volume")
        for name, value in (("fade_in", self.fade_in), ("fade_out", self.fade_out)):
            if not _finite(value, f"audio {name}") >= 0:
                raise MediaParamError(f"audio {name} must be 0 or more seconds, got {value!r}")


def probe_bed(bed: AudioBed) -> MediaInfo:
    """Probe a bed's file (audio only is fine); a file without sound is invalid media."""
    info = probe(local_input(bed.path), require_video=False)
    if not info.has_audio:
        raise InvalidMediaError(f"{info.path.name} has no audio stream")
    return info


def _bed_length(info: MediaInfo) -> float:
    length = info.audio_duration or info.duration
    if length <= 0:
        raise InvalidMediaError(f"{info.path.name}: could not determine the audio duration")
    return length


def validate_beds(beds: Sequence[tuple[AudioBed, MediaInfo]], total: float) -> None:
    """Refuse beds that would not be heard: one must start before the video ends."""
    for i, (bed, info) in enumerate(beds):
        if not info.has_audio:
            raise InvalidMediaError(f"{info.path.name} has no audio stream")
        if bed.offset >= total:
            raise MediaParamError(
                f"audio bed {i + 1} ({info.path.name}) starts at {bed.offset:g}s, "
                f"at or after the end of the merged video ({total:.2f}s)"
            )


def _bed_filters(bed: AudioBed, info: MediaInfo, total: float, profile: EncoderProfile) -> list[str]:
    """One bed as a track exactly ``total`` seconds long in the profile's format."""
    heard = min(_bed_length(info), total - bed.offset)  # cut at the video's end
    # A mono file plays at full level on both speakers (players, browsers and the SDK's own
    # preview do so); ffmpeg's automatic upmix would put it 3 dB lower on each channel.
    upmix = ["pan=stereo|c0=c0|c1=c0"] if info.channels == 1 and profile.audio_channels == 2 else []
    filters = [
        *upmix,
        f"aresample={profile.audio_rate}",
        f"aformat=sample_fmts=fltp:sample_rates={profile.audio_rate}:channel_layouts={profile.channel_layout}",
        f"atrim=duration={fmt_num(heard)}",
        "asetpts=PTS-STARTPTS",
    ]
    if bed.volume != 1:
        filters.append(f"volume={fmt_num(bed.volume, 4)}")
    if bed.fade_in > 0:
        filters.append(f"afade=t=in:st=0:d={fmt_num(min(bed.fade_in, heard))}")
    if bed.fade_out > 0:
        fade = min(bed.fade_out, heard)
        filters.append(f"afade=t=out:st={fmt_num(heard - fade)}:d={fmt_num(fade)}")
    delay = round(bed.offset * profile.audio_rate)
    if delay > 0:
        filters.append(f"adelay=delays={delay}S:all=1")
    return [*filters, "apad", f"atrim=duration={fmt_num(total)}", "asetpts=PTS-STARTPTS"]


def limiter() -> str:
    """The last filter of a mix that may exceed full scale."""
    return f"alimiter=limit={LIMIT}:level=0:latency=1"


def ducker() -> str:
    return (f"sidechaincompress=threshold={DUCK_THRESHOLD}:ratio={fmt_num(DUCK_RATIO)}"
            f":attack={fmt_num(DUCK_ATTACK_MS)}:release={fmt_num(DUCK_RELEASE_MS)}")


def mix_beds_fragment(graph: FilterGraph, stream: Stream, beds: Sequence[tuple[AudioBed, MediaInfo]], *,
                      duck: bool, profile: EncoderProfile) -> Stream:
    """``stream``'s sound with ``beds`` laid under it (each bed file added as an input), ducked
    under the stream's sound when ``duck``, summed and limited. The picture and the length are
    ``stream``'s. With no beds, the stream's sound is only limited (for clip gains above 1).
    ``stream`` must have sound in the profile's format (a merge's output always does)."""
    if stream.audio is None:
        raise ValueError("mix_beds_fragment needs a stream with sound")
    total = stream.info.duration
    validate_beds(beds, total)
    out = graph.label("amx")
    if not beds:
        graph.chain([stream.audio], [limiter()], [out])
        return replace(stream, audio=out, audio_source=None)
    tracks: list[str] = []
    for bed, info in beds:
        index = graph.add_input(info.path)
        tracks.append(graph.label("bed"))
        graph.chain([f"{index}:a:0"], _bed_filters(bed, info, total, profile), [tracks[-1]])
    bus = tracks[0]
    if len(tracks) > 1:
        bus = graph.label("beds")
        graph.chain(tracks, [f"amix=inputs={len(tracks)}:duration=first:dropout_transition=0:normalize=0"], [bus])
    clips = stream.audio
    if duck:
        key, clips, ducked = graph.label("key"), graph.label("clp"), graph.label("dck")
        graph.chain([stream.audio], ["asplit=2"], [key, clips])
        graph.chain([bus, key], [ducker()], [ducked])
        bus = ducked
    graph.chain([clips, bus], ["amix=inputs=2:duration=first:dropout_transition=0:normalize=0", limiter()], [out])
    return replace(stream, audio=out, audio_source=None)
