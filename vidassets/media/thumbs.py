"""Contact sheets: a row of evenly spaced frames in one JPEG, for the Dagster UI and reviews.

A producer scanning materialisations wants to see what a clip looks like without downloading
it; one small image with a few frames across the duration shows motion, framing and captions.
"""

from __future__ import annotations

from pathlib import Path

from .errors import MediaParamError
from .files import atomic_output, local_input
from .probe import MediaInfo, probe
from .runner import run_ffmpeg


def build_contact_sheet_command(info: MediaInfo, out: Path, *, tiles: int = 4, tile_width: int = 240) -> list[str]:
    """``tiles`` frames at the centres of equal slices of the clip, scaled to ``tile_width``."""
    if not 1 <= tiles <= 16:
        raise MediaParamError("tiles must be between 1 and 16")
    if not 32 <= tile_width <= 1024:
        raise MediaParamError("tile_width must be between 32 and 1024")
    duration = max(info.duration, 1e-3)
    step = duration / tiles
    times = [round(step * (i + 0.5), 3) for i in range(tiles)]
    # One input per frame, each seeked (fast, keyframe-accurate enough for a preview).
    argv: list[str] = []
    for t in times:
        argv += ["-ss", f"{t:.3f}", "-i", str(info.path)]
    scaled = "".join(f"[{i}:v:0]scale={tile_width}:-2,setsar=1,trim=end_frame=1[t{i}];" for i in range(tiles))
    stack = "".join(f"[t{i}]" for i in range(tiles)) + (f"hstack=inputs={tiles}[sheet]" if tiles > 1 else "null[sheet]")
    argv += ["-filter_complex", scaled + stack, "-map", "[sheet]", "-frames:v", "1", "-q:v", "4",
             "-f", "image2", "-c:v", "mjpeg", str(out)]
    return argv


def contact_sheet(src: Path, out: Path, *, tiles: int = 4, tile_width: int = 240, timeout: float = 60.0) -> Path:
    info = probe(local_input(src))
    with atomic_output(Path(out)) as part:
        run_ffmpeg(build_contact_sheet_command(info, part, tiles=tiles, tile_width=tile_width), timeout=timeout)
    return Path(out)
