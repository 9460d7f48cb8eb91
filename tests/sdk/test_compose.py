"""Plans built with the SDK, checked by the server's own normaliser (the SDK's own suite checks
their wire shape and the mistakes it catches before sending)."""

from __future__ import annotations

from typing import Any

from vidassets.plan import PlanCreate, Submission, normalize_request
from vidassets_sdk import (
    add_subtitles,
    compose,
    generate_video,
    lip_sync,
    media,
    merge,
    ref,
    reframe,
)

AUDIO = "https://cdn.example/voice.m4a"
CLIP = "https://cdn.example/clip.mp4"


def normalise(plan: dict[str, Any], **kwargs: Any) -> Submission:
    return normalize_request(PlanCreate.model_validate(plan), **kwargs)


def ids(plan: dict[str, Any]) -> list[str]:
    return [job["id"] for job in plan["executionPlan"]["jobs"]]


def test_a_chain_in_the_order_written() -> None:
    cut = merge(generate_video(prompt="sunrise", duration=3, seed=1), media(CLIP),
                transition="dissolve", transition_duration=0.75)
    final = cut.reframe("9:16", "smart").lip_sync(AUDIO, volume=0.7).add_subtitles(text="Good morning", style="bold")
    plan = compose(final).to_plan()

    submission = normalise(plan)
    assert ids(plan) == ["generate_1", "media_1", "merge_1", "reframe_1", "lip_sync_1", "add_subtitles_1"]
    assert plan["executionPlan"]["rootJobIds"] == ["add_subtitles_1"] and plan["options"] == {}
    assert submission.plan.root_job_ids == ("add_subtitles_1",)
    jobs = {job.id: job for job in submission.plan.jobs}
    assert jobs["generate_1"].params["prompt"] == "sunrise" and jobs["generate_1"].params["seed"] == 1
    assert jobs["media_1"].params["provider"] == "url" and jobs["media_1"].params["url"] == CLIP
    assert jobs["merge_1"].params["transition"] == {"type": "dissolve", "duration": 0.75}
    assert jobs["merge_1"].depends_on == ("generate_1", "media_1")
    assert jobs["reframe_1"].params["strategy"] == "smart"
    assert jobs["lip_sync_1"].params["volume"] == 0.7
    assert jobs["add_subtitles_1"].params["style"] == {"preset": "bold"}
    assert [job["dependsOn"] for job in plan["executionPlan"]["jobs"]][3:] == [["merge_1"], ["reframe_1"], ["lip_sync_1"]]


def test_fan_out_produces_shared_jobs_once() -> None:
    cut = merge(generate_video(prompt="a"), generate_video(prompt="b"), transition="cut")
    variants = [reframe(cut, ratio) for ratio in ("9:16", "1:1", "4:5")]
    plan = compose(variants).to_plan()

    submission = normalise(plan)
    assert ids(plan) == ["generate_1", "generate_2", "merge_1", "reframe_1", "reframe_2", "reframe_3"]
    assert plan["executionPlan"]["rootJobIds"] == ["reframe_1", "reframe_2", "reframe_3"]
    assert plan["executionPlan"]["jobs"][2]["params"] == {"transition": {"type": "cut"}}
    assert all(job.depends_on == ("merge_1",) for job in submission.plan.jobs[3:])


def test_nested_pipelines_and_repeated_clips() -> None:
    intro = generate_video(prompt="logo sting", duration=2)
    body = merge(generate_video(prompt="scene one"), generate_video(prompt="scene two"))
    square_body = reframe(body, "1:1", "blurred-pad")
    episode = merge(intro, square_body, intro, transition="fade")  # the intro opens and closes
    captioned = add_subtitles(episode, srt="1\n00:00:00,000 --> 00:00:01,000\nHi\n", font_size=42, font_color="yellow",
                              position="top")
    plan = compose(captioned).to_plan()

    submission = normalise(plan)
    assert ids(plan) == ["generate_1", "generate_2", "generate_3", "merge_1", "reframe_1", "merge_2",
                         "add_subtitles_1"]
    assert submission.plan.job("merge_2").depends_on == ("generate_1", "reframe_1", "generate_1")
    assert submission.plan.job("reframe_1").params["strategy"] == "blur"
    assert submission.plan.job("add_subtitles_1").params["style"] == {"preset": "default", "fontSize": 42,
                                                                      "fontColor": "#FFFF00", "position": "top"}


def test_builder_style_pipeline() -> None:
    pipeline = compose()
    a = pipeline.generate_video("ocean", aspect_ratio="9:16", resolution="1080p", provider="local")
    b = pipeline.media(CLIP, duration=2)
    cut = pipeline.merge([a, b])
    pipeline.add_subtitles(cut, text="Two clips", timing=(0.5, 2.5), style="minimal")
    pipeline.lip_sync(cut, AUDIO)
    plan = pipeline.to_plan(webhook_url="https://hooks.example/v", webhook_secret="whsec_abc")

    submission = normalise(plan)
    assert plan["executionPlan"]["rootJobIds"] == ["add_subtitles_1", "lip_sync_1"]
    assert plan["options"] == {"webhookUrl": "https://hooks.example/v", "webhookSecret": "whsec_abc"}
    assert submission.webhook is not None and submission.webhook.url == "https://hooks.example/v"
    assert submission.plan.job("add_subtitles_1").params["timing"] == {"start": 0.5, "end": 2.5}
    assert submission.plan.job("generate_1").params["provider"] == "local"


def test_single_input_jobs_can_start_from_a_url() -> None:
    plan = compose(lip_sync(CLIP, AUDIO), add_subtitles(reframe(CLIP, "4:3"), words=[
        {"start": 0.0, "end": 0.4, "text": "hello"}, {"start": 0.5, "end": 0.9, "text": "there"}])).to_plan()
    submission = normalise(plan)
    assert submission.plan.job("lip_sync_1").params["url"] == CLIP and submission.plan.job("lip_sync_1").depends_on == ()
    assert submission.plan.job("add_subtitles_1").depends_on == ("reframe_1",)


def test_pinned_ids_and_base_execution_refs() -> None:
    """A variant reuses the base execution's cut and only adds a new vertical version."""
    variant = reframe(ref("cut"), "9:16", id="vertical")
    extra = generate_video(prompt="outro", id="outro")
    plan = compose(variant, merge(ref("cut"), extra)).to_plan(base_execution_id="ex_base")
    submission = normalise(plan, external_job_ids={"cut", "a", "b"})
    assert ids(plan) == ["vertical", "outro", "merge_1"]
    assert submission.plan.job("vertical").depends_on == ("cut",)
    assert submission.plan.job("merge_1").depends_on == ("cut", "outro")
    assert submission.base_execution_id == "ex_base"


def test_keys_travel_as_secrets() -> None:
    plan = compose(generate_video(prompt="x", api_key="job-secret")).to_plan(provider_api_keys={"fal": "fal-secret"})
    submission = normalise(plan)
    assert submission.job_keys == {"generate_1": "job-secret"}
    assert submission.provider_keys == {"fal": "fal-secret"}
    assert "apiKey" not in submission.plan.job("generate_1").params


def test_model_inputs_pass_through() -> None:
    node = generate_video(prompt="x", model="acme/video", camera_motion="pan_left", guidance_scale=7.5)
    submission = normalise(node.to_plan())
    params = submission.plan.job("generate_1").params
    assert params["model"] == "acme/video" and params["cameraMotion"] == "pan_left" and params["guidance_scale"] == 7.5


def test_captions_from_speech_and_short_form_styles_validate_on_the_server() -> None:
    clip = generate_video(prompt="a talk", duration=3)
    node = add_subtitles(clip, style="tiktok", language="en", animation="pop", highlight="word",
                         highlight_color="yellow", max_words=4, uppercase=True)
    submission = normalise(node.to_plan())
    params = submission.plan.job(node.job_id or "add_subtitles_1").params
    assert "text" not in params and params["language"] == "en"
    assert params["style"]["preset"] == "tiktok" and params["style"]["animation"] == "pop"
    assert params["style"]["maxWords"] == 4 and params["style"]["uppercase"] is True
