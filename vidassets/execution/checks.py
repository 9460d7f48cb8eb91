"""Output checks: what every artefact must satisfy, computed when it is made.

The results are stored with the job (so the API shows them) and reported as Dagster asset
checks on the artefact's kind (so the UI shows them). A failed check warns; it does not fail the
run — the producer decides whether to re-render.

Which checks run depends on what the artefact *is* (its media type: a still has no duration, a
voice-over no picture) and on its kind (only burned captions are checked for cues, only layers
for placement). :data:`CHECK_NAMES` is what Dagster declares per kind, so an artefact of a kind
is checked for exactly those names that apply to its media type.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

# Keyed by the asset kinds' string values (``AssetKind(...).value``).
CHECK_NAMES: dict[str, tuple[str, ...]] = {
    "generated_clips": ("decodable", "duration", "resolution", "audio"),
    "merged_cut": ("decodable", "duration", "resolution", "audio"),
    "reframed": ("decodable", "duration", "resolution", "audio"),
    "lipsynced": ("decodable", "duration", "resolution", "audio"),
    "subtitled": ("decodable", "duration", "resolution", "audio", "captions"),
    "generated_images": ("decodable", "resolution"),
    "image_cutouts": ("decodable", "resolution"),
    "generated_audio": ("decodable", "duration", "loudness"),
    # A background removal keeps no sound on most models: its audio track is not a promise.
    "background_removed": ("decodable", "duration", "resolution"),
    "layered": ("decodable", "duration", "resolution", "audio", "placement"),
}
DESCRIPTIONS = {
    "decodable": "The output decodes (provider media: every frame or sample; our renders: encoder success and probe).",
    "duration": "Duration is what the plan implies (video: within two frames; audio: positive, near any asked length).",
    "resolution": "Aspect ratio is the one requested (or the input's); an image has a picture.",
    "audio": "The output has an audio track.",
    "captions": "Captions were burned in (cues rendered, pixels changed).",
    "loudness": "Audio is neither silent nor clipped: integrated loudness within -45..-5 LUFS, true peak at most 0 dBFS.",
    "placement": "Every layer lies inside the canvas and is not empty.",
}

#: The checks that can apply to each media type ("video" when a result names none: older results).
MEDIA_CHECKS: dict[str, tuple[str, ...]] = {
    "video": ("decodable", "duration", "resolution", "audio", "captions", "placement"),
    "image": ("decodable", "resolution"),
    "audio": ("decodable", "duration", "loudness"),
}
#: Checks only meaningful for one kind: they run for an undeclared kind only through CHECK_NAMES.
_KIND_ONLY = frozenset({"captions", "placement"})

LOUDNESS_RANGE_LUFS = (-45.0, -5.0)  # below: inaudible next to a clip's own sound; above: squashed or clipped
MAX_TRUE_PEAK_DBFS = 0.0
AUDIO_TOLERANCE_S = 0.5  # vendors round to their own frame sizes; encoders pad mp3/aac
AUDIO_TOLERANCE_SHARE = 0.05
DEFAULT_STILL_S = 1.0  # a still in a merge without a duration shows this long (the SDK's default)
ASPECT_TOLERANCE = 0.02
_PLACEMENT_SLACK_PX = 1.0  # even-dimension rounding may push a layer half a pixel out
_MAX_LAYOUT_DEPTH = 4


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    passed: bool
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _num(value: Any) -> float | None:
    """A finite number from a stored field, or None (missing, text, NaN): results and params are
    JSON from older versions, vendors and clients, so nothing about their shape is assumed."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _ratio(text: Any) -> float | None:
    """``"16:9"`` -> 1.777...; None for anything else."""
    if not isinstance(text, str) or text.count(":") != 1:
        return None
    a, b = (_num(part) for part in text.split(":"))
    return a / b if a and b and a > 0 and b > 0 else None


def media_type_of(result: Mapping[str, Any]) -> str:
    media = result.get("mediaType")
    return media if isinstance(media, str) and media in MEDIA_CHECKS else "video"


def check_names(kind: str, media_type: str) -> tuple[str, ...]:
    """The checks an artefact of ``kind`` and ``media_type`` gets, in reporting order."""
    applicable = MEDIA_CHECKS.get(media_type, MEDIA_CHECKS["video"])
    declared = CHECK_NAMES.get(kind)
    if declared is None:
        return tuple(n for n in applicable if n not in _KIND_ONLY)
    return tuple(n for n in declared if n in applicable)


def _options(params: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    items = params.get(key)
    if not isinstance(items, Sequence) or isinstance(items, str):
        return []
    return [item if isinstance(item, Mapping) else {} for item in items]


def _merge_duration(params: Mapping[str, Any], inputs: Sequence[Mapping[str, Any]]) -> float | None:
    """Visual items back to back: a still for its ``duration`` (default one second), a video for
    its trim when one is asked (never longer than the video), minus transition overlaps. Audio
    items play under the picture and add nothing. ``clips`` lines up with the visual inputs."""
    visual = [r for r in inputs if media_type_of(r) != "audio"]
    if not visual:
        return None
    clips = _options(params, "clips")
    total = 0.0
    for index, item in enumerate(visual):
        option = clips[index] if index < len(clips) else {}
        trim = _num(option.get("duration"))
        trim = trim if trim is not None and trim > 0 else None
        if media_type_of(item) == "image":
            total += trim if trim is not None else DEFAULT_STILL_S
        else:
            own = _num(item.get("duration")) or 0.0
            total += min(trim, own) if trim is not None and own > 0 else (trim if trim is not None else own)
    transition = params.get("transition")
    transition = {"type": transition} if isinstance(transition, str) else transition
    transition = transition if isinstance(transition, Mapping) else {}
    length = _num(transition.get("duration"))
    overlap = 0.0 if (transition.get("type") or "cut") == "cut" else (0.5 if length is None else length)
    return total - overlap * (len(visual) - 1)


def expected_duration(operation: str, params: Mapping[str, Any], inputs: Sequence[Mapping[str, Any]]) -> float | None:
    """How long the plan says the output is; None when it does not say."""
    if operation == "generate":
        return None if params.get("provider") == "url" else (_num(params.get("duration")) or 5.0)
    if operation == "merge":
        return _merge_duration(params, inputs)
    if operation == "lipSync" and params.get("fit") == "audio":
        return None  # follows the audio track, whose length the plan does not state
    if operation == "layer":
        wanted = _num(params.get("outputDuration"))
        return wanted if wanted and wanted > 0 else None  # else the main layer's, which inputs do not say
    if operation == "generateAudio":
        wanted = _num(params.get("duration"))
        return wanted if wanted and wanted > 0 else None  # speech takes as long as its text
    video = next((r for r in inputs if media_type_of(r) == "video"), None)
    return _num(video.get("duration")) if video is not None else None


@dataclass(frozen=True)
class _Subject:
    operation: str
    params: Mapping[str, Any]
    result: Mapping[str, Any]
    inputs: Sequence[Mapping[str, Any]]
    media_type: str

    @property
    def kind(self) -> str:
        return str(self.result.get("kind") or "")

    @property
    def details(self) -> Mapping[str, Any]:
        details = self.result.get("details")
        return details if isinstance(details, Mapping) else {}

    @property
    def size(self) -> tuple[int, int]:
        width, height = _num(self.result.get("width")), _num(self.result.get("height"))
        return int(width or 0), int(height or 0)


def _decodable(s: _Subject) -> CheckOutcome:
    decodable = s.result.get("decodable")
    return CheckOutcome("decodable", decodable is True,
                        "decodes cleanly" if decodable is True else f"decode failed: {decodable}")


def _duration(s: _Subject) -> CheckOutcome:
    duration = _num(s.result.get("duration")) or 0.0
    expected = expected_duration(s.operation, s.params, s.inputs)
    if s.media_type == "audio":
        tolerance = max(AUDIO_TOLERANCE_S, AUDIO_TOLERANCE_SHARE * (expected or 0.0))
    else:
        fps = _num(s.result.get("fps")) or 24.0
        tolerance = max(0.1, 2.0 / fps)
    if expected is None:
        return CheckOutcome("duration", duration > 0, f"{duration:.3f}s (no expectation from the plan)")
    if s.operation == "lipSync" and s.params.get("fit") == "shortest":
        return CheckOutcome("duration", 0 < duration <= expected + tolerance,
                            f"{duration:.3f}s, at most {expected:.3f}s expected")
    return CheckOutcome("duration", duration > 0 and abs(duration - expected) <= tolerance,
                        f"{duration:.3f}s, {expected:.3f}s expected (±{tolerance:.3f}s)")


def _wanted_aspect(s: _Subject) -> tuple[str, float | None] | None:
    """The aspect asked for (its text and value; value None when the text is not a ratio)."""
    params = s.params
    if s.media_type == "image":
        wanted = params.get("aspectRatio")
        return (str(wanted)[:16], _ratio(wanted)) if wanted else None
    if s.operation in ("generate", "reframe") and params.get("provider") != "url" and params.get("aspectRatio"):
        return str(params["aspectRatio"])[:16], _ratio(params["aspectRatio"])
    if s.operation == "layer":
        width, height = _num(params.get("outputWidth")), _num(params.get("outputHeight"))
        if width and height and width > 0 and height > 0:
            return f"{width:g}:{height:g}", width / height
        return None  # the canvas follows the main layer, which the inputs do not name
    if s.operation == "generate":
        return None
    first = next((r for r in s.inputs if media_type_of(r) != "audio"), None)
    width, height = (_num(first.get("width")), _num(first.get("height"))) if first is not None else (None, None)
    if width and height and width > 0 and height > 0:
        return f"{width:g}:{height:g}", width / height
    return None


def _resolution(s: _Subject) -> CheckOutcome:
    width, height = s.size
    wanted = _wanted_aspect(s)
    if wanted is None or not (width and height):
        return CheckOutcome("resolution", bool(width > 0 and height > 0), f"{width}x{height}")
    text, ratio = wanted
    if ratio is None:
        return CheckOutcome("resolution", width > 0 and height > 0,
                            f"{width}x{height} (asked aspect {text!r} is not a ratio)")
    ok = abs(width / height - ratio) <= ASPECT_TOLERANCE * ratio
    return CheckOutcome("resolution", ok, f"{width}x{height}, aspect {text} expected")


def _audio(s: _Subject) -> CheckOutcome:
    has_audio = bool(s.result.get("hasAudio"))
    return CheckOutcome("audio", has_audio, "audio track present" if has_audio else "no audio track")


def _captions(s: _Subject) -> CheckOutcome:
    cues = int(_num(s.details.get("cues")) or 0)
    changed = not s.inputs or s.result.get("digest") != s.inputs[0].get("digest")
    return CheckOutcome("captions", cues > 0 and changed,
                        f"{cues} cue(s) burned" if cues and changed else "no captions were burned")


def _loudness(s: _Subject) -> CheckOutcome:
    lufs = _num(s.result.get("loudnessLufs"))
    peak = _num(s.result.get("truePeakDbfs"))
    low, high = LOUDNESS_RANGE_LUFS
    if lufs is None:
        return CheckOutcome("loudness", False, "loudness was not measured")
    level = f"{lufs:.1f} LUFS" + (f", true peak {peak:.1f} dBFS" if peak is not None else "")
    if lufs < low:
        return CheckOutcome("loudness", False, f"{level}: silent or too quiet (at least {low:g} LUFS expected)")
    if lufs > high:
        return CheckOutcome("loudness", False, f"{level}: too loud (at most {high:g} LUFS expected)")
    if peak is not None and peak > MAX_TRUE_PEAK_DBFS:
        return CheckOutcome("loudness", False, f"{level}: clipped (true peak above {MAX_TRUE_PEAK_DBFS:g} dBFS)")
    return CheckOutcome("loudness", True, level)


def _rects(layout: Any, depth: int = 0) -> Iterator[Any]:
    """Leaves of a layout: a list of rects, or lists of them (one per clip of a timeline layer)."""
    if isinstance(layout, Sequence) and not isinstance(layout, str | bytes) and depth < _MAX_LAYOUT_DEPTH:
        for item in layout:
            yield from _rects(item, depth + 1)
    else:
        yield layout


def _placement(s: _Subject) -> CheckOutcome:
    width, height = s.size
    layout = s.details.get("layout")
    rects = list(_rects(layout)) if layout is not None else []
    if not rects:
        return CheckOutcome("placement", False, "no layer layout was reported")
    for index, rect in enumerate(rects):
        x, y, w, h = ((_num(rect.get(k)) for k in ("x", "y", "w", "h")) if isinstance(rect, Mapping)
                      else (None, None, None, None))
        if x is None or y is None or w is None or h is None:
            return CheckOutcome("placement", False, f"layer {index} has no x, y, w, h")
        where = f"layer {index} at x={x:g} y={y:g} w={w:g} h={h:g}"
        if w <= 0 or h <= 0:
            return CheckOutcome("placement", False, f"{where} is empty")
        slack = _PLACEMENT_SLACK_PX
        if x < -slack or y < -slack or x + w > width + slack or y + h > height + slack:
            return CheckOutcome("placement", False, f"{where} leaves the {width}x{height} canvas")
    return CheckOutcome("placement", True, f"{len(rects)} layer(s) inside the {width}x{height} canvas")


_CHECKS: dict[str, Callable[[_Subject], CheckOutcome]] = {
    "decodable": _decodable, "duration": _duration, "resolution": _resolution, "audio": _audio,
    "captions": _captions, "loudness": _loudness, "placement": _placement,
}


def check_output(operation: str, params: Mapping[str, Any], result: Mapping[str, Any],
                 inputs: Sequence[Mapping[str, Any]]) -> list[CheckOutcome]:
    """The checks of ``result`` (a job's stored result), against its plan ``params`` and its
    ``inputs``' results. Missing or malformed fields fail the check that needs them, never raise."""
    params = params if isinstance(params, Mapping) else {}
    inputs = [r for r in inputs if isinstance(r, Mapping)]
    subject = _Subject(operation, params, result, inputs, media_type_of(result))
    return [_CHECKS[name](subject) for name in check_names(subject.kind, subject.media_type)]
