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

Options (:mod:`vidassets.media.mix`): per-clip :class:`~vidassets.media.mix.ClipOptions` (a trim,
to the nearest output frame, and a gain on the clip's sound) and audio beds mixed under the clips.
Any option that changes something forces the re-encode, still one ffmpeg run; the durations
above then use the trimmed lengths, and beds never change them. Without options (or with options
that change nothing) a merge is exactly the plain one.
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
from .mix import AudioBed, ClipOptions, mix_beds_fragment, probe_bed
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


def _validate(infos: Sequence[MediaInfo], transition: Transition, durations: Sequence[float] | None = None) -> None:
    """``durations``: the clips' lengths once trimmed (default: their own)."""
    if not infos:
        raise MediaParamError("merge needs at least one input")
    for i, info in enumerate(infos):
        if info.is_still or _clip_duration(info) <= 0:
            raise MediaParamError(f"input {i + 1} ({info.path.name}) is a still image; import it as a clip first")
    if transition.is_cut or len(infos) < 2:
        return
    lengths = list(durations) if durations is not None else [_clip_duration(i) for i in infos]
    for i, length in enumerate(lengths):
        joins = 1 if i in (0, len(infos) - 1) else 2
        if length < joins * transition.duration:
            raise MediaParamError(
                f"transition of {transition.duration:g}s is too long for input {i + 1} "
                f"({length:.2f}s long, needs at least {joins * transition.duration:g}s)"
            )


def _clip_options(infos: Sequence[MediaInfo], clips: Sequence[ClipOptions] | None) -> list[ClipOptions]:
    if clips is None:
        return [ClipOptions() for _ in infos]
    if len(clips) != len(infos):
        raise MediaParamError(f"got options for {len(clips)} clips but {len(infos)} clips to merge")
    return list(clips)


def _trim_frames(info: MediaInfo, option: ClipOptions, rate: float) -> int | None:
    """How many output frames a trimmed clip keeps (the trim to the nearest frame, at least one);
    ``None`` when the trim keeps the whole clip (or there is none)."""
    if option.trim is None:
        return None
    frames = max(1, round(option.trim * rate))
    return frames if frames / rate < _clip_duration(info) - 1e-6 else None


def _changes_something(infos: Sequence[MediaInfo], clips: Sequence[ClipOptions] | None,
                       beds: Sequence[object]) -> bool:
    """Whether options ask for more than a plain merge (which may then still copy streams)."""
    if beds:
        return True
    rate = float(fps_fraction(nominal_rate(infos[0].fps))) if infos else 24.0
    options = _clip_options(infos, clips)
    return any(o.volume != 1 or _trim_frames(i, o, rate) is not None for i, o in zip(infos, options, strict=True))


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


def _reencode(infos: Sequence[MediaInfo], out: Path, transition: Transition, profile: EncoderProfile, *,
              clips: Sequence[ClipOptions] | None = None, beds: Sequence[tuple[AudioBed, MediaInfo]] = (),
              duck: bool = True) -> MergeCommand:
    graph = FilterGraph()
    merged = merge_fragment(graph, [graph.source(info) for info in infos], transition, profile, clips=clips)
    options = _clip_options(infos, clips)
    if beds or any(o.volume > 1 for o in options):
        # Ducking needs a key: clips that are all silent (or muted) have none.
        sound = any(i.has_audio and o.volume > 0 for i, o in zip(infos, options, strict=True))
        merged = mix_beds_fragment(graph, merged, beds, duck=duck and sound, profile=profile)
    assert merged.audio is not None
    argv = [
        *graph.input_args(), "-filter_complex", graph.text(), "-map", f"[{merged.video}]", "-map", f"[{merged.audio}]",
        *profile.video_args(), *profile.audio_args(), "-map_metadata", "-1", *profile.container_args(), str(out),
    ]
    return MergeCommand(argv=argv, stream_copy=False, output_duration=merged.info.duration)


def merge_fragment(graph: FilterGraph, streams: Sequence[Stream], transition: Transition,
                   profile: EncoderProfile, *, clips: Sequence[ClipOptions] | None = None) -> Stream:
    """The merge as a graph fragment: ``streams`` in order, normalised to the first one's size
    and rate, joined by ``concat`` or an ``xfade``/``acrossfade`` chain. Used for a merge's own
    render and inside a fused render, where the streams may be other fragments' outputs.
    ``clips`` (one per stream) trims clips and scales their sound."""
    infos = [s.info for s in streams]
    if not infos:
        raise MediaParamError("merge needs at least one input")
    options = _clip_options(infos, clips)
    first = infos[0]
    fps = float(fps_fraction(nominal_rate(first.fps)))
    trims = [_trim_frames(i, o, fps) for i, o in zip(infos, options, strict=True)]
    durations = [_clip_duration(i) if n is None else n / fps for i, n in zip(infos, trims, strict=True)]
    _validate(infos, transition, durations)
    size = (even(first.display_width), even(first.display_height))
    rate = fps_text(nominal_rate(first.fps))
    # xfade refuses links whose frame rates differ, and a probed *average* rate of an earlier
    # merge (e.g. 23.87 for a 24 fps crossfade) is not what its links report: with transitions
    # every segment is resampled to the one rate.
    force_rate = not transition.is_cut and len(infos) > 1
    videos: list[str] = []
    audios: list[str] = []
    for stream, option, frames, duration in zip(streams, options, trims, durations, strict=True):
        videos.append(graph.label("v"))
        graph.chain([stream.video], _video_segment(stream.info, size, rate, force_rate, profile, frames), [videos[-1]])
        audios.append(graph.label("a"))
        _audio_segment(graph, stream, audios[-1], profile, duration, option.volume)
    joined, aout, total = _joins(graph, videos, audios, durations, transition)
    # The profile's pixel format, as the stored artefact would be: what follows in a fused graph
    # (a crop at an odd x, say) then sees the pictures a step-by-step render decodes.
    vout = graph.label("vm")
    graph.chain([joined], [f"format={profile.pix_fmt}"], [vout])
    info = predicted(size[0], size[1], float(fps_fraction(nominal_rate(first.fps))), total, pix_fmt=profile.pix_fmt,
                     audio_rate=profile.audio_rate, channels=profile.audio_channels)
    return Stream(vout, aout, info)


def _video_segment(info: MediaInfo, size: tuple[int, int], rate: str, force_rate: bool,
                   profile: EncoderProfile, frames: int | None = None) -> list[str]:
    """One input's video filters: the first clip's size and rate, one time base. Only what
    differs is normalised: each no-op filter still costs a frame copy. ``frames``: keep only
    that many frames (a trim), counted on the output rate's grid so the cut is frame-exact."""
    width, height = size
    video: list[str] = []
    if (info.display_width, info.display_height) != size or abs(info.sample_aspect_ratio - 1) > 1e-3:
        video += [
            *square_pixels(info),
            f"scale={width}:{height}:force_original_aspect_ratio=decrease:force_divisible_by=2",
            f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=black",
            "setsar=1",
        ]
    if force_rate or frames is not None or fps_text(nominal_rate(info.fps)) != rate:
        video.append(f"fps={rate}")
    if info.pix_fmt != profile.pix_fmt:
        video.append(f"format={profile.pix_fmt}")
    cut = f"trim=duration={fmt_num(_clip_duration(info))}" if frames is None else f"trim=end_frame={frames}"
    # One time base for every segment: xfade refuses inputs whose time bases differ.
    video += [cut, "setpts=PTS-STARTPTS", "settb=AVTB"]
    return video


def _audio_segment(graph: FilterGraph, stream: Stream, label: str, profile: EncoderProfile,
                   duration: float | None = None, volume: float = 1.0) -> None:
    """One input's audio as ``label``, exactly as long as its (trimmed) video, scaled by
    ``volume`` (silence when it has none)."""
    info = stream.info
    d = fmt_num(_clip_duration(info) if duration is None else duration)
    layout = profile.channel_layout
    audio_fmt = f"aformat=sample_fmts=fltp:sample_rates={profile.audio_rate}:channel_layouts={layout}"
    if stream.audio is None:
        graph.chain([], [f"anullsrc=r={profile.audio_rate}:cl={layout}", audio_fmt, f"atrim=duration={d}"], [label])
        return
    same = info.sample_rate == profile.audio_rate and info.channels == profile.audio_channels
    convert = [] if same else [f"aresample={profile.audio_rate}", audio_fmt]
    gain = [] if volume == 1 else [f"volume={fmt_num(volume, 4)}"]
    graph.chain([stream.audio], [*convert, *gain, "apad", f"atrim=duration={d}", "asetpts=PTS-STARTPTS"], [label])


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
    clips: Sequence[ClipOptions] | None = None,
    beds: Sequence[tuple[AudioBed, MediaInfo]] = (),
    duck: bool = True,
) -> MergeCommand:
    """Pure: the command that merges ``infos`` into ``out``.

    ``list_path`` is where the caller will write :attr:`MergeCommand.concat_list`
    for a stream-copy merge (default: beside ``out``). ``clips`` (one per input) and ``beds``
    (each with its probe) are the options of :mod:`vidassets.media.mix`; ``duck`` lowers the
    beds under the clips' sound.
    """
    transition = transition or Transition()
    profile = profile or default_profile()
    _validate(infos, transition)
    if _changes_something(infos, clips, beds):
        return _reencode(infos, out, transition, profile, clips=clips, beds=beds, duck=duck)
    if transition.is_cut and can_stream_copy(infos, profile):
        return _concat_copy(infos, out, profile, list_path or out.parent / f".{out.name}.concat.txt")
    return _reencode(infos, out, transition, profile)


def plan_merge(
    inputs: Sequence[Path], out: Path, *, transition: Transition | None = None, profile: EncoderProfile | None = None,
    clips: Sequence[ClipOptions] | None = None, beds: Sequence[AudioBed] = (), duck: bool = True,
) -> MergeCommand:
    """Probe ``inputs`` (and ``beds``) and build (without running) the merge command."""
    return build_merge_command([probe(local_input(p)) for p in inputs], Path(out), transition, profile,
                               clips=clips, beds=[(bed, probe_bed(bed)) for bed in beds], duck=duck)


def merge(
    inputs: Sequence[Path],
    out: Path,
    *,
    transition: Transition | str | Mapping[str, object] | None = None,
    profile: EncoderProfile | None = None,
    timeout: float | None = None,
    on_progress: ProgressCallback | None = None,
    clips: Sequence[ClipOptions] | None = None,
    beds: Sequence[AudioBed] = (),
    duck: bool = True,
) -> MediaInfo:
    """Join ``inputs`` in order into ``out`` (stream copy when possible, see module doc), with
    ``clips`` options (one per input) and audio ``beds`` mixed under them, ducked when ``duck``."""
    parsed = Transition.parse(transition)
    infos = [probe(local_input(p)) for p in inputs]
    probed_beds = [(bed, probe_bed(bed)) for bed in beds]
    with scratch_dir() as tmp, atomic_output(Path(out)) as part:
        command = build_merge_command(infos, part, parsed, profile, list_path=tmp / "concat.txt", clips=clips,
                                      beds=probed_beds, duck=duck)
        if command.concat_list is not None and command.list_path is not None:
            command.list_path.write_text(command.concat_list, encoding="utf-8")
        log.info("merging %d clips (%s)", len(infos), "stream copy" if command.stream_copy else "re-encode")
        run_ffmpeg(command.argv, timeout=timeout, on_progress=on_progress, expected_duration=command.output_duration)
    return probe(Path(out), known_rotation=infos[0].rotation if command.stream_copy else 0)
