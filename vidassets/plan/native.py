"""The TypeScript SDK's non-unified ``generateVideo``: a model object and the model's own inputs.

Called with options in a model's own names (no ``prompt`` among them), the SDK sends
``{provider, modelId, apiKey?, unified: false, model: {provider, modelId, options}, ...options}``:
the whole ``model`` object travels inside ``params`` (its ``options`` may carry ``apiKey`` and more
inputs), and the inputs keep the vendor's names (``aspect_ratio``, ``image``, ``last_frame_image``,
``camera_fixed``...). :func:`lift_native_generate` turns that into our generate params:

* the model object is unpacked: ``provider``/``modelId`` must agree with the top-level copies,
  ``options.apiKey`` becomes the job's key (a secret, never stored), other options are inputs;
* the vendor names we understand also fill our unified fields (the inverse of the SDK's
  unified→provider mappings), so the values are validated and bounded like any plan's and the
  local renderer honours them; the vendor-named keys stay too, so the vendor still receives
  exactly the input its model defines.

Unified calls (``unified`` absent or true, no model object) are returned unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


def _same(value: Any) -> Any:
    return value


def _camera_fixed(value: Any) -> Any:
    return ("fixed" if value else "dynamic") if isinstance(value, bool) else value


# vendor input name -> (our field, how its value reads in our terms)
NATIVE_NAMES: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "aspect_ratio": ("aspectRatio", _same),
    "negative_prompt": ("negativePrompt", _same),
    "image": ("startImage", _same),
    "start_image": ("startImage", _same),
    "first_frame_image": ("startImage", _same),
    "image_url": ("startImage", _same),
    "last_frame_image": ("endImage", _same),
    "end_image": ("endImage", _same),
    "end_image_url": ("endImage", _same),
    "camera_fixed": ("cameraMotion", _camera_fixed),
    "frames_per_second": ("fps", _same),
}


@dataclass
class Lifted:
    """Generate params in our terms, where each derived field came from, and what was wrong."""

    params: dict[str, Any]
    origins: dict[str, str] = field(default_factory=dict)  # our field -> the client's key it came from
    problems: list[tuple[str, str]] = field(default_factory=list)  # (field under params, message)


def is_native(params: Mapping[str, Any]) -> bool:
    return params.get("unified") is False or isinstance(params.get("model"), Mapping)


def lift_native_generate(params: Mapping[str, Any]) -> Lifted:
    """Unpack the model object and map vendor input names onto ours (see module doc)."""
    out = dict(params)
    lifted = Lifted(out)
    if not is_native(params):
        return lifted
    model = out.get("model")
    if isinstance(model, Mapping):
        del out["model"]
        _unpack_model(model, lifted)
    elif model is not None and out.get("modelId") not in (None, model):
        lifted.problems.append(("model", f"disagrees with params.modelId ({model!r} vs {out['modelId']!r})"))
    for native, (ours, convert) in NATIVE_NAMES.items():
        if out.get(native) is None:
            continue
        value = convert(out[native])
        if out.get(ours) is None:
            out[ours] = value
            lifted.origins[ours] = native
        elif out[ours] != value and ours not in lifted.origins:  # the client spelled it twice, differently
            lifted.problems.append((native, f"disagrees with {ours} ({out[ours]!r} vs {out[native]!r})"))
    out["unified"] = False
    return lifted


def _unpack_model(model: Mapping[str, Any], lifted: Lifted) -> None:
    out = lifted.params
    for key in ("provider", "modelId"):
        value = model.get(key)
        if value is None:
            continue
        current = out.get(key)
        if current is None:
            out[key] = value
            lifted.origins[key] = f"model.{key}"
        elif current != value:
            lifted.problems.append((f"model.{key}", f"disagrees with params.{key} ({value!r} vs {current!r})"))
    options = model.get("options")
    if options is None:
        return
    if not isinstance(options, Mapping):
        lifted.problems.append(("model.options", "must be an object"))
        return
    for key, value in options.items():
        if key == "apiKey":
            if out.get("apiKey") not in (None, value):
                lifted.problems.append(("model.options.apiKey", "disagrees with params.apiKey"))
            out.setdefault("apiKey", value)
        else:  # the SDK spreads the call's options over the model's: the call wins
            out.setdefault(key, value)
