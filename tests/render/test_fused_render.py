"""Fused renders on real ffmpeg: one encode per artefact, the same media as the step-by-step
path (size, duration, sound, captions, pictures), stream copy where nothing changes the
pixels, and the step-by-step fallback when a graph would be too large."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from tests.frames import frame_at
from tests.render.conftest import Encodes, LocalInputs, make_clip
from tests.render.test_compiler import VOICE, Job, reference
from vidassets import media
from vidassets.render.compiler import compile_plan
from vidassets.render.fused import Rendered, RenderLimits, render_recipe

PROFILE = media.default_profile()


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a - b) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


def audio_rms(path: Path) -> float:
    import av

    total, count = 0.0, 0
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            samples = frame.to_ndarray().astype(np.float64)
            total, count = total + float((samples**2).sum()), count + samples.size
    return (total / count) ** 0.5 if count else 0.0


def render(job: str, clips: list[Path], inputs: LocalInputs, out: Path, **kwargs: object) -> Rendered:
    recipe = compile_plan(reference(), ["caps"]).recipes[job]
    sources = dict(zip(("a", "b", "c"), clips, strict=True))
    work = out.parent / f"work-{out.stem}"
    work.mkdir(exist_ok=True)
    return render_recipe(recipe, {s: sources[s] for s in recipe.sources}, out, inputs=inputs, profile=PROFILE,
                         workdir=work, **kwargs)  # type: ignore[arg-type]


def step_by_step(clips: list[Path], inputs: LocalInputs, folder: Path) -> dict[str, Path]:
    """Today's path: every operation decodes the previous file and encodes a new one."""
    cut = folder / "steps-cut.mp4"
    media.merge(clips, cut, transition={"type": "crossfade", "duration": 0.5})
    tall = folder / "steps-tall.mp4"
    media.reframe(cut, tall, aspect_ratio="9:16", strategy="center")
    voice = folder / "steps-voice.mp4"
    media.replace_audio(tall, inputs.voice, voice)
    caps = folder / "steps-caps.mp4"
    info = media.probe(voice)
    cues, style, _ = inputs.cues(None, info)  # type: ignore[arg-type]
    media.burn_subtitles(voice, caps, cues=cues, style=style)
    return {"cut": cut, "tall": tall, "voice": voice, "caps": caps}


@pytest.fixture(scope="module")
def steps(clips: list[Path], voice: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return step_by_step(clips, LocalInputs(voice), tmp_path_factory.mktemp("steps"))


@pytest.mark.parametrize("job", ["cut", "tall", "voice", "caps"])
def test_each_artefact_is_one_encode_matching_the_step_by_step_output(
        job: str, clips: list[Path], voice: Path, steps: dict[str, Path], encodes: Encodes, tmp_path: Path) -> None:
    out = tmp_path / f"{job}.mp4"
    rendered = render(job, clips, LocalInputs(voice), out)
    assert len(encodes.runs) == 1 and encodes.video_encodes() == 1, encodes.runs
    assert rendered.encodes == 1 and rendered.fused == (job != "cut")
    fused, stepped = media.probe(out), media.probe(steps[job])
    assert (fused.width, fused.height) == (stepped.width, stepped.height)
    assert abs(fused.duration - stepped.duration) <= 1 / 24 + 0.03
    assert fused.has_audio and stepped.has_audio
    assert audio_rms(out) == pytest.approx(audio_rms(steps[job]), rel=0.1)
    for t in (0.2, fused.duration / 2, fused.duration - 0.2):
        # One generation against four: close, and closer to the source pictures than steps are.
        assert psnr(frame_at(out, t), frame_at(steps[job], t)) > 30, (job, t)


def test_captions_are_burned_where_the_step_by_step_path_burns_them(
        clips: list[Path], voice: Path, steps: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "caps.mp4"
    render("caps", clips, LocalInputs(voice), out)
    plain = tmp_path / "voice.mp4"
    render("voice", clips, LocalInputs(voice), plain)
    t = 1.0
    ink_fused = np.abs(frame_at(out, t) - frame_at(plain, t)).max(axis=2) > 60
    ink_steps = np.abs(frame_at(steps["caps"], t) - frame_at(steps["voice"], t)).max(axis=2) > 60
    assert ink_fused.sum() > 200 and ink_steps.sum() > 200
    overlap = (ink_fused & ink_steps).sum() / max(1, ink_steps.sum())
    assert overlap > 0.8  # same text, same place


def test_a_cut_then_new_audio_copies_the_pictures(clips: list[Path], voice: Path, encodes: Encodes,
                                                  tmp_path: Path) -> None:
    a, b = clips[0], make_clip(tmp_path / "same.mp4", duration=1.0, source="testsrc", tone=500)
    encodes.runs.clear()  # count the render only
    jobs = {"a": Job("a", "generate"), "b": Job("b", "generate"),
            "cut": Job("cut", "merge", {}, ("a", "b")), "voice": Job("voice", "lipSync", {"audioUrl": VOICE}, ("cut",))}
    recipe = compile_plan(jobs, ["voice"]).recipes["voice"]
    out = tmp_path / "voice.mp4"
    rendered = render_recipe(recipe, {"a": a, "b": b}, out, inputs=LocalInputs(voice), profile=PROFILE,
                             workdir=tmp_path)
    argv = encodes.runs[0]
    assert len(encodes.runs) == 1 and encodes.video_encodes() == 0 and "concat" in argv
    assert argv[argv.index("-c:v") + 1] == "copy" and rendered.fused
    info = media.probe(out)
    assert abs(info.duration - 2.0) <= 0.06 and info.has_audio and (info.width, info.height) == (320, 180)


def test_too_much_source_media_renders_step_by_step_and_says_why(
        clips: list[Path], voice: Path, steps: dict[str, Path], encodes: Encodes, tmp_path: Path) -> None:
    out = tmp_path / "caps.mp4"
    rendered = render("caps", clips, LocalInputs(voice), out, limits=RenderLimits(max_seconds=2.0))
    assert not rendered.fused and rendered.encodes == 4 and len(encodes.runs) == 4
    summary = rendered.summary(compile_plan(reference(), ["caps"]).recipes["caps"])
    assert summary["fused"] is False and "over the limit of 2 s" in summary["reason"]
    info, stepped = media.probe(out), media.probe(steps["caps"])
    assert (info.width, info.height) == (stepped.width, stepped.height)
    assert abs(info.duration - stepped.duration) <= 1 / 24 + 0.03
    many = render("caps", clips, LocalInputs(voice), tmp_path / "many.mp4", limits=RenderLimits(max_inputs=2))
    assert not many.fused and "3 inputs" in (many.reason or "")


def test_a_size_cap_renders_small_previews(clips: list[Path], voice: Path, tmp_path: Path) -> None:
    recipe = compile_plan(reference(), ["caps"]).recipes["caps"]
    out = tmp_path / "draft.mp4"
    draft = dataclasses.replace(media.render_profile("draft"), max_short_side=90)
    render_recipe(recipe, dict(zip(("a", "b", "c"), clips, strict=True)), out, inputs=LocalInputs(voice),
                  profile=draft, workdir=tmp_path)
    info = media.probe(out)
    assert min(info.width, info.height) == 90 and abs(info.width / info.height - 9 / 16) < 0.03
