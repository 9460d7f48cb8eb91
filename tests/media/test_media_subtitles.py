"""Subtitle parsing (SRT/VTT edge cases), cue generation, styles and ASS escaping - all pure."""

from __future__ import annotations

import itertools

import pytest

from vidassets.media import (
    Cue,
    MediaParamError,
    ass_escape,
    build_ass,
    cues_from_text,
    cues_from_words,
    format_srt,
    parse_colour,
    parse_srt,
    parse_subtitles,
    parse_vtt,
    subtitle_style,
)
from vidassets.media.burn import WORD_JOINER, ass_colour

# ------------------------------------------------------------------------ SRT


def test_srt_basic() -> None:
    srt = "1\n00:00:01,000 --> 00:00:02,500\nHello\nworld\n\n2\n00:00:03,000 --> 00:00:04,000\nBye\n"
    assert parse_srt(srt) == [Cue(1.0, 2.5, "Hello\nworld"), Cue(3.0, 4.0, "Bye")]


def test_srt_bom_crlf_no_final_newline_and_tags() -> None:
    srt = (
        "\ufeff1\r\n00:00:00,500 --> 00:00:01,000\r\n<i>Hi</i> <b>there</b>\r\n\r\n"
        "2\r\n00:00:01,000 --> 00:00:02,000\r\n{\\an8}last"
    )
    cues = parse_srt(srt)
    assert cues == [Cue(0.5, 1.0, "Hi there"), Cue(1.0, 2.0, "{\\an8}last")]  # ASS-ish text stays literal


def test_srt_tolerates_missing_index_dot_separator_and_hours() -> None:
    srt = "00:01.000 --> 00:02.000\nno index\n\n7\n1:00:00.25 --> 1:00:01.5\nlong\n\n3\nnot a timing\ntext\n"
    assert parse_srt(srt) == [Cue(1.0, 2.0, "no index"), Cue(3600.25, 3601.5, "long")]


def test_srt_skips_empty_ranges_and_sorts() -> None:
    srt = (
        "1\n00:00:04,000 --> 00:00:04,000\nzero length\n\n"
        "2\n00:00:02,000 --> 00:00:03,000\nb\n\n"
        "3\n00:00:00,000 --> 00:00:01,000\na\n"
    )
    assert [c.text for c in parse_srt(srt)] == ["a", "b"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("1\n00:00:01,000 --> 00:00:02,000\na\n\n2\n00:00:02,000 --> 00:00:03,000\nb\n\n"
         "3\n00:00:02,000 --> 00:00:01,000\nbackwards\n", "srt: cue 3: end 00:00:01,000 is before start 00:00:02,000"),
        ("1\n-00:00:01,000 --> 00:00:02,000\nnegative\n", "srt: cue 1: negative time -00:00:01,000"),
        ("1\n00:00:01,000 --> 07:00:00,000\nabsurd\n", "srt: cue 1: end 07:00:00,000 is beyond 6 hours"),
        ("WEBVTT\n\nNOTE x\n\n00:01.000 --> 00:02.000\nok\n\nid\n00:05.000 --> 00:04.500\nno\n",
         "vtt: cue 2: end 00:00:04.500 is before start 00:00:05.000"),
    ],
)
def test_impossible_timings_name_the_cue(content: str, message: str) -> None:
    with pytest.raises(MediaParamError) as info:
        parse_subtitles(content)
    assert str(info.value) == message


def test_overlapping_and_unordered_cues_are_fine() -> None:
    srt = "1\n00:00:02,000 --> 00:00:05,000\nlate\n\n2\n00:00:01,000 --> 00:00:03,000\nearly\n"
    assert [c.text for c in parse_srt(srt)] == ["early", "late"]


def test_srt_position_coordinates_are_ignored() -> None:
    srt = "1\n00:00:01,000 --> 00:00:02,000 X1:10 X2:100 Y1:10 Y2:50\ntext\n"
    assert parse_srt(srt) == [Cue(1.0, 2.0, "text")]


# ------------------------------------------------------------------------ VTT


def test_vtt_with_settings_ids_notes_style_and_entities() -> None:
    vtt = (
        "\ufeffWEBVTT - some title\r\n\r\n"
        "NOTE this is a comment\r\nspanning lines\r\n\r\n"
        "STYLE\r\n::cue { color: red }\r\n\r\n"
        "intro\r\n00:01.000 --> 00:02.000 align:start position:10% line:0\r\n<v Roger>Hello &amp; welcome</v>\r\n\r\n"
        "00:00:02.500 --> 00:00:04.000\r\n<c.yellow>Two</c> <00:00:03.000>lines &lt;3\r\nsecond"
    )
    assert parse_vtt(vtt) == [Cue(1.0, 2.0, "Hello & welcome"), Cue(2.5, 4.0, "Two lines <3\nsecond")]


def test_vtt_requires_header() -> None:
    with pytest.raises(MediaParamError):
        parse_vtt("00:01.000 --> 00:02.000\nx\n")


def test_vtt_cue_right_after_header_line() -> None:
    assert parse_vtt("WEBVTT\n00:00.000 --> 00:01.000\nsqueezed") == [Cue(0.0, 1.0, "squeezed")]


def test_autodetect() -> None:
    assert parse_subtitles("WEBVTT\n\n00:00.000 --> 00:01.000\nv\n") == [Cue(0.0, 1.0, "v")]
    assert parse_subtitles("1\n00:00:00,000 --> 00:00:01,000\ns\n") == [Cue(0.0, 1.0, "s")]


def test_format_srt_round_trip() -> None:
    cues = [Cue(0.0, 1.25, "a\nb"), Cue(3661.5, 3662.0, "c")]
    assert parse_srt(format_srt(cues)) == cues


# ------------------------------------------------------------ cues_from_text


def test_cues_from_text_fills_window_by_word_count() -> None:
    text = "one two three four five six seven eight nine ten eleven twelve"
    cues = cues_from_text(text, 12.0, max_chars_per_line=16, max_lines=1)
    assert cues[0].start == 0.0 and cues[-1].end == 12.0
    for a, b in itertools.pairwise(cues):
        assert a.end == pytest.approx(b.start)
    words = [len(c.text.split()) for c in cues]
    for cue, n in zip(cues, words, strict=True):
        assert cue.end - cue.start == pytest.approx(12.0 * n / 12, abs=0.01)
    assert all(len(line) <= 16 for c in cues for line in c.text.split("\n"))


def test_cues_from_text_timing_window_and_clipping() -> None:
    cues = cues_from_text("Hello there. General Kenobi!", 10.0, timing=(2.0, 6.0))
    assert cues[0].start == 2.0 and cues[-1].end == 6.0
    clipped = cues_from_text("word", 5.0, timing=(4.0, 99.0))
    assert (clipped[0].start, clipped[0].end) == (4.0, 5.0)
    with pytest.raises(MediaParamError):
        cues_from_text("x", 5.0, timing=(6.0, 7.0))


def test_cues_from_text_lines_and_cjk() -> None:
    cues = cues_from_text("你好世界。这是一个很长的中文句子，用来测试换行。", 6.0, max_chars_per_line=12)
    assert cues and all(len(line) <= 6 for c in cues for line in c.text.split("\n"))  # wide chars count double
    assert cues_from_text("   ", 3.0) == []


def test_cues_from_words_groups_by_pause_and_length() -> None:
    words = [
        {"word": " Hello", "start": 0.0, "end": 0.4},
        {"word": " world.", "start": 0.45, "end": 0.9},
        {"word": " After", "start": 3.0, "end": 3.3},
        {"word": " a", "start": 3.35, "end": 3.4},
        {"word": " pause", "start": 3.45, "end": 3.9},
    ]
    cues = cues_from_words(words)
    assert cues == [Cue(0.0, 0.9, "Hello world."), Cue(3.0, 3.9, "After a pause")]
    tuples = [(i * 0.3, i * 0.3 + 0.25, f"w{i}") for i in range(40)]
    long = cues_from_words(tuples, max_chars_per_line=12, max_lines=2)
    assert len(long) > 3 and all(c.text.count("\n") <= 1 for c in long)


def test_cue_validation() -> None:
    with pytest.raises(MediaParamError):
        Cue(2.0, 1.0, "x")


# ---------------------------------------------------------------- styles / ASS


def test_presets_and_overrides() -> None:
    assert subtitle_style().position == "bottom"
    assert subtitle_style("bold").bold and subtitle_style("bold").background
    assert subtitle_style("minimal").relative_size < subtitle_style().relative_size
    style = subtitle_style("default", color="#FFFF00", position="top", font_size=None)
    assert style.color == "#FFFF00" and style.position == "top"
    for bad in (
        {"preset": "fancy"},
        {"color": "not-a-colour"},
        {"position": "left"},
        {"nope": 1},
        {"font_family": "A,B"},
    ):
        with pytest.raises(MediaParamError):
            subtitle_style(**bad)  # type: ignore[arg-type]


def test_colours() -> None:
    assert parse_colour("#fff") == (255, 255, 255, 255)
    assert parse_colour("#000000A0") == (0, 0, 0, 160)
    assert ass_colour("#FF8000") == "&H000080FF"
    assert ass_colour("#00000080") == "&H7F000000"


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("{\\b1}bold?", "\\{\\b1\\}bold?"),
        ("line1\nline2", "line1\\Nline2"),
        ("literal \\N here", f"literal \\{WORD_JOINER}N here"),
        ("\\h and \\n", f"\\{WORD_JOINER}h and \\{WORD_JOINER}n"),
        ("ends with \\", f"ends with \\{WORD_JOINER}"),
        ("a:b,c;d[e]\\f%g", "a:b,c;d[e]\\f%g"),
    ],
)
def test_ass_escape(text: str, escaped: str) -> None:
    assert ass_escape(text) == escaped


def test_build_ass_document() -> None:
    doc = build_ass([Cue(1.0, 2.5, "你好 world {x}")], subtitle_style("bold"), 1280, 720)
    assert "PlayResX: 1280" in doc and "PlayResY: 720" in doc
    assert "Style: Default,Noto Sans,47," in doc  # 0.065 * 720
    dialogue = [line for line in doc.splitlines() if line.startswith("Dialogue:")]
    assert dialogue == [
        "Dialogue: 0,0:00:01.00,0:00:02.50,Default,,0,0,0,,{\\fnWenQuanYi Micro Hei}你好 {\\fnNoto Sans}world \\{x\\}"
    ]
