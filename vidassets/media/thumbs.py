"""Contact sheets: a row of evenly spaced frames in one JPEG, for the Dagster UI and reviews.

A producer scanning materialisations wants to see what a clip looks like without downloading
it; one small image with a few frames across the duration shows motion, framing and captions.
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
