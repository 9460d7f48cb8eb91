"""Plans built with the SDK, checked for their wire shape (the server's own normaliser checks the
same plans in the server's test suite)."""

from __future__ import annotations

from typing import Any

import pytest

from vidassets_sdk import (
    Node,
    Pipeline,
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


def ids(plan: dict[str, Any]) -> list[str]:
    return [job["id"] for job in plan["executionPlan"]["jobs"]]


def jobs(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {job["id"]: job for job in plan["executionPlan"]["jobs"]}


def test_a_chain_renders_in_the_order_written() -> None:
    cut = merge(generate_video(prompt="sunrise", duration=3, seed=1), media(CLIP),
                transition="dissolve", transition_duration=0.75)
    final = cut.reframe("9:16", "smart").lip_sync(AUDIO, volume=0.7).add_subtitles(text="Hi", style="bold")
    plan = compose(final).to_plan()

    assert ids(plan) == ["generate_1", "media_1", "merge_1", "reframe_1", "lip_sync_1", "add_subtitles_1"]
    assert plan["executionPlan"]["rootJobIds"] == ["add_subtitles_1"] and plan["options"] == {}
    by_id = jobs(plan)
    assert by_id["generate_1"] == {"id": "generate_1", "operation": "generate", "dependsOn": [], "params": {
        "prompt": "sunrise", "duration": 3, "aspectRatio": "16:9", "resolution": "720p", "seed": 1}}
    assert by_id["media_1"]["operation"] == "generate" and by_id["media_1"]["params"] == {"url": CLIP}
    assert by_id["merge_1"]["params"] == {"transition": {"type": "dissolve", "duration": 0.75}}
    assert by_id["merge_1"]["dependsOn"] == ["generate_1", "media_1"]
    assert by_id["reframe_1"]["params"] == {"aspectRatio": "9:16", "strategy": "smart"}
    assert by_id["lip_sync_1"]["operation"] == "lipSync" and by_id["lip_sync_1"]["params"]["volume"] == 0.7
    assert by_id["add_subtitles_1"]["operation"] == "addSubtitles"
    assert by_id["add_subtitles_1"]["params"] == {"text": "Hi", "style": "bold"}
    assert [job["dependsOn"] for job in plan["executionPlan"]["jobs"]][3:] == [["merge_1"], ["reframe_1"], ["lip_sync_1"]]


def test_fan_out_lists_shared_jobs_once() -> None:
    cut = merge(generate_video(prompt="a"), generate_video(prompt="b"), transition="cut")
    plan = compose([reframe(cut, ratio) for ratio in ("9:16", "1:1", "4:5")]).to_plan()
    assert ids(plan) == ["generate_1", "generate_2", "merge_1", "reframe_1", "reframe_2", "reframe_3"]
    assert plan["executionPlan"]["rootJobIds"] == ["reframe_1", "reframe_2", "reframe_3"]
    assert jobs(plan)["merge_1"]["params"] == {"transition": {"type": "cut"}}


def test_a_clip_used_twice_is_one_job() -> None:
    intro = generate_video(prompt="logo sting", duration=2)
    episode = merge(intro, generate_video(prompt="scene"), intro)
    plan = compose(episode).to_plan()
    assert ids(plan) == ["generate_1", "generate_2", "merge_1"]
    assert jobs(plan)["merge_1"]["dependsOn"] == ["generate_1", "generate_2", "generate_1"]


def test_builder_style_and_options() -> None:
    pipeline = compose()
    a = pipeline.generate_video("ocean", provider="local")
    cut = pipeline.merge([a, pipeline.media(CLIP, duration=2)])
    pipeline.add_subtitles(cut, text="Two clips", timing=(0.5, 2.5), style="minimal")
    pipeline.lip_sync(cut, AUDIO)
    plan = pipeline.to_plan(webhook_url="https://hooks.example/v", webhook_secret="whsec_abc",
                            base_execution_id="ex_base", provider_api_keys={"fal": "k"})
    assert isinstance(pipeline, Pipeline)
    assert plan["executionPlan"]["rootJobIds"] == ["add_subtitles_1", "lip_sync_1"]
    assert plan["options"] == {"baseExecutionId": "ex_base", "webhookUrl": "https://hooks.example/v",
                               "webhookSecret": "whsec_abc"}
    assert plan["providerApiKeys"] == {"fal": "k"}
    assert jobs(plan)["add_subtitles_1"]["params"]["timing"] == {"start": 0.5, "end": 2.5}


def test_single_input_jobs_can_start_from_a_url() -> None:
    plan = compose(lip_sync(CLIP, AUDIO), reframe(CLIP, "4:3")).to_plan()
    assert jobs(plan)["lip_sync_1"]["params"]["url"] == CLIP and jobs(plan)["lip_sync_1"]["dependsOn"] == []
    assert jobs(plan)["reframe_1"]["params"]["url"] == CLIP


def test_caption_style_overrides_become_a_style_object() -> None:
    node = add_subtitles(CLIP, style="tiktok", animation="pop", highlight="word", font_size=42, max_words=4)
    params = jobs(node.to_plan())["add_subtitles_1"]["params"]
    assert "text" not in params
    assert params["style"]["preset"] == "tiktok" and params["style"]["animation"] == "pop"
    assert params["style"]["maxWords"] == 4 and params["style"]["fontSize"] == 42


def test_refs_name_base_jobs_without_listing_them() -> None:
    variant = reframe(ref("cut"), "9:16", id="vertical")
    plan = compose(variant, merge(ref("cut"), generate_video(prompt="outro", id="outro"))).to_plan()
    assert ids(plan) == ["vertical", "outro", "merge_1"]
    assert jobs(plan)["vertical"]["dependsOn"] == ["cut"]
    assert jobs(plan)["merge_1"]["dependsOn"] == ["cut", "outro"]


def test_ids_are_stable_and_skip_pinned_names() -> None:
    def build() -> dict[str, Any]:
        first = generate_video(prompt="x", id="generate_1")
        return compose(merge(first, generate_video(prompt="y"), generate_video(prompt="z"))).to_plan()

    assert build() == build()
    assert ids(build()) == ["generate_1", "generate_2", "generate_3", "merge_1"]


def test_identical_calls_are_distinct_jobs() -> None:
    plan = compose(merge(generate_video(prompt="same"), generate_video(prompt="same"))).to_plan()
    assert ids(plan) == ["generate_1", "generate_2", "merge_1"]


def test_nodes_are_immutable() -> None:
    style = {"x": 1}
    node = generate_video(prompt="x", extra_style=style)
    style["x"] = 2
    assert node.params["extra_style"] == {"x": 1}
    with pytest.raises(TypeError):
        node.params["prompt"] = "y"  # type: ignore[index]
    assert isinstance(node, Node) and node.inputs == ()


@pytest.mark.parametrize("build, message", [
    (lambda: reframe(CLIP, "5:4"), "aspect ratio"),
    (lambda: merge(), "at least one clip"),
    (lambda: merge(media(CLIP), transition="spin"), "transition"),
    (lambda: add_subtitles(CLIP, text="a", srt="b"), "only one of"),
    (lambda: add_subtitles(CLIP, text="a", style="huge"), "subtitle style"),
    (lambda: add_subtitles(CLIP, animation="spin"), "caption animation"),
    (lambda: generate_video(), "prompt"),
    (lambda: ref(""), "base execution"),
    (lambda: compose(merge(generate_video(prompt="a", id="x"), generate_video(prompt="b", id="x"))).to_plan(),
     "used by two"),
    (lambda: compose().to_plan(), "no jobs"),
])
def test_mistakes_are_caught_early(build: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()
