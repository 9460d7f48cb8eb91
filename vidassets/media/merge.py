"""Concatenating clips, with optional transitions.

Two strategies, chosen by :func:`build_merge_command` from the probed inputs:

* **Stream copy** - a plain cut of inputs that already share every codec
  parameter that matters (codec/profile, size, rotation, sample aspect, frame
  rate, pixel format, audio codec/rate/channels, and all have audio) goes
  through the concat demuxer with ``-c copy``: no decode, no quality loss,
  and far quicker than re-encoding. This is the common case for clips
  produced by this package, since they all use one encoder profile.
* **Re-encode** - anything else: each input is normalised (scaled and padded to
  the first clip's display size, first clip's frame rate, yuv420p, 48 kHz
  stereo; silence for inputs without audio; every segment trimmed so its audio
  and video last exactly as long as its video), then joined with ``concat``
  (cut) or an ``xfade`` + ``acrossfade`` chain (transitions).

Durations: a cut lasts the sum of the inputs; with transitions of ``d``
seconds, ``sum - (n-1)*d``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast, get_args

from .errors import MediaParamError
from .files import atomic_output, local_input, scratch_dir
from .filters import concat_list_entry, fmt_num, fps_fraction, fps_text
from .geometry import even
from .graph import FilterGraph, Stream, predicted
from .probe import MediaInfo, probe
from .profile import EncoderProfile, default_profile
from .runner import ProgressCallback, run_ffmpeg
from .streams import square_pixels

log = logging.getLogger(__name__)

TransitionType = Literal["cut", "fade", "crossfade", "dissolve", "wipe"]
_TYPES: tuple[str, ...] = get_args(TransitionType)
_ALIASES = {"none": "cut", "": "cut", "cross-fade": "crossfade", "cross_fade": "crossfade", "xfade": "crossfade"}
#: Our names -> ffmpeg xfade transitions. ``fade`` and ``crossfade`` are synonyms in the plan format.
XFADE_TRANSITIONS = {"fade": "fade", "crossfade": "fade", "dissolve": "dissolve", "wipe": "wipeleft"}
MAX_TRANSITION = 10.0


@dataclass(frozen=True)
class Transition:
    """How consecutive clips are joined. ``duration`` (seconds) is ignored for ``cut``."""

    type: TransitionType = "cut"
    duration: float = 0.5

    def __post_init__(self) -> None:
        if self.type not in _TYPES:
            raise MediaParamError(f"unknown transition {self.type!r}; use one of {', '.join(_TYPES)}")
        if self.type != "cut" and not 0 < self.duration <= MAX_TRANSITION:
            raise MediaParamError(f"transition duration must be within (0, {MAX_TRANSITION:g}] seconds")

    @property
    def is_cut(self) -> bool:
        return self.type == "cut"

    @classmethod
    def parse(cls, value: str | Mapping[str, object] | Transition | None) -> Transition:
        """Accept the SDK's ``"crossfade"`` and the documented ``{"type": "fade", "duration": 1}``."""
        if value is None:
            return cls()
        if isinstance(value, Transition):
            return value
        if isinstance(value, str):
            return cls(type=cls._name(value))
        if isinstance(value, Mapping):
            name = value.get("type", value.get("name", "cut"))
            duration = value.get("duration", cls.duration)
            try:
                seconds = float(duration)  # type: ignore[arg-type]
            except (TypeError, ValueError) as exc:
                raise MediaParamError(f"invalid transition duration {duration!r}") from exc
            return cls(type=cls._name(str(name)), duration=seconds)
        raise MediaParamError(f"invalid transition {value!r}")

    @staticmethod
    def _name(value: str) -> TransitionType:
        name = value.strip().lower()
        name = _ALIASES.get(name, name)
        if name not in _TYPES:
            raise MediaParamError(f"unknown transition {value!r}; use one of {', '.join(_TYPES)}")
        return cast(TransitionType, name)


@dataclass(frozen=True)
class MergeCommand:
    """The argv for a merge, whether it copies streams, and the concat list it needs (if any)."""

    argv: list[str]
    stream_copy: bool
    output_duration: float
    concat_list: str | None = None
    list_path: Path | None = None


def _clip_duration(info: MediaInfo) -> float:
    return info.video_duration or info.duration


def copy_key(info: MediaInfo) -> tuple[object, ...]:
    """Everything that must match for clips to be concatenated without re-encoding."""
    return (
        info.video_codec,
        info.video_profile,
        info.pix_fmt,
        info.width,
        info.height,
        info.rotation,
        round(info.sample_aspect_ratio, 4),
        round(info.fps, 3),
        info.audio_codec,
        info.sample_rate,
        info.channels,
    )


def can_stream_copy(infos: Sequence[MediaInfo], profile: EncoderProfile) -> bool:
    """True when a cut of ``infos`` can use the concat demuxer with ``-c copy``."""
    if not infos:
        return False
    first = infos[0]
    return (
        all(i.has_audio and i.has_video and not i.is_still for i in infos)
        and first.video_codec == profile.video_codec_name
        and first.pix_fmt == profile.pix_fmt
        and first.audio_codec == profile.audio_codec_name
        and all({"mp4", "mov"} & set(i.format_name.split(",")) for i in infos)
        and all(copy_key(i) == copy_key(first) for i in infos)
    )


def _validate(infos: Sequence[MediaInfo], transition: Transition) -> None:
    if not infos:
        raise MediaParamError("merge needs at least one input")
    for i, info in enumerate(infos):
        if info.is_still or _clip_duration(info) <= 0:
            raise MediaParamError(f"input {i + 1} ({info.path.name}) is a still image; import it as a clip first")
    if transition.is_cut or len(infos) < 2:
        return
    for i, info in enumerate(infos):
        joins = 1 if i in (0, len(infos) - 1) else 2
        if _clip_duration(info) < joins * transition.duration:
            raise MediaParamError(
                f"transition of {transition.duration:g}s is too long for input {i + 1} "
                f"({_clip_duration(info):.2f}s long, needs at least {joins * transition.duration:g}s)"
            )


def _concat_copy(infos: Sequence[MediaInfo], out: Path, profile: EncoderProfile, list_path: Path) -> MergeCommand:
    listing = "ffconcat version 1.0\n" + "".join(concat_list_entry(i.path) + "\n" for i in infos)
    argv = [
        "-f",
        "concat",
        "-safe",
        "0",
        "-i",
        str(list_path),
        "-map",
        "0:v:0",
        "-map",
        "0:a:0",
        "-c",
        "copy",
        "-map_metadata",
        "-1",
        *profile.container_args(),
        str(out),
    ]
    total = sum(_clip_duration(i) for i in infos)
    return MergeCommand(argv=argv, stream_copy=True, output_duration=total, concat_list=listing, list_path=list_path)


STANDARD_RATES = (23.976, 24.0, 25.0, 29.97, 30.0, 48.0, 50.0, 59.94, 60.0)


def nominal_rate(fps: float) -> float:
    """The standard frame rate an average rate stands for (within 1 %), else the rate itself.

    Probed rates are averages over the file: trims and crossfades leave 23.87 where 24 was meant.
    """
    if fps <= 0:
        return 24.0
    near = min(STANDARD_RATES, key=lambda r: abs(r - fps))
    return near if abs(near - fps) <= 0.01 * near else fps


def _reencode(infos: Sequence[MediaInfo], out: Path, transition: Transition, profile: EncoderProfile) -> MergeCommand:
    graph = FilterGraph()
    merged = merge_fragment(graph, [graph.source(info) for info in infos], transition, profile)
    assert merged.audio is not None
    argv = [
        *graph.input_args(), "-filter_complex", graph.text(), "-map", f"[{merged.video}]", "-map", f"[{merged.audio}]",
        *profile.video_args(), *profile.audio_args(), "-map_metadata", "-1", *profile.container_args(), str(out),
    ]
    return MergeCommand(argv=argv, stream_copy=False, output_duration=merged.info.duration)


def merge_fragment(graph: FilterGraph, streams: Sequence[Stream], transition: Transition,
                   profile: EncoderProfile) -> Stream:
    """The merge as a graph fragment: ``streams`` in order, normalised to the first one's size
    and rate, joined by ``concat`` or an ``xfade``/``acrossfade`` chain. Used for a merge's own
    render and inside a fused render, where the streams may be other fragments' outputs."""
    infos = [s.info for s in streams]
    _validate(infos, transition)
    first = infos[0]
    size = (even(first.display_width), even(first.display_height))
    rate = fps_text(nominal_rate(first.fps))
    # xfade refuses links whose frame rates differ, and a probed *average* rate of an earlier
    # merge (e.g. 23.87 for a 24 fps crossfade) is not what its links report: with transitions
    # every segment is resampled to the one rate.
    force_rate = not transition.is_cut and len(infos) > 1
    videos: list[str] = []
    audios: list[str] = []
    for stream in streams:
        videos.append(graph.label("v"))
        graph.chain([stream.video], _video_segment(stream.info, size, rate, force_rate, profile), [videos[-1]])
        audios.append(graph.label("a"))
        _audio_segment(graph, stream, audios[-1], profile)
    joined, aout, total = _joins(graph, videos, audios, [_clip_duration(i) for i in infos], transition)
    # The profile's pixel format, as the stored artefact would be: what follows in a fused graph
    # (a crop at an odd x, say) then sees the pictures a step-by-step render decodes.
    vout = graph.label("vm")
    graph.chain([joined], [f"format={profile.pix_fmt}"], [vout])
    info = predicted(size[0], size[1], float(fps_fraction(nominal_rate(first.fps))), total, pix_fmt=profile.pix_fmt,
                     audio_rate=profile.audio_rate, channels=profile.audio_channels)
    return Stream(vout, aout, info)


def _video_segment(info: MediaInfo, size: tuple[int, int], rate: str, force_rate: bool,
                   profile: EncoderProfile) -> list[str]:
    """One input's video filters: the first clip's size and rate, one time base. Only what
    differs is normalised: each no-op filter still costs a frame copy."""
    width, height = size
    video: list[str] = []
    if (info.display_width, info.display_height) != size or abs(info.sample_aspect_ratio - 1) > 1e-3:
        video += [
            *square_pixels(info),
            f"scale={width}:{height}:force_original_aspect_ratio=decrease:force_divisible_by=2",
            f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=black",
            "setsar=1",
        ]
    if force_rate or fps_text(nominal_rate(info.fps)) != rate:
        video.append(f"fps={rate}")
    if info.pix_fmt != profile.pix_fmt:
        video.append(f"format={profile.pix_fmt}")
    # One time base for every segment: xfade refuses inputs whose time bases differ.
    video += [f"trim=duration={fmt_num(_clip_duration(info))}", "setpts=PTS-STARTPTS", "settb=AVTB"]
    return video


def _audio_segment(graph: FilterGraph, stream: Stream, label: str, profile: EncoderProfile) -> None:
    """One input's audio as ``label``, exactly as long as its video (silence when it has none)."""
    info = stream.info
    d = fmt_num(_clip_duration(info))
    layout = profile.channel_layout
    audio_fmt = f"aformat=sample_fmts=fltp:sample_rates={profile.audio_rate}:channel_layouts={layout}"
    if stream.audio is None:
        graph.chain([], [f"anullsrc=r={profile.audio_rate}:cl={layout}", audio_fmt, f"atrim=duration={d}"], [label])
        return
    same = info.sample_rate == profile.audio_rate and info.channels == profile.audio_channels
    convert = [] if same else [f"aresample={profile.audio_rate}", audio_fmt]
    graph.chain([stream.audio], [*convert, "apad", f"atrim=duration={d}", "asetpts=PTS-STARTPTS"], [label])


def _joins(graph: FilterGraph, videos: Sequence[str], audios: Sequence[str], durations: Sequence[float],
           transition: Transition) -> tuple[str, str, float]:
    """Join the segments; returns the output labels and the output duration."""
    vout, aout = graph.label("vm"), graph.label("am")
    if transition.is_cut or len(videos) == 1:
        pairs = [label for pair in zip(videos, audios, strict=True) for label in pair]
        graph.chain(pairs, [f"concat=n={len(videos)}:v=1:a=1"], [vout, aout])
        return vout, aout, sum(durations)
    t = transition.duration
    xfade = XFADE_TRANSITIONS[transition.type]
    v_prev, a_prev = videos[0], audios[0]
    for k in range(1, len(videos)):
        offset = sum(durations[:k]) - k * t
        last = k == len(videos) - 1
        v_next = vout if last else graph.label("vx")
        a_next = aout if last else graph.label("ax")
        graph.chain([v_prev, videos[k]], [f"xfade=transition={xfade}:duration={fmt_num(t)}:offset={fmt_num(offset)}"],
                    [v_next])
        graph.chain([a_prev, audios[k]], [f"acrossfade=d={fmt_num(t)}:c1=tri:c2=tri"], [a_next])
        v_prev, a_prev = v_next, a_next
    return vout, aout, sum(durations) - (len(videos) - 1) * t


def build_merge_command(
    infos: Sequence[MediaInfo],
    out: Path,
    transition: Transition | None = None,
    profile: EncoderProfile | None = None,
    *,
    list_path: Path | None = None,
) -> MergeCommand:
    """Pure: the command that merges ``infos`` into ``out``.

    ``list_path`` is where the caller will write :attr:`MergeCommand.concat_list`
    for a stream-copy merge (default: beside ``out``).
    """
    transition = transition or Transition()
    profile = profile or default_profile()
    _validate(infos, transition)
    if transition.is_cut and can_stream_copy(infos, profile):
        return _concat_copy(infos, out, profile, list_path or out.parent / f".{out.name}.concat.txt")
    return _reencode(infos, out, transition, profile)


def plan_merge(
    inputs: Sequence[Path], out: Path, *, transition: Transition | None = None, profile: EncoderProfile | None = None
) -> MergeCommand:
    """Probe ``inputs`` and build (without running) the merge command."""
    return build_merge_command([probe(local_input(p)) for p in inputs], Path(out), transition, profile)


def merge(
    inputs: Sequence[Path],
    out: Path,
    *,
    transition: Transition | str | Mapping[str, object] | None = None,
    profile: EncoderProfile | None = None,
    timeout: float | None = None,
    on_progress: ProgressCallback | None = None,
) -> MediaInfo:
    """Join ``inputs`` in order into ``out`` (stream copy when possible, see module doc)."""
    parsed = Transition.parse(transition)
    infos = [probe(local_input(p)) for p in inputs]
    with scratch_dir() as tmp, atomic_output(Path(out)) as part:
        command = build_merge_command(infos, part, parsed, profile, list_path=tmp / "concat.txt")
        if command.concat_list is not None and command.list_path is not None:
            command.list_path.write_text(command.concat_list, encoding="utf-8")
        log.info("merging %d clips (%s)", len(infos), "stream copy" if command.stream_copy else "re-encode")
        run_ffmpeg(command.argv, timeout=timeout, on_progress=on_progress, expected_duration=command.output_duration)
    return probe(Path(out), known_rotation=infos[0].rotation if command.stream_copy else 0)
