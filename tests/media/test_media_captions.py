"""Short-form captions: safe-area line breaking measured with the real fonts, every script,
word highlighting, karaoke and the caption animations - checked in the ASS and in real frames."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from tests.frames import frame_at
from vidassets.media import Cue, MediaParamError, burn_subtitles, default_profile, run_ffmpeg
from vidassets.media.burn import (
    ANIMATIONS,
    build_ass,
    caption_events,
    line_box,
    safe_area,
    subtitle_style,
)
from vidassets.media.fonts import measure_text
from vidassets.media.subtitles import CueWord, LineBox, cues_from_text, cues_from_words, layout_cue

LONG_LATIN = ("Supercalifragilistic captions should never run off the edge of a vertical phone video "
              "even when the sentence is long and WWWWWW wide")
SCRIPTS = {
    "latin": LONG_LATIN,
    "arabic": "مرحبا بالعالم هذه ترجمة طويلة جدا يجب أن تبقى داخل المنطقة الآمنة من الإطار العمودي",
    "chinese": "你好世界。这是一个很长的中文句子，用来测试竖屏视频中的换行是否保持在安全区域之内。",
    "japanese": "これは縦長の動画で字幕が安全な領域に収まるかどうかを確かめるための長い文章です。",
    "emoji": "We did it 🎉🔥 best day ever 😂😂 thanks everyone ❤️ see you tomorrow 👋",
    "mixed": "Hello 你好 مرحبا 🎉 wonderful world of captions",
}


def _dialogue_texts(ass: str) -> list[str]:
    return [line.split(",", 9)[9] for line in ass.splitlines() if line.startswith("Dialogue:")]


def _shown_lines(event_text: str) -> list[str]:
    """The lines an event draws: tags removed, font switches and escapes undone."""
    text = re.sub(r"(?<!\\)\{[^}]*\}", "", event_text)
    text = text.replace("\\{", "{").replace("\\}", "}").replace("\u2060", "")
    return text.split("\\N")


@pytest.fixture(scope="module")
def tall_gray(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A uniform gray 9:16 clip (360x640, 2 s, with audio): any drawn text stands out."""
    out = tmp_path_factory.mktemp("captions") / "tall.mp4"
    p = default_profile()
    run_ffmpeg(["-f", "lavfi", "-i", "color=0x606060:s=360x640:r=24:d=2", "-f", "lavfi", "-i", "sine=d=2:r=48000",
                "-map", "0:v", "-map", "1:a", *p.video_args(), *p.audio_args(), *p.container_args(), str(out)])
    return out


def _ink(path: Path, reference: Path, t: float) -> np.ndarray:
    return np.abs(frame_at(path, t) - frame_at(reference, t)).mean(axis=2) > 40


# ------------------------------------------------------------------ safe area


def test_safe_areas_by_shape() -> None:
    tall, square, wide = safe_area(1080, 1920), safe_area(1080, 1080), safe_area(1920, 1080)
    assert tall.left == tall.right >= 0.1 * 1080 and tall.bottom >= 0.18 * 1920
    assert square.bottom < tall.bottom / 1920 * 1080 and square.left == round(0.08 * 1080)
    assert (wide.left, wide.bottom) == (96, 65)


@pytest.mark.parametrize("size", [(1080, 1920), (720, 1280), (1080, 1080), (360, 640)])
@pytest.mark.parametrize("script", sorted(SCRIPTS))
@pytest.mark.parametrize("preset", ["default", "tiktok", "bold"])
def test_every_line_fits_the_safe_area(size: tuple[int, int], script: str, preset: str) -> None:
    """Lines measured with the shipped fonts' advance widths never exceed the safe width."""
    width, height = size
    style = subtitle_style(preset)
    area = style.margins(width, height)
    room = width - area.left - area.right
    fontsize = style.resolved_font_size(width, height)
    box = line_box(style, width, height)
    cues = cues_from_text(SCRIPTS[script], 10.0, box=box, max_lines=style.max_lines, max_words=style.max_words)
    doc = build_ass(cues, style, width, height)
    lines = [line for text in _dialogue_texts(doc) for line in _shown_lines(text)]
    assert lines
    for line in lines:
        assert measure_text(line, style.font_family, fontsize, bold=style.bold) <= room, (line, room)
    assert all(len(_shown_lines(t)) <= style.max_lines for t in _dialogue_texts(doc))
    shown = "".join("".join(_shown_lines(t)) for t in _dialogue_texts(doc)).replace(" ", "")
    assert set(SCRIPTS[script].replace(" ", "")) <= set(shown)  # nothing lost on the way


def test_measured_widths_match_what_libass_draws(tmp_path: Path) -> None:
    """The layout's yardstick is honest: rendered ink is within a few per cent of the measure."""
    wide = tmp_path / "wide.mp4"
    p = default_profile()
    run_ffmpeg(["-f", "lavfi", "-i", "color=black:s=1600x200:r=10:d=1", *p.video_args(), *p.container_args(),
                str(wide)])
    style = subtitle_style(font_size=80, outline_ratio=0, position="center")
    for text in ("Hello world of captions", "你好世界字幕", "Party 🎉🔥 time"):
        out = burn_subtitles(wide, tmp_path / "m.mp4", cues=[Cue(0.0, 1.0, text)], style=style)
        cols = np.where((frame_at(out.path, 0.5).mean(axis=2) > 60).any(axis=0))[0]
        drawn = cols.max() - cols.min()
        assert drawn == pytest.approx(measure_text(text, size=80), rel=0.06), text


def test_lines_stay_inside_the_safe_area_when_drawn(tall_gray: Path, tmp_path: Path) -> None:
    style = subtitle_style("tiktok")
    box = line_box(style, 360, 640)
    area = style.margins(360, 640)
    for name in ("latin", "arabic", "chinese", "emoji"):
        cues = cues_from_text(SCRIPTS[name], 2.0, box=box, max_lines=2, max_words=None)
        first = Cue(0.0, 2.0, cues[0].text)  # the first caption, shown for the whole clip
        out = burn_subtitles(tall_gray, tmp_path / f"{name}.mp4", cues=[first], style=style)
        ink = _ink(out.path, tall_gray, 1.0)
        cols, rows = np.where(ink.any(axis=0))[0], np.where(ink.any(axis=1))[0]
        assert len(cols) > 0, name
        outline = style.resolved_outline(360, 640) + 2
        assert cols.min() >= area.left - outline and cols.max() <= 360 - area.right + outline, name
        assert rows.max() <= 640 - area.bottom + outline, name  # above the phone UI at the bottom


@pytest.mark.parametrize("text", [SCRIPTS["arabic"], SCRIPTS["chinese"], SCRIPTS["emoji"], SCRIPTS["mixed"],
                                  "\u200f\u202eRTL override\u202c", "a\u0301\u0302 zalgo", "🏳️‍🌈👩‍👩‍👧"])
def test_any_script_renders_with_highlight(text: str, tall_gray: Path, tmp_path: Path) -> None:
    style = subtitle_style("tiktok")
    cues = cues_from_text(text, 2.0, box=line_box(style, 360, 640), max_lines=2, max_words=5)
    out = burn_subtitles(tall_gray, tmp_path / "s.mp4", cues=cues, style=style)
    assert out.duration == pytest.approx(2.0, abs=0.05) and out.has_audio
    assert _ink(out.path, tall_gray, 0.2).sum() > 100


def test_emoji_are_drawn_not_tofu(tall_gray: Path, tmp_path: Path) -> None:
    """Symbola gives emoji real (monochrome) outlines: they differ from .notdef boxes."""
    style = subtitle_style(font_size=60)
    real = burn_subtitles(tall_gray, tmp_path / "e.mp4", cues=[Cue(0.0, 2.0, "🎉🔥👍")], style=style)
    tofu = burn_subtitles(tall_gray, tmp_path / "t.mp4", cues=[Cue(0.0, 2.0, "\ue000" * 3)], style=style)
    real_ink, tofu_ink = _ink(real.path, tall_gray, 1.0), _ink(tofu.path, tall_gray, 1.0)
    assert real_ink.sum() > 200 and (real_ink ^ tofu_ink).sum() > 0.5 * real_ink.sum()


# ---------------------------------------------------------------- cue layout


def test_layout_keeps_author_breaks_and_splits_wide_lines() -> None:
    box = LineBox(12)
    laid = layout_cue(Cue(1.0, 3.0, "short\nthis line is far too wide"), box)
    lines = laid.text.split("\n")
    assert lines[0] == "short" and len(lines) >= 3 and all(len(line) <= 12 for line in lines)
    assert [w.text for w in laid.words] == "short this line is far too wide".split()
    assert laid.words[0].start == 1.0 and laid.words[-1].end == 3.0
    assert [w.line for w in laid.words] == sorted(w.line for w in laid.words)


def test_word_cues_keep_their_timings_and_clip_nothing() -> None:
    words = [(0.1 * i, 0.1 * i + 0.08, f"w{i}") for i in range(30)]
    cues = cues_from_words(words, box=LineBox(20), max_lines=1, max_words=4)
    assert all(len(c.words) <= 4 and "\n" not in c.text for c in cues)
    timed = [(w.start, w.end, w.text) for c in cues for w in c.words]
    assert [t for _, _, t in timed] == [t for _, _, t in words]
    assert all(abs(a[0] - b[0]) < 1e-6 for a, b in zip(timed, words, strict=True))


def test_cjk_transcript_words_join_without_spaces() -> None:
    cues = cues_from_words([(0.0, 0.3, "你好"), (0.3, 0.6, "世界"), (0.6, 0.9, "hello"), (0.9, 1.2, "world")])
    assert cues[0].text == "你好世界 hello world"


# ---------------------------------------------------- highlight and karaoke


def _spoken_cue() -> Cue:
    words = (CueWord(0.2, 0.6, "one", 0), CueWord(0.6, 1.0, "two", 0), CueWord(1.0, 1.6, "three", 0))
    return Cue(0.2, 1.8, "one two three", words)


def test_word_highlight_events_follow_the_words() -> None:
    style = subtitle_style("tiktok", animation="none")
    events = caption_events(_spoken_cue(), style, 1080, 1920)
    assert [e.split(",")[1:3] for e in events] == [["0:00:00.20", "0:00:00.60"], ["0:00:00.60", "0:00:01.00"],
                                                   ["0:00:01.00", "0:00:01.80"]]
    lit = [re.search(r"\{\\1c&H00E0FF&\}(\w+)\{", e).group(1) for e in events]  # type: ignore[union-attr]
    assert lit == ["one", "two", "three"]


def test_karaoke_is_one_event_with_k_durations() -> None:
    events = caption_events(_spoken_cue(), subtitle_style("karaoke"), 1080, 1920)
    assert len(events) == 1
    assert re.findall(r"\\k(\d+)\}(\w*)", events[0]) == [("40", "one"), ("40", "two"), ("80", "three")]
    assert "\\1c&H00E0FF&\\2c&HFFFFFF&" in events[0]


def test_escaping_survives_word_events() -> None:
    words = (CueWord(0.0, 0.5, "{\\b1}x", 0), CueWord(0.5, 1.0, "end\\", 0), CueWord(1.0, 1.5, "N", 0))
    cue = Cue(0.0, 1.5, "{\\b1}x end\\ N", words)
    for preset in ("tiktok", "karaoke"):
        for event in caption_events(cue, subtitle_style(preset), 640, 360):
            text = event.split(",", 9)[9]
            assert "{\\b1}" not in text and "\\{\\b1\\}x" in text
            assert "end\\\u2060" in text  # the trailing backslash can never form \N with what follows


# ---------------------------------------------------------------- animations


@pytest.mark.parametrize("animation", ANIMATIONS)
def test_each_animation_renders(animation: str, tall_gray: Path, tmp_path: Path) -> None:
    style = subtitle_style("default", animation=animation, font_size=32)
    cue = layout_cue(Cue(0.2, 1.8, "one two three four"), line_box(style, 360, 640))
    doc = build_ass([cue], style, 360, 640)
    tag = {"fade": "\\fad(", "slide": "\\move(", "pop": "\\fscx70", "typewriter": "\\alpha&HFF&"}.get(animation)
    if tag:
        assert tag in doc
    out = burn_subtitles(tall_gray, tmp_path / f"{animation}.mp4", cues=[cue], style=style)
    late = _ink(out.path, tall_gray, 1.7).sum()
    assert late > 200
    early = _ink(out.path, tall_gray, 0.25).sum()
    if animation in ("fade", "pop", "typewriter", "slide"):
        assert early < late  # coming in: faint, small, few words or moving
    else:
        assert early == pytest.approx(late, rel=0.2)


def test_typewriter_reveals_word_by_word(tall_gray: Path, tmp_path: Path) -> None:
    style = subtitle_style("default", animation="typewriter", font_size=32)
    cue = layout_cue(Cue(0.0, 2.0, "one two three four"), line_box(style, 360, 640))
    out = burn_subtitles(tall_gray, tmp_path / "tw.mp4", cues=[cue], style=style)
    counts = [int(_ink(out.path, tall_gray, t).sum()) for t in (0.2, 0.7, 1.2, 1.7)]
    assert counts == sorted(counts) and counts[0] < counts[-1] * 0.5


def test_presets_and_aliases() -> None:
    assert subtitle_style("TikTok") == subtitle_style("highlight") == subtitle_style("shorts")
    tiktok = subtitle_style("tiktok")
    assert tiktok.highlight == "word" and tiktok.bold and tiktok.max_words == 5
    assert subtitle_style("karaoke").highlight == "karaoke"
    assert subtitle_style("minimal", animation="fade").animation == "fade"
    for bad in ({"animation": "spin"}, {"highlight": "glow"}, {"max_lines": 9}, {"max_words": 0}):
        with pytest.raises(MediaParamError):
            subtitle_style(**bad)  # type: ignore[arg-type]




def test_word_cues_never_overlap() -> None:
    """A cue's last word may end after the next cue's first word starts; the events must not
    overlap, or libass would stack the two captions for a moment."""
    cues = cues_from_words([(0.0, 0.5, "first."), (0.4, 0.9, "second"), (0.9, 1.3, "third.")])
    assert [(c.start, c.end) for c in cues] == [(0.0, 0.4), (0.4, 1.3)]
    assert cues[0].words[-1].end <= cues[1].start


def test_karaoke_with_typewriter_fills_spoken_words() -> None:
    events = caption_events(_spoken_cue(), subtitle_style("karaoke", animation="typewriter"), 1080, 1920)
    last = events[-1]
    assert last.count("\\1c&H00E0FF&") == 3 and "\\alpha&HFF&" not in last
    assert events[0].count("\\1c&H00E0FF&") == 1 and "\\alpha&HFF&" in events[0]


def test_a_timed_phrase_keeps_its_spaces() -> None:
    cue = cues_from_words([(0.0, 1.0, "hello world"), (1.0, 2.0, "again")])[0]
    assert cue.text == "hello world again" and [w.text for w in cue.words] == ["hello", "world", "again"]
    assert cue.words[1].start == pytest.approx(0.5, abs=0.05)
