"""Benchmark: vidassets.media against hand-written ffmpeg commands doing the same work.

Reference workload: three local clips (5 s, 720p) -> merge with crossfade ->
reframe to 9:16 -> replace audio -> burn subtitles. For each step the time
through ``vidassets.media`` (probing, command building, progress parsing,
atomic rename and the output probe included) is compared with a plain
``subprocess.run`` of an equivalent hand-written argv using the same encoder
settings, measured in the same run (median of ``--repeat`` alternating runs).
Target: ratio <= 1.10 for every step. It also compares a cut-merge of
compatible clips (stream copy) with a re-encoding merge (target >= 20x).

Run: ``.venv/bin/python bench/media.py [--repeat N] [--keep DIR]``. Not a
pytest module (no ``test_`` names), so it is never collected.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vidassets.media import (
    Cue,
    Transition,
    burn_subtitles,
    default_profile,
    ffmpeg_exe,
    fonts_dir,
    merge,
    plan_merge,
    probe,
    reframe,
    render_local_clip,
    replace_audio,
)
from vidassets.media.burn import build_ass, subtitle_style
from vidassets.media.filters import escape_filter_value
from vidassets.media.fonts import fontconfig_env

PROFILE = default_profile()
ENC_V = PROFILE.video_args()
ENC_A = PROFILE.audio_args()
MUX = PROFILE.container_args()


def plain(argv: list[str]) -> None:
    """Run a hand-written ffmpeg command the way a script would."""
    env = {**os.environ, **fontconfig_env()}
    subprocess.run([ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *argv], check=True, env=env)


@dataclass
class Sample:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def measure(fn: Callable[[], object], into: Sample) -> None:
    """Wall time, and CPU time of this process plus its (waited-for) children - ffmpeg."""
    before_self, before_kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    fn()
    into.wall.append(time.perf_counter() - start)
    after_self, after_kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    into.cpu.append(
        (after_self.ru_utime - before_self.ru_utime)
        + (after_self.ru_stime - before_self.ru_stime)
        + (after_kids.ru_utime - before_kids.ru_utime)
        + (after_kids.ru_stime - before_kids.ru_stime)
    )


@dataclass
class Row:
    name: str
    ours: Sample
    plain: Sample

    @property
    def wall_ratio(self) -> float:
        return min(self.ours.wall) / min(self.plain.wall)

    @property
    def cpu_ratio(self) -> float:
        return min(self.ours.cpu) / min(self.plain.cpu)


def compare(name: str, ours: Callable[[], object], theirs: Callable[[], object], repeat: int) -> Row:
    """Run both sides ``repeat`` times, alternating so neither always runs on a warm cache."""
    row = Row(name, Sample(), Sample())
    for i in range(repeat):
        if i % 2:
            measure(theirs, row.plain)
            measure(ours, row.ours)
        else:
            measure(ours, row.ours)
            measure(theirs, row.plain)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="keep outputs in this directory")
    args = parser.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="vidassets-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"ffmpeg: {ffmpeg_exe()}\nprofile: {PROFILE}\nwork dir: {work}\n")

    started = time.perf_counter()
    clips = [
        render_local_clip(work / f"clip{i}.mp4", prompt=p, duration=5.0, resolution="720p", seed=i).path
        for i, p in enumerate(["a lighthouse at dusk", "waves on a rocky shore", "gulls over the harbour"])
    ]
    print(f"setup: rendered 3 x 5 s 720p local clips in {time.perf_counter() - started:.1f}s")
    voice = work / "voice.m4a"
    plain(["-f", "lavfi", "-i", "sine=f=220:r=48000:d=20", *ENC_A, "-f", "mp4", str(voice)])

    rows: list[Row] = []
    t = 0.5
    merged = work / "merged.mp4"
    d = [probe(c).video_duration or 5.0 for c in clips]
    xf = (
        f"[0:v][1:v]xfade=transition=fade:duration={t}:offset={d[0] - t}[v01];"
        f"[v01][2:v]xfade=transition=fade:duration={t}:offset={d[0] + d[1] - 2 * t}[v];"
        f"[0:a][1:a]acrossfade=d={t}[a01];[a01][2:a]acrossfade=d={t}[a]"
    )
    rows.append(
        compare(
            "merge (crossfade)",
            lambda: merge(clips, merged, transition=Transition("crossfade", t)),
            lambda: plain(
                [
                    *[arg for c in clips for arg in ("-i", str(c))],
                    "-filter_complex",
                    xf,
                    "-map",
                    "[v]",
                    "-map",
                    "[a]",
                    *ENC_V,
                    *ENC_A,
                    *MUX,
                    str(work / "plain_merged.mp4"),
                ]
            ),
            args.repeat,
        )
    )

    vertical = work / "vertical.mp4"
    rows.append(
        compare(
            "reframe 9:16 (center)",
            lambda: reframe(merged, vertical, aspect_ratio="9:16", strategy="center"),
            lambda: plain(
                [
                    "-i",
                    str(merged),
                    "-vf",
                    "crop=404:720,setsar=1",
                    "-c:a",
                    "copy",
                    *ENC_V,
                    *MUX,
                    str(work / "plain_vertical.mp4"),
                ]
            ),
            args.repeat,
        )
    )

    voiced = work / "voiced.mp4"
    duration = probe(vertical).video_duration or 14.0
    rows.append(
        compare(
            "replace_audio (fit=video)",
            lambda: replace_audio(vertical, voice, voiced, fit="video"),
            lambda: plain(
                [
                    "-i",
                    str(vertical),
                    "-i",
                    str(voice),
                    "-map",
                    "0:v:0",
                    "-map",
                    "1:a:0",
                    "-c:v",
                    "copy",
                    "-af",
                    f"volume=1,apad,atrim=duration={duration}",
                    *ENC_A,
                    "-t",
                    str(duration),
                    *MUX,
                    str(work / "plain_voiced.mp4"),
                ]
            ),
            args.repeat,
        )
    )

    cues = [Cue(i * 2.0, i * 2.0 + 1.8, f"Subtitle line number {i + 1}") for i in range(7)]
    info = probe(voiced)
    ass = work / "plain.ass"
    ass.write_text(build_ass(cues, subtitle_style(), info.display_width, info.display_height), encoding="utf-8")
    subtitled = work / "subtitled.mp4"
    rows.append(
        compare(
            "burn_subtitles",
            lambda: burn_subtitles(voiced, subtitled, cues=cues),
            lambda: plain(
                [
                    "-i",
                    str(voiced),
                    "-vf",
                    f"ass=filename={escape_filter_value(ass)}:fontsdir={escape_filter_value(fonts_dir())},format=yuv420p",
                    *ENC_V,
                    "-c:a",
                    "copy",
                    *MUX,
                    str(work / "plain_subtitled.mp4"),
                ]
            ),
            args.repeat,
        )
    )

    report = [f"wall time: best of {args.repeat} (median in brackets); cpu: ffmpeg + Python, best of {args.repeat}",
              f"{'operation':26} {'vidassets':>18} {'plain ffmpeg':>18} {'wall ratio':>10} {'cpu ratio':>9}   target <= 1.10"]
    worst = 0.0
    for row in rows:
        worst = max(worst, row.wall_ratio)
        report.append(
            f"{row.name:26} {min(row.ours.wall):7.3f}s ({statistics.median(row.ours.wall):6.3f}) "
            f"{min(row.plain.wall):7.3f}s ({statistics.median(row.plain.wall):6.3f}) "
            f"{row.wall_ratio:10.3f} {row.cpu_ratio:9.3f}   {'ok' if row.wall_ratio <= 1.10 else 'OVER'}"
        )
    print("\n" + "\n".join(report))

    # Stream copy vs re-encode for a cut of compatible clips.
    assert plan_merge(clips, work / "x.mp4").stream_copy
    cut = work / "cut_copy.mp4"
    concat = "".join(f"[{i}:v][{i}:a]" for i in range(len(clips))) + f"concat=n={len(clips)}:v=1:a=1[v][a]"
    cut_row = compare(
        "cut merge",
        lambda: merge(clips, cut),
        lambda: plain(
            [
                *[arg for c in clips for arg in ("-i", str(c))],
                "-filter_complex",
                concat,
                "-map",
                "[v]",
                "-map",
                "[a]",
                *ENC_V,
                *ENC_A,
                *MUX,
                str(work / "cut_reencode.mp4"),
            ]
        ),
        args.repeat,
    )
    copy_t, encode_t = min(cut_row.ours.wall), min(cut_row.plain.wall)
    speedup = encode_t / copy_t
    report.append(
        f"cut merge of 3 compatible clips: stream copy (vidassets.merge) {copy_t:.3f}s vs re-encoding merge "
        f"{encode_t:.3f}s -> {speedup:.1f}x  target >= 20x  {'ok' if speedup >= 20 else 'UNDER'}"
    )
    print(report[-1])
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import append_results

    append_results("Media operations vs plain ffmpeg", report)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if worst <= 1.10 and speedup >= 20 else 1


if __name__ == "__main__":
    raise SystemExit(main())
