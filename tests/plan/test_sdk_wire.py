"""The TypeScript SDK's own calls (synthome-dev/synthome, packages/ai-video-sdk at 6720e6a):
non-unified generateVideo, reframe's ``crop``, and the wire format recorded per submission."""

from __future__ import annotations

import json
from typing import Any

import pytest

from vidassets.plan import PlanCreate, PlanValidationError, Submission, normalize_request
from vidassets.plan.native import lift_native_generate
from vidassets.plan.wire import reported

SEEDANCE = "bytedance/seedance-1-pro"


def sdk_non_unified(**options: Any) -> dict[str, Any]:
    """What ``generateVideo({model: replicate(SEEDANCE, {apiKey}), ...options})`` puts in params when
    the options carry no ``prompt``: the model fields, ``unified: false``, then every option — the
    model object included — spread on top (JSON drops the undefined apiKey when none was given)."""
    model = {"provider": "replicate", "modelId": SEEDANCE, "options": {"apiKey": "r8_secret"}}
    return {"provider": "replicate", "modelId": SEEDANCE, "apiKey": "r8_secret", "unified": False,
            "model": model, **options}


def submit(*jobs: dict[str, Any], **top: Any) -> Submission:
    return normalize_request(PlanCreate.model_validate({"jobs": list(jobs), **top}))


def issues(*jobs: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(PlanValidationError) as info:
        submit(*jobs)
    return [i.as_dict() for i in info.value.issues]


def test_non_unified_generate_video_is_accepted_and_mapped() -> None:
    params = sdk_non_unified(image="https://cdn.example.com/first.png", last_frame_image="https://cdn.example.com/last.png",
                             aspect_ratio="9:16", camera_fixed=True, duration=5, resolution="1080p", seed=7)
    sub = submit({"id": "job1", "type": "generate", "params": params, "output": "$job1"})
    job = sub.plan.job("job1")
    # Our unified fields, derived from the model's own names: validated, bounded, honoured locally.
    assert job.params["provider"] == "replicate" and job.params["model"] == SEEDANCE
    assert job.params["aspectRatio"] == "9:16" and job.params["startImage"] == "https://cdn.example.com/first.png"
    assert job.params["endImage"] == "https://cdn.example.com/last.png" and job.params["cameraMotion"] == "fixed"
    assert job.params["duration"] == 5.0 and job.params["resolution"] == "1080p" and job.params["seed"] == 7
    # ...and the model's own inputs, passed on as given.
    assert job.params["image"] == "https://cdn.example.com/first.png" and job.params["aspect_ratio"] == "9:16"
    assert job.params["camera_fixed"] is True and job.params["unified"] is False
    # The key (top level and inside the model object) is a secret: kept apart, never in the plan.
    assert sub.job_keys == {"job1": "r8_secret"}
    assert "r8_secret" not in json.dumps(dict(job.params)) and "model" not in json.dumps(
        {k: v for k, v in job.params.items() if isinstance(v, dict)})
    assert sub.wire_format == "sdk"


def test_a_prompt_is_not_required_when_a_vendor_model_takes_its_own_inputs() -> None:
    sub = submit({"id": "job1", "type": "generate", "params": sdk_non_unified(motion_bucket_id=127)})
    assert sub.plan.job("job1").params["motion_bucket_id"] == 127
    # The local renderer still needs a prompt: it draws it.
    found = issues({"id": "job1", "type": "generate", "params": {"provider": "local", "unified": False}})
    assert found[0]["field"] == "jobs[0].params" and "prompt" in found[0]["message"]


def test_model_options_are_inputs_under_the_calls_own() -> None:
    params = sdk_non_unified(prompt_extend=True)
    params["model"] = {"provider": "replicate", "modelId": SEEDANCE, "options": {"seed": 1, "prompt_extend": False}}
    job = submit({"id": "a", "type": "generate", "params": params}).plan.job("a")
    assert job.params["seed"] == 1 and job.params["prompt_extend"] is True


def test_unified_calls_are_left_as_they_are() -> None:
    unified = {"provider": "replicate", "modelId": SEEDANCE, "unified": True, "prompt": "skier", "duration": 5,
               "aspectRatio": "16:9", "image": "kept as an extra input"}
    assert lift_native_generate(unified).params == unified


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"aspect_ratio": "2:1"}, "jobs[0].params.aspect_ratio", "Input should be"),
    ({"duration": 601}, "jobs[0].params.duration", "less than or equal"),
    ({"image": "file:///etc/passwd"}, "jobs[0].params.image", "scheme"),
    ({"image": "http://169.254.169.254/"}, "jobs[0].params.image", "metadata"),
    ({"last_frame_image": "gopher://x/"}, "jobs[0].params.last_frame_image", "scheme"),
    ({"model": {"provider": "fal", "modelId": SEEDANCE}}, "jobs[0].params.model.provider", "disagrees"),
    ({"model": {"provider": "replicate", "modelId": "other/model"}}, "jobs[0].params.model.modelId", "disagrees"),
    ({"model": {"provider": "replicate", "options": 5}}, "jobs[0].params.model.options", "object"),
    ({"model": {"options": {"apiKey": "other"}}}, "jobs[0].params.model.options.apiKey", "disagrees"),
    ({"image": "https://a.example/1.png", "startImage": "https://a.example/2.png"}, "jobs[0].params.image", "disagrees"),
    ({"provider": None, "model": {"provider": "evil", "modelId": SEEDANCE}}, "jobs[0].params.model.provider",
     "unknown provider"),
    ({"modelId": None, "model": {"provider": "replicate", "modelId": "m" * 300}}, "jobs[0].params.model.modelId",
     "at most 256"),
])
def test_non_unified_values_are_checked_under_the_names_the_client_used(change: dict[str, Any], field: str,
                                                                        words: str) -> None:
    found = issues({"id": "job1", "type": "generate", "params": {**sdk_non_unified(image="https://a.example/1.png"), **change}})
    assert any(i["field"] == field and words in i["message"] and i["jobId"] == "job1" for i in found), found


# -- reframe: crop ---------------------------------------------------------------------------------------------------

def reframe(**params: Any) -> dict[str, Any]:
    return {"id": "r", "type": "reframe", "params": {"aspectRatio": "9:16", **params}, "dependsOn": ["g"]}


GEN = {"id": "g", "type": "generate", "params": {"prompt": "p"}}


@pytest.mark.parametrize("value", ["center", "top", "bottom", "left", "right", "smart"])
def test_crop_is_the_strategy(value: str) -> None:
    by_crop = submit(GEN, reframe(crop=value)).plan.job("r")
    by_strategy = submit(GEN, reframe(strategy=value)).plan.job("r")
    assert by_crop.params == by_strategy.params and by_crop.params["strategy"] == value and "crop" not in by_crop.params
    assert by_crop.params_hash == by_strategy.params_hash
    assert submit(GEN, reframe(crop=value, strategy=value)).plan.job("r").params["strategy"] == value


def test_crop_and_strategy_that_disagree_are_refused() -> None:
    found = issues(GEN, reframe(crop="top", strategy="bottom"))
    assert found == [{"field": "jobs[1].params.crop", "jobId": "r",
                      "message": "crop 'top' and strategy 'bottom' disagree; they are synonyms, give one"}]
    assert issues(GEN, reframe(crop="zoom"))[0]["field"] == "jobs[1].params.crop"


def test_the_default_strategy_is_stored() -> None:
    assert submit(GEN, reframe()).plan.job("r").params["strategy"] == "center"


# -- the wire format and its status vocabulary ------------------------------------------------------------------------

def test_the_wire_format_is_the_request_shape() -> None:
    assert submit(GEN).wire_format == "sdk"
    documented = normalize_request(PlanCreate.model_validate({"executionPlan": {"jobs": [GEN]}}))
    assert documented.wire_format == "documented"


@pytest.mark.parametrize("status", ["pending", "processing", "completed", "failed", "cancelled"])
def test_only_the_sdk_format_reads_cancelled_as_failed(status: str) -> None:
    assert reported("documented", status, None, None).status == status
    sdk = reported("sdk", status, "execution cancelled" if status == "cancelled" else None, None)
    assert sdk.status in ("pending", "processing", "completed", "failed")
    if status == "cancelled":
        assert (sdk.status, sdk.error_code) == ("failed", "cancelled") and "cancelled" in (sdk.error or "")
    else:
        assert sdk.status == status
