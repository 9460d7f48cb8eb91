"""Output checks: what every artefact must satisfy, computed when it is made.

The results are stored with the job (so the API shows them) and reported as Dagster asset
checks on the artefact's kind (so the UI shows them). A failed check warns; it does not fail the
run — the producer decides whether to re-render.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

CHECK_NAMES: dict[str, tuple[str, ...]] = {
    "generated_clips": ("decodable", "duration", "resolution", "audio"),
    "merged_cut": ("decodable", "duration", "resolution", "audio"),
    "reframed": ("decodable", "duration", "resolution", "audio"),
    "lipsynced": ("decodable", "duration", "resolution", "audio"),
    "subtitled": ("decodable", "duration", "resolution", "audio", "captions"),
}
DESCRIPTIONS = {
    "decodable": "The output decodes (provider media: every frame; our renders: encoder success and probe).",
    "duration": "Duration is what the plan implies (within two frames).",
    "resolution": "Aspect ratio is the one requested (or the input's).",
    "audio": "The output has an audio track.",
    "captions": "Captions were burned in (cues rendered, pixels changed).",
}


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    passed: bool
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ratio(text: str) -> float:
    a, b = text.split(":")
    return int(a) / int(b)


def expected_duration(operation: str, params: Mapping[str, Any], inputs: Sequence[Mapping[str, Any]]) -> float | None:
    durations = [float(r.get("duration") or 0.0) for r in inputs]
    if operation == "generate":
        return None if params.get("provider") == "url" else float(params.get("duration", 5.0))
    if operation == "merge":
        transition = params.get("transition") or {}
        overlap = 0.0 if transition.get("type", "cut") == "cut" else float(transition.get("duration", 0.5))
        return sum(durations) - overlap * max(0, len(durations) - 1) if durations else None
    if operation == "lipSync" and params.get("fit") == "audio":
        return None  # follows the audio track, whose length the plan does not state
    return durations[0] if durations else None


def check_output(operation: str, params: Mapping[str, Any], result: Mapping[str, Any],
                 inputs: Sequence[Mapping[str, Any]]) -> list[CheckOutcome]:
    kind = result.get("kind", "")
    out: list[CheckOutcome] = []
    decodable = result.get("decodable")
    out.append(CheckOutcome("decodable", decodable is True,
                            "decodes cleanly" if decodable is True else f"decode failed: {decodable}"))

    duration = float(result.get("duration") or 0.0)
    fps = float(result.get("fps") or 24.0)
    expected = expected_duration(operation, params, inputs)
    tolerance = max(0.1, 2.0 / fps)
    if expected is None:
        out.append(CheckOutcome("duration", duration > 0, f"{duration:.3f}s (no expectation from the plan)"))
    elif operation == "lipSync" and params.get("fit") == "shortest":
        out.append(CheckOutcome("duration", 0 < duration <= expected + tolerance,
                                f"{duration:.3f}s, at most {expected:.3f}s expected"))
    else:
        out.append(CheckOutcome("duration", abs(duration - expected) <= tolerance,
                                f"{duration:.3f}s, {expected:.3f}s expected (±{tolerance:.3f}s)"))

    width, height = int(result.get("width") or 0), int(result.get("height") or 0)
    wanted = params.get("aspectRatio") if operation in ("generate", "reframe") and params.get("provider") != "url" else None
    if wanted is None and inputs and operation != "generate":
        first = inputs[0]
        if first.get("width") and first.get("height"):
            wanted = f"{first['width']}:{first['height']}"
    if wanted and width and height:
        ok = abs(width / height - _ratio(wanted)) <= 0.02 * _ratio(wanted)
        out.append(CheckOutcome("resolution", ok, f"{width}x{height}, aspect {wanted} expected"))
    else:
        out.append(CheckOutcome("resolution", bool(width and height), f"{width}x{height}"))

    has_audio = bool(result.get("hasAudio"))
    out.append(CheckOutcome("audio", has_audio, "audio track present" if has_audio else "no audio track"))

    if kind == "subtitled":
        cues = int((result.get("details") or {}).get("cues") or 0)
        changed = not inputs or result.get("digest") != inputs[0].get("digest")
        out.append(CheckOutcome("captions", cues > 0 and changed,
                                f"{cues} cue(s) burned" if cues and changed else "no captions were burned"))
    return out
