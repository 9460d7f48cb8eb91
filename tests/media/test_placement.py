"""placement: the SDK's presets, tailwind strings and custom objects resolved to rectangles (pure)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from vidassets.media import MediaParamError
from vidassets.media.placement import EDGE_MARGIN, POSITIONS, Placement, Rect, parse_placement

CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")
EDGES = ("top", "bottom", "left", "right")

canvas_sides = st.integers(min_value=16, max_value=4096)
media_sides = st.integers(min_value=2, max_value=8192)
fractions = st.tuples(st.integers(1, 12), st.integers(1, 12)).filter(lambda nd: nd[0] <= nd[1])


@st.composite
def tailwind(draw: st.DrawFn) -> str:
    tokens = []
    if draw(st.booleans()):
        n, d = draw(fractions)
        tokens.append(draw(st.sampled_from([f"w-{n}/{d}", "w-full"])))
    if draw(st.booleans()):
        n, d = draw(fractions)
        tokens.append(draw(st.sampled_from([f"h-{n}/{d}", "h-full"])))
    if draw(st.booleans()) or not tokens:
        tokens.append(draw(st.sampled_from(sorted(POSITIONS))))
    return " ".join(draw(st.permutations(tokens)))


any_placement = st.one_of(
    st.sampled_from(["full", "center", "pip", "picture-in-picture", "top-left-quarter", "bottom-right-quarter"]),
    tailwind(),
)


def margin(cw: int, ch: int) -> int:
    """The edge margin on a canvas (whose sides are first evened, as every rectangle is)."""
    return round(EDGE_MARGIN * min(cw - cw % 2, ch - ch % 2))


# ------------------------------------------------------------------ documented examples


def test_default_and_full_cover_the_canvas() -> None:
    for value in (None, "full", " FULL "):
        assert parse_placement(value).rect(1920, 1080, 640, 480) == Rect(0, 0, 1920, 1080, cover=True)


def test_pip_is_a_quarter_width_in_the_bottom_right_corner_with_a_margin() -> None:
    assert parse_placement("pip") == parse_placement("picture-in-picture") == parse_placement("w-1/4 bottom-right")
    r = parse_placement("pip").rect(1920, 1080, 1920, 1080)
    assert (r.w, r.h) == (480, 270)
    assert (1920 - r.x - r.w, 1080 - r.y - r.h) == (32, 32)  # 3 % of 1080, evened


def test_center_keeps_the_original_size_and_shrinks_what_does_not_fit() -> None:
    assert parse_placement("center").rect(1920, 1080, 200, 100) == Rect(860, 490, 200, 100)
    big = parse_placement("center").rect(1280, 720, 3840, 2160)
    assert big == Rect(0, 0, 1280, 720)


def test_logo_top_right_keeps_its_size_and_stays_off_the_edges() -> None:
    r = parse_placement("top-right").rect(1920, 1080, 200, 100)
    assert (r.w, r.h) == (200, 100)
    assert r.y == 32 and 1920 - (r.x + r.w) == 32


def test_one_side_keeps_the_aspect_both_sides_fit_inside_the_box() -> None:
    assert parse_placement("w-1/2 center").rect(1920, 1080, 400, 300) == Rect(480, 180, 960, 720)
    r = parse_placement("h-1/3 top").rect(1920, 1080, 1920, 1080)
    assert (r.w, r.h, r.y) == (640, 360, 32)
    box = parse_placement("w-1/2 h-1/2 top-left").rect(1920, 1080, 1000, 1000)  # square media, wide box
    assert (box.w, box.h, box.x, box.y) == (540, 540, 32, 32)


def test_quarter_presets_fill_their_quarter_flush() -> None:
    assert parse_placement("top-left-quarter").rect(1920, 1080, 1920, 1080) == Rect(0, 0, 960, 540)
    assert parse_placement("bottom-right-quarter").rect(1920, 1080, 1920, 1080) == Rect(960, 540, 960, 540)


def test_custom_pixels_and_percentages_from_the_docs() -> None:
    fixed = parse_placement({"width": "300", "height": "200", "position": {"x": "50", "y": "100"}})
    assert fixed.rect(1920, 1080, 300, 200) == Rect(50, 100, 300, 200)
    half = parse_placement({"width": "50%", "height": "50%", "position": {"x": "25%", "y": "25%"}})
    assert half.rect(1920, 1080, 1920, 1080) == Rect(240, 136, 960, 540)  # 25 % of the free space (135, evened)
    corner = parse_placement({"width": "25%", "position": {"x": "100%", "y": "100%"}, "padding": 20})
    assert corner.rect(1920, 1080, 1920, 1080) == Rect(1420, 790, 480, 270)


def test_custom_aspect_ratio_shapes_the_box_and_covers_it() -> None:
    r = parse_placement({"width": "50%", "aspectRatio": "1:1"}).rect(1920, 1080, 1920, 1080)
    assert (r.w, r.h, r.cover) == (960, 960, True)
    crop = parse_placement({"aspectRatio": "9:16"}).rect(1920, 1080, 1280, 720)
    assert (crop.w, crop.h) == (404, 720)  # 405, evened


def test_numbers_are_accepted_as_json_numbers_too() -> None:
    assert parse_placement({"width": 300, "position": {"x": 0, "y": 0}}).rect(1920, 1080, 600, 300) == Rect(0, 0, 300, 150)


def test_aliases_of_the_older_sdk() -> None:
    assert parse_placement("top-center").rect(640, 360, 100, 50) == parse_placement("top").rect(640, 360, 100, 50)
    assert parse_placement("Center-Right").spec == "center-right"


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ({"width": "iw/2"}, "placement.width"),
        ({"height": "ih/2"}, "placement.height"),
        ({"position": {"x": "(W-w)/2"}}, "placement.position.x"),
        ({"position": {"y": "main_h-overlay_h"}}, "placement.position.y"),
        ({"width": "50%;drawtext=text=x"}, "placement.width"),
        ({"width": "50px"}, "placement.width"),
        ({"width": "101%"}, "placement.width"),
        ({"width": "0"}, "placement.width"),
        ({"width": "20000"}, "placement.width"),
        ({"width": True}, "placement.width"),
        ({"width": float("nan")}, "placement.width"),
        ({"position": {"x": "-5"}}, "placement.position.x"),
        ({"position": {"z": "5"}}, "'z'"),
        ({"position": "center"}, "placement.position"),
        ({"padding": "5%"}, "placement.padding"),
        ({"padding": -1}, "placement.padding"),
        ({"aspectRatio": "wide"}, "placement.aspectRatio"),
        ({"aspectRatio": "100:1"}, "placement.aspectRatio"),
        ({"left": "5"}, "'left'"),
        ("w-13/12", "'w-13/12'"),
        ("w-3/2", "'w-3/2'"),
        ("w-0/4", "'w-0/4'"),
        ("w-1/2 w-1/3", "width twice"),
        ("top left", "two positions"),
        ("pip top", "'pip'"),
        ("sideways", "'sideways'"),
        ("w-1/2;scale=1:1", "'w-1/2;scale=1:1'"),
        (42, "int"),
    ],
)
def test_hostile_or_bad_values_are_refused_naming_the_part(value: Any, names: str) -> None:
    with pytest.raises(ValueError, match="placement|position|fraction|class") as info:
        parse_placement(value)
    assert isinstance(info.value, MediaParamError)
    assert names in str(info.value)


@given(st.text(max_size=60))
def test_any_string_parses_or_is_a_param_error(text: str) -> None:
    try:
        placement = parse_placement(text)
    except MediaParamError:
        return
    rect = placement.rect(320, 180, 64, 48)
    assert 0 <= rect.x <= 320 - rect.w and 0 <= rect.y <= 180 - rect.h


@given(st.text(max_size=30), st.sampled_from(["width", "height", "x", "y"]))
def test_custom_values_are_numbers_or_percentages_only(text: str, field: str) -> None:
    value: dict[str, Any] = {"position": {field: text}} if field in ("x", "y") else {field: text}
    try:
        parse_placement(value)
    except MediaParamError as exc:
        assert field in str(exc)
        return
    assert set(text.strip().rstrip("%").strip()) <= set("0123456789.")


# ------------------------------------------------------------------ properties


@settings(max_examples=300)
@given(any_placement, canvas_sides, canvas_sides, media_sides, media_sides)
def test_rect_is_even_and_inside_the_canvas(spec: str, cw: int, ch: int, mw: int, mh: int) -> None:
    r = parse_placement(spec).rect(cw, ch, mw, mh)
    assert all(v % 2 == 0 for v in (r.x, r.y, r.w, r.h))
    assert r.w >= 2 and r.h >= 2
    assert 0 <= r.x and r.x + r.w <= cw and 0 <= r.y and r.y + r.h <= ch


@settings(max_examples=300)
@given(any_placement, canvas_sides, canvas_sides, media_sides, media_sides)
def test_aspect_is_kept_within_rounding(spec: str, cw: int, ch: int, mw: int, mh: int) -> None:
    placement = parse_placement(spec)
    assume(not placement.cover)
    r = placement.rect(cw, ch, mw, mh)
    assume(min(r.w, r.h) >= 8)  # a box clamped to the 2 px minimum cannot keep any shape
    aspect = mw / mh
    # Each side is rounded to even pixels on its own: one pixel each, scaled by the aspect.
    assert abs(r.w - r.h * aspect) <= 1 + aspect + 1e-9


@settings(max_examples=200)
@given(st.sampled_from(CORNERS + EDGES), canvas_sides, canvas_sides, media_sides, media_sides)
def test_positions_land_on_their_edges_with_the_margin(pos: str, cw: int, ch: int, mw: int, mh: int) -> None:
    r = parse_placement(pos).rect(cw, ch, mw, mh)
    m = margin(cw, ch)
    left, right, top, bottom = r.x, cw - cw % 2 - r.x - r.w, r.y, ch - ch % 2 - r.y - r.h
    room_w, room_h = cw - cw % 2 - 2 * m, ch - ch % 2 - 2 * m
    if "left" in pos:
        assert abs(left - m) <= 1
    if "right" in pos:
        assert abs(right - m) <= 1
    if "top" in pos:
        assert abs(top - m) <= 1
    if "bottom" in pos:
        assert abs(bottom - m) <= 1
    if pos in ("top", "bottom"):
        assert abs(left - right) <= 2
    if pos in ("left", "right"):
        assert abs(top - bottom) <= 2
    if room_w >= 2 and room_h >= 2:
        assert r.w <= max(2, room_w) and r.h <= max(2, room_h)


@given(canvas_sides, canvas_sides, media_sides, media_sides)
def test_center_is_centred_and_never_enlarged(cw: int, ch: int, mw: int, mh: int) -> None:
    r = parse_placement("center").rect(cw, ch, mw, mh)
    ew, eh = cw - cw % 2, ch - ch % 2
    assert abs(r.x - (ew - r.w) / 2) <= 1 and abs(r.y - (eh - r.h) / 2) <= 1
    assert r.w <= max(2, mw + 1) and r.h <= max(2, mh + 1)
    assert r.w == ew or r.h == eh or (abs(r.w - mw) <= 1 and abs(r.h - mh) <= 1)


@given(st.integers(0, 100), st.integers(0, 100), st.integers(0, 200), canvas_sides, canvas_sides)
def test_percent_positions_move_along_the_free_space(px: int, py: int, pad: int, cw: int, ch: int) -> None:
    placement = parse_placement({"width": "20%", "position": {"x": f"{px}%", "y": f"{py}%"}, "padding": pad})
    r = placement.rect(cw, ch, 160, 90)
    inset_x, inset_y = min(pad, (cw - cw % 2 - 2) // 2), min(pad, (ch - ch % 2 - 2) // 2)
    free_x = cw - cw % 2 - 2 * inset_x - r.w
    free_y = ch - ch % 2 - 2 * inset_y - r.h
    assert abs(r.x - (inset_x + px / 100 * free_x)) <= 1
    assert abs(r.y - (inset_y + py / 100 * free_y)) <= 1


@given(st.integers(0, 16384), st.integers(0, 16384), canvas_sides, canvas_sides)
def test_pixel_positions_are_clamped_inside(x: int, y: int, cw: int, ch: int) -> None:
    r = parse_placement({"width": "100", "position": {"x": str(x), "y": str(y)}}).rect(cw, ch, 100, 100)
    assert 0 <= r.x <= cw - r.w and 0 <= r.y <= ch - r.h
    if x + r.w <= cw - cw % 2 and x % 2 == 0:
        assert r.x == x


def test_rect_is_deterministic_and_rejects_bad_sizes() -> None:
    placement = parse_placement("w-1/3 bottom")
    assert placement.rect(1280, 720, 333, 777) == placement.rect(1280, 720, 333, 777)
    with pytest.raises(MediaParamError, match="canvas width"):
        placement.rect(0, 720, 10, 10)
    with pytest.raises(MediaParamError, match="media height"):
        placement.rect(1280, 720, 10, 1)
    assert isinstance(placement, Placement) and placement.spec == "w-1/3 bottom"
