"""Picture quality of every artefact: today's step-by-step path beside single-generation renders.

For three plan shapes (the reference plan: 3 clips -> merge with crossfade -> reframe 9:16 -> new
audio -> captions; clips reframed one by one then merged; captions -> letterbox 4:5 -> new audio)
every ffmpeg-side artefact is rendered four ways from the same stored clips:

* ``lossless`` - its own sub-plan as one graph, encoded losslessly (x264 qp 0): the reference;
* ``one encode`` - that lossless picture encoded once with the standard profile: the ideal;
* ``fused`` - the render compiler's graph, one encode (what the executor stores now);
* ``steps`` - today's path: each operation decodes the previous artefact and encodes anew.

PSNR and SSIM against the lossless reference come from ffmpeg's psnr/ssim filters. Goal: every
fused artefact within 0.3 dB of the one-encode render of its sub-plan.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import append_results  # noqa: E402

from vidassets import media  # noqa: E402
from vidassets.demo import make_voice_track  # noqa: E402
from vidassets.render.compiler import Recipe, Step, compile_plan  # noqa: E402
from vidassets.render.fused import render_recipe  # noqa: E402

TEXT = "Three clips, one cut, a vertical frame, a new voice and these words."
SOURCES = ("testsrc2", "mandelbrot", "cellauto=rule=110:s=640x360")
GOAL_DB = 0.3
VOICE_URL = "https://example.com/voice.m4a"  # a name only: the bench hands the steps a local file


@dataclass(frozen=True)
class Job:
    job_id: str
    operation: str
    params: Mapping[str, Any]
    depends_on: Sequence[str] = ()


def shapes() -> dict[str, tuple[list[Job], str]]:
    clip = [Job(f"c{i}", "generate", {}) for i in range(3)]
    fade = {"transition": {"type": "crossfade", "duration": 0.5}}
    return {
        "reference (merge xfade -> 9:16 -> voice -> captions)": ([
            *clip, Job("cut", "merge", fade, ("c0", "c1", "c2")),
            Job("tall", "reframe", {"aspectRatio": "9:16", "strategy": "center"}, ("cut",)),
            Job("voice", "lipSync", {"audioUrl": VOICE_URL}, ("tall",)),
            Job("caps", "addSubtitles", {"text": TEXT, "style": {"preset": "bold"}}, ("voice",))], "caps"),
        "reframe each (center, blur) -> merge xfade -> captions": ([
            *clip[:2], Job("sq0", "reframe", {"aspectRatio": "1:1", "strategy": "center"}, ("c0",)),
            Job("sq1", "reframe", {"aspectRatio": "1:1", "strategy": "blur"}, ("c1",)),
            Job("cut", "merge", fade, ("sq0", "sq1")),
            Job("caps", "addSubtitles", {"text": TEXT}, ("cut",))], "caps"),
        "captions -> letterbox 4:5 -> voice": ([
            clip[0], Job("caps", "addSubtitles", {"text": TEXT, "style": {"preset": "tiktok"}}, ("c0",)),
            Job("feed", "reframe", {"aspectRatio": "4:5", "strategy": "pad"}, ("caps",)),
            Job("voice", "lipSync", {"audioUrl": VOICE_URL}, ("feed",))], "voice"),
    }


class Inputs:
    """Audio and captions for the steps, from local files and the plan's text."""

    def __init__(self, voice: Path):
        self.voice = voice

    def audio(self, step: Step) -> Path:
        return self.voice

    def cues(self, step: Step, video: media.MediaInfo) -> Any:
        preset = (step.params.get("style") or {}).get("preset", "default")
        style = media.subtitle_style(preset)
        box = media.burn.line_box(style, video.display_width, video.display_height)
        return media.cues_from_text(str(step.params["text"]), video.duration, box=box, max_lines=style.max_lines,
                                    max_words=style.max_words), style, {}


def steps_path(recipes: Mapping[str, Recipe], clips: Mapping[str, Path], inputs: Inputs, work: Path) -> dict[str, Path]:
    """Today's path with today's functions: every operation from the previous artefact's file."""
    files = dict(clips)
    order = [s for r in recipes.values() for s in r.step.walk()]
    for step in dict((s.job_id, s) for s in order).values():
        if step.job_id in files:
            continue
        src = [files[i.job_id if isinstance(i, Step) else i] for i in step.inputs]
        out = work / f"steps-{step.job_id}.mp4"
        p = step.params
        if step.operation.value == "merge":
            media.merge(src, out, transition=p["transition"])
        elif step.operation.value == "reframe":
            media.reframe(src[0], out, aspect_ratio=p["aspectRatio"], strategy=p["strategy"])
        elif step.operation.value == "lipSync":
            media.replace_audio(src[0], inputs.voice, out)
        else:
            cues, style, _ = inputs.cues(step, media.probe(src[0]))
            media.burn_subtitles(src[0], out, cues=cues, style=style)
        files[step.job_id] = out
    return files


_PSNR = re.compile(r"PSNR .*? average:([0-9.]+|inf)")
_SSIM = re.compile(r"SSIM .*? All:([0-9.]+)")


def compare(candidate: Path, reference: Path) -> tuple[float, float]:
    """(PSNR dB, SSIM) of ``candidate`` against ``reference`` (ffmpeg's psnr and ssim filters)."""
    graph = "[0:v]split[a1][a2];[1:v]split[b1][b2];[a1][b1]psnr[p];[a2][b2]ssim[s];[p][s]overlay"
    result = media.run_ffmpeg(["-loglevel", "info", "-i", str(candidate), "-i", str(reference),
                               "-filter_complex", graph, "-f", "null", "-"])
    psnr, ssim = _PSNR.search(result.stderr), _SSIM.search(result.stderr)
    assert psnr and ssim, result.stderr[-800:]
    return (99.0 if psnr.group(1) == "inf" else float(psnr.group(1))), float(ssim.group(1))


def one_encode(lossless: Path, out: Path, profile: media.EncoderProfile) -> Path:
    media.run_ffmpeg(["-i", str(lossless), "-map", "0:v:0", *profile.video_args(), *profile.container_args(),
                      str(out)])
    return out


def bench_shape(name: str, jobs: list[Job], root: str, clips: dict[str, Path], inputs: Inputs,
                work: Path) -> tuple[list[str], float]:
    plan = compile_plan({j.job_id: j for j in jobs}, [root])
    standard = media.default_profile()
    lossless = dataclasses.replace(standard, crf=0, preset="ultrafast")
    stepped = steps_path(plan.recipes, clips, inputs, work)
    lines, worst = [f"{name}"], 0.0
    for jid, recipe in plan.recipes.items():
        sources = {s: clips[s] for s in recipe.sources}
        ref = work / f"lossless-{jid}.mp4"
        render_recipe(recipe, sources, ref, inputs=inputs, profile=lossless, workdir=work)
        fused = work / f"fused-{jid}.mp4"
        render_recipe(recipe, sources, fused, inputs=inputs, profile=standard, workdir=work)
        ideal = compare(one_encode(ref, work / f"once-{jid}.mp4", standard), ref)
        got, old = compare(fused, ref), compare(stepped[jid], ref)
        gap = ideal[0] - got[0]
        worst = max(worst, gap)
        count = f"({len(recipe.steps)} step{'s' if len(recipe.steps) > 1 else ''})"
        lines.append(f"  {jid:<6} {count:<10} "
                     f"steps {old[0]:6.2f} dB / {old[1]:.4f}   fused {got[0]:6.2f} dB / {got[1]:.4f}   "
                     f"one encode {ideal[0]:6.2f} dB / {ideal[1]:.4f}   fused gap {gap:+.2f} dB  "
                     f"{'ok' if gap <= GOAL_DB else 'MISSED'}")
    return lines, worst


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--size", default="640x360")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vidassets-quality-"))
    profile = media.default_profile()
    clips: dict[str, Path] = {}
    for i, source in enumerate(SOURCES):
        spec = source if "s=" in source else f"{source}=s={args.size}"
        out = work / f"c{i}.mp4"
        media.run_ffmpeg(["-f", "lavfi", "-i", f"{spec}:r=24", "-f", "lavfi", "-i",
                          f"sine=f={300 + 100 * i}:r=48000:d={args.duration}", "-t", str(args.duration),
                          "-map", "0:v:0", "-map", "1:a:0", *profile.video_args(), *profile.audio_args(),
                          *profile.container_args(), str(out)])
        clips[f"c{i}"] = out
    inputs = Inputs(make_voice_track(work / "voice.m4a", duration=20))
    lines = [f"PSNR dB / SSIM against a lossless render of each artefact's own sub-plan "
             f"({len(SOURCES)} detailed {args.size} clips of {args.duration:g} s, x264 {profile.preset} crf {profile.crf})"]
    worst = 0.0
    for name, (jobs, root) in shapes().items():
        shape_lines, gap = bench_shape(name, jobs, root, clips, inputs, work)
        lines += shape_lines
        worst = max(worst, gap)
    lines.append(f"worst fused gap to a one-encode render: {worst:+.2f} dB (goal <= {GOAL_DB} dB)  "
                 f"{'ok' if worst <= GOAL_DB else 'MISSED'}")
    print("\n".join(lines))
    append_results("Render quality (single generation)", lines)


if __name__ == "__main__":
    sys.exit(main())
