"""Previews: one small JPEG per artefact, for the Dagster UI and reviews.

A producer scanning materialisations wants to see what an output looks like without downloading
it. For a clip, a contact sheet (a row of evenly spaced frames) shows motion, framing and
captions; for a still, a downscaled copy (transparent parts over grey, so a cut-out reads as
one); for audio, a waveform picture shows at a glance whether there is sound, where the pauses
are and whether it is clipped.
"""

from __future__ import annotations

from pathlib import Path

from .errors import MediaParamError
from .files import atomic_output, local_input
from .probe import MediaInfo, keyframe_times, probe
from .runner import run_ffmpeg


def tile_times(duration: float, tiles: int, keyframes: list[float] | None = None) -> list[float]:
    """When to take each tile: one per equal slice of the clip, at the slice's keyframe nearest
    its centre, or at the centre when the slice has none. A seek onto a keyframe decodes one
    frame; a seek between keyframes decodes everything from the previous one (up to 10 s of
    video on imported media), which made previews cost more than some renders."""
    duration = max(duration, 1e-3)
    step = duration / tiles
    times = []
    for i in range(tiles):
        centre = step * (i + 0.5)
        inside = [k for k in keyframes or () if i * step <= k < (i + 1) * step]
        if inside:
            # 1 ms past the keyframe: an accurate seek then keeps the keyframe itself.
            times.append(round(min(min(inside, key=lambda k: abs(k - centre)) + 0.001, duration), 3))
        else:
            times.append(round(centre, 3))
    return times


def build_contact_sheet_command(info: MediaInfo, out: Path, *, tiles: int = 4, tile_width: int = 240,
                                times: list[float] | None = None) -> list[str]:
    """``tiles`` frames (at ``times``, default: slice centres) scaled to ``tile_width``, side by side."""
    if not 1 <= tiles <= 16:
        raise MediaParamError("tiles must be between 1 and 16")
    if not 32 <= tile_width <= 1024:
        raise MediaParamError("tile_width must be between 32 and 1024")
    if times is None:
        times = tile_times(info.duration, tiles)
    elif len(times) != tiles:
        raise MediaParamError("one time per tile")
    # One input per frame, each seeked (fast, keyframe-accurate enough for a preview).
    argv: list[str] = []
    for t in times:
        argv += ["-ss", f"{t:.3f}", "-i", str(info.path)]
    scaled = "".join(f"[{i}:v:0]scale={tile_width}:-2,setsar=1,trim=end_frame=1[t{i}];" for i in range(tiles))
    stack = "".join(f"[t{i}]" for i in range(tiles)) + (f"hstack=inputs={tiles}[sheet]" if tiles > 1 else "null[sheet]")
    argv += ["-filter_complex", scaled + stack, "-map", "[sheet]", "-frames:v", "1", "-q:v", "4",
             "-f", "image2", "-c:v", "mjpeg", str(out)]
    return argv


PREVIEW_BACKGROUND = "0x808080"  # behind transparent pixels of a still (background removal output)
WAVEFORM_COLOUR = "0x4aa3ff"


def preview_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """Fit ``width``x``height`` inside ``max_side`` squared, aspect kept, never upscaled (at least 1 px)."""
    if width <= 0 or height <= 0:
        raise MediaParamError("a still needs positive dimensions")
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def build_still_preview_command(info: MediaInfo, out: Path, *, max_side: int = 480) -> list[str]:
    """The image's first frame scaled to fit ``max_side``, laid over grey (alpha would otherwise
    turn black in a JPEG and hide what a background removal kept)."""
    if not 32 <= max_side <= 2048:
        raise MediaParamError("max_side must be between 32 and 2048")
    width, height = preview_size(info.display_width, info.display_height, max_side)
    graph = (f"color=c={PREVIEW_BACKGROUND}:s={width}x{height}:r=1[bg];"
             f"[0:v:0]scale={width}:{height},setsar=1,format=rgba[fg];"
             "[bg][fg]overlay=shortest=1:format=auto[thumb]")
    return ["-i", str(info.path), "-filter_complex", graph, "-map", "[thumb]", "-frames:v", "1", "-q:v", "4",
            "-f", "image2", "-c:v", "mjpeg", str(out)]


def build_waveform_command(info: MediaInfo, out: Path, *, width: int = 960, height: int = 160) -> list[str]:
    """The first audio stream drawn as one waveform picture (channels mixed, square-root scale so
    quiet speech stays visible). The same width as a four-tile contact sheet."""
    if not 64 <= width <= 4096 or not 32 <= height <= 1024:
        raise MediaParamError("waveform size must be within 64..4096 x 32..1024")
    graph = f"[0:a:0]showwavespic=s={width}x{height}:split_channels=0:scale=sqrt:colors={WAVEFORM_COLOUR}[wave]"
    return ["-i", str(info.path), "-filter_complex", graph, "-map", "[wave]", "-frames:v", "1", "-q:v", "4",
            "-f", "image2", "-c:v", "mjpeg", str(out)]


def still_preview(src: Path, out: Path, *, max_side: int = 480, timeout: float = 60.0,
                  info: MediaInfo | None = None) -> Path:
    """A JPEG thumbnail of the still ``src``; ``info`` is its probe when the caller already has one."""
    info = info if info is not None else probe(local_input(src), require_video=False)
    if not info.has_video:
        raise MediaParamError(f"{info.path.name} has no picture to preview")
    with atomic_output(Path(out)) as part:
        run_ffmpeg(build_still_preview_command(info, part, max_side=max_side), timeout=timeout, queue=False)
    return Path(out)


def waveform(src: Path, out: Path, *, width: int = 960, height: int = 160, timeout: float = 60.0,
             info: MediaInfo | None = None) -> Path:
    """A JPEG waveform of ``src``'s audio; ``info`` is its probe when the caller already has one."""
    info = info if info is not None else probe(local_input(src), require_video=False)
    if not info.has_audio:
        raise MediaParamError(f"{info.path.name} has no audio to draw")
    with atomic_output(Path(out)) as part:
        # Decodes the whole track, but audio decodes hundreds of times faster than real time: not
        # worth a place in the encoder queue.
        run_ffmpeg(build_waveform_command(info, part, width=width, height=height), timeout=timeout, queue=False)
    return Path(out)


def contact_sheet(src: Path, out: Path, *, tiles: int = 4, tile_width: int = 240, timeout: float = 60.0,
                  info: MediaInfo | None = None) -> Path:
    """A contact sheet of ``src``; ``info`` is its probe when the caller already has one."""
    info = info if info is not None else probe(local_input(src))
    times = tile_times(info.duration, tiles, keyframe_times(info.path))
    with atomic_output(Path(out)) as part:
        # A few decoded frames: not queued behind renders for the encoder slots.
        run_ffmpeg(build_contact_sheet_command(info, part, tiles=tiles, tile_width=tile_width, times=times),
                   timeout=timeout, queue=False)
    return Path(out)
