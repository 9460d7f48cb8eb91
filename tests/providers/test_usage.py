"""Usage and cost: the seconds each vendor bills by, from what it reports; costs only from the
operator's price table (no price, no cost); the ledger's timings as settings."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vidassets.providers.http import HttpPolicy, webhook_vendors
from vidassets.providers.usage import Price, PriceTable, billed_seconds
from vidassets.providers.vertex import video_usage
from vidassets.settings import Settings

seconds = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)


@pytest.mark.parametrize("vendor, usage, expected", [
    ("replicate", {"predict_time": 4.2, "total_time": 4.5}, 4.2),
    ("fal", {"inference_time": 2.5}, 2.5),
    ("google-cloud", {"video_seconds": 8.0, "videos": 1}, 8.0),
    ("replicate", {"total_time": 4.5}, None),  # queue time is not billed
    ("replicate", {"predict_time": -1}, None),
    ("replicate", {"predict_time": float("nan")}, None),
    ("replicate", {"predict_time": True}, None),
    ("fal", {"inference_time": "2.5"}, None),
    ("fal", None, None),
    ("acme", {"billed_seconds": 3}, 3.0),
])
def test_billed_seconds_come_from_each_vendors_own_figure(vendor: str, usage: dict | None,  # type: ignore[type-arg]
                                                          expected: float | None) -> None:
    assert billed_seconds(vendor, usage) == expected


def test_prices_are_looked_up_by_model_then_name_then_star_and_never_guessed() -> None:
    table = PriceTable({"replicate": {"acme/video:abc": {"per_job": 1.0}, "acme/video": {"per_second": 0.5},
                                      "*": {"per_job": 0.1}}})
    assert table.cost("replicate", "acme/video:abc", 10.0) == 1.0
    assert table.cost("replicate", "acme/video:other", 10.0) == 5.0
    assert table.cost("replicate", "someone/else", None) == 0.1
    assert table.cost("fal", "fal-ai/kling", 10.0) is None  # no price: no cost
    assert table.cost("replicate", "acme/video", None) is None  # per second, but no seconds reported
    assert not PriceTable() and PriceTable().cost("replicate", "x/y", 3.0) is None


@given(a=seconds, b=seconds, per_second=st.floats(min_value=0, max_value=10), per_job=st.floats(min_value=0, max_value=10))
def test_a_cost_is_linear_in_seconds_and_jobs(a: float, b: float, per_second: float, per_job: float) -> None:
    price = Price(per_second=per_second, per_job=per_job)
    one, other, both = price.cost(a), price.cost(b), price.cost(a + b, jobs=2)
    assert one is not None and other is not None and both is not None
    assert math.isclose(one + other, both, rel_tol=1e-6, abs_tol=1e-5)


def test_veo_usage_is_seconds_of_video_returned() -> None:
    body = {"parameters": {"durationSeconds": 8, "sampleCount": 2}}
    assert video_usage(body, {"videos": [{"gcsUri": "gs://a"}, {"gcsUri": "gs://b"}]}) == {"video_seconds": 16.0, "videos": 2}
    assert video_usage(body, {"raiMediaFilteredCount": 1}) is None  # nothing made


def test_ledger_timings_and_webhooks_are_settings() -> None:
    assert HttpPolicy.from_settings(Settings()).lease_s == 390.0  # the derived default
    policy = HttpPolicy.from_settings(Settings(vendor_claim_lease_s=120, vendor_lookup_settle_s=2,
                                               vendor_ledger_wait_s=0.5, vendor_ledger_check_s=0.25))
    assert (policy.lease_s, policy.lookup_settle_s, policy.ledger_wait_s, policy.ledger_check_s) == (120, 2, 0.5, 0.25)
    assert policy.webhook_url("fal", "t" * 32) is None  # no public URL: polling only
    public = Settings(vendor_webhook_base_url="https://v.example.com/")
    assert webhook_vendors(public) == {"fal"}  # Replicate needs its signing secret
    assert webhook_vendors(Settings(vendor_webhook_base_url="https://v.example.com",
                                    replicate_webhook_secret="whsec_AAAA")) == {"fal", "replicate"}
    assert HttpPolicy.from_settings(public).webhook_url("fal", "tok") == "https://v.example.com/api/vendor-webhooks/fal/tok"
    assert HttpPolicy.from_settings(public).webhook_url("google-cloud", "tok") is None
