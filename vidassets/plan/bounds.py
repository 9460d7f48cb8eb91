"""Bounds on every number a client sends that reaches a renderer, declared once.

The parameter models (:mod:`vidassets.plan.params`) and the plan checks
(:mod:`vidassets.plan.estimates`, :mod:`vidassets.plan.normalize`) read them from here, so a plan
that validates is a plan ffmpeg can render: a size, rate or duration out of range is a 422 naming
the job and the field at submit time, never a job that fails (or a worker that runs out of memory)
later. Frame sizes come from :mod:`vidassets.media.geometry`, the renderer's own rule.
"""

from __future__ import annotations

from vidassets.media.errors import MediaParamError
from vidassets.media.geometry import MAX_DIMENSION, RESOLUTIONS, parse_resolution

# -- sizes and rates -------------------------------------------------------------------------------
MIN_DIMENSION = 16  # pixels per side; the renderer refuses smaller frames too
MAX_SIDE = MAX_DIMENSION  # 4096: the renderer's limit per side
MIN_FPS = 1
MAX_FPS = 60

# -- durations (seconds) -----------------------------------------------------------------------------
MAX_CLIP_S = 600.0  # one generated or imported clip (settings.max_duration_s may lower it)
MAX_MERGED_S = 3600.0  # the output of one merge: what one ffmpeg run concatenates
MAX_TRANSITION_S = 10.0

# -- counts ------------------------------------------------------------------------------------------
MAX_DEPENDS_ON = 64  # entries in one job's dependsOn, whatever the operation
MAX_MERGE_INPUTS = 32  # clips one merge opens at once (one decoder each)

# -- audio -------------------------------------------------------------------------------------------
MAX_VOLUME = 4.0  # gain on a replacement track; more only clips


def check_resolution(resolution: str, aspect_ratio: str) -> tuple[int, int]:
    """The frame size ``resolution`` means at ``aspect_ratio``, or ``ValueError`` saying why not.

    Named sizes (``720p``) are the short side and must be ones the renderer knows; explicit
    ``WxH`` sides must be even (H.264 in 4:2:0 cannot encode odd sizes, and rounding silently
    would render something other than what was asked) and within ``MIN_DIMENSION..MAX_SIDE``.
    """
    text = resolution.strip().lower()
    if text.endswith("p") and text not in RESOLUTIONS:
        raise ValueError(f"unknown resolution {resolution!r}; use one of {', '.join(RESOLUTIONS)} or WxH")
    if "x" in text:
        sides = [int(side) for side in text.split("x", 1)]
        if any(side % 2 for side in sides):
            raise ValueError(f"resolution {resolution!r}: width and height must be even numbers")
    try:
        width, height = parse_resolution(text, aspect_ratio)
    except MediaParamError as exc:
        raise ValueError(str(exc)) from None
    if min(width, height) < MIN_DIMENSION or max(width, height) > MAX_SIDE:
        raise ValueError(f"resolution {width}x{height} is outside {MIN_DIMENSION}..{MAX_SIDE} pixels per side")
    return width, height
