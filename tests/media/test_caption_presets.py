"""The TypeScript SDK's ``story`` and ``cinematic`` caption presets drawn by real ffmpeg/libass,
the shipped Liberation fonts they use (Courier New and Times New Roman metrics), and the promise
that every older preset still writes the same ASS (so nothing already rendered goes stale)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.frames import frame_at
from vidassets.media import Cue, MediaParamError, burn_subtitles, default_profile, run_ffmpeg, subtitle_style
from vidassets.media.burn import SubtitleStyle, build_ass, line_box
from vidassets.media.fonts import (
    FONTS_DIR,
    SHIPPED_FONTS,
    canonical_family,
    font_file,
    font_for_char,
    fontconfig_file,
    measure_text,
    pick_font,
    split_runs,
)
from vidassets.media.subtitles import CueWord, cues_from_words

GREY = 0x60  # the clips' background level


@pytest.fixture(scope="module")
def grey_clip(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """A flat grey 2 s clip of a given size (made once per size), so text, box and shadow stand out."""
    folder = tmp_path_factory.mktemp("presets")
    made: dict[str, Path] = {}

    def make(size: str) -> Path:
        if size not in made:
            out = folder / f"grey_{size}.mp4"
            profile = default_profile()
            run_ffmpeg(["-f", "lavfi", "-i", f"color=0x{GREY:02x}{GREY:02x}{GREY:02x}:s={size}:r=24:d=2",
                        *profile.video_args(), *profile.container_args(), str(out)])
            made[size] = out
        return made[size]

    return make


def luma(frame: np.ndarray) -> np.ndarray:
    return np.asarray(frame.mean(axis=2))


@pytest.mark.parametrize("path", [f.path for f in SHIPPED_FONTS])
def test_every_shipped_font_is_in_the_package(path: Path) -> None:
    assert path.is_file() and path.stat().st_size > 100_000


def test_the_liberation_fonts_come_with_their_licence_and_a_readme_line() -> None:
    licence = (FONTS_DIR / "LICENSE-Liberation-OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence and "Reserved Font Name Liberation" in licence
    readme = (FONTS_DIR / "README.md").read_text(encoding="utf-8")
    for name in ("LiberationMono-Regular.ttf", "LiberationMono-Bold.ttf", "LiberationSerif-Regular.ttf",
                 "LiberationSerif-Bold.ttf", "LICENSE-Liberation-OFL.txt"):
        assert name in readme


@pytest.mark.parametrize("name, family, file", [
    ("Courier New", "Liberation Mono", "LiberationMono-Regular.ttf"),
    ("courier", "Liberation Mono", "LiberationMono-Regular.ttf"),
    ("monospace", "Liberation Mono", "LiberationMono-Regular.ttf"),
    ("Times New Roman", "Liberation Serif", "LiberationSerif-Regular.ttf"),
    ("Times", "Liberation Serif", "LiberationSerif-Regular.ttf"),
    ("serif", "Liberation Serif", "LiberationSerif-Regular.ttf"),
    ("Georgia", "Liberation Serif", "LiberationSerif-Regular.ttf"),
    ("Noto Sans", "Noto Sans", "NotoSans-Regular.ttf"),
])
def test_sdk_family_names_resolve_to_a_shipped_font(name: str, family: str, file: str) -> None:
    assert canonical_family(name) == family and font_file(name).name == file
    assert subtitle_style(font_family=name).font_family == family
    assert font_file(name, bold=True).name == file.replace("Regular", "Bold")


def test_measurement_uses_the_font_the_style_names() -> None:
    """Line breaking measures with the style's font: Courier New is monospaced (``iiii`` as wide as
    ``MMMM``), Times New Roman measures as Liberation Serif, and both differ from Noto Sans."""
    assert measure_text("iiii", "Courier New", 40) == pytest.approx(measure_text("MMMM", "Courier New", 40))
    assert measure_text("iiii", "Noto Sans", 40) < 0.5 * measure_text("MMMM", "Noto Sans", 40)
    text = "little lilies fill tiny hills"
    serif = measure_text(text, "Times New Roman", 40)
    assert serif == measure_text(text, "Liberation Serif", 40)
    assert abs(serif / measure_text(text, "Noto Sans", 40) - 1) > 0.1
    box = line_box(subtitle_style("cinematic"), 1280, 720)
    assert box.measure(text) == pytest.approx(serif * 27 / 40 * 1.03)


def test_styling_fonts_never_become_fallbacks() -> None:
    """Liberation covers Hebrew and symbols the fallback fonts lack or draw; text styled in any
    other family still falls back exactly as before, and drawtext never picks Liberation."""
    liberation = [f.path for f in SHIPPED_FONTS if not f.fallback]
    assert liberation and all(f.family.startswith("Liberation") for f in SHIPPED_FONTS if not f.fallback)
    for ch in "אשׁϢ₪ſ":
        assert font_for_char(ch) not in ("Liberation Mono", "Liberation Serif")
        assert pick_font(ch) not in liberation
    assert "Liberation" not in fontconfig_file().read_text(encoding="utf-8")
    assert [family for family, _ in split_runs("Hi 你好 🎉", "Liberation Serif")] == [
        "Liberation Serif", "WenQuanYi Micro Hei", "Symbola"]


def test_new_style_fields_are_bounded() -> None:
    for bad in ({"shadow": 500}, {"shadow": -1}, {"highlight_scale": 9}, {"highlight_scale": 0.5},
                {"shadow_ratio": 2}, {"shadow_color": "nope"}, {"inactive_color": "#12"}):
        with pytest.raises(MediaParamError):
            subtitle_style("story", **bad)


# -- the older presets write the same ASS --------------------------------------------------------

_WORDS = [(0.1 + 0.4 * i, 0.45 + 0.4 * i, w) for i, w in enumerate(
    "Hello there world this is a much longer caption line 你好 مرحبا 🎉 {\\b1} end".split())]
_OVERRIDES: list[dict[str, object]] = [
    {}, {"animation": "fade"}, {"animation": "slide"}, {"animation": "typewriter"}, {"animation": "pop"},
    {"highlight": "word"}, {"highlight": "karaoke"}, {"uppercase": True},
    {"background": "#00000080", "position": "center"}, {"font_family": "Noto Sans", "bold": True},
    {"position": "top", "margin": 40}]
#: sha256 over every (override, frame size) document per preset, written by the renderer before
#: the story/cinematic fields existed. A change here changes rendered captions: bump
#: RENDERER_VERSIONS[SUBTITLED] (vidassets.plan.operations) and update these.
_BEFORE = {
    "default": "67b2b227fb7146af5b071ccb43965d77ed87ee9c513f39b176df8888105fab1b",
    "minimal": "c1446053b05f364bf25e2b38d89d3d6bbf54cb915adac1cefdbec8e97ff7682f",
    "bold": "e3b96d4cbea913e36cf83567dc2a1e82561290d3c3d117a9184efeeb1ecd4937",
    "tiktok": "2bfc1a2ec33d20f4baa9b9ee1e1a08630388a815b6627c90b7a5694dce4c54cf",
    "karaoke": "1608ffce7dac146d6b5fb172966714526976e571056d64a7a4ae53ffd0eb5f8d",
}


def _documents(preset: str) -> Iterator[str]:
    for overrides in _OVERRIDES:
        style = subtitle_style(preset, **overrides)
        for width, height in ((1080, 1920), (1920, 1080), (320, 180)):
            cues = cues_from_words(_WORDS, max_words=style.max_words, max_lines=style.max_lines,
                                   box=line_box(style, width, height))
            cues.append(Cue(9.0, 10.0, "plain text\nsecond line"))
            yield json.dumps(overrides, sort_keys=True) + f"{width}x{height}\n" + build_ass(cues, style, width, height)


def preset_digest(preset: str) -> str:
    digest = hashlib.sha256()
    for document in _documents(preset):
        digest.update(document.encode())
    return digest.hexdigest()


@pytest.mark.parametrize("preset", sorted(_BEFORE))
def test_older_presets_write_the_same_ass(preset: str) -> None:
    assert preset_digest(preset) == _BEFORE[preset]


def test_the_new_presets_style_lines() -> None:
    story = build_ass([], subtitle_style("story"), 1080, 1920)
    assert ("Style: Default,Liberation Mono,52,&H00888888,&H00888888,&H40000000,&H40000000,0,0,0,0,100,100,0,0,"
            "3,13,0,5,") in story
    cinematic = build_ass([], subtitle_style("cinematic"), 1080, 1920)
    assert ("Style: Default,Liberation Serif,40,&H00E0E0E0,&H00E0E0E0,&H00000000,&H80000000,0,0,0,0,100,100,0,0,"
            "1,0,2,2,") in cinematic


# -- real renders -----------------------------------------------------------------------------------


def test_cinematic_is_a_serif_low_in_the_frame_with_a_shadow_below_right(
    grey_clip: Callable[[str], Path], tmp_path: Path
) -> None:
    text = "little lilies fill tiny hills"
    style = subtitle_style("cinematic")
    assert "Style: Default,Liberation Serif," in build_ass([], style, 1280, 720)
    assert font_file(style.font_family).name == "LiberationSerif-Regular.ttf"
    frames = {}
    for name, variant in (("serif", style), ("sans", subtitle_style("cinematic", font_family="Noto Sans")),
                          ("flat", subtitle_style("cinematic", shadow=0))):
        out = burn_subtitles(grey_clip("1280x720"), tmp_path / f"{name}.mp4", cues=[Cue(0.2, 1.8, text)],
                             style=variant)
        frames[name] = luma(frame_at(out.path, 1.0))

    def text_box(frame: np.ndarray) -> tuple[int, int, int, int]:
        ys, xs = np.nonzero(frame > GREY + 50)
        return int(xs.min()), int(xs.max()), int(ys.min()), int(ys.max())

    x0, x1, y0, y1 = text_box(frames["serif"])
    assert y0 > 0.85 * 720 and y1 < 720 and abs((x0 + x1) / 2 - 640) < 6  # low and centred
    # libass drew Liberation Serif: the width is the serif's, not Noto Sans's (14 % apart here)
    size = style.resolved_font_size(1280, 720)
    assert (x1 - x0) == pytest.approx(measure_text(text, "Liberation Serif", size), rel=0.03)
    sx0, sx1, _, _ = text_box(frames["sans"])
    assert (sx1 - sx0) == pytest.approx(measure_text(text, "Noto Sans", size), rel=0.03)
    assert (x1 - x0) > 1.08 * (sx1 - sx0)
    # the shadow: darker than the background, only when asked, offset down and to the right
    dark, lit = frames["serif"] < GREY - 25, frames["serif"] > GREY + 50
    assert dark.sum() > 200 and (frames["flat"] < GREY - 25).sum() < 20
    dark_ys, dark_xs = np.nonzero(dark)
    lit_ys, lit_xs = np.nonzero(lit)
    assert dark_xs.mean() - lit_xs.mean() > 1 and dark_ys.mean() - lit_ys.mean() > 1


def word_spans(frame: np.ndarray, rows: slice, threshold: float, gap: int = 8) -> list[tuple[int, int, int, float]]:
    """Words in a band of ``frame``: (width, height, left x, median level of their ink), found as
    runs of columns with ink brighter than ``threshold``, runs at most ``gap`` px apart (letters
    of one word, closer than a space) merged."""
    band = frame[rows]
    ink = band > threshold
    columns = np.flatnonzero(ink.any(axis=0))
    groups: list[list[int]] = []
    for x in columns:
        if groups and x - groups[-1][-1] <= gap:
            groups[-1].append(int(x))
        else:
            groups.append([int(x)])
    spans = []
    for group in groups:
        left, right = group[0], group[-1] + 1
        word = ink[:, left:right]
        ys = np.flatnonzero(word.any(axis=1))
        spans.append((right - left, int(ys[-1] - ys[0] + 1), left, float(np.median(band[:, left:right][word]))))
    return spans


def test_story_boxes_words_mid_frame_the_spoken_one_white_and_larger(
    grey_clip: Callable[[str], Path], tmp_path: Path
) -> None:
    words = ("HHH", "HHH", "HHH")
    cue = Cue(0.2, 1.8, " ".join(words), tuple(CueWord(0.2 + 0.5 * i, 0.7 + 0.5 * i, w) for i, w in enumerate(words)))
    out = burn_subtitles(grey_clip("720x1280"), tmp_path / "story.mp4", cues=[cue], style=subtitle_style("story"))
    for spoken, t in ((0, 0.45), (1, 0.95), (2, 1.45)):
        frame = luma(frame_at(out.path, t))
        box_ys, box_xs = np.nonzero(frame < GREY - 40)  # the 75 % black box
        assert abs((box_xs.min() + box_xs.max()) / 2 - 360) < 4 and abs((box_ys.min() + box_ys.max()) / 2 - 640) < 4
        spans = word_spans(frame, slice(int(box_ys.min()), int(box_ys.max()) + 1), threshold=GREY + 14)
        assert len(spans) == 3, spans
        lit, rest = spans[spoken], [s for i, s in enumerate(spans) if i != spoken]
        assert lit[3] > 230  # white
        assert all(abs(level - 0x88) < 20 for *_, level in rest)  # grey
        for width, height, *_ in rest:
            assert lit[1] / height == pytest.approx(1.15, abs=0.07)  # 15 % taller
            assert lit[0] / width == pytest.approx(1.15, abs=0.07)  # and wider


def test_karaoke_grows_only_the_word_being_spoken(grey_clip: Callable[[str], Path], tmp_path: Path) -> None:
    """Each karaoke word restates full size before its own growth, so only the spoken one is large."""
    words = ("HHH", "HHH", "HHH")
    cue = Cue(0.2, 1.8, " ".join(words), tuple(CueWord(0.2 + 0.5 * i, 0.7 + 0.5 * i, w) for i, w in enumerate(words)))
    style = subtitle_style("karaoke", highlight_scale=1.3, inactive_color="#A0A0A0", position="center")
    out = burn_subtitles(grey_clip("720x1280"), tmp_path / "karaoke.mp4", cues=[cue], style=style)
    for spoken, t in ((0, 0.45), (1, 0.95)):
        # the fill, not the black outline; bold H's wide side bearings grow 30 % with the word
        spans = word_spans(luma(frame_at(out.path, t)), slice(560, 720), threshold=GREY + 40, gap=12)
        assert len(spans) == 3, spans
        heights = [height for _, height, *_ in spans]
        others = [h for i, h in enumerate(heights) if i != spoken]
        assert max(others) - min(others) <= 2
        assert heights[spoken] / max(others) == pytest.approx(1.3, abs=0.08)


def test_a_pop_caption_still_pops_around_the_scaled_word() -> None:
    style = subtitle_style("tiktok", highlight_scale=1.2, max_words=3)
    cue = Cue(0.0, 1.2, "one two three", tuple(CueWord(0.4 * i, 0.4 * i + 0.4, w)
                                               for i, w in enumerate(("one", "two", "three"))))
    events = [line for line in build_ass([cue], style, 1080, 1920).splitlines() if line.startswith("Dialogue")]
    first = events[0]
    assert "\\fscx84\\fscy84\\t(0,90,\\fscx129.6\\fscy129.6)\\t(90,160,\\fscx120\\fscy120)}one" in first
    assert first.endswith("\\fscx70\\fscy70\\t(0,90,\\fscx108\\fscy108)\\t(90,160,\\fscx100\\fscy100)} two three")
    assert "{\\1c&H00E0FF&\\fscx120\\fscy120}two{\\1c&HFFFFFF&\\fscx100\\fscy100}" in events[1]


def test_subtitle_style_accepts_the_new_fields_as_keywords() -> None:
    style = SubtitleStyle(shadow=3, highlight="word", highlight_scale=1.5, inactive_color="#808080")
    assert style.resolved_shadow(100, 100) == 3 and style.rest_color == "#808080" and style.active_scale == 1.5
    assert SubtitleStyle(inactive_color="#808080").rest_color == "#FFFFFF"  # only highlighted captions
