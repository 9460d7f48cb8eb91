"""The product's real client — the original TypeScript SDK (synthome ``@repo/ai-video-sdk`` at
6720e6a), unmodified — against the real stack on the embedded default (uvicorn + Dagster, SQLite,
local artefact folder), as a user runs it: TypeScript driver scripts (``drivers/``) build
pipelines with the SDK and execute them; these tests check what the SDK returned and the media
behind the URLs it got.

One stack for the session (``conftest.py``, shared with today's SDK's tests). Each driver runs
once (module fixture) and submits its cases concurrently; the tests below assert on one case or
one group each. Vendors (Replicate, fal, Vertex) are the fake vendor servers of
``tests/providers/fakes.py``, speaking the vendors' HTTP protocols on loopback, with the stack's base URLs pointed at them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Receiver
from tests.ts_sdk.conftest import VENDOR_KEYS, TsSdk, Vendors, unavailable
from vidassets import media
from vidassets.stack import Stack

pytestmark = pytest.mark.e2e

WEBHOOK_SECRET = "secret123"  # the value the SDK's EXECUTION.md uses
RATIO_PAIRS = [("16:9", "9:16"), ("4:3", "3:4"), ("1:1", "21:9"), ("3:4", "16:9"), ("9:16", "1:1"),
               ("21:9", "9:21"), ("9:21", "4:3")]  # [generate aspectRatio, reframe aspectRatio]: each once
CROPS = ["center", "top", "bottom", "left", "right", "smart"]


def _ratio(text: str) -> float:
    w, h = text.split(":")
    return int(w) / int(h)


# -- the stack, the vendors, the SDK ---------------------------------------------------------------


@pytest.fixture(scope="module")
def drive(ts_sdk: TsSdk, stack: Stack, media_url: str, sdk_media: dict[str, str]):  # type: ignore[no-untyped-def]
    """Run one driver script against the stack with the served media URLs in its args."""
    base_args = {"imageUrl": f"{media_url}/{sdk_media['image']}", "voiceUrl": f"{media_url}/{sdk_media['voice']}",
                 "clipUrl": f"{media_url}/{sdk_media['clip']}", "notMediaUrl": f"{media_url}/{sdk_media['notMedia']}",
                 "vendorKeys": VENDOR_KEYS}
    for lang in ("en", "fr"):
        if f"speech_{lang}" in sdk_media:
            base_args[f"speech{lang.capitalize()}Url"] = f"{media_url}/{sdk_media[f'speech_{lang}']}"

    def run(script: str, **args: Any) -> Any:
        return ts_sdk.run(script, api_url=f"{stack.api_url}/api/execute", api_key=stack.api_key or "",
                          args={**base_args, **args})

    return run


# -- helpers -------------------------------------------------------------------------------------


def server_view(api: httpx.Client, outcome: dict[str, Any]) -> str:
    """What the server says about an outcome, for assertion messages: the execution's status, or
    — when the SDK's submission was refused — the server's answer to the same request body."""
    if outcome.get("id"):
        body = api.get(f"/api/execute/{outcome['id']}/status").json()
        jobs = [{k: j.get(k) for k in ("id", "operation", "status", "error", "errorCode")} for j in body.get("jobs", [])]
        return json.dumps({"status": body.get("status"), "error": body.get("error"), "jobs": jobs}, indent=1)
    if outcome.get("request") is not None:
        resp = api.post("/api/execute", json=outcome["request"])
        return f"server answers the SDK's request with HTTP {resp.status_code}: {resp.text}"
    return ""


def completed(api: httpx.Client, outcome: dict[str, Any]) -> dict[str, Any]:
    """The SDK saw the execution complete and handed a Video with a URL to onComplete."""
    summary = {k: outcome.get(k) for k in ("name", "id", "submitError", "status", "sdkErrors", "timedOut")}
    summary["polled"] = [(e.get("status"), e.get("progress")) for e in outcome.get("progress", [])]
    ok = (not outcome.get("submitError") and outcome.get("status") == "completed"
          and outcome.get("video") and outcome["video"].get("url"))
    assert ok, f"{summary}\nrequest: {json.dumps(outcome.get('request'))}\n{server_view(api, outcome)}"
    assert outcome["lateOnComplete"] is True  # onComplete after completion calls back at once
    return outcome["video"]


def status_of(api: httpx.Client, eid: str) -> dict[str, Any]:
    resp = api.get(f"/api/execute/{eid}/status")
    assert resp.status_code == 200, resp.text
    return resp.json()


def job(status: dict[str, Any], job_id: str) -> dict[str, Any]:
    return next(j for j in status["jobs"] if j["id"] == job_id)


def probe_url(url: str, dest: Path) -> media.MediaInfo:
    resp = httpx.get(url, timeout=60)
    assert resp.status_code == 200, (url, resp.status_code, resp.text[:300])
    assert resp.headers["content-type"] == "video/mp4"
    dest.write_bytes(resp.content)
    return media.probe(dest)


def check_progress(outcome: dict[str, Any]) -> None:
    """The SDK's onProgress saw the server's counters move up to 100 % with every job done."""
    events = outcome["progress"]
    total = len(outcome["plan"]["jobs"])
    assert events, outcome
    assert all(e["totalJobs"] == total for e in events), events
    values = [e["progress"] for e in events]
    assert values == sorted(values) and 0 <= values[0] and values[-1] == 100, values
    done = [e["completedJobs"] for e in events]
    # "completed" arrives once the plan's root outputs are stored; intermediates may still be
    # landing then (status.landing, docs/PLANS.md), so the last count may trail totalJobs.
    assert done == sorted(done) and 1 <= done[-1] <= total, events
    assert all(e["currentJob"] is None or isinstance(e["currentJob"], str) for e in events)


def assert_duration(info: media.MediaInfo, expected: float, tol: float = 0.12) -> None:
    assert abs(info.duration - expected) <= tol, (info.duration, expected)


def assert_aspect(info: media.MediaInfo, ratio: str, tol: float = 0.02) -> None:
    assert abs(info.width / info.height - _ratio(ratio)) / _ratio(ratio) < tol, (info.width, info.height, ratio)


def sdk_failed(api: httpx.Client, outcome: dict[str, Any]) -> dict[str, Any]:
    """The SDK saw "failed" (execution.status) and its polling rejected with its one message."""
    assert outcome.get("id") and not outcome.get("submitError"), outcome
    assert outcome["status"] == "failed" and outcome["sdkErrors"] == ["Pipeline execution failed"], \
        f"{outcome}\n{server_view(api, outcome)}"
    status = status_of(api, outcome["id"])
    assert status["status"] == "failed" and status["error"], status
    return status


def caption_pixels(before: Path, after: Path, every: int = 6, threshold: int = 48) -> tuple[float, float]:
    """Where burned-in captions changed the picture: the largest share of pixels whose luma moved
    by more than ``threshold`` in the bottom 40 % and in the top 30 % of the frame, over every
    ``every``-th frame pair (captions follow the speech, so not every frame has one)."""
    import av
    import numpy as np

    def frames(path: Path) -> list[Any]:
        with av.open(str(path)) as container:
            return [f.to_ndarray(format="gray").astype(np.int16)
                    for i, f in enumerate(container.decode(video=0)) if i % every == 0]

    bottom = top = 0.0
    for x, y in zip(frames(before), frames(after), strict=False):
        assert x.shape == y.shape, (x.shape, y.shape)
        moved = np.abs(x - y) > threshold
        h = moved.shape[0]
        bottom = max(bottom, float(moved[int(h * 0.6):].mean()))
        top = max(top, float(moved[: int(h * 0.3)].mean()))
    return bottom, top


# -- generateVideo ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(drive) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return drive("generate.ts")


def test_generate_unified_with_every_option_on_the_local_renderer(api: httpx.Client, generated: dict[str, Any],
                                                                   media_url: str, tmp_path: Path) -> None:
    o = generated["unified_all_options"]
    image_url = f"{media_url}/still.png"
    video = completed(api, o)
    (only,) = o["plan"]["jobs"]
    assert (only["id"], only["type"], only["output"], only.get("dependsOn")) == ("job1", "generate", "$job1", None)
    assert only["params"] == {
        "provider": "local", "modelId": "any-local-model", "unified": True, "prompt": "a lighthouse at dusk",
        "duration": 2, "resolution": "480p", "aspectRatio": "9:16", "seed": 7, "startImage": image_url,
        "endImage": image_url, "cameraMotion": "fixed"}  # apiKey undefined: left out of the JSON
    check_progress(o)
    info = probe_url(video["url"], tmp_path / "gen.mp4")
    assert (info.width, info.height) == (480, 854) and info.video_codec == "h264" and info.has_audio
    assert_duration(info, 2.0)
    assert video["aspectRatio"] == "9:16" and abs(video["duration"] - 2.0) <= 0.12
    result = job(status_of(api, o["id"]), "job1")["result"]
    assert result["provider"] == "local"


@pytest.mark.parametrize("name, size", [("resolution_720p", (1280, 720)), ("resolution_1080p", (1080, 1080))])
def test_generate_resolutions(api: httpx.Client, generated: dict[str, Any], tmp_path: Path, name: str,
                              size: tuple[int, int]) -> None:
    info = probe_url(completed(api, generated[name])["url"], tmp_path / "gen.mp4")
    assert (info.width, info.height) == size
    assert_duration(info, 1.0)


def test_generate_seed_changes_the_clip(api: httpx.Client, generated: dict[str, Any]) -> None:
    digests = []
    for name in ("seed_1", "seed_2"):
        completed(api, generated[name])
        digests.append(job(status_of(api, generated[name]["id"]), "job1")["result"]["digest"])
    assert digests[0] != digests[1]


@pytest.mark.parametrize("name, vendor, auth, prompt", [
    ("replicate_unified", "replicate", f"Bearer {VENDOR_KEYS['replicate']}", "replicate unified prompt"),
    ("fal_unified", "fal", f"Key {VENDOR_KEYS['fal']}", "fal unified prompt"),
    ("google_unified", "vertex", f"Bearer {VENDOR_KEYS['google']}", "google unified prompt"),
])
def test_generate_through_each_vendor_with_the_key_from_the_model_options(
        api: httpx.Client, generated: dict[str, Any], vendors: Vendors, tmp_path: Path, name: str, vendor: str,
        auth: str, prompt: str) -> None:
    o = generated[name]
    video = completed(api, o)
    check_progress(o)
    server = getattr(vendors, vendor)
    submits = [r for r in server.requests if r.method == "POST" and isinstance(r.body, dict)
               and prompt in json.dumps(r.body)]
    assert len(submits) == 1, [(r.method, r.path, r.body) for r in server.requests]
    assert submits[0].headers["authorization"] == auth  # the SDK's model.options.apiKey reached the vendor
    assert VENDOR_KEYS[vendor if vendor != "vertex" else "google"] not in json.dumps(status_of(api, o["id"]))
    info = probe_url(video["url"], tmp_path / "vendor.mp4")
    assert (info.width, info.height) == (320, 180)  # the vendor's clip
    result = job(status_of(api, o["id"]), "job1")["result"]
    assert result["provider"] == {"vertex": "google-cloud"}.get(vendor, vendor)


def test_replicate_prompt_reaches_the_vendor_as_model_input(generated: dict[str, Any], vendors: Vendors) -> None:
    body = next(r.body for r in vendors.replicate.requests
                if r.method == "POST" and isinstance(r.body, dict) and "replicate unified prompt" in json.dumps(r.body))
    sent = body.get("input", body)
    assert sent["prompt"] == "replicate unified prompt" and sent["aspect_ratio"] == "16:9" and sent["seed"] == 3
    # Seedance reads its start frame as ``image`` (the SDK's own model-schemas map startImage there)
    assert sent["image"].endswith("/still.png") and "start_image" not in sent
    assert sent["camera_fixed"] is True  # cameraMotion: "fixed"
    assert vendors.replicate.seen("POST", r"/v1/models/bytedance/seedance-1-pro/predictions")


def test_generate_through_a_vendor_without_any_key_fails_cleanly(api: httpx.Client, generated: dict[str, Any],
                                                                 vendors: Vendors) -> None:
    status = sdk_failed(api, generated["replicate_without_key"])
    failed = job(status, "job1")
    assert failed["status"] == "failed" and "key" in (failed["error"] or "").lower(), failed
    assert not any("no key prompt" in json.dumps(r.body) for r in vendors.replicate.requests if r.body)


def test_generate_non_unified_passes_model_specific_options(api: httpx.Client, generated: dict[str, Any],
                                                            vendors: Vendors) -> None:
    """No prompt: the SDK's provider-specific branch sends ``unified: false`` and spreads every
    option into params — including its ``model`` object ({provider, modelId, options})."""
    o = generated["replicate_non_unified"]
    params = o["plan"]["jobs"][0]["params"]
    assert params["unified"] is False and params["model"]["modelId"] == "acme/image-to-video"
    completed(api, o)
    submit = next(r for r in vendors.replicate.requests
                  if r.method == "POST" and r.path == "/v1/models/acme/image-to-video/predictions")
    sent = submit.body.get("input", submit.body)
    assert sent["motion_bucket_id"] == 127
    assert submit.headers["authorization"] == f"Bearer {VENDOR_KEYS['replicate']}"


# -- merge -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def merged(drive) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return drive("merge.ts")


@pytest.mark.parametrize("name, transition, duration", [
    ("transition_default", "cut", 2.0), ("transition_cut", "cut", 2.0),
    ("transition_crossfade", "crossfade", 1.5), ("transition_dissolve", "dissolve", 1.5),
])
def test_merge_each_transition(api: httpx.Client, merged: dict[str, Any], tmp_path: Path, name: str,
                               transition: str, duration: float) -> None:
    o = merged[name]
    jobs = o["plan"]["jobs"]
    assert [j["type"] for j in jobs] == ["generate", "generate", "merge"]
    assert jobs[2]["dependsOn"] == ["job1", "job2"] and jobs[2]["params"] == {"transition": transition}
    video = completed(api, o)
    check_progress(o)
    info = probe_url(video["url"], tmp_path / "merged.mp4")
    assert_duration(info, duration)
    assert info.has_audio and (info.width, info.height) == (854, 480)
    details = job(status_of(api, o["id"]), "job3")["result"]["details"]
    assert details["transition"] == transition and details["inputs"] == 2


def test_merge_three_clips_and_one_clip(api: httpx.Client, merged: dict[str, Any], tmp_path: Path) -> None:
    three, one = merged["three_inputs"], merged["one_input"]
    assert three["plan"]["jobs"][3]["dependsOn"] == ["job1", "job2", "job3"]
    assert one["plan"]["jobs"][1]["dependsOn"] == ["job1"]
    assert_duration(probe_url(completed(api, three)["url"], tmp_path / "three.mp4"), 3 - 2 * 0.5)
    assert_duration(probe_url(completed(api, one)["url"], tmp_path / "one.mp4"), 1.0)


# -- reframe -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reframed(drive) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return drive("reframe.ts", pairs=RATIO_PAIRS, crops=CROPS)


@pytest.mark.parametrize("source, target", RATIO_PAIRS)
def test_reframe_each_aspect_ratio(api: httpx.Client, reframed: dict[str, Any], tmp_path: Path, source: str,
                                   target: str) -> None:
    o = reframed[f"ratio_{target}"]
    assert o["plan"]["jobs"][1] == {"id": "job2", "type": "reframe", "params": {"aspectRatio": target},
                                    "dependsOn": ["job1"], "output": "$job2"}
    video = completed(api, o)
    check_progress(o)
    status = status_of(api, o["id"])
    clip = job(status, "job1")["result"]
    assert abs(clip["width"] / clip["height"] - _ratio(source)) / _ratio(source) < 0.02, clip  # generate's aspectRatio
    info = probe_url(video["url"], tmp_path / "reframed.mp4")
    assert_aspect(info, target)
    assert_duration(info, 1.0)
    assert video["aspectRatio"] == target


@pytest.mark.parametrize("crop", CROPS)
def test_reframe_crop_strategy_of_the_original_plan(api: httpx.Client, reframed: dict[str, Any], tmp_path: Path,
                                                    crop: str) -> None:
    """``{type: "reframe", params: {aspectRatio, crop}}`` — a VideoOperation built by hand (the
    type is exported); SPEC: the original plan and the SDK name the strategy ``crop``."""
    o = reframed[f"crop_{crop}"]
    info = probe_url(completed(api, o)["url"], tmp_path / "crop.mp4")
    assert_aspect(info, "9:16")
    details = job(status_of(api, o["id"]), "job2")["result"]["details"]
    assert details["strategy"] == crop, details


def test_reframe_crops_cut_different_windows(api: httpx.Client, reframed: dict[str, Any]) -> None:
    digests = {crop: job(status_of(api, reframed[f"crop_{crop}"]["id"]), "job2")["result"]["digest"]
               for crop in ("left", "center", "right")}
    assert len(set(digests.values())) == 3, digests


# -- lipSync and combined pipelines --------------------------------------------------------------


@pytest.fixture(scope="module")
def pipelines(drive) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return drive("pipelines.ts")


def test_lipsync_puts_the_audio_on(api: httpx.Client, pipelines: dict[str, Any], tmp_path: Path) -> None:
    o = pipelines["results"]["lipsync"]
    assert o["plan"]["jobs"][1]["params"] == {"audioUrl": o["plan"]["jobs"][1]["params"]["audioUrl"]}
    info = probe_url(completed(api, o)["url"], tmp_path / "lipsync.mp4")
    check_progress(o)
    assert info.has_audio and info.audio_codec == "aac"
    assert_duration(info, 2.0)
    result = job(status_of(api, o["id"]), "job2")["result"]
    assert result["hasAudio"] is True


def test_chain_merge_reframe_lipsync(api: httpx.Client, pipelines: dict[str, Any], tmp_path: Path) -> None:
    o = pipelines["results"]["chain"]
    jobs = o["plan"]["jobs"]
    assert [(j["type"], j.get("dependsOn")) for j in jobs] == [
        ("generate", None), ("generate", None), ("generate", None), ("merge", ["job1", "job2", "job3"]),
        ("reframe", ["job4"]), ("lipSync", ["job5"])]
    video = completed(api, o)
    check_progress(o)
    info = probe_url(video["url"], tmp_path / "chain.mp4")
    assert_aspect(info, "9:16")
    assert info.has_audio
    assert_duration(info, 3 - 2 * 0.5)


def test_nested_pipeline_equals_its_flattened_operations(api: httpx.Client, pipelines: dict[str, Any],
                                                         tmp_path: Path) -> None:
    assert pipelines["nestedEqualsFlat"] is True
    o = pipelines["results"]["nested"]
    info = probe_url(completed(api, o)["url"], tmp_path / "nested.mp4")
    assert_aspect(info, "1:1")
    assert_duration(info, 1.5)


def test_one_operation_in_two_pipelines(api: httpx.Client, pipelines: dict[str, Any], tmp_path: Path) -> None:
    r = pipelines["results"]
    assert r["branch_vertical"]["plan"]["jobs"][0] == r["branch_square"]["plan"]["jobs"][0]
    assert_aspect(probe_url(completed(api, r["branch_vertical"])["url"], tmp_path / "v.mp4"), "9:16")
    assert_aspect(probe_url(completed(api, r["branch_square"])["url"], tmp_path / "s.mp4"), "4:3")


def test_merge_then_lipsync(api: httpx.Client, pipelines: dict[str, Any], tmp_path: Path) -> None:
    info = probe_url(completed(api, pipelines["results"]["merge_then_lipsync"])["url"], tmp_path / "ml.mp4")
    assert info.has_audio
    assert_duration(info, 2.0)


def test_two_clips_without_merge_run_as_two_roots(api: httpx.Client, pipelines: dict[str, Any]) -> None:
    o = pipelines["results"]["two_clips_no_merge"]
    assert [j.get("dependsOn") for j in o["plan"]["jobs"]] == [None, None]
    completed(api, o)
    status = status_of(api, o["id"])
    assert set(status["result"]["outputs"]) == {"job1", "job2"}


def test_without_a_progress_callback(api: httpx.Client, pipelines: dict[str, Any]) -> None:
    o = pipelines["results"]["no_progress_callback"]
    completed(api, o)
    assert o["progress"] == []


# -- base executions -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def based(drive) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return drive("base.ts")


@pytest.mark.parametrize("name, new_jobs, ratio, audio", [("vertical", ["job4"], "9:16", True),
                                                          ("voiced", ["job4", "job5"], "1:1", True)])
def test_variant_reuses_the_base_and_runs_only_new_jobs(api: httpx.Client, based: dict[str, Any], tmp_path: Path,
                                                        name: str, new_jobs: list[str], ratio: str,
                                                        audio: bool) -> None:
    base_id = based["base"]["id"]
    completed(api, based["base"])
    o = based["variants"][name]
    assert o["request"]["baseExecutionId"] == base_id
    video = completed(api, o)
    check_progress(o)
    status = status_of(api, o["id"])
    assert status["baseExecutionId"] == base_id
    base_status = status_of(api, base_id)
    for jid in ("job1", "job2", "job3"):
        reused = job(status, jid)["result"]
        assert reused["reusedFrom"] == base_id, (jid, reused)
        assert reused["digest"] == job(base_status, jid)["result"]["digest"]
    for jid in new_jobs:
        assert job(status, jid)["attempts"] == 1 and "reusedFrom" not in job(status, jid)["result"]
    info = probe_url(video["url"], tmp_path / "variant.mp4")
    assert_aspect(info, ratio)
    assert_duration(info, 1.5)
    assert info.has_audio is audio


def test_variant_with_only_the_new_jobs_builds_on_the_base_output(api: httpx.Client, based: dict[str, Any],
                                                                  tmp_path: Path) -> None:
    """EXECUTION.md, "Dependent Execution Request": only the new jobs are sent (job1 = lipSync
    without dependsOn) and the backend makes the first one depend on the base's final job."""
    o = based["variants"]["only_new_jobs"]
    assert [(j["type"], j.get("dependsOn")) for j in o["plan"]["jobs"]] == [("lipSync", None), ("reframe", ["job1"])]
    info = probe_url(completed(api, o)["url"], tmp_path / "new_only.mp4")
    assert_aspect(info, "9:16")
    assert_duration(info, 1.5)  # the base's merged cut, voiced
    assert info.has_audio


def test_unknown_base_is_refused(api: httpx.Client, based: dict[str, Any]) -> None:
    unknown = based["variants"]["unknown_base"]
    assert unknown["submitError"] == "Pipeline execution failed: Not Found", server_view(api, unknown)
    resp = api.post("/api/execute", json={**based["early"]["request"], "baseExecutionId": "exec-does-not-exist"})
    assert resp.status_code == 404 and resp.json()["code"] == "base_not_found", resp.text


def test_a_variant_sent_while_its_base_runs_waits_for_it(api: httpx.Client, based: dict[str, Any],
                                                         tmp_path: Path) -> None:
    """EXECUTION.md, example 1: variants are sent right after the base starts; the backend makes
    them wait for the base and then runs only their own jobs."""
    early = based["early"]
    video = completed(api, early)
    slow = based["slowBaseId"]
    status, base_status = status_of(api, early["id"]), status_of(api, slow)
    assert base_status["status"] == "completed" and status["baseExecutionId"] == slow
    for jid in ("job1", "job2", "job3"):
        assert job(status, jid)["result"]["reusedFrom"] == slow, jid
    assert job(status, "job4")["attempts"] == 1
    assert_aspect(probe_url(video["url"], tmp_path / "early.mp4"), "9:16")


# -- webhooks ------------------------------------------------------------------------------------


def test_webhooks_are_delivered_and_signed_as_the_sdk_documents(api: httpx.Client, drive, receiver: Receiver,  # type: ignore[no-untyped-def]
                                                                tmp_path: Path) -> None:
    from vidassets_sdk import verify_webhook

    out = drive("webhook.ts", receiverUrl=receiver.url, secret=WEBHOOK_SECRET)
    for name in ("signed", "unsigned", "failed"):
        o = out[name]
        assert o.get("id") and not o.get("submitError"), (o, server_view(api, o))
        assert o["status"] == "pending" and o["progress"] == []  # no polling with a webhook
        assert o["request"]["webhook"]["url"] == receiver.url
    ids = {out[name]["id"]: name for name in out}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        got = {json.loads(body)["executionId"] for _, body in receiver.received}
        if set(ids) <= got:
            break
        time.sleep(0.5)
    by_name: dict[str, tuple[dict[str, str], bytes]] = {}
    for headers, body in receiver.received:
        name = ids.get(json.loads(body)["executionId"])
        if name:
            by_name.setdefault(name, (headers, body))
    assert set(by_name) == set(ids.values()), (
        [json.loads(b) for _, b in receiver.received], {n: server_view(api, out[n]) for n in out})

    headers, body = by_name["signed"]
    # EXECUTION.md: X-Webhook-Signature = hex HMAC-SHA256(secret, body)
    assert headers["x-webhook-signature"] == hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    verify_webhook(body, headers, WEBHOOK_SECRET)  # and the Standard Webhooks headers
    payload = json.loads(body)
    assert payload["status"] == "completed" and payload["executionId"] == out["signed"]["id"]
    assert payload["outputs"]["job1"]["operation"] == "generate"
    info = probe_url(payload["rootUrl"], tmp_path / "hooked.mp4")
    assert_duration(info, 1.0)
    # EXECUTION.md / COMPOSABLE.md: the body carries the SDK's Video
    video = payload.get("video")
    assert video and video["url"] == payload["rootUrl"] and video["status"] == "completed", payload
    assert video["aspectRatio"] == "16:9" and abs(video["duration"] - 1.0) <= 0.12, video
    assert status_of(api, out["signed"]["id"])["status"] == "completed"

    headers, body = by_name["unsigned"]
    assert "x-webhook-signature" not in headers and json.loads(body)["status"] == "completed"

    headers, body = by_name["failed"]
    assert headers["x-webhook-signature"] == hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    payload = json.loads(body)
    assert payload["status"] == "failed" and payload["error"]


# -- error handling ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def errors(drive) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return drive("errors.ts")


def test_default_api_url(errors: dict[str, Any]) -> None:
    call = errors["defaultCalls"][0]
    assert call["url"] == "http://localhost:3000/api/execute" and call["method"] == "POST"
    assert call["headers"]["Authorization"] == "Bearer k"
    assert errors["defaultApiUrl"] == {"ok": False, "error": "intercepted", "errorName": "Error"}


@pytest.mark.parametrize("name, message, code", [
    ("bad_key", "Unauthorized", 401), ("no_key", "Unauthorized", 401),
    ("orphan_reframe", "Unprocessable Entity", 422), ("empty", "Unprocessable Entity", 422),
    ("video_import", "Unprocessable Entity", 422),
])
def test_refused_submissions(api: httpx.Client, stack: Stack, errors: dict[str, Any], name: str, message: str,
                             code: int) -> None:
    o = errors["results"][name]
    assert o["submitError"] == f"Pipeline execution failed: {message}", o
    headers = {} if code == 401 else {"Authorization": f"Bearer {stack.api_key}"}
    resp = httpx.post(f"{stack.api_url}/api/execute", json=o["request"], headers=headers, timeout=30)
    assert resp.status_code == code, resp.text
    assert {"error", "code"} <= resp.json().keys()
    if name == "orphan_reframe":
        assert resp.json()["details"][0]["field"] == "jobs[0].dependsOn"


def test_video_nodes_are_dropped_by_this_sdk_version(errors: dict[str, Any]) -> None:
    """video({url}) returns a plain Video that compose() skips: the plan only has the reframe."""
    assert errors["imported"] == {"url": errors["imported"]["url"], "status": "completed", "duration": 1,
                                  "aspectRatio": "4:3"}
    assert [j["type"] for j in errors["results"]["video_import"]["plan"]["jobs"]] == ["reframe"]


def test_wrong_or_unreachable_api_url(errors: dict[str, Any]) -> None:
    assert errors["results"]["wrong_path"]["submitError"] in ("Pipeline execution failed: Not Found",
                                                              "Pipeline execution failed: Method Not Allowed")
    assert errors["results"]["unreachable"]["submitError"] == "fetch failed"


def test_a_run_that_fails(api: httpx.Client, errors: dict[str, Any]) -> None:
    o = errors["results"]["run_fails"]
    status = sdk_failed(api, o)
    assert job(status, "job1")["status"] == "completed"
    assert job(status, "job2")["status"] == "failed" and job(status, "job2")["error"]
    assert o["progress"] and o["progress"][-1]["completedJobs"] == 1


def test_a_run_cancelled_while_the_sdk_polls_ends_the_sdk_wait(api: httpx.Client, errors: dict[str, Any]) -> None:
    """The SDK stops polling only on "completed" or "failed" (SPEC: the SDK stops on completed or
    failed); an execution cancelled elsewhere must end its wait too, not leave it polling forever."""
    assert errors["cancel"] == {"status": 202}, errors["cancel"]
    o = errors["results"]["cancelled"]
    assert not o.get("timedOut"), o
    assert o["status"] == "failed" and o["sdkErrors"] == ["Pipeline execution failed"], \
        f"the SDK saw {o['status']!r}: {server_view(api, o)}"
    assert status_of(api, o["id"])["error"]


def test_generate_video_api(errors: dict[str, Any]) -> None:
    """The standalone generateVideoAPI: looks up the vendor key (model options, then
    REPLICATE_API_KEY / FAL_API_KEY / GOOGLE_CLOUD_API_KEY), then calls the relative URL
    /api/video/generate — a browser-only path this backend does not serve (not in the SPEC)."""
    gv = errors["generateVideoAPI"]
    assert not gv["noKey"]["ok"] and gv["noKey"]["error"].startswith('API key not found for provider "replicate"')
    for outcome in [gv["keyInOptions"], *gv["keyFromEnv"].values()]:
        assert not outcome["ok"] and outcome["errorName"] == "TypeError", outcome  # Node cannot fetch a relative URL
    page = gv["asBrowserPage"]
    assert not page["ok"] and page["error"].startswith("Failed to create video job: "), page
    request = gv["requests"][0]
    assert request["url"].endswith("/api/video/generate")
    assert request["body"] == {"provider": "replicate", "modelId": "bytedance/seedance-1-pro",
                               "options": {"prompt": "p", "duration": 1, "aspect_ratio": "9:16", "seed": 2,
                                           "camera_fixed": False},  # the SDK's seedance mapping
                               "webhook": "http://127.0.0.1:9/hook", "webhookSecret": "s"}


# -- addSubtitles from speech (last: needs transcription on the embedded default) ------------------


@pytest.fixture(scope="module")
def subtitled(drive, sdk_media: dict[str, str]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    if "speech_en" not in sdk_media:
        unavailable("espeak-ng is needed to make the spoken audio for the captions-from-speech tests")
    return drive("subtitles.ts")


@pytest.mark.parametrize("name, style", [("auto", "default"), ("minimal", "minimal"), ("bold_en", "bold")])
def test_add_subtitles_without_text_captions_the_speech(api: httpx.Client, subtitled: dict[str, Any],
                                                        tmp_path: Path, name: str, style: str) -> None:
    base = subtitled["base"]
    base_video = completed(api, base)
    o = subtitled["results"][name]
    params = o["plan"]["jobs"][2]["params"]
    assert params == {"language": "en", "style": style}  # what the SDK sends: no text
    video = completed(api, o)
    check_progress(o)
    status = status_of(api, o["id"])
    assert job(status, "job2")["result"]["reusedFrom"] == base["id"]
    details = job(status, "job3")["result"]["details"]
    assert details["source"].startswith("transcription") and details["cues"] >= 1, details
    if "transcript" in details:  # the spoken words ("Hello world. Testing captions.") came back
        assert "hello world" in re.sub(r"[^a-z ]", "", details["transcript"].lower()), details
    before, after = tmp_path / "before.mp4", tmp_path / "after.mp4"
    probe_url(base_video["url"], before)
    info = probe_url(video["url"], after)
    assert info.has_audio and (info.width, info.height) == (854, 480)
    assert_duration(info, 2.0)
    bottom, top = caption_pixels(before, after)  # captions burned into the lower part
    assert bottom > max(5 * top, 0.001), (bottom, top)


def test_add_subtitles_in_a_language_no_transcriber_handles_is_refused_at_submit(
        api: httpx.Client, subtitled: dict[str, Any]) -> None:
    """The offline transcriber ships Whisper tiny.en (English); with no vendor transcriber
    configured, ``addSubtitles({language: "fr"})`` is a clean 422 naming the job and field —
    the SDK surfaces it as a submit error instead of a job that fails later."""
    o = subtitled["results"]["french"]
    assert o["plan"]["jobs"][2]["params"] == {"language": "fr", "style": "default"}
    assert o.get("submitError", "").startswith("Pipeline execution failed"), o
    resp = api.post("/api/execute", json=o["request"])
    assert resp.status_code == 422, resp.text
    issue = resp.json()["details"][0]
    assert issue["field"] == "jobs[2].params.language" and issue["jobId"] == "job3", issue
    assert "replicate" in issue["message"] and "fal" in issue["message"]


def test_every_operation_in_one_pipeline(api: httpx.Client, subtitled: dict[str, Any], tmp_path: Path) -> None:
    o = subtitled["results"]["everything"]
    assert [j["type"] for j in o["plan"]["jobs"]] == ["generate", "generate", "merge", "reframe", "lipSync",
                                                      "addSubtitles"]
    video = completed(api, o)
    check_progress(o)
    info = probe_url(video["url"], tmp_path / "everything.mp4")
    assert_aspect(info, "9:16")
    assert info.has_audio
    assert_duration(info, 2 + 2 - 0.5)
