"""Changing a video's aspect ratio.

Sizes (all even; ``S`` = the source's short side):

* crop strategies (``center top bottom left right smart``) cut the largest
  window of the target aspect out of the source, keeping its full height (or
  width). Without ``allow_upscale`` the output is that window at 1:1 pixels -
  1920x1080 to 9:16 gives 608x1080 - so nothing is invented. With
  ``allow_upscale`` the window is scaled to the canvas below (1080x1920).
* ``pad`` (letterbox) and ``blur`` (blurred copy of the video as background)
  place the whole picture on a canvas of the target aspect whose short side is
  ``S``: 1920x1080 to 9:16 gives a 1080x1920 canvas with the picture fitted to
  1080x608 in the middle. The picture is only ever scaled down.

``top``/``bottom`` only matter when the crop cuts height, ``left``/``right``
when it cuts width; otherwise the window is centred. ``smart`` follows faces or
salient motion (see :mod:`vidassets.media.smart`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

from .errors import MediaParamError
from .files import atomic_output, local_input
from .filters import escape_filter_value, fmt_num
from .geometry import canvas_size, crop_rect, even, fit_size, parse_aspect
from .graph import FilterGraph, Stream
from .probe import MediaInfo, probe
from .profile import EncoderProfile, default_profile
from .runner import ProgressCallback, run_ffmpeg
from .smart import CropPath, analyse_interest, crop_path
from .streams import audio_plan, square_pixels

CROP_STRATEGIES = ("center", "top", "bottom", "left", "right", "smart")
FIT_STRATEGIES = ("pad", "blur")
STRATEGIES = CROP_STRATEGIES + FIT_STRATEGIES
_ALIASES = {"centre": "center", "letterbox": "pad", "blurred": "blur", "blurred-pad": "blur", "blur_pad": "blur"}


def normalise_strategy(strategy: str) -> str:
    name = str(strategy).strip().lower()
    name = _ALIASES.get(name, name)
    if name not in STRATEGIES:
        raise MediaParamError(f"unknown reframe strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")
    return name


@dataclass(frozen=True)
class ReframeCommand:
    """The argv and the output size it produces."""

    argv: list[str]
    width: int
    height: int
    strategy: str


def output_size(info: MediaInfo, aspect_ratio: str, strategy: str, allow_upscale: bool = False) -> tuple[int, int]:
    """The output dimensions for a reframe (see module doc for the rules)."""
    aspect = parse_aspect(aspect_ratio)
    strategy = normalise_strategy(strategy)
    src_w, src_h = even(info.display_width), even(info.display_height)
    if strategy in FIT_STRATEGIES or allow_upscale:
        return canvas_size(src_w, src_h, aspect)
    rect = crop_rect(src_w, src_h, aspect, "center")
    return rect.w, rect.h


def build_reframe_command(
    info: MediaInfo,
    out: Path,
    *,
    aspect_ratio: str,
    strategy: str = "center",
    allow_upscale: bool = False,
    profile: EncoderProfile | None = None,
    path: CropPath | None = None,
) -> ReframeCommand:
    """Pure: the command reframing ``info.path`` into ``out``.

    For ``smart``, ``path`` is the analysed crop path; without it the crop is
    centred.
    """
    profile = profile or default_profile()
    graph = FilterGraph()
    framed = reframe_fragment(graph, graph.source(info), aspect_ratio=aspect_ratio, strategy=strategy,
                              allow_upscale=allow_upscale, profile=profile, path=path)
    audio = audio_plan(info, profile)
    argv = [
        *graph.input_args(), *audio.inputs, "-filter_complex", graph.text(), "-map", f"[{framed.video}]", *audio.map,
        *profile.video_args(), *audio.codec, "-map_metadata", "-1", *profile.container_args(), str(out),
    ]
    return ReframeCommand(argv=argv, width=framed.info.width, height=framed.info.height,
                          strategy=normalise_strategy(strategy))


def reframe_fragment(graph: FilterGraph, stream: Stream, *, aspect_ratio: str, strategy: str = "center",
                     allow_upscale: bool = False, profile: EncoderProfile | None = None,
                     path: CropPath | None = None) -> Stream:
    """The reframe as a graph fragment: ``stream``'s picture at the new aspect ratio, its sound
    untouched (see the module doc for the sizes)."""
    profile = profile or default_profile()
    strategy = normalise_strategy(strategy)
    aspect = parse_aspect(aspect_ratio)
    info = stream.info
    src_w, src_h = even(info.display_width), even(info.display_height)
    canvas = canvas_size(src_w, src_h, aspect)
    pre = [*square_pixels(info)]
    if (src_w, src_h) != (info.display_width, info.display_height):
        pre.append(f"crop={src_w}:{src_h}:0:0")
    head = f"[{stream.video}]" + "".join(f"{f}," for f in pre)
    out = graph.label("vr")
    tail = f"setsar=1,format={profile.pix_fmt}[{out}]"
    if strategy in CROP_STRATEGIES:
        filters, (width, height) = _crop_filters((src_w, src_h), canvas, aspect, strategy, allow_upscale, path)
        graph.raw(head + ",".join(filters) + "," + tail)
    else:
        body = (_pad_graph((src_w, src_h), canvas) if strategy == "pad"
                else _blur_graph((src_w, src_h), canvas, graph.label("b")))
        graph.raw(head + body + tail)
        width, height = canvas
    framed = replace(info, path=Path("(graph)"), width=width, height=height, rotation=0, sample_aspect_ratio=1.0,
                     pix_fmt=profile.pix_fmt, video_codec=None, format_name="graph")
    return Stream(out, stream.audio, framed, audio_source=stream.audio_source)


def _crop_filters(src: tuple[int, int], canvas: tuple[int, int], aspect: Fraction, strategy: str,
                  allow_upscale: bool, path: CropPath | None) -> tuple[list[str], tuple[int, int]]:
    """Crop (following the smart path when there is one), scaled up to the canvas if allowed."""
    rect = crop_rect(src[0], src[1], aspect, strategy)
    if strategy == "smart" and path is not None:
        x, y = escape_filter_value(path.x_expr()), escape_filter_value(path.y_expr())
    else:
        x, y = str(rect.x), str(rect.y)
    filters = [f"crop=w={rect.w}:h={rect.h}:x={x}:y={y}"]
    if allow_upscale and canvas != (rect.w, rect.h):
        filters.append(f"scale={canvas[0]}:{canvas[1]}:flags=lanczos")
        return filters, canvas
    return filters, (rect.w, rect.h)


def _pad_graph(src: tuple[int, int], canvas: tuple[int, int]) -> str:
    """The whole frame, fitted (never enlarged) and centred on black."""
    fit_w, fit_h = fit_size(src[0], src[1], canvas[0], canvas[1], allow_upscale=False)
    return f"scale={fit_w}:{fit_h}:flags=lanczos,pad={canvas[0]}:{canvas[1]}:(ow-iw)/2:(oh-ih)/2:color=black,"


def _blur_graph(src: tuple[int, int], canvas: tuple[int, int], tag: str = "") -> str:
    """The whole frame, fitted and centred over a blurred, darkened fill of itself (``tag`` keeps
    the inner labels unique when several reframes share one graph)."""
    fit_w, fit_h = fit_size(src[0], src[1], canvas[0], canvas[1], allow_upscale=False)
    # The background is built at 1/8 size: blurring a full canvas would cost more than the encode.
    bg_w, bg_h = even(canvas[0] / 8), even(canvas[1] / 8)
    return (f"split=2[{tag}bgsrc][{tag}fgsrc];"
            f"[{tag}bgsrc]scale={bg_w}:{bg_h}:force_original_aspect_ratio=increase,crop={bg_w}:{bg_h},"
            f"gblur=sigma={fmt_num(max(2.0, bg_w / 24), 2)},eq=brightness=-0.08,"
            f"scale={canvas[0]}:{canvas[1]}:flags=bilinear[{tag}bg];"
            f"[{tag}fgsrc]scale={fit_w}:{fit_h}:flags=lanczos[{tag}fg];"
            f"[{tag}bg][{tag}fg]overlay=(W-w)/2:(H-h)/2,")


def plan_smart_crop(info: MediaInfo, aspect_ratio: str, *, timeout: float | None = None) -> CropPath:
    """Analyse ``info.path`` and return the crop path ``smart`` would use."""
    src_w, src_h = even(info.display_width), even(info.display_height)
    rect = crop_rect(src_w, src_h, parse_aspect(aspect_ratio), "center")
    samples = analyse_interest(info.path, info, timeout=timeout)
    return crop_path(samples, src_w, src_h, rect.w, rect.h)


def reframe(
    src: Path,
    out: Path,
    *,
    aspect_ratio: str,
    strategy: str = "center",
    allow_upscale: bool = False,
    profile: EncoderProfile | None = None,
    timeout: float | None = None,
    on_progress: ProgressCallback | None = None,
) -> MediaInfo:
    """Reframe ``src`` to ``aspect_ratio`` with ``strategy`` (see module doc for sizes).

    Video is re-encoded; audio is copied when it is already AAC.
    """
    strategy = normalise_strategy(strategy)
    parse_aspect(aspect_ratio)
    info = probe(local_input(src))
    path = plan_smart_crop(info, aspect_ratio, timeout=timeout) if strategy == "smart" else None
    with atomic_output(Path(out)) as part:
        command = build_reframe_command(
            info,
            part,
            aspect_ratio=aspect_ratio,
            strategy=strategy,
            allow_upscale=allow_upscale,
            profile=profile,
            path=path,
        )
        run_ffmpeg(command.argv, timeout=timeout, on_progress=on_progress, expected_duration=info.duration)
    return probe(Path(out), known_rotation=0)
