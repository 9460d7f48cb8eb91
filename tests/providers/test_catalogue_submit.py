"""Submit-time checks against the model catalogue: a value a catalogued model cannot take is a 422
naming the job, the field (as the client spelled it) and the values the model takes, before
anything is paid for. Through the HTTP API (the ``client`` fixture) and, with Hypothesis, at the
plan level: whatever submit accepts, the vendor's schema accepts too, and nothing explicit is
dropped on the way.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.providers.vendor_schemas import check
from vidassets.plan import PlanCreate, PlanValidationError, normalize_request
from vidassets.plan.params import ASPECT_RATIOS, parse_stored
from vidassets.providers.base import GenerateRequest
from vidassets.providers.catalogue import catalogued, lookup
from vidassets.providers.catalogue.build import choose, has_image, vendor_request
from vidassets.providers.catalogue.spec import ModelSpec

IMAGE = "https://cdn.example.com/first.png"
VIDEO, AUDIO = "https://cdn.example.com/v.mp4", "https://cdn.example.com/a.m4a"
CANDIDATES = (1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 20)
GENERATE = catalogued("generate")
VERTEX_GENERATE = [s for s in GENERATE if s.surface != "gemini"]


def refused(spec: ModelSpec, name: str, value: Any) -> bool:
    """Whether the vendor's schema refuses ``value`` (our number, in the input's own type) for ``name``."""
    field = spec.inputs[name]
    encoded = field.encode(value)
    return encoded is None or bool(check({name: field}, {name: encoded})[1])


def duration_input(spec: ModelSpec) -> str | None:
    return next((r.to for r in spec.routes if r.param == "duration"), None)


def generate_job(job_id: str, spec: ModelSpec, **params: Any) -> dict[str, Any]:
    image = {"startImage": IMAGE} if spec.needs_image and not spec.without_image else {}
    prompt = {} if "audio_url" in spec.inputs else {"prompt": "a fox"}  # a talking head takes no prompt
    speech = {"audio": AUDIO} if "audio_url" in spec.inputs else {}  # a talking head: a still and speech
    return {"id": job_id, "type": "generate",
            "params": {"provider": spec.provider, "model": spec.model, **prompt, **image, **speech, **params}}


def first_choice_input(spec: ModelSpec) -> str:
    return next(name for name, field in spec.inputs.items() if field.choices)


def media_job(job_id: str, spec: ModelSpec, **params: Any) -> dict[str, Any]:
    kind = "lipSync" if spec.job == "lip_sync" else "addSubtitles"
    audio = {"audioUrl": AUDIO} if spec.job == "lip_sync" else {}
    return {"id": job_id, "type": kind,
            "params": {"url": VIDEO, **audio, "provider": spec.provider, "model": spec.model, **params}}


def test_every_catalogued_model_refuses_what_it_cannot_take_naming_job_field_and_values(client: TestClient) -> None:
    jobs, expected = [], {}
    for i, spec in enumerate(VERTEX_GENERATE):
        name = duration_input(spec)
        bad = next(v for v in CANDIDATES if name is None or refused(spec, name, float(v)))
        job = generate_job(f"g{i}", spec, duration=bad)
        jobs.append(job)
        used = choose(spec, "startImage" in job["params"])  # fal: the endpoint that matches the plan
        allowed = spec.inputs[name].allowed() if name else ", ".join(spec.inputs)
        expected[f"g{i}"] = (f"executionPlan.jobs[{i}].params.duration", used.model, allowed)
    for spec in catalogued("lip_sync") + catalogued("transcribe"):
        i, name = len(jobs), first_choice_input(spec)
        jobs.append(media_job(f"m{i}", spec, input={name: "bogus"}))
        expected[f"m{i}"] = (f"executionPlan.jobs[{i}].params.input.{name}", spec.model,
                             ", ".join(map(str, spec.inputs[name].choices)))
    resp = client.post("/api/execute", json={"executionPlan": {"jobs": jobs}})
    assert resp.status_code == 422 and resp.json()["code"] == "invalid_plan", resp.text
    details = resp.json()["details"]
    assert sorted(d["jobId"] for d in details) == sorted(expected)
    for detail in details:
        field, model, allowed = expected[detail["jobId"]]
        assert detail["field"] == field and model in detail["message"], detail
        assert all(part in detail["message"] for part in allowed.split(", ")), detail


def test_values_every_catalogued_model_takes_are_accepted(client: TestClient) -> None:
    jobs = []
    for i, spec in enumerate(VERTEX_GENERATE):
        name = duration_input(spec)
        good = next((v for v in CANDIDATES if name and not refused(spec, name, float(v))), None)
        jobs.append(generate_job(f"g{i}", spec, **({"duration": good} if good else {})))
    for spec in catalogued("lip_sync") + catalogued("transcribe"):
        name = first_choice_input(spec)
        jobs.append(media_job(f"m{len(jobs)}", spec, input={name: spec.inputs[name].choices[-1]}))
    resp = client.post("/api/execute", json={"jobs": jobs})
    assert resp.status_code == 202, resp.text


@pytest.mark.parametrize(("params", "field", "words"), [
    ({"model": "minimax/hailuo-02", "duration": 5}, "duration", ["minimax/hailuo-02", "6, 10"]),
    ({"model": "minimax/hailuo-02", "input": {"resolution": "720p"}}, "input.resolution", ["512p", "768p", "1080p"]),
    ({"model": "wan-video/wan-2.5-t2v-fast", "startImage": IMAGE}, "startImage", ["no input for startImage"]),
    ({"model": "minimax/video-01", "seed": 4}, "seed", ["no input for seed", "first_frame_image"]),
    ({"model": "kwaivgi/kling-v2.1"}, "startImage", ["needs start_image"]),
    ({"provider": "fal", "model": "fal-ai/kling-video/v2.1/master/text-to-video", "duration": 7},
     "duration", ["'5', '10'"]),
    ({"provider": "google-cloud", "model": "veo-3.0-generate-001", "duration": 5}, "duration", ["4, 6, 8"]),
    ({"provider": "google-cloud", "model": "veo-2.0-generate-001", "resolution": "1080p"}, "resolution",
     ["no input for resolution"]),
    # The SDK's non-unified mode: the value is reported under the name the client used.
    ({"unified": False, "model": {"provider": "replicate", "modelId": "bytedance/seedance-1-lite"},
      "aspect_ratio": "4:5"}, "aspect_ratio", ["'21:9'"]),
])
def test_a_value_the_model_cannot_take_is_a_422_naming_the_field(client: TestClient, params: dict[str, Any],
                                                                 field: str, words: list[str]) -> None:
    job = {"id": "clip", "type": "generate", "params": {"provider": "replicate", "prompt": "a fox", **params}}
    resp = client.post("/api/execute", json={"jobs": [job]})
    assert resp.status_code == 422, resp.text
    [detail] = resp.json()["details"]
    assert detail["field"] == f"jobs[0].params.{field}" and detail["jobId"] == "clip"
    assert all(word in detail["message"] for word in words), detail["message"]


def test_lip_sync_fit_is_mapped_or_refused_and_options_are_stored(client: TestClient) -> None:
    job = {"id": "lip", "type": "lipSync", "params": {"url": VIDEO, "audioUrl": AUDIO, "provider": "replicate",
                                                      "fit": "video"}}
    resp = client.post("/api/execute", json={"jobs": [job]})
    assert resp.status_code == 422 and resp.json()["details"][0]["field"] == "jobs[0].params.fit"
    job["params"].update(fit="audio", temperature=0.7, input={"active_speaker": True})
    resp = client.post("/api/execute", json={"jobs": [job]})
    assert resp.status_code == 202, resp.text
    row = client.app.state.services.repo.get(resp.json()["executionId"])  # type: ignore[attr-defined]
    assert row.jobs[0].params["temperature"] == 0.7 and row.jobs[0].params["input"] == {"active_speaker": True}


# -- the property: what submit accepts, the vendor accepts, with nothing explicit dropped -------------------

PARAMS = st.fixed_dictionaries({}, optional={
    "duration": st.sampled_from([1, 2, 4, 5, 6, 8, 10, 12, 4.5]),
    "aspectRatio": st.sampled_from(ASPECT_RATIOS),
    "resolution": st.sampled_from(["480p", "720p", "1080p", "360p"]),
    "seed": st.integers(0, 2**32 - 1),
    "fps": st.sampled_from([16, 24, 30]),
    "startImage": st.just(IMAGE),
    "endImage": st.just("https://cdn.example.com/last.png"),
    "negativePrompt": st.just("blur"),
    "cameraMotion": st.sampled_from(["fixed", "dynamic"]),
})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=st.sampled_from(VERTEX_GENERATE), params=PARAMS)
def test_what_submit_accepts_the_vendor_accepts(spec: ModelSpec, params: dict[str, Any]) -> None:
    base = {"audio": AUDIO, "startImage": IMAGE} if "audio_url" in spec.inputs else {"prompt": "a fox"}  # talking head
    job = {"id": "j", "type": "generate", "params": {"provider": spec.provider, "model": spec.model, **base, **params}}
    try:
        submission = normalize_request(PlanCreate.model_validate({"jobs": [job]}))
    except PlanValidationError as exc:
        assert {issue.field.removeprefix("jobs[0].params.") for issue in exc.issues} <= set(params) | {"startImage"}
        return
    stored = parse_stored("generate", dict(submission.plan.jobs[0].params))
    request = GenerateRequest.from_params(stored)  # type: ignore[arg-type]
    endpoint, body = vendor_request(spec.provider, spec.model, "generate", request.values(), request.extra,
                                    request.input, lambda: {})
    target = lookup(spec.provider, endpoint, "generate")
    assert target is not None and target == choose(spec, has_image(spec, request.values(), {}, {}))
    assert check(target.inputs, body)[1] == []  # the vendor's schema takes all of it
    routed = {r.param: r.to for r in target.routes}
    for param in params:  # every explicit value reached the model (or the Veo instance)
        assert param in target.handled or routed[param] in body, (param, body)


def test_the_servers_default_model_leaves_out_what_it_lacks_but_refuses_bad_values(client: TestClient) -> None:
    """No model named: replicate's default (minimax/video-01) has no duration input, so the plan's
    duration is simply not sent; Vertex's default (Veo 2) has one, and 1 s is not a Veo 2 length."""
    job = {"id": "a", "type": "generate", "params": {"provider": "replicate", "prompt": "a fox", "duration": 1}}
    assert client.post("/api/execute", json={"jobs": [job]}).status_code == 202
    job["params"]["provider"] = "google-cloud"
    resp = client.post("/api/execute", json={"jobs": [job]})
    assert resp.status_code == 422 and resp.json()["details"][0]["field"] == "jobs[0].params.duration"
    assert "5..8" in resp.json()["details"][0]["message"]
