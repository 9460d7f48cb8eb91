"""layer: compositing on real ffmpeg - placements where the rect says, chroma key, alpha, timelines,
durations, canvas, audio mix, one invocation, hostile values refused."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from tests.frames import frame_at
from vidassets.media import MediaInfo, MediaParamError, default_profile, probe, run_ffmpeg
from vidassets.media import runner as media_runner
from vidassets.media.layer import (
    DEFAULT_DURATION,
    ChromaKey,
    LayerClip,
    LayerLayout,
    LayerSpec,
    build_layer_command,
    layer,
    plan_layers,
    with_alpha,
)
from vidassets.media.placement import Rect, parse_placement

PROFILE = default_profile()
RED = (255, 0, 0)
BLUE = (0, 0, 255)
YELLOW = (255, 255, 0)
GREEN = (0, 255, 0)


def _clip(out: Path, colour: str, *, size: str = "320x180", duration: float = 2.0, rate: int = 24,
          tone: int | None = None) -> Path:
    argv = ["-f", "lavfi", "-i", f"color=c={colour}:s={size}:r={rate}:d={duration}"]
    if tone is not None:
        argv += ["-f", "lavfi", "-i", f"sine=f={tone}:r=48000:d={duration}", "-map", "0:v:0", "-map", "1:a:0",
                 *PROFILE.audio_args()]
    run_ffmpeg([*argv, *PROFILE.video_args(), *PROFILE.container_args(), str(out)])
    return out


def _png(out: Path, graph: str) -> Path:
    run_ffmpeg(["-f", "lavfi", "-i", graph, "-frames:v", "1", "-f", "image2", "-update", "1", str(out)])
    return out


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("layer")
    return {
        "red": _clip(d / "red.mp4", "red", tone=440),                            # 320x180, 2 s, 440 Hz
        "red1": _clip(d / "red1.mp4", "red", duration=1.0),                      # 1 s, silent
        "yellow": _clip(d / "yellow.mp4", "yellow", size="96x72", duration=1.0, tone=880),  # 4:3, 1 s
        "blue_long": _clip(d / "blue3.mp4", "blue", size="160x90", duration=3.0, rate=30),
        # A green screen with a red card in the middle.
        "greenscreen": _run_graph(d / "green.mp4", "color=c=0x00ff00:s=320x180:r=24:d=1,"
                                  "drawbox=x=120:y=60:w=80:h=60:color=red:t=fill"),
        # 80x80 PNG: a 40x40 opaque blue square in the middle, transparent around it.
        "logo": _png(d / "logo.png", "color=c=blue:s=40x40,format=rgba,pad=80:80:20:20:color=black@0"),
        "green_png": _png(d / "g.png", "color=c=0x00ff00:s=64x64"),
        "blue_png": _png(d / "b.png", "color=c=blue:s=64x64"),
        "yellow_jpg": _png(d / "y.jpg", "color=c=yellow:s=64x64"),
        "red_bg": _png(d / "bg.png", "color=c=red:s=320x180"),
    }


def _run_graph(out: Path, graph: str) -> Path:
    run_ffmpeg(["-f", "lavfi", "-i", graph, *PROFILE.video_args(), *PROFILE.container_args(), str(out)])
    return out


def spec(*paths: Path | tuple[Path, float], placement: Any = None, **kw: Any) -> LayerSpec:
    clips = [LayerClip(p[0], p[1]) if isinstance(p, tuple) else LayerClip(p) for p in paths]
    return LayerSpec(clips=clips, placement=parse_placement(placement), **kw)


def close(pixel: np.ndarray, colour: tuple[int, int, int], tol: float = 40) -> bool:
    return bool(np.abs(pixel - np.array(colour, dtype=np.float32)).max() <= tol)


def region_is(frame: np.ndarray, rect: Rect, colour: tuple[int, int, int], *, inset: int = 3) -> float:
    """Share of the rectangle's pixels (``inset`` px in from its border) that have ``colour``."""
    patch = frame[rect.y + inset: rect.y + rect.h - inset, rect.x + inset: rect.x + rect.w - inset]
    diff = np.abs(patch - np.array(colour, dtype=np.float32)).max(axis=2)
    return float((diff <= 40).mean())


def outside_is(frame: np.ndarray, rect: Rect, colour: tuple[int, int, int], *, outset: int = 3) -> float:
    """Share of the pixels more than ``outset`` px outside the rectangle that have ``colour``."""
    mask = np.ones(frame.shape[:2], dtype=bool)
    mask[max(0, rect.y - outset): rect.y + rect.h + outset, max(0, rect.x - outset): rect.x + rect.w + outset] = False
    diff = np.abs(frame[mask] - np.array(colour, dtype=np.float32)).max(axis=1)
    return float((diff <= 40).mean())


def audio_samples(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        chunks = [f.to_ndarray().astype(np.float64).mean(axis=0) for f in container.decode(audio=0)]
    return np.concatenate(chunks) if chunks else np.zeros(0)


def tone_level(samples: np.ndarray, freq: float, rate: int = 48000) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    return float(spectrum[np.abs(freqs - freq) < 5].max() / len(samples))


# ------------------------------------------------------------------ placements on real pixels

PRESETS = ["center", "pip", "picture-in-picture", "top-left", "top-right", "bottom-left", "bottom-right", "top",
           "bottom", "left", "right", "w-1/2", "w-1/3 center", "h-1/2 top", "w-1/4 h-1/4 bottom-right",
           "top-right-quarter", {"width": "25%", "position": {"x": "100%", "y": "0%"}, "padding": 10},
           {"width": "120", "height": "60", "position": {"x": "20", "y": "30"}}]


@pytest.mark.parametrize("placement", PRESETS, ids=[str(p) for p in PRESETS])
def test_each_placement_puts_the_overlay_where_its_rect_says(media: dict[str, Path], placement: Any,
                                                             tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    info, layout = layer([spec(media["red"]), spec(media["yellow"], placement=placement)], out, duration=0.5)
    rect = layout.clips[1].rect
    assert rect == parse_placement(placement).rect(320, 180, 96, 72)
    assert (info.width, info.height) == (320, 180)
    frame = frame_at(out, 0.25)
    assert region_is(frame, rect, YELLOW) > 0.98
    assert outside_is(frame, rect, RED) > 0.98


def test_full_covers_the_canvas_cropping_the_overlay(media: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "full.mp4"
    _, layout = layer([spec(media["red"]), spec(media["yellow"], placement="full")], out, duration=0.5)
    assert layout.clips[1].rect == Rect(0, 0, 320, 180, cover=True)
    assert region_is(frame_at(out, 0.25), Rect(0, 0, 320, 180), YELLOW, inset=0) > 0.99


# ------------------------------------------------------------------ keying and alpha


def test_chroma_key_removes_the_green_and_keeps_the_card(media: dict[str, Path], tmp_path: Path) -> None:
    keyed, plain = tmp_path / "keyed.mp4", tmp_path / "plain.mp4"
    layers = [spec(media["blue_long"]), spec(media["greenscreen"], chroma_key=ChromaKey())]
    layer(layers, keyed, duration=0.5, width=320, height=180)
    layer([layers[0], replace(layers[1], chroma_key=None)], plain, duration=0.5, width=320, height=180)
    card = Rect(120, 60, 80, 60)
    k, p = frame_at(keyed, 0.25), frame_at(plain, 0.25)
    assert outside_is(k, card, BLUE, outset=6) > 0.97  # the background shows where the green was
    assert region_is(k, card, RED, inset=6) > 0.97
    assert outside_is(p, card, GREEN, outset=6) > 0.97  # the same graph without a key: green


def test_chroma_key_of_another_colour(media: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "bluekey.mp4"
    layer([spec(media["red"]), spec(media["blue_long"], chroma_key=ChromaKey.parse("#0000FF"))], out, duration=0.5)
    assert region_is(frame_at(out, 0.25), Rect(0, 0, 320, 180), RED, inset=0) > 0.98


def test_png_alpha_stays_transparent_and_a_percent_in_its_name_is_literal(media: dict[str, Path],
                                                                          tmp_path: Path) -> None:
    # ``lo%dgo.png`` would be an image sequence pattern matching ``lo1go.png``: that opaque red decoy (same
    # size, so the probe - which PyAV opens as a pattern - agrees) must not be what is drawn.
    logo = tmp_path / "lo%dgo;[x]'.png"
    shutil.copy(media["logo"], logo)
    _png(tmp_path / "lo1go;[x]'.png", "color=c=red:s=80x80")
    out = tmp_path / "logo.mp4"
    _, layout = layer([spec(media["blue_long"]), spec(logo, placement="center")], out, duration=0.5,
                      width=320, height=180)
    rect = layout.clips[1].rect
    assert rect == Rect(120, 50, 80, 80)
    frame = frame_at(out, 0.25)
    square = Rect(rect.x + 20, rect.y + 20, 40, 40)
    assert region_is(frame, square, BLUE) > 0.98
    ring = frame[rect.y + 3: rect.y + 16, rect.x + 3: rect.x + rect.w - 3]  # transparent part of the PNG
    assert not close(ring.mean(axis=(0, 1)), RED) and close(ring.mean(axis=(0, 1)), BLUE, tol=50)


def test_png_logo_keeps_transparency_over_a_red_video(media: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "logo_red.mp4"
    _, layout = layer([spec(media["red"]), spec(media["logo"], placement="top-right")], out, duration=0.5)
    rect = layout.clips[1].rect
    frame = frame_at(out, 0.25)
    assert region_is(frame, Rect(rect.x + 20, rect.y + 20, 40, 40), BLUE) > 0.98
    assert region_is(frame, Rect(rect.x, rect.y, rect.w, 18), RED, inset=2) > 0.98  # no black box around it
    assert rect.y > 0 and rect.x + rect.w < 320  # the corner margin


def test_webm_alpha_from_a_background_remover_stays_transparent(media: dict[str, Path], tmp_path: Path) -> None:
    cutout = tmp_path / "cutout.webm"
    run_ffmpeg(["-f", "lavfi", "-i", "color=c=blue:s=80x60:r=24:d=1,format=yuva420p,pad=160:90:40:15:color=black@0",
                "-c:v", "libvpx-vp9", "-pix_fmt", "yuva420p", "-deadline", "realtime", "-cpu-used", "8", str(cutout)])
    assert with_alpha(probe(cutout)).pix_fmt == "yuva420p"
    assert with_alpha(probe(media["red"])) == probe(media["red"])
    out = tmp_path / "cutout.mp4"
    layer([spec(media["red"]), spec(cutout)], out, duration=0.5)
    frame = frame_at(out, 0.25)
    assert region_is(frame, Rect(80, 30, 160, 120), BLUE) > 0.97  # the cut-out, scaled x2 to cover the canvas
    assert outside_is(frame, Rect(80, 30, 160, 120), RED) > 0.97  # red, not black, around it


# ------------------------------------------------------------------ timelines


def test_timeline_items_show_in_their_windows_in_one_ffmpeg_run(media: dict[str, Path], tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    real = media_runner._run

    def counting(full: list[str], *args: Any) -> Any:
        calls.append(full)
        return real(full, *args)

    monkeypatch.setattr(media_runner, "_run", counting)
    out = tmp_path / "timeline.mp4"
    timeline = spec((media["green_png"], 0.5), (media["blue_png"], 0.5), media["yellow_jpg"], placement="w-1/2")
    info, layout = layer([spec(media["red"], main=True), timeline], out)
    assert len(calls) == 1
    assert layout.duration == 2.0 and layout.duration_from == "main"
    windows = [(c.start, c.end) for c in layout.clips if c.layer == 1]
    assert windows == [(0.0, 0.5), (0.5, 1.0), (1.0, 2.0)]  # the item without a duration takes the rest
    assert abs(info.duration - 2.0) < 0.1
    rect = layout.clips[1].rect
    for t, colour in ((0.25, (0, 255, 0)), (0.75, BLUE), (1.5, YELLOW), (1.95, YELLOW)):
        frame = frame_at(out, t)
        assert region_is(frame, rect, colour) > 0.97, t
        assert outside_is(frame, rect, RED) > 0.97, t


def test_timeline_overlay_ends_and_the_background_shows(media: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "ends.mp4"
    _, layout = layer([spec(media["red"]), spec((media["logo"], 0.5), (media["yellow"], 0.5), placement="pip")],
                      out, duration=1.5)
    assert [(c.start, c.end) for c in layout.clips if c.layer == 1] == [(0.0, 0.5), (0.5, 1.0)]
    yellow = layout.clips[2].rect
    assert region_is(frame_at(out, 0.75), yellow, YELLOW) > 0.97
    assert region_is(frame_at(out, 1.3), Rect(0, 0, 320, 180), RED, inset=0) > 0.99


# ------------------------------------------------------------------ durations and canvas


def test_explicit_duration_holds_the_bottom_video_and_ends_the_overlay(media: dict[str, Path],
                                                                       tmp_path: Path) -> None:
    out = tmp_path / "hold.mp4"
    info, layout = layer([spec(media["red1"]), spec(media["yellow"], placement="center")], out, duration=2.0)
    assert layout.duration_from == "explicit"
    assert abs(info.duration - 2.0) < 0.1 and abs((info.video_duration or 0) - 2.0) < 0.1
    late = frame_at(out, 1.8)
    assert region_is(late, Rect(0, 0, 320, 180), RED, inset=0) > 0.99  # held red, not black; the overlay ended
    assert region_is(frame_at(out, 0.5), layout.clips[1].rect, YELLOW) > 0.97


def test_main_layer_sets_the_duration_and_canvas(media: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "main.mp4"
    info, layout = layer([spec(media["red"]), spec(media["blue_long"], placement="pip", main=True)], out)
    assert layout.duration_from == "main" and layout.duration == 3.0
    assert (layout.width, layout.height) == (160, 90) and (info.width, info.height) == (160, 90)
    assert abs(info.duration - 3.0) < 0.1
    assert layout.fps == 30.0 and abs(info.fps - 30.0) < 0.5


def test_longest_video_sets_the_duration(media: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "longest.mp4"
    info, layout = layer([spec(media["red1"]), spec(media["blue_long"], placement="pip")], out)
    assert layout.duration_from == "longest video" and layout.duration == 3.0
    assert abs(info.duration - 3.0) < 0.1
    assert region_is(frame_at(out, 2.5), layout.clips[1].rect, BLUE) > 0.97


def test_stills_only_last_five_seconds_at_the_given_size(media: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "stills.mp4"
    info, layout = layer([spec(media["red_bg"]), spec(media["logo"], placement="bottom-left")], out,
                         width=240, height=240)
    assert layout.duration == DEFAULT_DURATION and layout.duration_from == "default"
    assert (info.width, info.height) == (240, 240) and abs(info.duration - DEFAULT_DURATION) < 0.1
    assert info.has_audio
    frame = frame_at(out, 4.8)
    rect = layout.clips[1].rect
    assert region_is(frame, Rect(rect.x + 20, rect.y + 20, 40, 40), BLUE) > 0.98
    assert region_is(frame, Rect(0, 0, 240, 100), RED, inset=0) > 0.99  # the 16:9 background covers the square


# ------------------------------------------------------------------ audio


def test_audio_of_every_layer_is_mixed_at_its_window(media: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "mix.mp4"
    timeline = spec((media["logo"], 0.5), media["yellow"], placement="pip")  # yellow (880 Hz) from 0.5 s
    info, layout = layer([spec(media["red"]), timeline], out)
    assert info.has_audio and abs((info.audio_duration or 0) - 2.0) < 0.1
    samples = audio_samples(out)
    rate = 48000
    first, second = samples[int(0.05 * rate): int(0.45 * rate)], samples[int(0.6 * rate): int(1.4 * rate)]
    alone = tone_level(audio_samples(media["red"])[: len(second)], 440)  # the bottom clip's tone by itself
    assert alone > 0.01
    # Both tones at once, each at its own level (summed, not halved by the mix).
    assert abs(tone_level(second, 440) / alone - 1) < 0.1 and abs(tone_level(second, 880) / alone - 1) < 0.1
    assert tone_level(first, 880) < 0.02 * alone  # the overlay's sound waits for its window


def test_one_sound_keeps_its_level(media: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "single.mp4"
    layer([spec(media["red"]), spec(media["logo"], placement="top-left")], out)
    source, mixed = audio_samples(media["red"]), audio_samples(out)
    rms_in = float(np.sqrt((source[: 48000] ** 2).mean()))
    rms_out = float(np.sqrt((mixed[: 48000] ** 2).mean()))
    assert rms_in > 0.05 and abs(rms_out / rms_in - 1) < 0.1


def test_silence_when_no_layer_has_sound(media: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "silent.mp4"
    info, _ = layer([spec(media["red1"])], out)
    assert info.has_audio and abs((info.audio_duration or 0) - 1.0) < 0.1
    assert float(np.abs(audio_samples(out)).max()) < 1e-3


# ------------------------------------------------------------------ pure planning


def info_of(width: int, height: int, duration: float = 2.0, *, still: bool = False, audio: bool = True,
            fps: float = 24.0, name: str = "m.mp4") -> MediaInfo:
    return MediaInfo(path=Path("/media") / name, duration=0.0 if still else duration, width=width, height=height,
                     fps=fps, video_codec="h264", audio_codec="aac" if audio else None, has_audio=audio and not still,
                     rotation=0, pix_fmt="yuv420p", size_bytes=1, format_name="png_pipe" if still else "mp4",
                     is_still=still, video_duration=None if still else duration)


def plan(specs: list[LayerSpec], infos: list[list[MediaInfo]], **kw: Any) -> LayerLayout:
    return plan_layers(specs, infos, width=kw.pop("width", None), height=kw.pop("height", None),
                       duration=kw.pop("duration", None), **kw)


P = Path("/media/x")


def test_plan_durations_in_order_of_precedence() -> None:
    video2, video3, still = info_of(320, 180, 2.0), info_of(320, 180, 3.0), info_of(64, 64, still=True)
    layers = [spec(P), spec(P, placement="pip")]
    assert plan(layers, [[video2], [video3]], duration=1.5).duration == 1.5
    assert plan([spec(P, main=True), spec(P)], [[video2], [video3]]).duration == 2.0
    assert plan(layers, [[video2], [video3]]).duration == 3.0
    timeline = spec((P, 1.0), (P, 2.5))
    from_timeline = plan([spec(P), timeline], [[still], [still, still]])
    assert (from_timeline.duration, from_timeline.duration_from) == (3.5, "longest timeline")
    assert plan([spec(P), spec(P)], [[still], [still]]).duration == DEFAULT_DURATION


def test_plan_canvas_from_options_main_or_first_layer() -> None:
    wide, tall = info_of(1921, 1081), info_of(720, 1280)
    assert (plan([spec(P), spec(P)], [[wide], [tall]]).width, plan([spec(P)], [[wide]]).height) == (1920, 1080)
    main = plan([spec(P), spec(P, main=True)], [[wide], [tall]])
    assert (main.width, main.height) == (720, 1280)
    assert plan([spec(P)], [[wide]], width=641, height=360).width == 640
    only_w = plan([spec(P)], [[wide]], width=640)
    assert (only_w.width, only_w.height) == (640, 360)
    draft = plan([spec(P)], [[info_of(3840, 2160)]], max_short_side=360)
    assert (draft.width, draft.height) == (640, 360)
    huge = plan([spec(P)], [[info_of(8000, 4000)]])
    assert (huge.width, huge.height) == (4096, 2048)


def test_plan_windows_of_stills_sharing_the_time_left() -> None:
    still = info_of(64, 64, still=True)
    timeline = spec((P, 1.0), P, P, (P, 0.5))
    layout = plan([spec(P), timeline], [[info_of(320, 180, 4.5)], [still, still, still, still]])
    assert [(c.start, c.end) for c in layout.clips if c.layer == 1] == [(0, 1), (1, 2.5), (2.5, 4), (4, 4.5)]


def test_plan_bottom_timeline_holds_its_last_item_and_late_items_are_not_shown() -> None:
    video1 = info_of(320, 180, 1.0)
    layout = plan([spec(P, P, (P, 5.0)), spec(P, placement="pip")], [[video1, video1, video1], [video1]], duration=1.5)
    bottom = [c for c in layout.clips if c.layer == 0]
    assert [(c.start, c.end, c.shown) for c in bottom] == [(0, 1, True), (1, 1.5, True), (1.5, 1.5, False)]
    assert layout.clips[1].hold == 0.0
    held = plan([spec(P)], [[video1]], duration=3.0)
    assert held.clips[0].hold == 2.0


def test_plan_and_command_refuse_bad_input_and_keep_paths_out_of_the_graph() -> None:
    video = info_of(320, 180)
    with pytest.raises(MediaParamError, match="at least one layer"):
        plan([], [])
    with pytest.raises(MediaParamError, match="only one layer can be the main"):
        plan([spec(P, main=True), spec(P, main=True)], [[video], [video]])
    with pytest.raises(MediaParamError, match="duration"):
        plan([spec(P)], [[video]], duration=float("inf"))
    with pytest.raises(MediaParamError, match="item 1 duration"):
        plan([spec((P, -1.0))], [[video]])
    with pytest.raises(MediaParamError, match="width"):
        plan([spec(P)], [[video]], width=100000, height=100)
    with pytest.raises(MediaParamError, match="no picture"):
        plan([spec(P)], [[replace(video, has_video=False)]])
    with pytest.raises(MediaParamError, match="at most 32"):
        plan([spec(*[P] * 33)], [[video] * 33])
    hostile = info_of(320, 180, name="a;b[0:v]'c%d:,=.mp4")
    layers = [spec(P), spec(P, placement="pip", chroma_key=ChromaKey.parse("#00FF00", 0.2, 0.05))]
    layout = plan(layers, [[hostile], [hostile]])
    argv = build_layer_command(layers, [[hostile], [hostile]], layout, Path("/out/x.mp4"))
    graph = argv[argv.index("-filter_complex") + 1]
    assert "a;b" not in graph and "%d" not in graph
    assert "chromakey=0x00ff00:0.2:0.05" in graph
    assert argv.count(str(hostile.path)) == 2 and argv.count("-i") == 2


@pytest.mark.parametrize(
    ("colour", "similarity", "blend", "field"),
    [("00ff00:0.1:0.1[x]", None, None, "chromaKeyColor"), ("red", None, None, "chromaKeyColor"),
     ("12345", None, None, "chromaKeyColor"), (7, None, None, "chromaKeyColor"), (None, 0, None, "similarity"),
     (None, 2, None, "similarity"), (None, "0.3", None, "similarity"), (None, None, -0.1, "blend"),
     (None, None, float("nan"), "blend")],
)
def test_chroma_key_values_are_validated(colour: Any, similarity: Any, blend: Any, field: str) -> None:
    with pytest.raises(MediaParamError, match=field):
        ChromaKey.parse(colour, similarity, blend)


def test_chroma_key_spellings() -> None:
    assert ChromaKey.parse().filter() == "chromakey=0x00ff00:0.3:0.1"
    assert ChromaKey.parse("#00FF00") == ChromaKey.parse("0x00ff00") == ChromaKey.parse("green") == ChromaKey()
    assert ChromaKey.parse("blue").colour == "0000ff"


def test_output_is_probed_and_written_atomically(media: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "nested" / "a.mp4"
    info, _ = layer([spec(media["red1"])], out, duration=0.3)
    again = probe(out)
    assert info.path == out and (again.width, again.height, again.duration) == (info.width, info.height, info.duration)
    assert abs(info.duration - 0.3) < 0.1
    assert [p.name for p in out.parent.iterdir()] == ["a.mp4"]  # no temp file left beside it


def test_timeline_items_each_sit_where_their_own_placement_says(media: dict[str, Path], tmp_path: Path) -> None:
    """Today's SDK places each timeline item on its own: the blue square top-left for its second,
    then the green one bottom-right; an item without a placement takes the layer's."""
    clips = [LayerClip(media["blue_png"], 1.0, parse_placement("w-1/4 top-left")),
             LayerClip(media["green_png"], 1.0, parse_placement("w-1/4 bottom-right"))]
    layers = [spec(media["red"]), LayerSpec(clips=clips, placement=parse_placement("center"))]
    out = tmp_path / "items.mp4"
    _info, layout = layer(layers, out)
    first, second = (c.rect for c in layout.clips if c.layer == 1)
    assert first.x < 40 and first.y < 40 and second.x > 200 and second.y > 80, (first, second)
    early, late = frame_at(out, 0.5), frame_at(out, 1.5)
    assert region_is(early, first, BLUE) > 0.95 and region_is(early, second, RED) > 0.95
    assert region_is(late, second, GREEN) > 0.95 and region_is(late, first, RED) > 0.95
    centred = layer([spec(media["red"]), LayerSpec(clips=[LayerClip(media["blue_png"], 1.0)],
                                                   placement=parse_placement("center"))], tmp_path / "c.mp4")[1]
    (rect,) = (c.rect for c in centred.clips if c.layer == 1)
    assert abs(rect.x + rect.w / 2 - 160) <= 2 and abs(rect.y + rect.h / 2 - 90) <= 2
