"""The embedded offline generator: a deterministic clip rendered from a prompt.

This is not AI video. It exists so the whole system runs without a provider:
the clip honours duration, aspect ratio, resolution, fps and seed, looks
different for different prompts/seeds (a procedural colour field whose palette,
frequencies and drift speeds come from a hash of prompt+seed), prints the
prompt as a caption and says in the corner that it is a local render.

Determinism: same inputs give byte-identical files on the same ffmpeg build.
Everything that could vary is pinned - bit-exact muxing and encoding flags, no
metadata, a fixed x264 thread count (its output depends on it), numbers
formatted with fixed precision - and nothing reads the clock or a RNG.

Text safety: the prompt is written to a file and drawn with
``drawtext=textfile=...:expansion=none``; it never appears in the filtergraph.
drawtext takes a single font and has no glyph fallback, so each caption line
is drawn with one shipped font that covers it (see :func:`caption_lines`).
"""

from __future__ import annotations

import colorsys
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import MediaParamError
from .files import atomic_output, scratch_dir
from .filters import escape_filter_value, fmt_num
from .fonts import DEFAULT_FAMILY, covers, font_file, shipped_families, split_runs
from .geometry import parse_resolution
from .probe import MediaInfo, probe
from .profile import EncoderProfile, default_profile
from .runner import ProgressCallback, run_ffmpeg
from .textlayout import text_width, wrap_text

MAX_DURATION = 600.0
MAX_CAPTION_LINES = 3
MAX_PROMPT_CHARS = 2000
#: The colour field is low-frequency, so it is evaluated on a tiny grid (long side
#: FIELD_SIZE px) at FIELD_RATE fps, then blended up to the output rate and scaled
#: up bicubically: per-pixel ``geq`` at full size would cost seconds per second.
FIELD_SIZE = 64
FIELD_RATE = 8

BITEXACT_ARGS = ["-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact"]
NO_METADATA_ARGS = ["-map_metadata", "-1", "-map_chapters", "-1"]


@dataclass(frozen=True)
class Palette:
    """Numbers derived from hash(prompt, seed) that drive the picture and the sound."""

    base: tuple[int, int, int]
    amplitude: tuple[int, int, int]
    phase: tuple[float, float, float]
    freq: tuple[float, float, float, float]
    speed: tuple[float, float, float, float]
    angle: tuple[float, float]
    centre: tuple[float, float]
    tone_hz: float


def clip_palette(prompt: str, seed: int) -> Palette:
    """Derive the look and sound of a clip from ``prompt`` and ``seed``.

    The base colour (HSV hue from the hash, moderate saturation/value) is the
    frame's mean colour, so different inputs differ visibly, not just in noise.
    """
    digest = hashlib.sha256(f"vidassets-local\x00{seed}\x00{prompt}".encode()).digest()

    def unit(i: int) -> float:
        return int.from_bytes(digest[2 * i : 2 * i + 2], "big") / 65535.0

    r, g, b = colorsys.hsv_to_rgb(unit(0), 0.45 + 0.4 * unit(1), 0.45 + 0.3 * unit(2))
    base = (round(r * 255), round(g * 255), round(b * 255))
    amplitude = tuple(round(40 + 30 * unit(3 + k)) for k in range(3))
    return Palette(
        base=base,
        amplitude=(amplitude[0], amplitude[1], amplitude[2]),
        phase=(6.2832 * unit(6), 6.2832 * unit(7), 6.2832 * unit(8)),
        freq=(0.6 + 2.0 * unit(9), 0.6 + 2.0 * unit(10), 0.8 + 2.5 * unit(11), 1.5 + 3.0 * unit(12)),
        speed=(0.05 + 0.25 * unit(13), 0.05 + 0.25 * unit(14), 0.05 + 0.3 * unit(15), 0.2 + 0.6 * unit(12) * unit(13)),
        angle=(unit(14), unit(15)),
        centre=(0.25 + 0.5 * unit(3), 0.25 + 0.5 * unit(4)),
        # Somewhere in a soft low register (A2..A3, on the semitone grid).
        tone_hz=110.0 * 2 ** (int(unit(5) * 12) / 12),
    )


def _field_expr(p: Palette, channel: int) -> str:
    """geq expression for one RGB channel of the colour field (our numbers only)."""
    f, s, n = p.freq, p.speed, fmt_num
    wave = (
        f"sin(2*PI*(X/W*{n(f[0])}+T*{n(s[0])})+{n(p.phase[0])})"
        f"+sin(2*PI*(Y/H*{n(f[1])}-T*{n(s[1])})+{n(p.phase[1])})"
        f"+sin(2*PI*((X/W*{n(p.angle[0])}+Y/H*{n(p.angle[1])})*{n(f[2])}+T*{n(s[2])})+{n(p.phase[2])})"
        f"+sin(2*PI*hypot(X/W-{n(p.centre[0])}-0.2*sin(T*{n(s[3])}),Y/H-{n(p.centre[1])}-0.2*cos(T*{n(s[3])}))*{n(f[3])})"
    )
    shift = n(p.phase[channel] + 2.1 * channel)
    return f"clip({p.base[channel]}+{p.amplitude[channel]}*sin({wave}*0.8+{shift}),0,255)"


def _audio_expr(p: Palette) -> str:
    """aevalsrc expressions for a quiet stereo pad: root, fifth and tenth with a slow swell."""
    f1 = p.tone_hz
    n = fmt_num
    swell = f"(0.8+0.2*sin(2*PI*{n(0.1 + p.speed[0])}*t))"
    left = f"{swell}*(0.05*sin(2*PI*{n(f1)}*t)+0.03*sin(2*PI*{n(f1 * 1.5)}*t+1)+0.02*sin(2*PI*{n(f1 * 2.5)}*t+2))"
    right = (
        f"{swell}*(0.05*sin(2*PI*{n(f1 * 1.002)}*t+0.5)+0.03*sin(2*PI*{n(f1 * 1.5)}*t+1.7)"
        f"+0.02*sin(2*PI*{n(f1 * 2.502)}*t+2.4))"
    )
    return f"{left}|{right}"


@dataclass(frozen=True)
class CaptionLine:
    """One caption line and the single shipped font that can draw all of it."""

    text: str
    font: Path


def caption_lines(prompt: str, width: int, font_size: int, *, max_lines: int = MAX_CAPTION_LINES) -> list[CaptionLine]:
    """Break the prompt into at most ``max_lines`` lines, each drawable by one font.

    drawtext cannot fall back to another font inside one line, so the whole
    caption uses the first shipped font that covers all of it (Latin + CJK fits
    in WenQuanYi Micro Hei); only when none does, lines also break where the
    script changes (e.g. Latin then Arabic). Overflow is cut with an ellipsis.
    """
    columns = max(8, int(width * 0.9 / (font_size * 0.55)))
    text = " ".join(prompt[:MAX_PROMPT_CHARS].split())
    whole = next((font_file(f) for f in shipped_families() if covers(font_file(f), text)), None)
    segments = [(whole, text)] if whole else [(font_file(family), run.strip()) for family, run in split_runs(text)]
    lines: list[CaptionLine] = []
    for font, segment in segments:
        for line in wrap_text(segment, columns):
            lines.append(CaptionLine(line, font))
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        text = last.text
        while text and text_width(text) + 1 > columns:
            text = text[:-1]
        lines = [*lines[: max_lines - 1], CaptionLine(text.rstrip() + "…", last.font)]
    return lines


def build_render_command(
    out: Path,
    *,
    width: int,
    height: int,
    duration: float,
    fps: int,
    palette: Palette,
    captions: Sequence[tuple[Path, Path]] = (),
    label: tuple[Path, Path] | None = None,
    profile: EncoderProfile | None = None,
) -> list[str]:
    """ffmpeg arguments for a local clip.

    ``captions`` are ``(textfile, fontfile)`` pairs, top line first; ``label``
    is the corner tag. Only paths and our own numbers enter the graph.
    """
    profile = (profile or default_profile()).deterministic()
    video = [*_field_filters(width, height, duration, fps, palette),
             *_text_filters(height, captions, label), f"format={profile.pix_fmt}"]
    fade_out = max(0.0, duration - 0.5)
    audio = [
        f"aevalsrc={escape_filter_value(_audio_expr(palette))}:s={profile.audio_rate}:d={fmt_num(duration)}",
        f"afade=t=in:d={fmt_num(min(0.3, duration / 4))}",
        f"afade=t=out:st={fmt_num(fade_out)}:d={fmt_num(min(0.5, duration / 4))}",
    ]
    graph = ",".join(video) + "[v];" + ",".join(audio) + "[a]"
    return [
        "-filter_complex", graph, "-map", "[v]", "-map", "[a]", *profile.video_args(), *profile.audio_args(),
        *BITEXACT_ARGS, *NO_METADATA_ARGS, "-t", fmt_num(duration), *profile.container_args(), str(out),
    ]


def _field_filters(width: int, height: int, duration: float, fps: int, palette: Palette) -> list[str]:
    """The moving colour field: computed small and slow, then scaled and interpolated up."""
    if width >= height:
        fw, fh = FIELD_SIZE, max(8, round(FIELD_SIZE * height / width))
    else:
        fw, fh = max(8, round(FIELD_SIZE * width / height)), FIELD_SIZE
    field_rate = min(fps, FIELD_RATE)
    geq = ":".join(f"{ch}={escape_filter_value(_field_expr(palette, i))}" for i, ch in enumerate("rgb"))
    video = [
        # One extra second so frame-rate interpolation has a frame after the end.
        f"nullsrc=s={fw}x{fh}:r={field_rate}:d={fmt_num(duration + 1)}",
        "format=gbrp",
        f"geq={geq}",
    ]
    if fps > field_rate:
        video.append(f"framerate=fps={fps}")
    return [*video, f"trim=duration={fmt_num(duration)}", f"scale={width}:{height}:flags=bicubic", "setsar=1"]


def _text_filters(height: int, captions: Sequence[tuple[Path, Path]],
                  label: tuple[Path, Path] | None) -> list[str]:
    """The prompt's caption lines near the bottom and the corner label; only paths enter the graph."""
    font_size = max(12, round(height * 0.05))
    line_h = round(font_size * 1.45)
    bottom = height - round(height * 0.06)
    out = []
    for i, (textfile, fontfile) in enumerate(captions):
        y = bottom - (len(captions) - i) * line_h
        out.append(
            f"drawtext=fontfile={escape_filter_value(fontfile)}:textfile={escape_filter_value(textfile)}"
            f":expansion=none:fontsize={font_size}:fontcolor=white:box=1:boxcolor=black@0.45"
            f":boxborderw={max(2, font_size // 4)}:x=(w-text_w)/2:y={y}"
        )
    if label is not None:
        textfile, fontfile = label
        margin = round(height * 0.03)
        out.append(
            f"drawtext=fontfile={escape_filter_value(fontfile)}:textfile={escape_filter_value(textfile)}"
            f":expansion=none:fontsize={max(10, round(height * 0.028))}:fontcolor=white@0.8:x={margin}:y={margin}"
        )
    return out


def render_local_clip(
    out: Path,
    *,
    prompt: str,
    duration: float,
    aspect_ratio: str = "16:9",
    resolution: str = "720p",
    seed: int = 0,
    fps: int = 24,
    profile: EncoderProfile | None = None,
    timeout: float | None = None,
    on_progress: ProgressCallback | None = None,
) -> MediaInfo:
    """Render the deterministic local clip for ``prompt`` to ``out`` (MP4, with an audio bed).

    ``resolution`` is ``480p``/``720p``/``1080p`` (the short side, oriented by
    ``aspect_ratio``) or an explicit ``WxH``, which wins over the aspect.
    """
    if not isinstance(prompt, str):
        raise MediaParamError("prompt must be a string")
    if not 0 < float(duration) <= MAX_DURATION:
        raise MediaParamError(f"duration must be within (0, {MAX_DURATION:g}] seconds, got {duration}")
    if not isinstance(fps, int) or isinstance(fps, bool) or not 1 <= fps <= 120:
        raise MediaParamError(f"fps must be an integer within 1..120, got {fps!r}")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise MediaParamError(f"seed must be an integer, got {seed!r}")
    width, height = parse_resolution(resolution, aspect_ratio)
    palette = clip_palette(prompt, seed)
    font_size = max(12, round(height * 0.05))
    with scratch_dir() as tmp, atomic_output(Path(out)) as part:
        captions: list[tuple[Path, Path]] = []
        for i, line in enumerate(caption_lines(prompt, width, font_size)):
            textfile = tmp / f"caption-{i}.txt"
            textfile.write_text(line.text, encoding="utf-8")
            captions.append((textfile, line.font))
        label_file = tmp / "label.txt"
        label_file.write_text(f"vidassets local render · seed {seed}", encoding="utf-8")
        argv = build_render_command(
            part,
            width=width,
            height=height,
            duration=float(duration),
            fps=fps,
            palette=palette,
            captions=captions,
            label=(label_file, font_file(DEFAULT_FAMILY)),
            profile=profile,
        )
        run_ffmpeg(argv, timeout=timeout, on_progress=on_progress, expected_duration=float(duration))
    return probe(Path(out), known_rotation=0)
