"""Compositing layers (the SDK's ``layers()``): every medium in one filter graph, one encode.

Layer 0 is the bottom. Each layer is one medium (a video or a still) or a *timeline* of media
played one after another in the layer's placement. The pieces:

* :func:`plan_layers` (pure) decides the canvas, the output duration, the frame rate and, for
  every clip, its rectangle (:mod:`vidassets.media.placement`) and its time window. The
  :class:`LayerLayout` it returns is what the job's details and checks report.
* :func:`build_layer_command` (pure) turns a layout into one ffmpeg argv: a black canvas of the
  output's size, rate and length, and one ``overlay`` per clip in layer order.
* :func:`layer` probes, plans, runs ffmpeg once into a temp file and moves it onto ``out``.

Rules (see :func:`plan_layers`): the canvas is ``width x height`` when given, else the main (or
first) layer's display size; the duration is explicit, else the main layer's, else the longest
video layer's, else the longest timeline's (or timed still's), else 5 s. The bottom layer fills
the whole output (a short video, or a timeline's last item, holds its last frame); an overlay
video simply ends, showing what is below. Stills loop for their window and keep their alpha.
A chroma key (``chromakey``) applies to its layer after scaling. Timeline items without a duration play a video's own length;
stills without one share the time left evenly. The sound of every clip that has any is mixed
at its window (summed, no normalisation: one source keeps its level), padded or cut to the
output; silence when none has sound.

Transparency: a PNG's alpha is kept (``format=rgba`` before its overlay) and so is a VP8/VP9
WebM's (decoded with libvpx, which reads the alpha FFmpeg's own decoders drop).

Only numbers computed here go into the graph; files are graph inputs (absolute paths, checked
by the runner), and stills read by the ``image2`` demuxer get ``-pattern_type none`` so a ``%``
in a file name is never a sequence pattern.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error

from .errors import MediaParamError
from .files import atomic_output, local_input
from .filters import fmt_num, fps_text
from .geometry import MAX_DIMENSION, even, even_round
from .graph import FilterGraph
from .merge import nominal_rate
from .placement import Placement, Rect
from .probe import MediaInfo, probe
from .profile import EncoderProfile, default_profile
from .runner import ProgressCallback, run_ffmpeg
from .streams import square_pixels

#: Output length when only stills without a duration are given.
DEFAULT_DURATION = 5.0
#: Frame rate when no layer is a video.
DEFAULT_FPS = 30.0
#: Highest output frame rate (a 240 fps source is not worth encoding at 240 fps).
MAX_FPS = 60.0
#: Longest output, and longest duration a clip may be given (seconds).
MAX_DURATION = 3600.0
#: Media inputs of one composite (every timeline item counts): bounds the graph and the decoders.
MAX_CLIPS = 32
MIN_CANVAS = 16

_HEX = re.compile(r"^[0-9a-f]{6}$")
_COLOUR_NAMES = {"green": "00ff00", "blue": "0000ff"}


@dataclass(frozen=True)
class LayerClip:
    """One medium of a layer (a timeline has several). ``duration``: how long it shows (a
    timeline item's or a still's display time); a longer video is cut, a shorter one holds its
    last frame. ``placement``: this item's own (a timeline item may sit elsewhere than the
    layer's placement says); None keeps the layer's."""

    path: Path
    duration: float | None = None
    placement: Placement | None = None


@dataclass(frozen=True)
class ChromaKey:
    """Keying out a colour (green screen). ``colour`` is 6 hex digits (``RRGGBB``)."""

    colour: str = "00ff00"
    similarity: float = 0.3
    blend: float = 0.1

    def __post_init__(self) -> None:
        if not isinstance(self.colour, str) or not _HEX.match(self.colour.lower()):
            raise MediaParamError(f"chromaKeyColor must be 6 hex digits (RRGGBB), got {str(self.colour)[:20]!r}")
        object.__setattr__(self, "colour", self.colour.lower())
        for name, value, low, high in (("similarity", self.similarity, 0.01, 1.0), ("blend", self.blend, 0.0, 1.0)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
                    or not low <= value <= high:
                raise MediaParamError(f"chroma key {name} must be within {low:g}..{high:g}, got {value!r}")

    @classmethod
    def parse(cls, colour: Any = None, similarity: Any = None, blend: Any = None) -> ChromaKey:
        """The SDK's ``chromaKeyColor`` (``"00ff00"``, ``"#00FF00"``, ``"0x00ff00"``, ``"green"``,
        ``"blue"``), ``similarity`` and ``blend``; ``None`` keeps the defaults."""
        text = cls.colour
        if colour is not None:
            if not isinstance(colour, str):
                raise MediaParamError(f"chromaKeyColor must be a hex colour string, got {type(colour).__name__}")
            text = colour.strip().lower()
            text = _COLOUR_NAMES.get(text, text.removeprefix("#").removeprefix("0x"))
        return cls(colour=text, similarity=cls.similarity if similarity is None else similarity,
                   blend=cls.blend if blend is None else blend)

    def filter(self) -> str:
        return f"chromakey=0x{self.colour}:{fmt_num(self.similarity)}:{fmt_num(self.blend)}"


@dataclass(frozen=True)
class LayerSpec:
    """One layer: a medium (``len(clips) == 1``) or a timeline played in order (``> 1``)."""

    clips: Sequence[LayerClip]
    placement: Placement
    chroma_key: ChromaKey | None = None
    main: bool = False


@dataclass(frozen=True)
class ClipLayout:
    """Where and when one clip shows. ``end == start``: the output ends before its turn (it is
    not read). ``hold``: seconds its last frame is held to fill the window."""

    layer: int
    item: int
    rect: Rect
    start: float
    end: float
    still: bool
    audio: bool
    hold: float = 0.0

    @property
    def shown(self) -> bool:
        return self.end > self.start


@dataclass(frozen=True)
class LayerLayout:
    """The composite's canvas, length, rate and every clip's rectangle and window."""

    width: int
    height: int
    duration: float
    fps: float
    duration_from: str
    clips: tuple[ClipLayout, ...]

    def details(self) -> dict[str, Any]:
        """JSON for the job's details: what the checks compare the output against."""
        return {
            "width": self.width, "height": self.height, "duration": self.duration, "fps": self.fps,
            "durationFrom": self.duration_from,
            "clips": [{"layer": c.layer, "item": c.item, **c.rect.as_dict(), "start": c.start, "end": c.end,
                       "still": c.still, "audio": c.audio} for c in self.clips],
        }


# ------------------------------------------------------------------------------------ planning


def _seconds(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or not 0 < value <= MAX_DURATION:
        raise MediaParamError(f"{what} must be a number of seconds within (0, {MAX_DURATION:g}], got {value!r}")
    return float(value)


def check_layers(layers: Sequence[LayerSpec]) -> None:
    """What can be checked before any file is read: counts, durations, one main layer."""
    if not layers:
        raise MediaParamError("layers needs at least one layer")
    total = 0
    for i, spec in enumerate(layers):
        if not spec.clips:
            raise MediaParamError(f"layer {i + 1} has no media")
        total += len(spec.clips)
        for j, clip in enumerate(spec.clips):
            if clip.duration is not None:
                _seconds(clip.duration, f"layer {i + 1} item {j + 1} duration")
    if total > MAX_CLIPS:
        raise MediaParamError(f"layers has {total} media; at most {MAX_CLIPS} fit in one composite")
    if sum(1 for spec in layers if spec.main) > 1:
        raise MediaParamError("only one layer can be the main layer")


def _length(clip: LayerClip, info: MediaInfo) -> float | None:
    """How long a clip shows by itself: its given duration, a video's length, or None (a still)."""
    if clip.duration is not None:
        return float(clip.duration)
    if info.is_still:
        return None
    length = info.video_duration or info.duration
    return length if length and length > 0 else None


def _layer_length(spec: LayerSpec, infos: Sequence[MediaInfo]) -> float | None:
    known = [n for n in (_length(c, i) for c, i in zip(spec.clips, infos, strict=True)) if n is not None]
    return sum(known) if known else None


def _canvas(ref: MediaInfo, width: int | None, height: int | None, cap: int | None) -> tuple[int, int]:
    for name, value in (("width", width), ("height", height)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not MIN_CANVAS <= value <= MAX_DIMENSION):
            raise MediaParamError(f"output {name} must be an integer within {MIN_CANVAS}..{MAX_DIMENSION}, got {value!r}")
    aspect = Fraction(ref.display_width, ref.display_height)
    if width is not None and height is not None:
        w, h = Fraction(width), Fraction(height)
    elif width is not None:
        w, h = Fraction(width), width / aspect
    elif height is not None:
        w, h = height * aspect, Fraction(height)
    else:
        w, h = Fraction(ref.display_width), Fraction(ref.display_height)
    limits = [Fraction(MAX_DIMENSION) / max(w, h)]
    if cap is not None:
        limits.append(Fraction(cap) / min(w, h))
    scale = min(Fraction(1), *limits)
    # A side given (or the medium's own) is evened down; a derived or scaled side is rounded.
    exact_w = scale == 1 and (width is not None or height is None)
    exact_h = scale == 1 and (height is not None or width is None)
    size = (even(float(w)) if exact_w else even_round(w * scale), even(float(h)) if exact_h else even_round(h * scale))
    if min(size) < MIN_CANVAS:
        raise MediaParamError(
            f"the canvas would be {size[0]}x{size[1]} ({ref.path.name} is that small); give the output width and height"
        )
    return size


def _output_duration(layers: Sequence[LayerSpec], infos: Sequence[Sequence[MediaInfo]],
                     duration: float | None) -> tuple[float, str]:
    if duration is not None:
        return _seconds(duration, "output duration"), "explicit"
    lengths = [_layer_length(spec, layer_infos) for spec, layer_infos in zip(layers, infos, strict=True)]
    main = next((i for i, spec in enumerate(layers) if spec.main), None)
    if main is not None and lengths[main] is not None:
        return min(MAX_DURATION, lengths[main] or 0.0), "main"
    videos = [n for spec, layer_infos, n in zip(layers, infos, lengths, strict=True)
              if n is not None and len(spec.clips) == 1 and not layer_infos[0].is_still]
    if videos:
        return min(MAX_DURATION, max(videos)), "longest video"
    others = [n for n in lengths if n is not None]
    if others:
        return min(MAX_DURATION, max(others)), "longest timeline"
    return DEFAULT_DURATION, "default"


def _fps(layers: Sequence[LayerSpec], infos: Sequence[Sequence[MediaInfo]]) -> float:
    order = sorted(range(len(layers)), key=lambda i: not layers[i].main)  # the main layer first
    for i in order:
        for info in infos[i]:
            if not info.is_still and info.fps > 0:
                return float(Fraction(fps_text(min(MAX_FPS, nominal_rate(info.fps)))))
    return DEFAULT_FPS


def _windows(spec: LayerSpec, infos: Sequence[MediaInfo], total: float, bottom: bool) -> list[tuple[float, float]]:
    """Each clip's ``(start, end)`` within ``[0, total]``: in order, stills without a duration
    sharing what the others leave; the bottom layer's last shown clip lasts to the end."""
    lengths = [_length(c, i) for c, i in zip(spec.clips, infos, strict=True)]
    open_count = sum(1 for n in lengths if n is None)
    share = max(0.0, total - sum(n for n in lengths if n is not None)) / open_count if open_count else 0.0
    windows: list[tuple[float, float]] = []
    cursor = 0.0
    for n in lengths:
        start = min(cursor, total)
        cursor += share if n is None else n
        windows.append((start, min(cursor, total)))
    if bottom:
        last = max((k for k, (s, e) in enumerate(windows) if e > s), default=None)
        if last is not None:
            windows[last] = (windows[last][0], total)
    return [(round(s, 6), round(e, 6)) for s, e in windows]


def plan_layers(layers: Sequence[LayerSpec], infos: Sequence[Sequence[MediaInfo]], *, width: int | None,
                height: int | None, duration: float | None, max_short_side: int | None = None) -> LayerLayout:
    """Pure: the canvas, output duration, frame rate and each clip's rectangle and window.

    ``infos[i][j]`` is the probe of ``layers[i].clips[j]``. The canvas is ``width x height``
    (one of them alone keeps the reference medium's aspect), else the main layer's first
    medium's display size, else layer 0's (a still sets it too), evened and within
    :data:`~vidassets.media.geometry.MAX_DIMENSION`; ``max_short_side`` (a draft profile) caps it.
    """
    check_layers(layers)
    if len(infos) != len(layers) or any(len(i) != len(s.clips) for s, i in zip(layers, infos, strict=False)):
        raise MediaParamError("layers and their probes do not line up")
    for i, layer_infos in enumerate(infos):
        for j, info in enumerate(layer_infos):
            if not info.has_video:
                raise MediaParamError(f"layer {i + 1} item {j + 1} ({info.path.name}) has no picture to place")
    main = next((i for i, spec in enumerate(layers) if spec.main), 0)
    canvas_w, canvas_h = _canvas(infos[main][0], width, height, max_short_side)
    total, source = _output_duration(layers, infos, duration)
    total = round(total, 6)
    clips: list[ClipLayout] = []
    for i, (spec, layer_infos) in enumerate(zip(layers, infos, strict=True)):
        windows = _windows(spec, layer_infos, total, bottom=i == 0)
        for j, (info, (start, end)) in enumerate(zip(layer_infos, windows, strict=True)):
            placement = spec.clips[j].placement or spec.placement
            rect = placement.rect(canvas_w, canvas_h, info.display_width, info.display_height)
            own = None if info.is_still else (info.video_duration or info.duration)
            hold = round(max(0.0, (end - start) - own), 6) if own is not None and end > start else 0.0
            clips.append(ClipLayout(layer=i, item=j, rect=rect, start=start, end=end, still=info.is_still,
                                    audio=info.has_audio and not info.is_still and end > start, hold=hold))
    return LayerLayout(width=canvas_w, height=canvas_h, duration=total, fps=_fps(layers, infos),
                       duration_from=source, clips=tuple(clips))


# ------------------------------------------------------------------------------------ the graph


def _still_options(info: MediaInfo, fps: str, seconds: float) -> list[str]:
    """Loop a still for ``seconds`` at the output rate; the image2 demuxer reads the name literally."""
    options = ["-loop", "1", "-framerate", fps, "-t", fmt_num(seconds)]
    if info.format_name.split(",")[0] == "image2":
        options = ["-f", "image2", "-pattern_type", "none", *options]
    return options


#: libvpx decoders: FFmpeg's own VP8/VP9 decoders drop the alpha a WebM carries beside the picture.
_ALPHA_DECODERS = {"vp8": "libvpx", "vp9": "libvpx-vp9"}


def with_alpha(info: MediaInfo) -> MediaInfo:
    """``info`` with ``pix_fmt`` ``yuva420p`` when it is a VP8/VP9 WebM carrying alpha
    (``alpha_mode=1``; a cut-out from a background remover), which the probe reports as
    ``yuv420p``: the graph then decodes it with libvpx so the cut-out stays transparent."""
    if info.video_codec not in _ALPHA_DECODERS or (info.pix_fmt or "").startswith("yuva"):
        return info
    try:
        with av.open(str(info.path), mode="r", timeout=10.0) as container:
            stream = container.streams.video[0]
            alpha = str(stream.metadata.get("alpha_mode", stream.metadata.get("ALPHA_MODE", ""))) == "1"
    except (OSError, IndexError, av.error.FFmpegError):
        return info
    return replace(info, pix_fmt="yuva420p") if alpha else info


def _video_options(info: MediaInfo) -> list[str]:
    decoder = _ALPHA_DECODERS.get(info.video_codec or "")
    return ["-c:v", decoder] if decoder and (info.pix_fmt or "").startswith("yuva") else []


def _picture(clip: ClipLayout, info: MediaInfo, key: ChromaKey | None) -> list[str]:
    """One clip's video filters: its window's length, its rectangle, keyed, shifted to its start."""
    length = clip.end - clip.start
    own = None if clip.still else (info.video_duration or info.duration)
    filters = [f"trim=duration={fmt_num(min(length, own) if own else length)}"]
    filters += square_pixels(info)
    r = clip.rect
    if r.cover:
        filters += [f"scale={r.w}:{r.h}:force_original_aspect_ratio=increase", f"crop={r.w}:{r.h}"]
    else:
        filters.append(f"scale={r.w}:{r.h}")
    filters.append("setsar=1")
    if key is not None:
        filters.append(key.filter())
    elif clip.still:
        filters.append("format=rgba")  # a PNG logo stays transparent over what is below it
    if clip.hold > 0:
        filters.append(f"tpad=stop_mode=clone:stop_duration={fmt_num(clip.hold)}")
    filters.append("setpts=PTS-STARTPTS" + (f"+{fmt_num(clip.start)}/TB" if clip.start > 0 else ""))
    return filters


def _sound(graph: FilterGraph, clip: ClipLayout, info: MediaInfo, source: str, profile: EncoderProfile) -> str:
    """The part of a clip's sound that plays with its picture, placed at its window."""
    own = info.video_duration or info.duration
    played = min(clip.end - clip.start, own) if own else clip.end - clip.start
    layout = profile.channel_layout
    filters = [f"aresample={profile.audio_rate}",
               f"aformat=sample_fmts=fltp:sample_rates={profile.audio_rate}:channel_layouts={layout}",
               f"atrim=duration={fmt_num(played)}", "asetpts=PTS-STARTPTS"]
    if clip.start > 0:
        filters.append(f"adelay=delays={round(clip.start * 1000)}:all=1")
    label = graph.label("a")
    graph.chain([source], filters, [label])
    return label


def build_layer_command(layers: Sequence[LayerSpec], infos: Sequence[Sequence[MediaInfo]], layout: LayerLayout,
                        out: Path, profile: EncoderProfile | None = None) -> list[str]:
    """Pure: the one ffmpeg argv that renders ``layout`` (from :func:`plan_layers`) into ``out``."""
    profile = profile or default_profile()
    graph = FilterGraph()
    rate, total = fps_text(layout.fps), fmt_num(layout.duration)
    video = graph.label("canvas")
    graph.chain([], [f"color=c=black:s={layout.width}x{layout.height}:r={rate}:d={total}", "setsar=1",
                     f"format={profile.pix_fmt}"], [video])
    sounds: list[str] = []
    for clip in layout.clips:
        if not clip.shown:
            continue
        info, spec = infos[clip.layer][clip.item], layers[clip.layer]
        length = clip.end - clip.start
        options = _still_options(info, rate, length) if clip.still else _video_options(info)
        index = graph.add_input(info.path, options=options)
        picture = graph.label("p")
        graph.chain([f"{index}:v:0"], _picture(clip, info, spec.chroma_key), [picture])
        overlay = f"overlay=x={clip.rect.x}:y={clip.rect.y}:eof_action=pass"
        if clip.start > 0 or clip.end < layout.duration:
            overlay += f":enable='between(t,{fmt_num(clip.start)},{fmt_num(clip.end)})'"
        below, video = video, graph.label("v")
        graph.chain([below, picture], [overlay], [video])
        if clip.audio:
            sounds.append(_sound(graph, clip, info, f"{index}:a:0", profile))
    final = graph.label("vout")
    graph.chain([video], [f"format={profile.pix_fmt}"], [final])
    sound = graph.label("aout")
    if not sounds:
        graph.chain([], [f"anullsrc=r={profile.audio_rate}:cl={profile.channel_layout}", f"atrim=duration={total}"],
                    [sound])
    else:
        mix = [f"amix=inputs={len(sounds)}:duration=longest:normalize=0"] if len(sounds) > 1 else []
        graph.chain(sounds, [*mix, "apad", f"atrim=duration={total}"], [sound])
    return [
        *graph.input_args(), "-filter_complex", graph.text(), "-map", f"[{final}]", "-map", f"[{sound}]",
        "-t", total, *profile.video_args(), *profile.audio_args(), "-map_metadata", "-1",
        *profile.container_args(), str(out),
    ]


def layer(layers: Sequence[LayerSpec], out: Path, *, width: int | None = None, height: int | None = None,
          duration: float | None = None, profile: EncoderProfile | None = None, timeout: float | None = None,
          on_progress: ProgressCallback | None = None) -> tuple[MediaInfo, LayerLayout]:
    """Composite ``layers`` (layer 0 at the bottom) into ``out`` with one ffmpeg run.

    Returns the output's probe and the layout (each clip's rectangle and window)."""
    profile = profile or default_profile()
    check_layers(layers)
    infos = [[with_alpha(probe(local_input(clip.path), require_video=False)) for clip in spec.clips] for spec in layers]
    layout = plan_layers(layers, infos, width=width, height=height, duration=duration,
                         max_short_side=profile.max_short_side)
    with atomic_output(Path(out)) as part:
        argv = build_layer_command(layers, infos, layout, part, profile)
        run_ffmpeg(argv, timeout=timeout, on_progress=on_progress, expected_duration=layout.duration)
    return probe(Path(out), known_rotation=0), layout
