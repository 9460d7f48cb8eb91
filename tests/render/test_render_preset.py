"""Render presets in both wire formats: stored with the plan, an unknown one is a 422 naming the
field, and each maps to one encoder profile (draft small and fast, high better)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from vidassets import media

GEN = {"id": "a", "operation": "generate", "params": {"prompt": "x", "duration": 1, "resolution": "160x90"}}


@pytest.mark.parametrize(("body", "field"), [
    ({"executionPlan": {"jobs": [GEN]}, "options": {"renderPreset": "ultra"}}, "options.renderPreset"),
    ({"jobs": [GEN], "renderPreset": "fast"}, "renderPreset"),
    ({"jobs": [GEN], "renderPreset": 3}, "renderPreset"),
])
def test_an_unknown_preset_is_a_422_naming_the_field(client: TestClient, body: dict[str, Any], field: str) -> None:
    resp = client.post("/api/execute", json=body)
    assert resp.status_code == 422, resp.text
    assert any(d["field"] == field for d in resp.json()["details"]), resp.json()


@pytest.mark.parametrize(("body", "preset"), [
    ({"executionPlan": {"jobs": [GEN]}, "options": {"renderPreset": "draft"}}, "draft"),
    ({"jobs": [GEN], "renderPreset": "high"}, "high"),
    ({"jobs": [GEN]}, None),
])
def test_the_preset_is_stored_with_the_plan(client: TestClient, body: dict[str, Any], preset: str | None) -> None:
    resp = client.post("/api/execute", json=body)
    assert resp.status_code in (200, 201, 202), resp.text
    row = client.app.state.services.repo.get(resp.json()["id"])  # type: ignore[attr-defined]
    assert row.plan.get("renderPreset") == preset


def test_presets_trade_speed_for_quality_from_the_standard_profile() -> None:
    standard = media.default_profile()
    assert media.render_profile("standard") == standard
    draft, high = media.render_profile("draft"), media.render_profile("high")
    assert draft.max_short_side == 360 and draft.crf > standard.crf
    assert high.crf < standard.crf and high.max_short_side is None
    order = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"]
    assert order.index(draft.preset) < order.index(standard.preset) < order.index(high.preset)
    with pytest.raises(media.MediaParamError, match="unknown render preset"):
        media.render_profile("ultra")
