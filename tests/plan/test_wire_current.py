"""Today's TypeScript SDK's dialect (vidassets.plan.wire_current): recognised by its own fields,
translated into our plan, refused with the job and field named where the server cannot follow.
The end-to-end run of the real SDK is tests/ts_sdk/test_ts_sdk_current.py; these check the
translation's rules over many shapes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vidassets.plan import PlanCreate, PlanValidationError, normalize_request
from vidassets.plan.params import SubtitleStyleParams
from vidassets.plan.wire import DOCUMENTED, SDK
from vidassets.plan.wire_current_styles import PRESETS, UNRENDERABLE_PRESETS, ass_to_hex

URL = "https://media.example.com"
WHISPER = "openai/whisper:8099696689d249cf8b122d833c36ac3f75505c666a395ca40ef26f68e7d3d16e"


def gen(job_id: str, prompt: str = "a scene") -> dict[str, Any]:
    return {"id": job_id, "type": "generate", "output": f"${job_id}",
            "params": {"provider": "local", "modelId": "m", "unified": True, "prompt": prompt, "duration": 1}}


def submit(jobs: list[dict[str, Any]], **options: Any) -> Any:
    return normalize_request(PlanCreate.model_validate({"executionPlan": {"jobs": jobs}, "options": options}))


def refusal(jobs: list[dict[str, Any]], **options: Any) -> PlanValidationError:
    with pytest.raises(PlanValidationError) as caught:
        submit(jobs, **options)
    return caught.value


def captions_jobs(style: Any = None, *, api_key: str | None = None, words: bool = False) -> list[dict[str, Any]]:
    """What captions({video: generateVideo(...), model | captions, style}) posts."""
    subtitles: dict[str, Any] = {"id": "job1", "type": "addSubtitles", "output": "$job1",
                                 "params": {"videoUrl": "_videoJobDependency:job2"}}
    if style is not None:
        subtitles["params"]["style"] = style
    if words:
        subtitles["params"]["transcript"] = [{"word": "hi", "start": 0, "end": 0.5}]
        subtitles["dependsOn"] = ["job2"]
        return [gen("job2"), subtitles]
    transcribe = {"id": "job3", "type": "transcribe", "output": "$job3", "dependsOn": ["job2"],
                  "params": {"provider": "replicate", "modelId": WHISPER, "videoUrl": "_videoJobDependency:job2"}}
    if api_key:
        transcribe["params"]["apiKey"] = api_key
    subtitles["params"]["transcript"] = "_transcriptJobDependency:job3"
    subtitles["dependsOn"] = ["job3", "job2"]
    return [gen("job2"), transcribe, subtitles]


# -- which dialect ---------------------------------------------------------------------------------


def test_plain_jobs_read_as_the_documented_format() -> None:
    assert submit([gen("job1")]).wire_format == DOCUMENTED


@pytest.mark.parametrize("jobs, options", [
    ([gen("job1")], {"webhook": {"url": "https://hooks.example.com/x"}}),
    ([gen("job1")], {"providerApiKeys": {"replicate": "r8_x"}}),
    ([{"id": "job1", "type": "merge", "params": {"items": [{"url": f"{URL}/a.mp4", "type": "video"}]}}], {}),
    (captions_jobs(words=True), {}),
])
def test_fields_only_todays_sdk_sends_select_its_dialect(jobs: list[dict[str, Any]], options: dict[str, Any]) -> None:
    assert submit(jobs, **options).wire_format == SDK  # it knows no "cancelled" either


@pytest.mark.parametrize("documented", [{"rootJobIds": ["job1"]}, {"options": {"webhookUrl": "https://h.example.com/x"}}])
def test_a_body_mixing_both_dialects_is_refused_not_guessed(documented: dict[str, Any]) -> None:
    plan: dict[str, Any] = {"jobs": [gen("job1")], "baseExecutionId": "base1"}
    if "rootJobIds" in documented:
        plan["rootJobIds"] = documented["rootJobIds"]
    body = {"executionPlan": plan, "options": documented.get("options", {})}
    with pytest.raises(PlanValidationError) as caught:
        normalize_request(PlanCreate.model_validate(body))
    message = str(caught.value)
    assert "executionPlan.baseExecutionId" in message and "documented format" in message, message


def test_options_of_todays_sdk_reach_the_submission() -> None:
    body = PlanCreate.model_validate({"executionPlan": {"jobs": [gen("job1")], "baseExecutionId": "base1"},
                                      "options": {"webhook": {"url": "https://hooks.example.com/x", "secret": "s"},
                                                  "providerApiKeys": {"replicate": "r8_x"}}})
    assert body.base_execution_id == "base1"
    submission = normalize_request(body, external_job_ids=["job0"])
    assert submission.webhook is not None and submission.webhook.url == "https://hooks.example.com/x"
    assert submission.webhook.secret == "s" and dict(submission.provider_keys) == {"replicate": "r8_x"}


# The operations and merge items that were refused here until issue 19 are translated now:
# tests/plan/test_wire_current_media.py.


# -- merge ---------------------------------------------------------------------------------------


@given(st.lists(st.one_of(st.integers(min_value=0, max_value=2), st.just("url")), min_size=1, max_size=6))
def test_merge_items_become_its_inputs_in_order(items: list[Any]) -> None:
    """Each item is an earlier job's output (by index) or a URL (imported as <merge>.item<k>)."""
    generated = [gen(f"job{i + 2}", f"scene {i}") for i in range(3)]
    listed = [{"url": f"{URL}/{k}.mp4", "type": "video"} if v == "url"
              else {"url": f"_videoJobDependency:job{v + 2}", "type": "video"} for k, v in enumerate(items)]
    deps = sorted({f"job{v + 2}" for v in items if v != "url"})
    merge = {"id": "job1", "type": "merge", "params": {"items": listed}, **({"dependsOn": deps} if deps else {})}
    plan = submit([*generated, merge]).plan
    expected = [f"job1.item{k}" if v == "url" else f"job{v + 2}" for k, v in enumerate(items)]
    assert plan.job("job1").depends_on == tuple(expected)
    for k, v in enumerate(items):
        if v == "url":
            assert plan.job(f"job1.item{k}").params["url"] == f"{URL}/{k}.mp4"


def test_a_dependency_the_merge_does_not_merge_is_refused() -> None:
    merge = {"id": "job2", "type": "merge", "dependsOn": ["job1"],
             "params": {"items": [{"url": f"{URL}/a.mp4", "type": "video"}]}}
    error = refusal([gen("job1"), merge])
    assert error.issues[0].field == "executionPlan.jobs[1].dependsOn" and "'job1'" in error.issues[0].message


# -- captions ------------------------------------------------------------------------------------


def test_captions_with_words_burn_them_on_the_video_job() -> None:
    job = submit(captions_jobs(words=True)).plan.job("job1")
    assert job.depends_on == ("job2",) and job.params["words"][0]["word"] == "hi"
    assert job.params["style"]["preset"] == "tiktok"  # the reference backend's default preset


@pytest.mark.parametrize("api_key, provider", [(None, None), ("r8_model_key", "replicate")])
def test_a_transcribe_job_folds_into_the_captions_job(api_key: str | None, provider: str | None) -> None:
    submission = submit(captions_jobs(api_key=api_key))
    assert [j.id for j in submission.plan.jobs] == ["job2", "job1"]
    job = submission.plan.job("job1")
    assert job.depends_on == ("job2",) and "words" not in job.params
    assert job.params.get("provider") == provider  # without a key: the offline transcriber
    if api_key:
        assert job.params["model"] == WHISPER and dict(submission.job_keys) == {"job1": api_key}
        assert api_key not in str(job.params)


def test_a_provider_key_for_the_request_selects_the_vendor_transcriber() -> None:
    job = submit(captions_jobs(), providerApiKeys={"replicate": "r8_x"}).plan.job("job1")
    assert job.params["provider"] == "replicate"


def test_a_transcribe_job_nobody_reads_is_refused() -> None:
    jobs = captions_jobs(words=True) + [{"id": "job9", "type": "transcribe", "params": {
        "provider": "replicate", "modelId": WHISPER, "videoUrl": f"{URL}/a.mp4"}}]
    error = refusal(jobs)
    assert error.issues[0].field == "executionPlan.jobs[2].type" and "'job9'" in str(error)


def test_issues_after_a_folded_job_name_the_clients_index() -> None:
    jobs = captions_jobs() + [{"id": "job4", "type": "reframe", "params": {"aspectRatio": "7:3"},
                               "dependsOn": ["job1"]}]
    error = refusal(jobs)
    assert error.issues[0].field.startswith("executionPlan.jobs[3].params.aspectRatio"), error.issues


# -- caption styles -----------------------------------------------------------------------------


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_each_renderable_preset_maps_onto_our_styles(preset: str) -> None:
    style = submit(captions_jobs({"preset": preset}, words=True)).plan.job("job1").params["style"]
    assert style["preset"] == PRESETS[preset]["preset"]
    assert style["maxWords"] == PRESETS[preset]["maxWords"]


def test_every_sdk_preset_renders_now() -> None:
    assert set(PRESETS) == {"tiktok", "youtube", "story", "minimal", "cinematic"} and not UNRENDERABLE_PRESETS


@pytest.mark.parametrize("preset", ["story", "cinematic"])
def test_story_and_cinematic_resolve_to_the_reference_look(preset: str) -> None:
    """The SDK's ``{preset}`` reaches our preset of the same name, whose render style carries the
    reference's font, colours, box, shadow, position and word scaling."""
    from vidassets.media import subtitle_style

    params = submit(captions_jobs({"preset": preset}, words=True)).plan.job("job1").params["style"]
    style = subtitle_style(SubtitleStyleParams.model_validate(params).preset)
    if preset == "story":
        assert (style.font_family, style.position, style.background) == ("Liberation Mono", "center", "#000000BF")
        assert (style.highlight, style.highlight_color, style.inactive_color) == ("word", "#FFFFFF", "#888888")
        assert style.highlight_scale == 1.15 and style.max_words == 3 and style.color == "#00FFFF"
    else:
        assert (style.font_family, style.position, style.background, style.highlight) == (
            "Liberation Serif", "bottom", None, "none")
        assert style.color == "#E0E0E0" and style.outline_ratio == 0 and style.max_words == 6
        assert style.resolved_shadow(1080, 1920) == 2 and style.resolved_font_size(1080, 1920) == 40


def test_the_fields_story_and_cinematic_use_map_onto_ours() -> None:
    style = submit(captions_jobs({"preset": "youtube", "shadowDistance": 3, "activeWordScale": 1.2,
                                  "animationStyle": "scale", "inactiveWordColor": "&H00888888",
                                  "fontFamily": "Times New Roman", "color": "&H0000FFFF"},
                                 words=True)).plan.job("job1").params["style"]
    assert style["shadow"] == 3 and style["highlightScale"] == 1.2 and style["highlight"] == "word"
    assert style["inactiveColor"] == "#888888FF" and style["fontColor"] == "#FFFF00FF"
    parsed = SubtitleStyleParams.model_validate(style)
    assert (parsed.shadow, parsed.highlightScale, parsed.inactiveColor) == (3, 1.2, "#888888FF")


def test_the_docs_cinematic_example_maps() -> None:
    """models/fast-whisper.mdx: ``{preset: "cinematic", fontFamily: "Georgia", fontSize: 42}``."""
    style = submit(captions_jobs({"preset": "cinematic", "fontFamily": "Georgia", "fontSize": 42},
                                 words=True)).plan.job("job1").params["style"]
    assert (style["preset"], style["fontFamily"], style["fontSize"]) == ("cinematic", "Georgia", 42)


@pytest.mark.parametrize("field, value", [("shadowDistance", 500), ("shadowDistance", -1), ("shadowDistance", True),
                                          ("shadowDistance", "2"), ("activeWordScale", 9),
                                          ("activeWordScale", 0.5), ("activeWordScale", "1.2")])
def test_hostile_shadow_and_scale_values_are_refused(field: str, value: Any) -> None:
    error = refusal(captions_jobs({"preset": "story", field: value}, words=True))
    assert error.issues[0].field == f"executionPlan.jobs[1].params.style.{field}"
    assert "must be a number within" in error.issues[0].message


@pytest.mark.parametrize("style", [{"shadow": 500}, {"highlightScale": 9}, {"shadow": True}, {"highlightScale": 0.9}])
def test_our_own_style_params_bound_shadow_and_scale(style: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        SubtitleStyleParams.model_validate(style)


@pytest.mark.parametrize("field, value", [("marginV", 50), ("padding", 20), ("outlineWidth", 2),
                                          ("animationStyle", "glow"), ("alignment", "1"), ("noSuchField", 1)])
def test_style_fields_without_a_counterpart_are_refused(field: str, value: Any) -> None:
    error = refusal(captions_jobs({field: value}, words=True))
    assert error.issues[0].field == f"executionPlan.jobs[1].params.style.{field}"


def test_style_fields_map_onto_ours() -> None:
    style = submit(captions_jobs({"preset": "minimal", "color": "&H0000FFFF", "alignment": "8", "fontWeight": 700,
                                  "wordsPerCaption": 3, "highlightActiveWord": True, "activeWordColor": "#00FF00"},
                                 words=True)).plan.job("job1").params["style"]
    assert style["fontColor"] == "#FFFF00FF" and style["position"] == "top" and style["bold"] is True
    assert style["maxWords"] == 3 and style["highlight"] == "word" and style["highlightColor"] == "#00FF00"


@given(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255), st.integers(0, 255))
def test_ass_colours_read_as_rgba(alpha: int, blue: int, green: int, red: int) -> None:
    assert ass_to_hex(f"&H{alpha:02X}{blue:02X}{green:02X}{red:02X}") == f"#{red:02X}{green:02X}{blue:02X}{255 - alpha:02X}"


def test_execute_from_plan_sends_the_webhook_as_a_url_and_the_base_twice() -> None:
    """executeFromPlan posts options {webhook: url, webhookSecret, baseExecutionId} (and the plan
    may carry baseExecutionId too): the same request, read as today's SDK's."""
    body = PlanCreate.model_validate({
        "executionPlan": {"jobs": [gen("job1")], "baseExecutionId": "base1"},
        "options": {"webhook": "https://hooks.example.com/x", "webhookSecret": "s", "baseExecutionId": "base1"}})
    submission = normalize_request(body)
    assert submission.wire_format == SDK and submission.base_execution_id == "base1"
    assert submission.webhook is not None and (submission.webhook.url, submission.webhook.secret) == (
        "https://hooks.example.com/x", "s")
    body = PlanCreate.model_validate({"executionPlan": {"jobs": [gen("job1")], "baseExecutionId": "base1"},
                                      "options": {"baseExecutionId": "base2"}})
    with pytest.raises(PlanValidationError, match="differs from options.baseExecutionId"):
        normalize_request(body)
