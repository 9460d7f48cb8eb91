"""The model catalogue: the popular models of each vendor, their inputs, allowed values and outputs.

One module per vendor (:mod:`.replicate`, :mod:`.fal`, :mod:`.google`) declares
:class:`~.spec.ModelSpec` values taken from the vendor's published schema; :mod:`.build` turns a
plan's params into the input a model takes and lists what a model would refuse. A model that is
not catalogued still works: it gets the generic snake_case input plus the plan's ``input`` object
verbatim (see ``GenerateRequest.model_input``).
"""

from __future__ import annotations

import re

from vidassets.providers.catalogue import fal, google, replicate
from vidassets.providers.catalogue.spec import Input, JobKind, ModelSpec, Route

__all__ = ["CATALOGUE", "Input", "ModelSpec", "Route", "catalogued", "lookup", "model_name"]

CATALOGUE: tuple[ModelSpec, ...] = (*replicate.SPECS, *fal.SPECS, *google.SPECS)
_VERSION = re.compile(r"^[0-9a-f]{64}$")
_INDEX: dict[tuple[str, str, str, str], ModelSpec] = {
    (spec.provider, spec.model, spec.job, spec.surface): spec for spec in CATALOGUE}
if len(_INDEX) != len(CATALOGUE):  # two specs under one key would make one of them unreachable
    raise RuntimeError("the model catalogue names a model twice")


def model_name(provider: str, model: str) -> str:
    """The catalogue's name for a plan's model: Replicate's ``owner/name:version`` is looked up as
    ``owner/name`` (its inputs are the model's; a bare version ID names no model), fal endpoints
    without their surrounding slashes."""
    name = model.strip()
    if provider == "replicate":
        name = "" if _VERSION.match(name) else name.partition(":")[0]
    return name.strip("/") if provider == "fal" else name


def lookup(provider: str, model: str, job: JobKind, surface: str = "") -> ModelSpec | None:
    """The spec for ``model`` on ``provider`` (Google: on ``surface``, Vertex by default)."""
    if provider == "google-cloud" and not surface:
        surface = "vertex"
    return _INDEX.get((provider, model_name(provider, model), job, surface))


def catalogued(job: JobKind | None = None) -> list[ModelSpec]:
    """Every spec (of one job kind), in catalogue order: the docs table and the tests read this."""
    return [spec for spec in CATALOGUE if job is None or spec.job == job]
