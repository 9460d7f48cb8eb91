"""Random valid plans over the local operations, with what each root's media must look like.

A Hypothesis strategy builds plans the way users do: a few generated or imported clips, then
operations stacked in any order — repeated kinds, merges of merges, fan-out to several roots,
any operation straight on a clip. Alongside each plan it computes an independent expectation
for every root: frame size, duration and whether there is an audio track. Sizes follow the
rules the API documents (crop keeps the largest even crop; pad/blur put the source on a canvas
whose short side is the source's; merges take the first clip's size), durations the merge rule
(``sum - (n-1) * transition``). Today's SDK's local operations take part too: a ``layer`` of
the imported clip in picture-in-picture over a plan job (the main layer: its size and length),
and a merge with per-clip trims and a voice track laid under it (trimmed lengths add up).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from hypothesis import strategies as st

from vidassets.media.geometry import canvas_size, crop_size, parse_aspect, parse_resolution

CLIP_SIZE = "160x90"
IMPORTED = (320, 240, 1.0, True)  # tests/conftest.py's clip.mp4: 320x240, 1 s; imports gain a silent track
TRANSITION_S = 0.2
RATIOS = ("16:9", "9:16", "1:1", "4:5", "21:9")
STRATEGIES = ("center", "top", "pad", "blur")


@dataclass(frozen=True)
class Expect:
    width: int
    height: int
    duration: float
    audio: bool


@dataclass
class Shape:
    """A plan body (documented format) and what each root's output must be."""

    body: dict[str, Any]
    expect: dict[str, Expect]

    @property
    def jobs(self) -> list[dict[str, Any]]:
        return self.body["executionPlan"]["jobs"]

    def describe(self) -> str:
        return "; ".join(f"{j['id']}={j['operation']}({','.join(j.get('dependsOn', []))})" for j in self.jobs)


def _reframe(src: Expect, ratio: str, strategy: str) -> Expect:
    aspect = parse_aspect(ratio)
    w, h = src.width // 2 * 2, src.height // 2 * 2
    size = canvas_size(w, h, aspect) if strategy in ("pad", "blur") else crop_size(w, h, aspect)
    return Expect(size[0], size[1], src.duration, src.audio)


def _merge(inputs: list[Expect], transition: str) -> Expect:
    first = inputs[0]
    overlap = TRANSITION_S * (len(inputs) - 1) if transition != "cut" and len(inputs) > 1 else 0.0
    return Expect(first.width, first.height, sum(i.duration for i in inputs) - overlap, True)


@st.composite
def media_plans(draw: st.DrawFn, media_url: str, *, max_ops: int = 5) -> Shape:
    jobs: list[dict[str, Any]] = []
    made: dict[str, Expect] = {}
    used: set[str] = set()
    for i in range(draw(st.integers(1, 3))):
        jid = f"clip{i}"
        if draw(st.booleans()) or i == 0:
            ratio = draw(st.sampled_from(("16:9", "9:16", "1:1")))
            duration = draw(st.sampled_from((0.6, 0.8, 1.0)))
            w, h = parse_resolution(CLIP_SIZE, ratio)
            jobs.append({"id": jid, "operation": "generate", "params": {
                "prompt": f"shape clip {i}", "duration": duration, "resolution": CLIP_SIZE,
                "aspectRatio": ratio, "seed": i}})
            made[jid] = Expect(w, h, duration, True)
        else:
            jobs.append({"id": jid, "operation": "generate", "params": {"url": f"{media_url}/clip.mp4"}})
            made[jid] = Expect(*IMPORTED)
    for n in range(draw(st.integers(1, max_ops))):
        op = draw(st.sampled_from(("merge", "reframe", "lipSync", "addSubtitles", "layer", "mix")))
        pool = list(made)
        jid = f"{op.lower()}{n}"
        if op == "merge":
            deps = draw(st.lists(st.sampled_from(pool), min_size=2, max_size=3, unique=True)) if len(pool) > 1 \
                else [pool[0], pool[0]]
            if len(set(deps)) < len(deps):
                continue  # a clip merged with itself is legal but tells us nothing new
            transition = draw(st.sampled_from(("cut", "crossfade")))
            params: dict[str, Any] = {"transition": {"type": transition, "duration": TRANSITION_S}}
            expect = _merge([made[d] for d in deps], transition)
        elif op == "mix":
            deps = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True))
            trims = [draw(st.sampled_from((None, 0.5))) for _ in deps]
            op, params = "merge", {"clips": [{"duration": t} if t else {} for t in trims],
                                   "audio": [{"url": f"{media_url}/voice.m4a", "offset": 0.1, "volume": 0.5}]}
            lengths = [min(t, made[d].duration) if t else made[d].duration for d, t in zip(deps, trims, strict=True)]
            expect = Expect(made[deps[0]].width, made[deps[0]].height, sum(lengths), True)
        else:
            deps = [draw(st.sampled_from(pool))]
            src = made[deps[0]]
            if op == "layer":
                params = {"layers": [{"clips": [{"input": deps[0]}], "main": True},
                                     {"clips": [{"url": f"{media_url}/clip.mp4"}], "placement": "pip"}]}
                expect = Expect(src.width // 2 * 2, src.height // 2 * 2, src.duration, src.audio)
            elif op == "reframe":
                ratio, strategy = draw(st.sampled_from(RATIOS)), draw(st.sampled_from(STRATEGIES))
                expect = _reframe(src, ratio, strategy)
                if min(expect.width, expect.height) < 32 or max(expect.width, expect.height) > 1200:
                    continue  # keep the sample's renders small and legible
                params = {"aspectRatio": ratio, "strategy": strategy}
            elif op == "lipSync":
                params = {"audioUrl": f"{media_url}/voice.m4a", "volume": 0.8}
                expect = Expect(src.width, src.height, src.duration, True)
            else:
                params = {"text": f"caption {n}", "style": draw(st.sampled_from(("default", "bold", "minimal")))}
                expect = src
        jobs.append({"id": jid, "operation": op, "params": params, "dependsOn": deps})
        made[jid] = expect
        used.update(deps)
    sinks = [j["id"] for j in jobs if j["id"] not in used]
    roots = draw(st.lists(st.sampled_from(sinks), min_size=1, max_size=min(2, len(sinks)), unique=True))
    body = {"executionPlan": {"jobs": jobs, "rootJobIds": roots}}
    return Shape(body, {r: made[r] for r in roots})


def ratio_of(expect: Expect) -> Fraction:
    return Fraction(expect.width, expect.height)


def assert_media_matches(info: Any, expect: Expect, where: str) -> None:
    """A root's probed output against its expectation (two frames of slack on duration)."""
    assert (info.width, info.height) == (expect.width, expect.height), \
        f"{where}: {info.width}x{info.height}, expected {expect.width}x{expect.height}"
    assert abs(info.duration - expect.duration) <= 0.12, f"{where}: {info.duration:.3f}s, expected {expect.duration:.3f}s"
    assert info.has_audio == expect.audio, f"{where}: audio {info.has_audio}, expected {expect.audio}"


# Named shapes users send that the fixed chain refused (issue: plans of any shape).
def named_shapes(media_url: str) -> dict[str, dict[str, Any]]:
    def gen(jid: str, seed: int, ratio: str = "16:9") -> dict[str, Any]:
        return {"id": jid, "operation": "generate", "params": {
            "prompt": f"named {jid}", "duration": 0.8, "resolution": CLIP_SIZE, "aspectRatio": ratio, "seed": seed}}

    voice = f"{media_url}/voice.m4a"
    return {
        "reframe-each-then-merge": {"executionPlan": {"jobs": [
            gen("a", 1), gen("b", 2),
            {"id": "ta", "operation": "reframe", "params": {"aspectRatio": "9:16"}, "dependsOn": ["a"]},
            {"id": "tb", "operation": "reframe", "params": {"aspectRatio": "9:16", "strategy": "blur"}, "dependsOn": ["b"]},
            {"id": "cut", "operation": "merge", "params": {"transition": {"type": "crossfade", "duration": TRANSITION_S}},
             "dependsOn": ["ta", "tb"]},
        ], "rootJobIds": ["cut"]}},
        "caption-then-voice": {"executionPlan": {"jobs": [
            gen("a", 3),
            {"id": "caps", "operation": "addSubtitles", "params": {"text": "first captions"}, "dependsOn": ["a"]},
            {"id": "voice", "operation": "lipSync", "params": {"audioUrl": voice}, "dependsOn": ["caps"]},
        ], "rootJobIds": ["voice"]}},
        "merge-of-merges": {"executionPlan": {"jobs": [
            gen("a", 4), gen("b", 5), gen("c", 6), gen("d", 7),
            {"id": "m1", "operation": "merge", "params": {}, "dependsOn": ["a", "b"]},
            {"id": "m2", "operation": "merge", "params": {"transition": {"type": "crossfade", "duration": TRANSITION_S}},
             "dependsOn": ["c", "d"]},
            {"id": "all", "operation": "merge", "params": {"transition": {"type": "wipe", "duration": 0.2}},
             "dependsOn": ["m1", "m2"]},
        ], "rootJobIds": ["all"]}},
        "two-roots": {"executionPlan": {"jobs": [
            gen("a", 8),
            {"id": "tall", "operation": "reframe", "params": {"aspectRatio": "9:16"}, "dependsOn": ["a"]},
            {"id": "square", "operation": "reframe", "params": {"aspectRatio": "1:1"}, "dependsOn": ["a"]},
            {"id": "caps", "operation": "addSubtitles", "params": {"text": "tall"}, "dependsOn": ["tall"]},
        ], "rootJobIds": ["caps", "square"]}},
    }
