"""From plan params to a model's input, and what a model would refuse.

Three sources make one vendor input, later ones winning: our plan params sent under the model's
own names (routes), the plan's flat keys the model declares (the SDK's non-unified mode sends a
model's own names at the top level), and the plan's ``input`` object, passed verbatim. Fixed
inputs this server needs (word timings, one Veo video per request) come first, so even they can
be overridden by ``input``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from vidassets.providers.base import ProviderError
from vidassets.providers.catalogue import lookup
from vidassets.providers.catalogue.spec import IMAGE_PARAMS, JobKind, ModelSpec, Values, same
from vidassets.providers.uploads import LocalInput

Problem = tuple[str, str]  # (field under params, message)


def has_image(spec: ModelSpec, values: Values, extra: Mapping[str, Any], given: Mapping[str, Any]) -> bool:
    """Whether the plan gives a start image (a clip) or input images (a still), as ``startImage`` /
    ``image`` or under the model's own name."""
    name = spec.image_input
    return any(values.get(param) for param in IMAGE_PARAMS) or bool(name and (given.get(name) or extra.get(name)))


def choose(spec: ModelSpec, image: bool) -> ModelSpec:
    """The endpoint that matches the plan: fal's image-to-video sibling when a start image is
    given to a text-to-video endpoint, the text-to-video sibling when none is given to an
    image-to-video one. Without a sibling the spec stays (and a missing image is a problem)."""
    sibling = spec.with_image if image else spec.without_image
    found = lookup(spec.provider, sibling, spec.job, spec.surface) if sibling else None
    return found or spec


def routed(spec: ModelSpec, values: Values) -> dict[str, Any]:
    """Our params under the model's names; a value the model cannot take is left out (it can only
    be one of our defaults: explicit ones were refused at submit), so the model's default applies."""
    body: dict[str, Any] = {}
    for route in spec.routes:
        raw = values.get(route.param)
        if raw is None:
            continue
        if isinstance(raw, LocalInput):  # an earlier job's file (a start image): the client uploads it
            body[route.to] = raw
            continue
        field = spec.inputs[route.to]
        value = field.encode(route.convert(raw, values))
        if value is not None and field.problem(value) is None:
            body[route.to] = value
    return body


def build_input(spec: ModelSpec, values: Values, extra: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """The input sent to ``spec``'s model (see the module doc for the order)."""
    declared = {k: v for k, v in extra.items() if k in spec.inputs and v is not None}
    return {**spec.fixed, **routed(spec, values), **declared, **dict(given)}


def vendor_request(provider: str, model: str, job: JobKind, values: Values, extra: Mapping[str, Any],
                   given: Mapping[str, Any], generic: Callable[[], dict[str, Any]],
                   surface: str = "") -> tuple[str, dict[str, Any]]:
    """The model (endpoint) to call and its input. An uncatalogued model gets ``generic()`` (the
    vendor-neutral snake_case input, plan extras included) with ``given`` merged over it."""
    found = lookup(provider, model, job, surface)
    if found is None:
        return model, {**generic(), **dict(given)}
    spec = choose(found, has_image(found, values, extra, given))
    # The plan's own spelling stays (a Replicate ``:version`` pin included) unless a sibling was chosen.
    return (model if spec is found else spec.model), build_input(spec, values, extra, given)


def problems(spec: ModelSpec, values: Values, explicit: set[str], extra: Mapping[str, Any],
             given: Mapping[str, Any], *, named: bool = True) -> list[Problem]:
    """What ``spec``'s model would refuse or silently drop, by field: explicit plan params it has
    no input for (only when the plan ``named`` the model: a server default is not the plan's
    choice, so what it lacks is left out) or cannot take, declared inputs (flat or in ``input``)
    with values outside the schema, and required images nobody gives."""
    found: list[Problem] = []
    names = {route.param: route for route in spec.routes}
    for param in sorted(explicit):
        if values.get(param) is None or param in spec.handled:
            continue
        route = names.get(param)
        if route is None and named:
            found.append((param, f"{spec.model} has no input for {param}; leave it out or pass the model's own "
                                 f"inputs in params.input ({', '.join(spec.inputs)})"))
        if route is None or (param == "image" and spec.job == "image"):
            continue  # a still's input images are files the client sends itself (see image_request)
        field = spec.inputs[route.to]
        value = field.encode(route.convert(values[param], values))
        reason = "it has no such value" if value is None else field.problem(value)
        if reason is not None:
            hint = "" if route.convert is same else f" (set it directly as params.input.{route.to})"
            found.append((param, f"{spec.model} cannot take {param} {_shown(values[param])}: its input {route.to} "
                                 f"takes {field.allowed()}{hint}"))
    for prefix, given_values in (("", extra), ("input.", given)):
        for key, value in given_values.items():
            declared = spec.inputs.get(key)
            reason = declared.problem(value) if declared is not None and value is not None else None
            if reason is not None:
                found.append((f"{prefix}{key}", f"{spec.model} input {key} {reason} (got {value!r})"))
    return found + _missing(spec, values, extra, given)


def _shown(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else repr(value)


def _missing(spec: ModelSpec, values: Values, extra: Mapping[str, Any], given: Mapping[str, Any]) -> list[Problem]:
    """Required images nobody gives (Kling 2.1 on Replicate needs a start frame). Only images: a
    missing prompt is the vendor's to refuse, unbilled (the SDK's non-unified mode may leave it to
    the model), and lip-sync / transcription media are the job's own files."""
    if spec.job != "generate":
        return []
    body = build_input(spec, values, extra, given)
    found: list[Problem] = []
    for name, field in spec.inputs.items():
        if field.required and field.kind == "url" and body.get(name) in (None, ""):
            route = next((r for r in spec.routes if r.to == name), None)
            where = route.param if route else f"input.{name}"
            found.append((where, f"{spec.model} needs {name}" + (f" (params.{route.param})" if route else "")))
    return found


def media_input(provider: str, model: str, job: JobKind, media: Mapping[str, Any], values: Values,
                extra: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """The input of a lip-sync or transcription job: the job's own files (``media``, which nothing
    overrides) plus the model's options. An uncatalogued model gets every extra key and ``given``."""
    spec = lookup(provider, model, job)
    if spec is None:
        return {**dict(extra), **dict(given), **dict(media)}
    return {**build_input(spec, values, extra, given), **dict(media)}


def image_request(provider: str, model: str, values: Values, extra: Mapping[str, Any], given: Mapping[str, Any],
                  images: list[Any], generic: Callable[[], dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """The model (endpoint) and input of a still-image job. The input images are the job's files
    (``images``: URLs or local files the client makes readable) and go under the model's image
    input: a list, or the first one where the model takes a single image. fal's edit endpoint is
    chosen when images are given to its text-to-image sibling. A plan's ``input`` naming the image
    input itself wins. Refused before anything is paid: images for a model that takes none, and no
    image for a model that needs one."""
    found = lookup(provider, model, "image")
    if found is None:
        return model, {**generic(), **dict(given)}
    spec = choose(found, bool(images) or has_image(found, values, extra, given))
    body = build_input(spec, values, extra, given)
    name = spec.image_input
    if images and name is None:
        raise ProviderError(f"{spec.model} takes no input images; leave image out or choose an image-to-image model",
                            code="invalid_params")
    if images and name is not None and name not in given:
        body[name] = list(images) if spec.inputs[name].kind == "array" else images[0]
    if name is not None and spec.inputs[name].required and body.get(name) in (None, "", []):
        raise ProviderError(f"{spec.model} needs an input image (params.image)", code="invalid_params")
    return (model if spec is found else spec.model), body


def media_name(provider: str, model: str, job: JobKind, fallback: str) -> str:
    """The input a model reads the job's own file from (``input_video`` for Robust Video Matting):
    the catalogued model's required URL input, else ``fallback``."""
    spec = lookup(provider, model, job)
    if spec is None:
        return fallback
    return next((name for name, field in spec.inputs.items() if field.kind == "url" and field.required), fallback)


def pinned(provider: str, model: str, job: JobKind) -> str:
    """``owner/name:version`` for a catalogued Replicate community model the plan names without a
    version (those run only at a version); any other model as the plan spells it."""
    spec = lookup(provider, model, job)
    if provider != "replicate" or spec is None or spec.version is None or model.strip() != spec.model:
        return model
    return f"{spec.model}:{spec.version}"
