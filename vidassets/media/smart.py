"""Smart reframing: find where the interest is and move a crop window smoothly.

Analysis streams the video through PyAV and looks at a few small grayscale
frames per second (never the whole video in memory: one frame, the previous
sample and a list of numbers). For each sample the point of interest is

1. the faces found by OpenCV's frontal-face Haar cascade (area-weighted; only
   with OpenCV 4.x, which ships the cascade - see :func:`face_cascade`), else
2. the centroid of a saliency map: centre-surround intensity contrast
   (difference of Gaussians), boosted where the frame moved since the previous
   sample (frame differencing gated by saliency, so the spot a subject just
   left does not attract the crop), else
3. unknown (the path holds its position).

The raw points jitter, so the path is cleaned before it drives the crop:
median filter (drops one-sample outliers), a dead zone (small drifts do not
move the camera), zero-phase Gaussian smoothing (no lag), a speed limit
(bounded change per frame) and clamping to the frame. The result is a
piecewise-linear function of time that ffmpeg's ``crop`` evaluates per frame as
a flat sum of ``clip()`` terms - no sendcmd file, no nesting limits.
"""

from __future__ import annotations

import functools
import importlib
import logging
import math
import time
import types
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

from .errors import InvalidMediaError, MediaTimeoutError
from .filters import fmt_num
from .probe import MediaInfo


class _LazyModule(types.ModuleType):
    """OpenCV and NumPy are slow to import and only smart reframing needs them; every run worker
    imports this package, so they load on first use instead."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._module: types.ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self.__name__)
        return getattr(self._module, attr)


cv2: Any = _LazyModule("cv2")
np: Any = _LazyModule("numpy")

log = logging.getLogger(__name__)

SAMPLE_FPS = 3.0
ANALYSIS_WIDTH = 320
SMOOTHING_SIGMA = 0.5  # seconds, width of the zero-phase Gaussian smoothing
DEAD_ZONE = 0.03  # fraction of the source size the crop ignores
MAX_SPEED = 0.5  # source widths (or heights) per second
MAX_KEYFRAMES = 120


@dataclass(frozen=True)
class InterestSample:
    """Where the interest was at ``t``, as fractions of the display frame (``None`` = unknown)."""

    t: float
    x: float | None
    y: float | None
    kind: str  # "face", "saliency" or "none"


@dataclass(frozen=True)
class CropPath:
    """Top-left corner of a ``w`` x ``h`` crop over time, in source display pixels."""

    times: tuple[float, ...]
    xs: tuple[float, ...]
    ys: tuple[float, ...]
    w: int
    h: int

    def at(self, t: float) -> tuple[float, float]:
        """Corner position at ``t`` (linear between keyframes, held outside them)."""
        return float(np.interp(t, self.times, self.xs)), float(np.interp(t, self.times, self.ys))

    def centre_at(self, t: float) -> tuple[float, float]:
        x, y = self.at(t)
        return x + self.w / 2, y + self.h / 2

    def x_expr(self) -> str:
        return piecewise_expr(self.times, self.xs)

    def y_expr(self) -> str:
        return piecewise_expr(self.times, self.ys)


def piecewise_expr(times: Sequence[float], values: Sequence[float]) -> str:
    """An ffmpeg expression of ``t`` interpolating ``values`` linearly at ``times``.

    ``v0 + sum(slope_k * clip(t - t_k, 0, t_{k+1} - t_k))``: flat, so its length
    grows linearly and the parser never recurses deeply.
    """
    if not values:
        return "0"
    terms = [fmt_num(values[0], 2)]
    for k in range(len(times) - 1):
        dt = times[k + 1] - times[k]
        dv = values[k + 1] - values[k]
        if dt <= 0 or abs(dv) < 0.01:
            continue
        terms.append(f"{fmt_num(dv / dt, 4)}*clip(t-{fmt_num(times[k], 4)},0,{fmt_num(dt, 4)})")
    return "+".join(terms).replace("+-", "-")


# ------------------------------------------------------------------- analysis


def _centre_surround(gray: np.ndarray) -> np.ndarray:
    """Intensity saliency: |fine blur - coarse blur| (the intensity channel of Itti-Koch).

    Regions that differ from their surroundings light up, whatever their absolute
    brightness, and a uniform frame gives an empty map.
    """
    width = gray.shape[1]
    fine = cv2.GaussianBlur(gray, (0, 0), max(1.0, width / 80))
    coarse = cv2.GaussianBlur(gray, (0, 0), max(2.0, width / 8))
    return np.asarray(np.abs(fine - coarse), dtype=np.float32)


def _normalise(m: np.ndarray) -> np.ndarray:
    lo, hi = float(m.min()), float(m.max())
    return (m - lo) / (hi - lo) if hi - lo > 1e-6 else np.zeros_like(m)


def _centroid(m: np.ndarray) -> tuple[float, float] | None:
    """Centroid of the strongest part of a map, as fractions; ``None`` for a flat map."""
    peak = float(m.max())
    if peak <= 1e-6:
        return None
    mass = np.where(m >= 0.5 * peak, m, 0.0)
    total = float(mass.sum())
    if total <= 0:
        return None
    h, w = m.shape
    ys, xs = np.indices(m.shape)
    return float((xs * mass).sum() / total + 0.5) / w, float((ys * mass).sum() / total + 0.5) / h


@functools.cache
def face_cascade() -> Any:
    """OpenCV's frontal-face Haar cascade, or ``None`` where this OpenCV has none.

    OpenCV 5 removed ``CascadeClassifier`` and its bundled XML files (its face
    detector needs a model download, which a self-hosted box may not allow);
    there the face stage is skipped and saliency alone steers the crop.
    """
    classifier = getattr(cv2, "CascadeClassifier", None)
    data = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if classifier is None or not data:
        log.info("OpenCV %s has no Haar cascades; smart reframe uses saliency only", cv2.__version__)
        return None
    path = Path(data) / "haarcascade_frontalface_default.xml"
    if not path.is_file():
        return None
    cascade = classifier(str(path))
    return None if cascade.empty() else cascade


class _Detector:
    """Per-sample interest detection; keeps only the previous sample for motion."""

    def __init__(self) -> None:
        self.cascade: Any = face_cascade()
        self.prev: np.ndarray | None = None

    def __call__(self, t: float, gray: np.ndarray) -> InterestSample:
        h, w = gray.shape
        if self.cascade is not None:
            min_side = max(12, min(w, h) // 12)
            faces = self.cascade.detectMultiScale(gray, scaleFactor=1.15, minNeighbors=5, minSize=(min_side, min_side))
            if len(faces):
                areas = np.array([fw * fh for (_, _, fw, fh) in faces], dtype=np.float64)
                cx = sum((fx + fw / 2) * a for (fx, _, fw, _), a in zip(faces, areas, strict=True)) / areas.sum()
                cy = sum((fy + fh / 2) * a for (_, fy, _, fh), a in zip(faces, areas, strict=True)) / areas.sum()
                self.prev = gray
                return InterestSample(t, cx / w, cy / h, "face")
        frame = gray.astype(np.float32) / 255.0
        saliency = _normalise(_centre_surround(frame))
        if self.prev is not None:
            motion = cv2.GaussianBlur(np.abs(frame - self.prev.astype(np.float32) / 255.0), (0, 0), 3)
            if float(motion.max()) > 0.02:
                # Gate motion by current saliency: the spot a subject just left is not interesting.
                saliency = _normalise(saliency + 1.5 * _normalise(motion * (0.2 + saliency)))
        self.prev = gray
        if float(frame.std()) < 0.01:  # a flat frame has nothing to follow
            return InterestSample(t, None, None, "none")
        point = _centroid(saliency)
        if point is None:
            return InterestSample(t, None, None, "none")
        return InterestSample(t, point[0], point[1], "saliency")


def analyse_interest(
    src: Path, info: MediaInfo, *, sample_fps: float = SAMPLE_FPS, timeout: float | None = None
) -> list[InterestSample]:
    """Sample ``src`` at ``sample_fps`` and locate the point of interest in each sample."""
    disp_w, disp_h = info.display_width, info.display_height
    aw = min(ANALYSIS_WIDTH, disp_w)
    ah = max(2, round(aw * disp_h / disp_w))
    # Decoded frames are not rotated; size the reformat so that rotating gives (aw, ah).
    fw, fh = (ah, aw) if info.rotation in (90, 270) else (aw, ah)
    detector = _Detector()
    samples: list[InterestSample] = []
    next_t: float | None = None
    started = time.monotonic()
    try:
        with av.open(str(src), timeout=timeout) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in container.decode(stream):
                if timeout is not None and time.monotonic() - started > timeout:
                    raise MediaTimeoutError(f"smart reframe analysis exceeded {timeout:g}s")
                t = float(frame.time or 0.0)
                if next_t is None:
                    next_t = t
                if t + 1e-6 < next_t:
                    continue
                next_t = t + 1.0 / sample_fps
                gray: np.ndarray = frame.to_ndarray(format="gray", width=fw, height=fh)
                if info.rotation:
                    gray = np.ascontiguousarray(np.rot90(gray, k=info.rotation // 90))
                samples.append(detector(t, gray))
    except av.error.FFmpegError as exc:
        raise InvalidMediaError(f"could not decode {src.name} for analysis: {exc}") from exc
    return samples


# ------------------------------------------------------------------ smoothing


def _fill(values: list[float | None], default: float) -> list[float]:
    """Replace unknowns by the nearest known value (the default if none is known)."""
    known = [v for v in values if v is not None]
    if not known:
        return [default] * len(values)
    out: list[float] = []
    last: float | None = None
    for v in values:
        last = v if v is not None else last
        out.append(last if last is not None else known[0])
    return out


def _median(values: list[float], window: int = 5) -> list[float]:
    """Running median; ends odd-reflected so a steady trend is not bent at the edges."""
    half = min(window // 2, len(values) - 1)
    if half < 1:
        return list(values)
    padded = np.pad(np.asarray(values, dtype=np.float64), half, mode="reflect", reflect_type="odd")
    return [float(np.median(padded[i : i + 2 * half + 1])) for i in range(len(values))]


def _gaussian_smooth(times: list[float], values: list[float], sigma: float) -> list[float]:
    """Zero-phase Gaussian smoothing (``sigma`` in seconds) with odd-reflected ends.

    Odd reflection (``2*v0 - v[k]``) continues a trend past the ends, so a
    subject moving steadily is tracked to the first and last frame instead of
    being pulled towards the middle, as plain padding or a forward-backward EMA
    would do.
    """
    if len(values) < 3:
        return list(values)
    step = (times[-1] - times[0]) / (len(times) - 1) or 1.0
    sig = sigma / step
    radius = max(1, math.ceil(3 * sig))
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sig) ** 2)
    kernel /= kernel.sum()
    arr = np.asarray(values, dtype=np.float64)
    pad = min(radius, len(arr) - 1)
    padded = np.pad(arr, pad, mode="reflect", reflect_type="odd")
    if pad < radius:
        padded = np.pad(padded, radius - pad, mode="edge")
    smoothed = np.convolve(padded, kernel, mode="same")[radius : radius + len(arr)]
    return [float(v) for v in smoothed]


def _dead_zone(values: list[float], zone: float) -> list[float]:
    out = [values[0]]
    for v in values[1:]:
        held = out[-1]
        if abs(v - held) <= zone:
            out.append(held)
        else:
            out.append(v - math.copysign(zone, v - held))
    return out


def _speed_limit(times: list[float], values: list[float], max_speed: float) -> list[float]:
    out = [values[0]]
    for i in range(1, len(values)):
        step = max_speed * max(0.0, times[i] - times[i - 1])
        out.append(out[-1] + max(-step, min(step, values[i] - out[-1])))
    return out


def smooth_track(
    times: list[float], centres: list[float | None], *, size: float, crop: float, default: float
) -> list[float]:
    """Clean a 1-D track of crop centres (pixels) for a source of ``size`` and a crop of ``crop``."""
    if not times:
        return []
    values = _fill(centres, default)
    values = _median(values)
    values = _dead_zone(values, DEAD_ZONE * size)
    values = _gaussian_smooth(times, values, SMOOTHING_SIGMA)
    values = _speed_limit(times, values, MAX_SPEED * size)
    lo, hi = crop / 2, size - crop / 2
    return [min(hi, max(lo, v)) for v in values]


def _simplify(times: list[float], values: list[float], tolerance: float) -> list[int]:
    """Indices kept by Ramer-Douglas-Peucker on (t, v) with a vertical ``tolerance``."""
    keep = {0, len(times) - 1}
    stack = [(0, len(times) - 1)]
    while stack:
        a, b = stack.pop()
        worst, worst_i = 0.0, -1
        for i in range(a + 1, b):
            frac = (times[i] - times[a]) / (times[b] - times[a]) if times[b] > times[a] else 0.0
            err = abs(values[i] - (values[a] + frac * (values[b] - values[a])))
            if err > worst:
                worst, worst_i = err, i
        if worst > tolerance and worst_i > 0:
            keep.add(worst_i)
            stack += [(a, worst_i), (worst_i, b)]
    return sorted(keep)


def crop_path(samples: Sequence[InterestSample], src_w: int, src_h: int, crop_w: int, crop_h: int) -> CropPath:
    """Turn interest samples into a smooth crop path for a ``crop_w`` x ``crop_h`` window."""
    if not samples:
        x, y = (src_w - crop_w) / 2, (src_h - crop_h) / 2
        return CropPath((0.0,), (x,), (y,), crop_w, crop_h)
    times = [s.t for s in samples]
    cx = smooth_track(
        times, [None if s.x is None else s.x * src_w for s in samples], size=src_w, crop=crop_w, default=src_w / 2
    )
    cy = smooth_track(
        times, [None if s.y is None else s.y * src_h for s in samples], size=src_h, crop=crop_h, default=src_h / 2
    )
    xs = [c - crop_w / 2 for c in cx]
    ys = [c - crop_h / 2 for c in cy]
    keep = sorted(set(_simplify(times, xs, 1.0)) | set(_simplify(times, ys, 1.0)))
    while len(keep) > MAX_KEYFRAMES:
        keep = keep[::2] if keep[-1] in keep[::2] else [*keep[::2], keep[-1]]
    return CropPath(
        tuple(round(times[i], 4) for i in keep),
        tuple(round(xs[i], 2) for i in keep),
        tuple(round(ys[i], 2) for i in keep),
        crop_w,
        crop_h,
    )
