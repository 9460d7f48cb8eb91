"""Plan validation: both wire shapes, synonyms, and precise errors naming job and field."""

from __future__ import annotations

from typing import Any

import pytest

from vidassets.plan import Operation, PlanCreate, PlanValidationError, normalize_request


def sdk(*jobs: dict[str, Any], **extra: Any) -> PlanCreate:
    return PlanCreate.model_validate({"jobs": list(jobs), **extra})


def documented(*jobs: dict[str, Any], roots: list[str] | None = None, **options: Any) -> PlanCreate:
    body: dict[str, Any] = {"executionPlan": {"jobs": list(jobs)}}
    if roots is not None:
        body["executionPlan"]["rootJobIds"] = roots
    if options:
        body["options"] = options
    return PlanCreate.model_validate(body)


def gen(job_id: str, **params: Any) -> dict[str, Any]:
    return {"id": job_id, "type": "generate", "params": {"prompt": f"clip {job_id}", **params}}


def issues(body: PlanCreate, **kwargs: Any) -> list[dict[str, Any]]:
    with pytest.raises(PlanValidationError) as info:
        normalize_request(body, **kwargs)
    return [i.as_dict() for i in info.value.issues]


def test_sdk_shape_normalises_synonyms_and_strips_secrets() -> None:
    body = sdk(
        {"id": "a", "type": "generateVideo", "params": {"provider": "local", "modelId": "m1", "apiKey": "sk-secret",
                                                         "prompt": "sunrise", "duration": 4, "aspectRatio": "9:16",
                                                         "seed": 3}},
        {"id": "b", "type": "generate", "params": {"url": "https://cdn.example.com/b.mp4"}},
        {"id": "m", "type": "merge", "params": {"transition": "crossfade", "transitionDuration": 1}, "dependsOn": ["a", "b"]},
        {"id": "s", "type": "add_subtitles", "params": {"text": "hi", "style": "bold", "fontSize": 48, "color": "yellow"},
         "dependsOn": ["m"]},
        webhook={"url": "https://hooks.example.com/x", "secret": "whsec"},
        providerApiKeys={"replicate": "r8_key"},
    )
    sub = normalize_request(body)
    jobs = {j.id: j for j in sub.plan.jobs}
    assert jobs["a"].operation is Operation.GENERATE
    assert jobs["a"].params["model"] == "m1" and "apiKey" not in jobs["a"].params
    assert sub.job_keys == {"a": "sk-secret"}
    assert jobs["b"].params["provider"] == "url"
    assert jobs["m"].params["transition"] == {"type": "crossfade", "duration": 1.0}
    assert jobs["s"].operation is Operation.ADD_SUBTITLES
    assert jobs["s"].params["style"] == {"preset": "bold", "fontSize": 48, "fontColor": "#FFFF00"}
    assert sub.plan.root_job_ids == ("s",)  # sinks when rootJobIds is absent
    assert sub.webhook is not None and sub.webhook.url == "https://hooks.example.com/x"
    assert sub.provider_keys == {"replicate": "r8_key"}


def test_documented_shape_with_nested_generate_params_and_options() -> None:
    body = documented(
        {"id": "a", "operation": "generate", "params": {"provider": "local", "model": "x",
                                                        "params": {"prompt": "p", "duration": 2}}},
        {"id": "r", "operation": "reframe", "params": {"aspectRatio": "1:1", "strategy": "letterbox"}, "dependsOn": ["a"]},
        roots=["r"], webhookUrl="https://h.example.com", webhookSecret="s", baseExecutionId="abc",
    )
    sub = normalize_request(body, external_job_ids=[])
    assert sub.plan.job("a").params["prompt"] == "p" and sub.plan.job("a").params["duration"] == 2.0
    assert sub.plan.job("r").params["strategy"] == "pad"
    assert sub.base_execution_id == "abc"
    assert sub.webhook is not None and sub.webhook.secret == "s"


def test_params_hash_is_stable_and_sensitive() -> None:
    a1 = normalize_request(sdk(gen("a", duration=3))).plan.job("a")
    a2 = normalize_request(sdk(gen("a", duration=3.0, apiKey="other"))).plan.job("a")
    a3 = normalize_request(sdk(gen("a", duration=4))).plan.job("a")
    assert a1.params_hash == a2.params_hash  # keys never change identity
    assert a1.params_hash != a3.params_hash


@pytest.mark.parametrize(
    ("jobs", "field", "fragment"),
    [
        ([gen("a"), gen("a")], "jobs[1].id", "duplicate job id"),
        ([{"id": "a", "type": "explode", "params": {}}], "jobs[0].operation", "unknown operation"),
        ([{"id": "a", "params": {}}], "jobs[0].operation", "missing operation"),
        ([gen("a"), {"id": "r", "type": "reframe", "params": {"aspectRatio": "9:16"}, "dependsOn": ["zzz"]}],
         "jobs[1].dependsOn[0]", "unknown job 'zzz'"),
        ([gen("a"), {"id": "r", "type": "reframe", "params": {"aspectRatio": "2:1"}, "dependsOn": ["a"]}],
         "jobs[1].params.aspectRatio", "Input should be"),
        ([gen("a", duration=0)], "jobs[0].params.duration", "greater than 0"),
        ([gen("a", duration=601)], "jobs[0].params.duration", "less than or equal to 600"),
        ([{"id": "a", "type": "generate", "params": {"url": "file:///etc/passwd"}}], "jobs[0].params.url", "scheme"),
        ([{"id": "a", "type": "generate", "params": {"url": "ftp://x/y.mp4"}}], "jobs[0].params.url", "scheme"),
        ([{"id": "a", "type": "generate", "params": {}}], "jobs[0].params", "prompt"),
        ([gen("a", provider="nope")], "jobs[0].params.provider", "unknown provider"),
        ([gen("a"), {"id": "m", "type": "merge", "params": {"transition": "spin"}, "dependsOn": ["a"]}],
         "jobs[1].params.transition.type", "Input should be"),
        ([gen("a"), {"id": "l", "type": "lipSync", "params": {}, "dependsOn": ["a"]}],
         "jobs[1].params.audioUrl", "Field required"),
        ([gen("a"), {"id": "s", "type": "addSubtitles", "params": {"text": "x", "subtitlesUrl": "https://h.example.com/s.srt"},
          "dependsOn": ["a"]}], "jobs[1].params", "give only one of"),
        ([gen("a"), {"id": "s", "type": "addSubtitles", "params": {"text": "x", "style": "neon"}, "dependsOn": ["a"]}],
         "jobs[1].params.style.preset", "Input should be"),
        ([gen("a"), {"id": "s", "type": "addSubtitles", "params": {"text": "x", "color": "#12"}, "dependsOn": ["a"]}],
         "jobs[1].params.style.color", "colour"),
        ([{"id": "r", "type": "reframe", "params": {"aspectRatio": "9:16"}}], "jobs[0].dependsOn", "needs an input"),
        ([gen("a"), gen("b"), {"id": "r", "type": "reframe", "params": {"aspectRatio": "9:16"}, "dependsOn": ["a", "b"]}],
         "jobs[2].dependsOn", "exactly one"),
        ([{"id": "m", "type": "merge", "params": {}}], "jobs[0].dependsOn", "at least one"),
        ([gen("a"), {"id": "g", "type": "generate", "params": {"prompt": "x"}, "dependsOn": ["a"]}],
         "jobs[1].dependsOn", "no input"),
        ([gen("a"), {"id": "r", "type": "reframe", "params": {"aspectRatio": "1:1"}, "dependsOn": ["r"]}],
         "jobs[1].dependsOn[0]", "itself"),
    ],
)
def test_invalid_plans_name_job_and_field(jobs: list[dict[str, Any]], field: str, fragment: str) -> None:
    found = issues(sdk(*jobs))
    assert any(i["field"] == field and fragment in i["message"] for i in found), found


def test_cycle_is_reported_with_its_path() -> None:
    found = issues(sdk(
        gen("a"),
        {"id": "x", "type": "reframe", "params": {"aspectRatio": "1:1"}, "dependsOn": ["y"]},
        {"id": "y", "type": "addSubtitles", "params": {"text": "t"}, "dependsOn": ["x"]},
    ))
    assert len(found) == 1 and "cycle" in found[0]["message"]
    assert "x -> y -> x" in found[0]["message"] or "y -> x -> y" in found[0]["message"]


def test_empty_plan_and_limits() -> None:
    assert "at least one job" in issues(sdk())[0]["message"]
    too_many = [gen(f"j{i}") for i in range(5)]
    assert "at most 4 jobs" in issues(sdk(*too_many), max_jobs=4)[0]["message"]
    long_text = {"id": "s", "type": "addSubtitles", "params": {"text": "x" * 101}, "dependsOn": ["a"]}
    assert any("100 characters" in i["message"] for i in issues(sdk(gen("a"), long_text), max_text_chars=100))


def test_root_job_ids_must_exist_and_are_kept() -> None:
    found = issues(documented(gen("a"), roots=["b"]))
    assert found[0]["field"] == "executionPlan.rootJobIds[0]"
    sub = normalize_request(documented(gen("a"), gen("b"), roots=["b"]))
    assert sub.plan.root_job_ids == ("b",)


def test_dependency_on_a_base_job_is_allowed() -> None:
    body = sdk({"id": "r2", "type": "reframe", "params": {"aspectRatio": "1:1"}, "dependsOn": ["cut"]})
    assert issues(body)[0]["message"] == "unknown job 'cut'"
    assert normalize_request(body, external_job_ids=["cut"]).plan.job("r2").depends_on == ("cut",)


def test_structural_errors_come_from_the_request_model() -> None:
    with pytest.raises(ValueError):
        PlanCreate.model_validate({"jobs": [gen("a")], "executionPlan": {"jobs": [gen("b")]}})
    with pytest.raises(ValueError):
        PlanCreate.model_validate({"jobs": [{"id": "../etc", "type": "generate", "params": {}}]})
    with pytest.raises(ValueError):
        PlanCreate.model_validate({"jobs": [gen("a")], "webhook": {"url": "gopher://x"}})
