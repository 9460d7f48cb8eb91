"""Today's SDK's media jobs in our plan (vidassets.plan.wire_current_media, plan.media_inputs):
merges of videos, images and audio; layers; images, speech and background removal on vendors.

Shapes come from Hypothesis where the SDK lets users compose freely (merge items, layer media);
the refusals are checked for the field and job they name. The real SDK posting these plans is
tests/ts_sdk/drivers_current/media.ts."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.plan.test_wire_current import URL, gen, refusal, submit
from vidassets.plan.operations import Operation

KEYS = {"providerApiKeys": {"replicate": "r8_x", "fal": "fal_x"}}


def image_job(job_id: str, provider: str = "replicate", **params: Any) -> dict[str, Any]:
    return {"id": job_id, "type": "generateImage", "output": f"${job_id}",
            "params": {"provider": provider, "modelId": "google/nano-banana", "prompt": "a cat", **params}}


def speech_job(job_id: str) -> dict[str, Any]:
    return {"id": job_id, "type": "generateAudio", "output": f"${job_id}",
            "params": {"provider": "replicate", "modelId": "elevenlabs/turbo-v2.5", "text": "hello", "voiceId": "v"}}


MAKERS = {"video": lambda i: gen(i), "image": image_job, "audio": speech_job}
ITEM = st.tuples(st.sampled_from(["video", "image", "audio"]), st.booleans(),
                 st.one_of(st.none(), st.floats(min_value=0.5, max_value=4)),
                 st.one_of(st.none(), st.floats(min_value=0, max_value=1)))


@settings(max_examples=80, deadline=None)
@given(st.lists(ITEM, min_size=1, max_size=7).filter(lambda items: any(kind != "audio" for kind, *_ in items)))
def test_merge_items_of_every_kind_become_pictures_and_tracks_in_order(items: list[tuple[Any, ...]]) -> None:
    """Pictures (video, image; URL or job) are the merge's inputs in item order, each with its
    options; audio items are its tracks in order; a picture URL is an import (an image's of its
    duration, 1 s by default), a job is named where the marker was."""
    earlier: list[dict[str, Any]] = []
    listed: list[dict[str, Any]] = []
    for k, (kind, from_job, duration, volume) in enumerate(items):
        item: dict[str, Any] = {"type": kind}
        if from_job:
            earlier.append(MAKERS[kind](f"j{k}"))
            item["url"] = f"_{kind}JobDependency:j{k}"
        else:
            item["url"] = f"{URL}/{k}.{ {'video': 'mp4', 'image': 'png', 'audio': 'mp3'}[kind] }"
        if duration is not None:
            item["offset" if kind == "audio" else "duration"] = duration
        if volume is not None:
            item["volume"] = volume
        listed.append(item)
    deps = [f"j{k}" for k, (_, from_job, *_rest) in enumerate(items) if from_job]
    plan = submit([*earlier, {"id": "m", "type": "merge", "params": {"items": listed}, "dependsOn": deps}],
                  **KEYS).plan
    merge = plan.job("m")
    pictures = [(k, it) for k, it in enumerate(items) if it[0] != "audio"]
    tracks = [(k, it) for k, it in enumerate(items) if it[0] == "audio"]
    audio_inputs = [t.get("input") for t in merge.params.get("audio", [])]
    picture_deps = [d for d in merge.depends_on if d not in audio_inputs]
    assert picture_deps == [f"j{k}" if it[1] else f"m.item{k}" for k, it in pictures]
    assert [t.get("input") or t.get("url") for t in merge.params.get("audio", [])] == \
        [f"j{k}" if it[1] else f"{URL}/{k}.mp3" for k, it in tracks]
    for k, (kind, from_job, duration, _volume) in pictures:
        if kind == "image" and not from_job:
            assert plan.job(f"m.item{k}").params["duration"] == (duration or 1)
    clips = merge.params.get("clips")
    if clips is not None:
        assert len(clips) == len(pictures)
        for clip, (_k, (kind, from_job, duration, volume)) in zip(clips, pictures, strict=True):
            assert clip["volume"] == (volume if volume is not None else 1.0)
            if kind == "video" or from_job:
                assert clip.get("duration") == (duration if duration is not None else (1 if kind == "image" else None))


@pytest.mark.parametrize("kind, maker", [("audio", "image"), ("image", "audio"), ("video", "audio"),
                                         ("image", "video")])
def test_a_marker_naming_a_job_of_another_kind_is_refused(kind: str, maker: str) -> None:
    jobs = [MAKERS[maker]("x"), {"id": "m", "type": "merge", "dependsOn": ["x"],
                                 "params": {"items": [{"url": f"_{kind}JobDependency:x", "type": kind}]}}]
    error = refusal(jobs, **KEYS)
    assert error.issues[0].field == "executionPlan.jobs[1].params.items[0].url" and error.issues[0].job_id == "m"
    assert f"makes {maker}" in str(error)


def test_a_merge_of_audio_alone_is_refused() -> None:
    error = refusal([{"id": "m", "type": "merge", "params": {"items": [{"url": f"{URL}/a.mp3", "type": "audio"}]}}])
    assert error.issues[0].field == "executionPlan.jobs[0].params.items"


# -- layers -------------------------------------------------------------------------------------------


MEDIA = st.one_of(st.just("url"), st.just("urls"), st.just("video"), st.just("image"), st.just("timeline"))


@settings(max_examples=60, deadline=None)
@given(st.lists(MEDIA, min_size=1, max_size=5), st.one_of(st.none(), st.integers(min_value=0, max_value=4)))
def test_layer_media_of_every_form_become_clips(forms: list[str], main: int | None) -> None:
    """A URL, a URL list, a video or image job, a timeline: each layer's clips, in order, with the
    job inputs in dependsOn and a timeline item's duration kept."""
    earlier: list[dict[str, Any]] = []
    layers: list[dict[str, Any]] = []
    for k, form in enumerate(forms):
        if form == "url":
            layers.append({"media": [f"{URL}/{k}.mp4"], "placement": "w-1/4 bottom-right"})
        elif form == "urls":
            layers.append({"media": [f"{URL}/{k}a.png", f"{URL}/{k}b.png"]})
        elif form in ("video", "image"):
            earlier.append(MAKERS[form](f"j{k}"))
            layers.append({"media": f"_{form}JobDependency:j{k}", "placement": "pip", "chromaKey": True})
        else:
            earlier.append(image_job(f"j{k}"))
            layers.append({"isTimeline": True, "timeline": [{"media": f"{URL}/{k}.png", "duration": 2},
                                                            {"media": f"_imageJobDependency:j{k}"}]})
    deps = [job["id"] for job in earlier]
    params: dict[str, Any] = {"layers": layers, **({"mainLayer": main} if main is not None else {})}
    body = [*earlier, {"id": "L", "type": "layer", "params": params, **({"dependsOn": deps} if deps else {})}]
    if main is not None and main >= len(forms):
        assert refusal(body, **KEYS).issues[0].field.startswith("executionPlan.jobs[")
        return
    plan = submit(body, **KEYS).plan
    job = plan.job("L")
    assert job.operation is Operation.LAYER and list(job.depends_on) == deps
    stored = job.params["layers"]
    for k, form in enumerate(forms):
        clips = stored[k]["clips"]
        expected = {"url": [{"url": f"{URL}/{k}.mp4"}], "urls": [{"url": f"{URL}/{k}a.png"}, {"url": f"{URL}/{k}b.png"}],
                    "video": [{"input": f"j{k}"}], "image": [{"input": f"j{k}"}],
                    "timeline": [{"url": f"{URL}/{k}.png", "duration": 2.0}, {"input": f"j{k}"}]}[form]
        assert clips == expected
        assert stored[k]["main"] is (main == k)


@pytest.mark.parametrize("placement, part", [
    ({"width": "iw/2"}, "width"), ({"position": {"x": "(W-w)/2"}}, "x"), ("w-1/4 bottom-rightt", "bottom-rightt"),
    ("w-0/4", "w-0/4"), ({"width": "50%;drawtext=text=x"}, "width"),
])
def test_a_hostile_or_unknown_placement_is_refused_naming_it(placement: Any, part: str) -> None:
    body = [{"id": "L", "type": "layer", "params": {"layers": [{"media": [f"{URL}/a.mp4"], "placement": placement}]}}]
    error = refusal(body)
    assert error.issues[0].field == "executionPlan.jobs[0].params.layers[0].placement" and part in str(error)


def test_speech_in_a_layer_is_refused() -> None:
    body = [speech_job("s"), {"id": "L", "type": "layer", "dependsOn": ["s"],
                              "params": {"layers": [{"media": "_audioJobDependency:s"}]}}]
    error = refusal(body)
    assert error.issues[0].field == "executionPlan.jobs[1].params.layers[0].media" and "makes audio" in str(error)


def test_a_layer_dependency_without_use_is_refused() -> None:
    body = [gen("g"), {"id": "L", "type": "layer", "dependsOn": ["g"], "params": {"layers": [{"media": [f"{URL}/a.mp4"]}]}}]
    assert refusal(body).issues[0].field == "executionPlan.jobs[1].dependsOn"


# -- vendor-only operations -------------------------------------------------------------------------


@pytest.mark.parametrize("job", [image_job("i"), speech_job("s"),
                                 {"id": "b", "type": "removeBackground",
                                  "params": {"provider": "replicate", "modelId": "arielreplicate/robust_video_matting",
                                             "input_video": f"{URL}/v.mp4"}}])
def test_a_vendor_job_without_a_key_names_what_to_configure(job: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VIDASSETS_REPLICATE_API_KEY", raising=False)
    from vidassets.settings import get_settings

    get_settings.cache_clear()
    error = refusal([job])
    assert error.issues[0].field == "executionPlan.jobs[0].params.provider" and error.issues[0].job_id == job["id"]
    assert "VIDASSETS_REPLICATE_API_KEY" in str(error) and "providerApiKeys.replicate" in str(error)
    assert submit([job], **KEYS).plan.job(job["id"]).operation.provider_only
    keyed = {**job, "params": {**job["params"], "apiKey": "r8_job"}}
    assert submit([keyed]).job_keys == {job["id"]: "r8_job"}


@pytest.mark.parametrize("op, provider", [("generateImage", "hume"), ("generateAudio", "fal"),
                                          ("removeBackground", "fal"), ("generateImage", None)])
def test_a_vendor_job_on_a_provider_that_does_not_offer_it_is_refused(op: str, provider: str | None) -> None:
    params = {"prompt": "x", "text": "x", "input_video": f"{URL}/v.mp4", "provider": provider}
    error = refusal([{"id": "v", "type": op, "params": params}], **KEYS)
    assert error.issues[0].field == "executionPlan.jobs[0].params.provider"


def test_an_image_job_feeds_a_video_model_and_speech_a_talking_head() -> None:
    jobs = [image_job("img", "fal"), {**speech_job("voice")},
            {"id": "v", "type": "generate", "dependsOn": ["img", "voice"],
             "params": {"provider": "fal", "modelId": "veed/fabric-1.0", "unified": False, "resolution": "480p",
                        "image": "_imageJobDependency:img", "audio": "_audioJobDependency:voice"}}]
    job = submit(jobs, **KEYS).plan.job("v")
    assert job.depends_on == ("img", "voice")
    assert job.params["imageInput"] == "img" and job.params["audioInput"] == "voice"


def test_an_image_edit_reads_urls_then_image_jobs() -> None:
    jobs = [image_job("a"), image_job("b", image=[f"{URL}/x.png", "_imageJobDependency:a"])]
    jobs[1]["dependsOn"] = ["a"]
    job = submit(jobs, **KEYS).plan.job("b")
    assert job.params["image"] == [f"{URL}/x.png"] and job.depends_on == ("a",)


def test_the_documented_format_may_name_the_new_operations() -> None:
    """``operation: "generateImage"`` with our params is the documented format, not a mixed body."""
    body = {"jobs": [{"id": "i", "operation": "generateImage",
                      "params": {"provider": "replicate", "model": "google/nano-banana", "prompt": "cat"}},
                     {"id": "L", "operation": "layer", "dependsOn": ["i"], "params": {"layers": [
                         {"clips": [{"url": f"{URL}/bg.mp4"}]}, {"clips": [{"input": "i"}], "placement": "top-right"}]}}],
            "options": {"webhookUrl": "https://hooks.example.com/x"}, "providerApiKeys": {"replicate": "r8_x"}}
    from vidassets.plan import PlanCreate, normalize_request

    plan = normalize_request(PlanCreate.model_validate(body)).plan
    assert plan.job("L").depends_on == ("i",)


@pytest.mark.parametrize("job, field, needle", [
    ({"type": "generateImage", "params": {"provider": "replicate", "modelId": "google/nano-banana", "prompt": "x",
                                           "outputFormat": "webp"}}, "outputFormat", "'jpg', 'png'"),
    ({"type": "generateImage", "params": {"provider": "replicate", "modelId": "google/nano-banana", "prompt": "x",
                                           "aspectRatio": "5:7"}}, "aspectRatio", "match_input_image"),
    ({"type": "generateImage", "params": {"provider": "replicate", "modelId": "bytedance/seedream-4", "prompt": "x",
                                           "maxImages": 20}}, "maxImages", "1..15"),
    ({"type": "generateAudio", "params": {"provider": "replicate", "modelId": "elevenlabs/turbo-v2.5", "text": "x",
                                           "stability": 3}}, "stability", "0..1"),
])
def test_a_value_the_catalogued_model_cannot_take_is_refused_before_it_is_paid(job: dict[str, Any], field: str,
                                                                                needle: str) -> None:
    error = refusal([{"id": "j", **job}], **KEYS)
    assert error.issues[0].field == f"executionPlan.jobs[0].params.{field}" and needle in str(error)
    fine = {**job, "params": {k: v for k, v in job["params"].items() if k != field}}
    assert submit([{"id": "j", **fine}], **KEYS).plan.job("j").operation.provider_only


def test_remove_background_without_a_model_uses_replicates_matting_when_a_key_is_at_hand() -> None:
    """The older ``compose(generateVideo(...), removeBackground({outputType}))`` names no model."""
    jobs = [gen("job1"), {"id": "job2", "type": "removeBackground", "dependsOn": ["job1"],
                          "params": {"outputType": "alpha-mask"}}]
    job = submit(jobs, **KEYS).plan.job("job2")
    assert job.params["provider"] == "replicate" and job.params["model"] == "arielreplicate/robust_video_matting"
    assert job.params["outputType"] == "alpha-mask" and job.depends_on == ("job1",)


def test_timeline_items_keep_their_own_placements_but_share_a_key() -> None:
    items = [{"media": f"{URL}/a.png", "duration": 1, "placement": "top-left"},
             {"media": f"{URL}/b.png", "placement": "w-1/4 bottom-right"}]
    plan = submit([{"id": "L", "type": "layer", "params": {"layers": [
        {"media": [f"{URL}/bg.mp4"]}, {"isTimeline": True, "timeline": items}]}}]).plan
    clips = plan.job("L").params["layers"][1]["clips"]
    assert [c.get("placement") for c in clips] == ["top-left", "w-1/4 bottom-right"]
    keyed = [{**items[0], "chromaKey": True}, items[1]]
    error = refusal([{"id": "L", "type": "layer", "params": {"layers": [
        {"media": [f"{URL}/bg.mp4"]}, {"isTimeline": True, "timeline": keyed}]}}])
    assert error.issues[0].field == "executionPlan.jobs[0].params.layers[1].timeline" and "chroma key" in str(error)
