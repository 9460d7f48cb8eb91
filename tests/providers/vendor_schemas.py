"""Fake vendors that enforce each model's published input schema the way the vendor does.

* Replicate validates a prediction's ``input`` against the version's OpenAPI schema: a wrong type,
  an enum value it lacks or a value out of range is a 422 ``Input validation failed`` whose
  ``detail`` lists ``- field: reason`` lines; an input the schema does not declare is dropped
  without a word (the prediction runs without it).
* fal validates the body against the endpoint's pydantic model: a 422 whose ``detail`` is a list
  of ``{loc: ["body", field], msg, type}``; undeclared fields are ignored.
* Vertex answers a bad ``parameters`` value with a 400 ``INVALID_ARGUMENT``.

The schema data is the catalogue's (what the vendors publish); the checks below are written
independently of the client's own (``Input.problem``) so a client bug cannot hide behind them.
``accepted`` records, per created job, the input the model really ran with.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tests.providers.fakes import FakeFal, FakeReplicate, FakeVertex, Reply, Seen
from vidassets.providers.catalogue import CATALOGUE, Input, ModelSpec

_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "url": (str,), "integer": (int,), "number": (int, float),
                                       "boolean": (bool,), "array": (list,)}


def check(schema: Mapping[str, Input], body: Mapping[str, Any],
          strict: bool = False) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """(the input the model runs with, the errors a vendor reports) for ``body``. ``strict``: an
    input the schema does not declare is an error too (the vendors drop it; tests that must see
    every name they send accepted ask for this)."""
    accepted = {k: v for k, v in body.items() if k in schema}
    errors: list[tuple[str, str]] = [(k, f"{k} is not an input of this model") for k in body if strict and k not in schema]
    for name, rule in schema.items():
        if name not in body:
            if rule.required:
                errors.append((name, f"{name} is required"))
            continue
        value = body[name]
        typed = isinstance(value, _TYPES[rule.kind]) and not (isinstance(value, bool) and rule.kind != "boolean")
        if rule.choices:
            ok = any(value == c and type(value) is type(c) for c in rule.choices)
            if not ok:
                errors.append((name, f"{name} must be one of the following: {', '.join(map(str, rule.choices))}"))
        elif not typed:
            errors.append((name, f"Invalid type. Expected: {rule.kind}, given: {type(value).__name__}"))
        elif rule.kind == "array" and not all(isinstance(item, str) and item for item in value):
            errors.append((name, f"{name} must be a list of URIs"))
        elif rule.minimum is not None and value < rule.minimum:
            errors.append((name, f"Must be greater than or equal to {rule.minimum:g}"))
        elif rule.maximum is not None and value > rule.maximum:
            errors.append((name, f"Must be less than or equal to {rule.maximum:g}"))
    return accepted, errors


def schemas(provider: str, specs: Iterable[ModelSpec] = CATALOGUE, surface: str = "") -> dict[str, Mapping[str, Input]]:
    return {s.model: s.inputs for s in specs if s.provider == provider and (not surface or s.surface == surface)}


class SchemaReplicate(FakeReplicate):
    """:class:`FakeReplicate` enforcing the schemas of the models it knows: official models by name
    (``/v1/models/{owner}/{name}/predictions``), community models at their catalogued version
    (``/v1/predictions`` with ``version``). A community model named without a version is not
    found, as on Replicate (it runs only at a version). ``strict``: undeclared inputs are refused."""

    def __init__(self, specs: Iterable[ModelSpec] = CATALOGUE, *, strict: bool = False) -> None:
        super().__init__()
        specs = list(specs)
        self.schemas = schemas("replicate", specs)
        self.by_version = {s.version: s.inputs for s in specs if s.provider == "replicate" and s.version}
        self.community = {s.model for s in specs if s.provider == "replicate" and s.version}
        self.versions.update({s.version: s.model for s in specs if s.provider == "replicate" and s.version})
        self.strict = strict
        self.accepted: list[dict[str, Any]] = []

    def route(self, seen: Seen) -> Reply:
        parts = seen.path.split("/")
        body = seen.body if isinstance(seen.body, dict) else {}
        schema = None
        if seen.method == "POST" and len(parts) == 6 and parts[2] == "models" and parts[5] == "predictions":
            if f"{parts[3]}/{parts[4]}" in self.community:
                return Reply(404, {"title": "Not found", "status": 404,
                                   "detail": "The requested resource could not be found."})
            schema = self.schemas.get(f"{parts[3]}/{parts[4]}")
        elif seen.method == "POST" and seen.path == "/v1/predictions":
            schema = self.by_version.get(str(body.get("version")))
        if schema is not None:
            accepted, errors = check(schema, body.get("input") or {}, self.strict)
            if errors:
                return Reply(422, {"title": "Input validation failed", "status": 422,
                                   "detail": "".join(f"- {f}: {m}\n" for f, m in errors),
                                   "invalid_fields": [{"type": "invalid", "field": f, "description": m}
                                                      for f, m in errors]})
            self.accepted.append(accepted)
        return super().route(seen)


class SchemaFal(FakeFal):
    """:class:`FakeFal` enforcing the schemas of the endpoints it knows (``strict``: undeclared
    fields are refused)."""

    def __init__(self, specs: Iterable[ModelSpec] = CATALOGUE, *, strict: bool = False) -> None:
        super().__init__()
        self.schemas = schemas("fal", specs)
        self.strict = strict
        self.accepted: list[dict[str, Any]] = []

    def route(self, seen: Seen) -> Reply:
        schema = self.schemas.get(seen.path.strip("/")) if seen.method == "POST" else None
        if schema is not None:
            accepted, errors = check(schema, seen.body if isinstance(seen.body, dict) else {}, self.strict)
            if errors:
                return Reply(422, {"detail": [{"loc": ["body", f], "msg": m, "type": "value_error"} for f, m in errors]})
            self.accepted.append(accepted)
        return super().route(seen)


class SchemaVertex(FakeVertex):
    """:class:`FakeVertex` enforcing Veo's ``parameters`` per model."""

    def __init__(self, specs: Iterable[ModelSpec] = CATALOGUE) -> None:
        super().__init__()
        self.schemas = schemas("google-cloud", specs, surface="vertex")
        self.accepted: list[dict[str, Any]] = []

    def route(self, seen: Seen) -> Reply:
        if seen.method == "POST" and seen.path.endswith(":predictLongRunning"):
            model = seen.path.rsplit("/", 1)[-1].split(":")[0]
            body = seen.body if isinstance(seen.body, dict) else {}
            schema = self.schemas.get(model)
            if schema is not None:
                accepted, errors = check(schema, body.get("parameters") or {})
                if errors:
                    message = "; ".join(m for _, m in errors)
                    return Reply(400, {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}})
                self.accepted.append(accepted)
        return super().route(seen)
