"""Today's TypeScript SDK (synthome ``@synthome/sdk`` 0.7.1 at 1ac63f8), unmodified, against the
real stack on the embedded default - the same stack and fake vendors as the original SDK's tests
(``conftest.py``). Driver scripts in ``drivers_current/`` build pipelines with the SDK and
``await execute()`` them as its docs show; these tests check what the SDK got and the media behind
the URLs.

What this SDK sends is translated by :mod:`vidassets.plan.wire_current`: one test per operation
and option the server performs, the 422s (through the SDK's own error) for the ones it cannot
yet, and the examples of the SDK's docs that need no real vendor account.
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
from tests.providers.tts_fakes import RACHEL
from tests.ts_sdk.conftest import FAKE_WHISPER_WORDS, VENDOR_KEYS, TsSdk, Vendors, unavailable
from tests.ts_sdk.test_ts_sdk import assert_aspect, assert_duration, caption_pixels, job, probe_url, status_of
from vidassets.stack import Stack

pytestmark = pytest.mark.e2e
WEBHOOK_SECRET = "current-secret"


@pytest.fixture(scope="module")
def drive_current(ts_sdk_current: TsSdk, stack: Stack, media_url: str, sdk_media: dict[str, str]):  # type: ignore[no-untyped-def]
    """Run one of today's SDK's driver scripts against the stack, with the served media URLs."""
    if "speechVideo_en" not in sdk_media:
        unavailable("espeak-ng is needed to make the spoken video for today's SDK's captions tests")
    base_args = {"imageUrl": f"{media_url}/{sdk_media['image']}", "voiceUrl": f"{media_url}/{sdk_media['voice']}",
                 "clipUrl": f"{media_url}/{sdk_media['clip']}", "speechEnUrl": f"{media_url}/{sdk_media['speech_en']}",
                 "speechVideoEnUrl": f"{media_url}/{sdk_media['speechVideo_en']}", "vendorKeys": VENDOR_KEYS,
                 **{f"{name}Url": f"{media_url}/{sdk_media[name]}" for name in ("logo", "photo", "green", "blue", "music")},
                 "voiceId": RACHEL}

    def run(script: str, **args: Any) -> Any:
        return ts_sdk_current.run(script, api_url=f"{stack.api_url}/api/execute", api_key=stack.api_key or "",
                                  args={**base_args, **args})

    return run


def done(api: httpx.Client, outcome: dict[str, Any]) -> dict[str, Any]:
    """execute() resolved with a completed execution whose result has a URL; the server's status."""
    ok = outcome.get("status") == "completed" and (outcome.get("result") or {}).get("url") and not outcome.get("error")
    view = status_of(api, outcome["id"]) if outcome.get("id") else {}
    brief = {k: outcome.get(k) for k in ("name", "id", "error", "status", "httpStatus", "answer")}
    jobs = [{k: j.get(k) for k in ("id", "operation", "status", "error")} for j in view.get("jobs", [])]
    assert ok, f"{brief}\nrequest: {json.dumps(outcome.get('request'))}\nserver: {view.get('status')} {jobs}"
    assert outcome["request"]["executionPlan"]["jobs"] == outcome["plan"]["jobs"]  # what the SDK posted
    same = view["result"]["url"].partition("?")[0] == outcome["result"]["url"].partition("?")[0]  # signed anew
    assert view["status"] == "completed" and same, (view["result"], outcome["result"])
    return view


def refused(outcome: dict[str, Any], job_id: str, *needles: str) -> dict[str, Any]:
    """The server refused the SDK's request with a 422 naming the job, and the SDK's error says so."""
    assert outcome.get("httpStatus") == 422 and not outcome.get("id"), outcome
    answer = outcome["answer"]
    assert answer["code"] == "invalid_plan", answer
    error = outcome["error"]
    assert error.startswith("Pipeline execution failed: ") and f"'{job_id}'" in error, error
    for needle in needles:
        assert needle in error, (needle, error)
    assert any(d.get("jobId") == job_id for d in answer["details"]), answer
    return answer


def output_url(view: dict[str, Any], job_id: str) -> str:
    return str(job(view, job_id)["result"]["url"])


def burned(before: Path, after: Path) -> tuple[float, float]:
    """Share of pixels captions changed in the bottom 40 % and the top 30 % (see caption_pixels)."""
    return caption_pixels(before, after, every=4)


# -- operations ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def operations(drive_current) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return drive_current("operations.ts")


def test_generate_unified_on_the_local_renderer(api: httpx.Client, operations: dict[str, Any], media_url: str,
                                               tmp_path: Path) -> None:
    o = operations["generate_unified"]
    (only,) = o["plan"]["jobs"]
    assert only["params"] == {"provider": "local", "modelId": "any-local-model", "unified": True,
                              "prompt": "a lighthouse at dusk, today", "duration": 2, "resolution": "480p",
                              "aspectRatio": "9:16", "seed": 7, "image": f"{media_url}/still.png"}
    assert o["request"]["options"] == {}  # no webhook, no provider keys
    view = done(api, o)
    info = probe_url(o["result"]["url"], tmp_path / "gen.mp4")
    assert (info.width, info.height) == (480, 854) and info.has_audio
    assert_duration(info, 2.0)
    assert o["progress"] and o["progress"][-1]["completedJobs"] == o["progress"][-1]["totalJobs"] == 1
    assert job(view, "job1")["result"]["provider"] == "local"


def test_generate_on_a_vendor_with_provider_api_keys(api: httpx.Client, operations: dict[str, Any],
                                                     vendors: Vendors, tmp_path: Path) -> None:
    o = operations["generate_vendor"]
    assert o["request"]["options"] == {"providerApiKeys": {"replicate": VENDOR_KEYS["replicate"]}}
    view = done(api, o)
    submits = [r for r in vendors.replicate.requests if r.method == "POST" and isinstance(r.body, dict)
               and "current replicate prompt" in json.dumps(r.body)]
    assert len(submits) == 1 and submits[0].headers["authorization"] == f"Bearer {VENDOR_KEYS['replicate']}"
    assert submits[0].path == "/v1/models/bytedance/seedance-1-pro/predictions"
    sent = submits[0].body.get("input", submits[0].body)
    assert sent["prompt"] == "current replicate prompt" and sent["aspect_ratio"] == "16:9" and sent["seed"] == 3
    assert VENDOR_KEYS["replicate"] not in json.dumps(view)
    info = probe_url(o["result"]["url"], tmp_path / "vendor.mp4")
    assert (info.width, info.height) == (320, 180)  # the vendor's clip
    assert job(view, "job1")["result"]["provider"] == "replicate"


def test_generate_with_the_models_own_inputs(api: httpx.Client, operations: dict[str, Any], vendors: Vendors,
                                             media_url: str) -> None:
    o = operations["generate_model_inputs"]
    params = o["plan"]["jobs"][0]["params"]
    assert params["unified"] is False and params["aspect_ratio"] == "1:1" and params["camera_fixed"] is True
    done(api, o)
    submit = next(r for r in vendors.replicate.requests if r.method == "POST" and isinstance(r.body, dict)
                  and r.body.get("input", {}).get("aspect_ratio") == "1:1")
    sent = submit.body["input"]
    assert sent["camera_fixed"] is True and sent["image"] == f"{media_url}/still.png"
    assert submit.headers["authorization"] == f"Bearer {VENDOR_KEYS['replicate']}"  # the model options' apiKey


def test_merge_of_video_urls(api: httpx.Client, operations: dict[str, Any], tmp_path: Path) -> None:
    o = operations["merge_urls"]
    (merge,) = o["plan"]["jobs"]
    assert [i["type"] for i in merge["params"]["items"]] == ["video", "video"]
    view = done(api, o)
    assert {j["id"] for j in view["jobs"]} == {"job1", "job1.item0", "job1.item1"}  # the URLs, imported
    info = probe_url(o["result"]["url"], tmp_path / "merged.mp4")
    assert_duration(info, 1.0 + 2.5, tol=0.15)
    assert (info.width, info.height) == (320, 240)  # the first item's size
    assert info.has_audio


def test_merge_of_earlier_jobs_and_a_url_then_reframe_and_lipsync(api: httpx.Client, operations: dict[str, Any],
                                                                 tmp_path: Path) -> None:
    o = operations["merge_jobs"]
    jobs = {j["id"]: j for j in o["plan"]["jobs"]}
    assert [i["url"] for i in jobs["job1"]["params"]["items"]][:2] == ["_videoJobDependency:job2",
                                                                      "_videoJobDependency:job3"]
    view = done(api, o)
    merged = job(view, "job1")["result"]
    assert abs(merged["duration"] - 3.0) <= 0.12 and merged["details"]["inputs"] == 3
    info = probe_url(o["result"]["url"], tmp_path / "chain.mp4")
    assert_aspect(info, "9:16")
    assert_duration(info, 3.0)
    assert info.has_audio and o["result"]["jobId"] == "job5"


def test_reframe(api: httpx.Client, operations: dict[str, Any], tmp_path: Path) -> None:
    o = operations["reframe"]
    assert o["plan"]["jobs"][1]["params"] == {"aspectRatio": "1:1"}
    done(api, o)
    info = probe_url(o["result"]["url"], tmp_path / "square.mp4")
    assert_aspect(info, "1:1")
    assert_duration(info, 1.0)


def test_lipsync(api: httpx.Client, operations: dict[str, Any], tmp_path: Path) -> None:
    o = operations["lipsync"]
    view = done(api, o)
    info = probe_url(o["result"]["url"], tmp_path / "voiced.mp4")
    assert info.has_audio and info.audio_codec == "aac"
    assert_duration(info, 2.0)
    assert job(view, "job2")["result"]["hasAudio"] is True


def test_captions_with_words_on_a_generated_video(api: httpx.Client, operations: dict[str, Any],
                                                   tmp_path: Path) -> None:
    """captions({video: generateVideo(...), captions: [...], style: {preset: "youtube"}}): the words
    are burned into the lower part of the generated clip (job2)."""
    o = operations["captions_words"]
    subtitles = next(j for j in o["plan"]["jobs"] if j["type"] == "addSubtitles")
    assert subtitles["params"]["videoUrl"] == "_videoJobDependency:job2"
    view = done(api, o)
    details = job(view, "job1")["result"]["details"]
    assert details["cues"] >= 1 and not details["source"].startswith("transcription"), details
    before, after = tmp_path / "before.mp4", tmp_path / "after.mp4"
    probe_url(output_url(view, "job2"), before)
    info = probe_url(o["result"]["url"], after)
    assert (info.width, info.height) == (854, 480)
    assert_duration(info, 2.0)
    bottom, top = burned(before, after)
    assert bottom > max(5 * top, 0.001), (bottom, top)


def test_captions_with_words_and_style_fields_on_a_url(api: httpx.Client, operations: dict[str, Any],
                                                        sdk_media: dict[str, str], media_dir: Path,
                                                        tmp_path: Path) -> None:
    """alignment "8" (ASS: top centre) puts the captions at the top; the source is the URL."""
    o = operations["captions_words_url"]
    done(api, o)
    after = tmp_path / "after.mp4"
    info = probe_url(o["result"]["url"], after)
    assert (info.width, info.height) == (640, 360)
    assert_duration(info, 2.5)
    bottom, top = burned(media_dir / sdk_media["speechVideo_en"], after)
    assert top > max(5 * bottom, 0.001), (bottom, top)


def test_captions_with_a_transcription_model_and_no_key_use_the_offline_transcriber(
        api: httpx.Client, operations: dict[str, Any], sdk_media: dict[str, str], media_dir: Path,
        tmp_path: Path) -> None:
    """The SDK sends no key for its Whisper models (it filters providerApiKeys by the models it
    lists, and they are not listed): the offline transcriber captions the speech."""
    o = operations["captions_offline"]
    kinds = [j["type"] for j in o["plan"]["jobs"]]
    assert kinds == ["transcribe", "addSubtitles"] and o["request"]["options"] == {}
    view = done(api, o)
    assert [j["id"] for j in view["jobs"]] == ["job1"]  # the transcription is part of the captions job
    details = job(view, "job1")["result"]["details"]
    assert details["source"].startswith("transcription") and "offline" in json.dumps(details).lower(), details
    assert "hello world" in re.sub(r"[^a-z ]", "", details.get("transcript", "").lower()), details
    after = tmp_path / "after.mp4"
    probe_url(o["result"]["url"], after)
    bottom, top = burned(media_dir / sdk_media["speechVideo_en"], after)
    assert bottom > max(5 * top, 0.001), (bottom, top)


def test_captions_with_a_transcription_model_and_its_key_run_that_model(
        api: httpx.Client, operations: dict[str, Any], vendors: Vendors) -> None:
    o = operations["captions_vendor"]
    transcribe = o["plan"]["jobs"][0]
    assert transcribe["type"] == "transcribe" and transcribe["params"]["apiKey"] == VENDOR_KEYS["replicate"]
    view = done(api, o)
    model_version = transcribe["params"]["modelId"].partition(":")[2]
    submits = [r for r in vendors.replicate.requests if r.method == "POST" and isinstance(r.body, dict)
               and r.body.get("version") == model_version]
    assert len(submits) == 1 and "audio" in submits[0].body["input"], [(r.path, r.body) for r in submits]
    assert submits[0].headers["authorization"] == f"Bearer {VENDOR_KEYS['replicate']}"
    details = job(view, "job1")["result"]["details"]
    heard = " ".join(w for w, _, _ in FAKE_WHISPER_WORDS).lower()
    assert heard in json.dumps(details).lower(), details  # the vendor's words were burned


def test_add_subtitles_of_the_older_api(api: httpx.Client, operations: dict[str, Any], tmp_path: Path) -> None:
    o = operations["add_subtitles"]
    assert o["plan"]["jobs"][2]["params"] == {"language": "en", "style": "bold"}
    view = done(api, o)
    assert job(view, "job3")["result"]["details"]["source"].startswith("transcription")
    info = probe_url(o["result"]["url"], tmp_path / "subtitled.mp4")
    assert info.has_audio
    assert_duration(info, 2.0)


# -- what the server refuses -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def refusals(drive_current) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return drive_current("refusals.ts")


@pytest.mark.parametrize("name, job_id, needles", [
    ("image_no_key", "job1", ("params.provider", "no API key for 'replicate'", "VIDASSETS_REPLICATE_API_KEY")),
    ("speech_no_key", "job1", ("params.provider", "no API key for 'elevenlabs'", "VIDASSETS_ELEVENLABS_API_KEY")),
    ("removeBackground_no_model", "job2", ("params.provider", "removeBackground runs only on a provider model")),
    ("style_glow", "job1", ("style.animationStyle", "'glow' is not supported by this server yet")),
])
def test_what_the_server_cannot_do_is_a_clear_422(refusals: dict[str, Any], name: str, job_id: str,
                                                  needles: tuple[str, ...]) -> None:
    refused(refusals[name], job_id, *needles)


# -- execution options ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def executions(drive_current) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return drive_current("executions.ts")


def test_base_execution_id_reuses_the_base(api: httpx.Client, executions: dict[str, Any], tmp_path: Path) -> None:
    base, variant = executions["base"], executions["variant"]
    done(api, base)
    assert variant["request"]["executionPlan"]["baseExecutionId"] == base["id"]
    view = done(api, variant)
    assert view["baseExecutionId"] == base["id"]
    base_view = status_of(api, base["id"])
    for jid in ("job1", "job2", "job3"):
        reused = job(view, jid)["result"]
        assert reused["reusedFrom"] == base["id"] and reused["digest"] == job(base_view, jid)["result"]["digest"]
    assert "reusedFrom" not in job(view, "job4")["result"]
    info = probe_url(variant["result"]["url"], tmp_path / "variant.mp4")
    assert_aspect(info, "9:16")
    assert_duration(info, 2.0)


def test_execute_from_plan_with_a_base(api: httpx.Client, executions: dict[str, Any], tmp_path: Path) -> None:
    """executeFromPlan(pipeline.toJSON(), {baseExecutionId}): options.baseExecutionId, then it polls."""
    base, o = executions["base"], executions["fromPlan"]
    assert o.get("status") == "completed" and not o.get("error"), o
    view = status_of(api, o["id"])
    assert view["baseExecutionId"] == base["id"]
    assert all(job(view, jid)["result"]["reusedFrom"] == base["id"] for jid in ("job1", "job2", "job3"))
    info = probe_url(o["result"]["url"], tmp_path / "from_plan.mp4")
    assert_aspect(info, "1:1")
    assert_duration(info, 2.0)


def test_webhook_is_delivered_and_signed(drive_current, receiver: Receiver, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    executions = drive_current("webhook.ts", receiverUrl=receiver.url, secret=WEBHOOK_SECRET)
    for name in ("signed", "unsigned", "per_job"):
        o = executions[name]
        assert o["id"] and o["status"] == "pending" and o["progress"] == [], o  # no polling with a webhook
        assert o["request"]["options"]["webhook"]["url"] == receiver.url
    ids = {executions[n]["id"]: n for n in ("signed", "unsigned")}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not set(ids) <= {json.loads(b)["executionId"]
                                                            for _, b in receiver.received}:
        time.sleep(0.5)
    got = {ids[json.loads(b)["executionId"]]: (h, b) for h, b in receiver.received
           if json.loads(b)["executionId"] in ids}
    assert set(got) == {"signed", "unsigned"}, [json.loads(b) for _, b in receiver.received]
    headers, body = got["signed"]
    assert headers["x-webhook-signature"] == hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    payload = json.loads(body)
    assert payload["status"] == "completed"
    assert_duration(probe_url(payload["rootUrl"], tmp_path / "hooked.mp4"), 1.0)
    assert "x-webhook-signature" not in got["unsigned"][0]
    # sendJobWebhook: the job's own body (the reference backend's JobWebhookPayload), signed alike
    per_job = executions["per_job"]["id"]
    while time.monotonic() < deadline and not any(json.loads(b).get("jobId") == "job1"
                                                  and json.loads(b)["executionId"] == per_job for _, b in receiver.received):
        time.sleep(0.5)
    (headers, body), = [(h, b) for h, b in receiver.received
                        if json.loads(b)["executionId"] == per_job and json.loads(b).get("jobId") == "job1"]
    assert headers["x-webhook-signature"] == hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    job_event = json.loads(body)
    assert (job_event["status"], job_event["operation"], job_event["error"]) == ("completed", "generate", None)
    assert_duration(probe_url(job_event["result"]["url"], tmp_path / "job.mp4"), 1.0)


# -- the SDK docs' examples -------------------------------------------------------------------------

RUNS = {  # example -> (duration of the result, whether captions are burned)
    "merge_videos": (1.0 + 2.5 + 1.0, False), "merge_type_override": (2.5, False), "captions_auto": (2.5, True),
    "captions_custom": (2.5, True), "captions_tiktok": (2.5, True), "captions_highlight": (2.5, True),
    "whisper_youtube": (2.5, True), "whisper_pipeline": (1.0 + 2.5, True), "fast_whisper_tiktok": (2.5, True),
    "fast_whisper_youtube": (2.5, True), "fast_whisper_cinematic": (2.5, True),
    # merges of images and audio, layers (issue 19)
    "merge_slideshow": (3.0, False), "merge_image_duration": (10.0, False), "merge_music": (1.0, False),
    "merge_volume": (1.0, False), "layers_intro": (2.5, False), "layers_pip": (2.5, False),
    "layers_centered": (2.5, False), "layers_quarter": (2.5, False), "layers_half": (2.5, False),
    "layers_banner": (2.5, False), "layers_custom": (2.5, False), "layers_chroma": (2.5, False),
    "layers_chroma_blue": (2.5, False), "layers_main": (2.5, False), "layers_duration": (3.0, False),
    "layers_size": (1.0, False), "layers_timeline": (2.5, False),
}
REFUSED = {  # example -> what the 422 names
    "refused_font_styling": "style.outlineWidth", "refused_background": "style.padding",
    "refused_positioning": "style.marginV", "refused_behaviour": "style.maxCaptionDuration",
}


@pytest.fixture(scope="module")
def doc_examples(drive_current) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return drive_current("docs.ts")


@pytest.mark.parametrize("name", sorted(RUNS))
def test_doc_example_runs(api: httpx.Client, doc_examples: dict[str, Any], sdk_media: dict[str, str],
                          media_dir: Path, tmp_path: Path, name: str) -> None:
    o = doc_examples[name]
    done(api, o)
    duration, captioned = RUNS[name]
    after = tmp_path / "example.mp4"
    info = probe_url(o["result"]["url"], after)
    assert_duration(info, duration, tol=0.15)
    if captioned and name != "whisper_pipeline":  # the speech video itself is the "before"
        bottom, top = burned(media_dir / sdk_media["speechVideo_en"], after)
        assert bottom > max(5 * top, 0.001), (o["doc"], bottom, top)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_doc_example_the_server_cannot_do_yet_is_refused(doc_examples: dict[str, Any], name: str) -> None:
    o = doc_examples[name]
    reason = "not supported by this server yet"
    answer = refused(o, "job1", reason)
    assert any(d["field"].endswith(REFUSED[name]) for d in answer["details"]), (o["doc"], answer)


def test_doc_examples_were_all_run(doc_examples: dict[str, Any]) -> None:
    assert set(doc_examples) == set(RUNS) | set(REFUSED)
