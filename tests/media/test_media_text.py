"""Filtergraph escaping, shipped fonts and line breaking."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidassets.media import escape_filter_value, fonts_dir, run_ffmpeg
from vidassets.media.filters import concat_list_entry, fmt_num, fps_text
from vidassets.media.fonts import SHIPPED_FONTS, covers, fontconfig_file, pick_font, split_runs
from vidassets.media.textlayout import text_width, wrap_text


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("/tmp/plain.ass", "/tmp/plain.ass"),
        ("/tmp/a:b", "/tmp/a\\\\:b"),
        ("/tmp/it's", "/tmp/it\\\\\\'s"),
        ("/tmp/x,y;z[w]", "/tmp/x\\,y\\;z\\[w\\]"),
        ("/tmp/back\\slash", "/tmp/back\\\\\\\\slash"),
    ],
)
def test_escape_filter_value(raw: str, escaped: str) -> None:
    assert escape_filter_value(raw) == escaped


def test_escape_refuses_newlines() -> None:
    with pytest.raises(ValueError):
        escape_filter_value("/tmp/a\nb")


def test_escaped_path_survives_real_ffmpeg(tmp_path: Path) -> None:
    """A textfile in a directory full of graph syntax is found, and its text drawn literally."""
    weird = tmp_path / "we'ird: dir, [x]; y\\z %{pts}"
    weird.mkdir()
    textfile = weird / "caption's.txt"
    textfile.write_text("'; drawtext=text=pwned:[out] %{pts}", encoding="utf-8")
    font = fonts_dir() / "NotoSans-Regular.ttf"
    graph = (
        f"color=gray:s=160x90:d=0.2,drawtext=fontfile={escape_filter_value(font)}"
        f":textfile={escape_filter_value(textfile)}:expansion=none:fontsize=12"
    )
    run_ffmpeg(["-f", "lavfi", "-i", graph, "-f", "null", "-"], timeout=30)


def test_number_formatting() -> None:
    assert fmt_num(1.0) == "1" and fmt_num(0.1 + 0.2) == "0.3" and fmt_num(-0.0000001) == "0"
    assert fps_text(24.0) == "24" and fps_text(29.97002997) == "30000/1001"
    assert concat_list_entry(Path("/a/it's.mp4")) == "file '/a/it'\\''s.mp4'"


def test_shipped_fonts_exist_with_licences() -> None:
    for font in SHIPPED_FONTS:
        assert font.path.is_file()
    assert (fonts_dir() / "LICENSE-OFL-1.1.txt").is_file() and (fonts_dir() / "LICENSE-Apache-2.0.txt").is_file()
    total = sum(p.stat().st_size for p in fonts_dir().iterdir())
    assert total < 12 * 1024 * 1024


def test_font_coverage_spans_scripts() -> None:
    for text in ("Hello, world", "你好世界", "مرحبا بالعالم", "한국어", "テスト", "Привет", "Γειά"):
        assert any(covers(f.path, text) for f in SHIPPED_FONTS), text
    assert pick_font("你好").name == "wqy-microhei.ttc"
    assert pick_font("hello").name == "NotoSans-Regular.ttf"
    assert [family for family, _ in split_runs("Hi 你好 مرحبا")] == [
        "Noto Sans",
        "WenQuanYi Micro Hei",
        "Noto Sans Arabic",
    ]


def test_fontconfig_file_lists_only_shipped_fonts() -> None:
    text = fontconfig_file().read_text()
    assert f"<dir>{fonts_dir()}</dir>" in text
    assert text.count("<dir>") == 1


def test_wrap_text() -> None:
    assert wrap_text("aaa bbb ccc", 7) == ["aaa bbb", "ccc"]
    assert wrap_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    lines = wrap_text("日本語のテキストです。とても長い。", 10)
    assert all(text_width(line) <= 10 for line in lines)
    assert not any(line.startswith("。") for line in lines)
