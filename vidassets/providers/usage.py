"""What a vendor job used and, when a price is configured, what it cost.

Vendors report usage in their own words: Replicate ``metrics.predict_time`` (the seconds it bills
for models priced by time), fal ``metrics.inference_time`` (queue status of a completed request),
Google the seconds of video Veo made (what it bills per). :func:`billed_seconds` turns each into
one number the ledger stores (``vendor_jobs.billed_seconds``), so totals are a SQL sum.

Prices are the operator's (``VIDASSETS_VENDOR_PRICES``): vendors change them and some price per
output, so nothing here knows a price. A job whose vendor and model have no price has no cost:
``None``, never an estimate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Where each vendor reports the seconds it bills, in order of preference.
_SECONDS_KEYS: Mapping[str, tuple[str, ...]] = {
    "replicate": ("predict_time",),
    "fal": ("inference_time",),
    "google-cloud": ("video_seconds",),
}
_GENERIC_KEYS = ("billed_seconds", "video_seconds")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else None


def billed_seconds(vendor: str, usage: Mapping[str, Any] | None) -> float | None:
    """The seconds ``vendor`` bills for a job whose reported usage is ``usage``; None when it did
    not say (a job still running, a vendor that reports nothing)."""
    if not usage:
        return None
    for key in (*_SECONDS_KEYS.get(vendor, ()), *_GENERIC_KEYS):
        found = _number(usage.get(key))
        if found is not None:
            return round(found, 6)
    return None


@dataclass(frozen=True)
class Price:
    """A model's price: per billed second and/or per job (a flat price per prediction or video)."""

    per_second: float | None = None
    per_job: float | None = None

    def cost(self, seconds: float | None, jobs: int = 1) -> float | None:
        """The cost of ``jobs`` jobs that billed ``seconds`` in all; None when a per-second price
        meets jobs that reported no seconds (unknown is not zero)."""
        total = 0.0
        if self.per_second is not None:
            if seconds is None:
                return None
            total += self.per_second * seconds
        if self.per_job is not None:
            total += self.per_job * jobs
        return round(total, 6)


class PriceTable:
    """``{vendor: {model: {"per_second": x, "per_job": y}}}``; a model ``"*"`` prices every model of
    its vendor not named, and ``owner/name`` prices its versions (``owner/name:version``) too."""

    def __init__(self, prices: Mapping[str, Mapping[str, Mapping[str, float]]] | None = None):
        self._prices: dict[tuple[str, str], Price] = {}
        for vendor, models in (prices or {}).items():
            for model, fields in models.items():
                self._prices[(vendor, model)] = Price(per_second=_number(fields.get("per_second")),
                                                      per_job=_number(fields.get("per_job")))

    def __bool__(self) -> bool:
        return bool(self._prices)

    def price(self, vendor: str, model: str) -> Price | None:
        for candidate in (model, model.partition(":")[0], "*"):
            found = self._prices.get((vendor, candidate))
            if found is not None:
                return found
        return None

    def cost(self, vendor: str, model: str, seconds: float | None, jobs: int = 1) -> float | None:
        price = self.price(vendor, model)
        return None if price is None else price.cost(seconds, jobs)
