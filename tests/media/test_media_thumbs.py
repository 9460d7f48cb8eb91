"""Keyframe spacing of our encodes and the contact sheets built on it."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from vidassets import media
from vidassets.media.probe import keyframe_times
from vidassets.media.thumbs import tile_times


def test_every_encode_has_a_keyframe_at_least_every_two_seconds(tmp_path: Path) -> None:
    clip = media.render_local_clip(tmp_path / "c.mp4", prompt="gop", duration=7, resolution="320x180", seed=1).path
    keys = keyframe_times(clip)
    assert keys[0] == 0.0
    gaps = np.diff(keys + [media.probe(clip).duration])
    assert gaps.max() <= 2.0 + 1e-3, keys


def test_keyframe_times_match_a_decode_of_the_keyframes(tmp_path: Path) -> None:
    clip = media.render_local_clip(tmp_path / "k.mp4", prompt="keys", duration=5, resolution="320x180").path
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        stream.codec_context.skip_frame = "NONKEY"
        decoded = [round(float(f.time), 3) for f in container.decode(stream)]
    assert [round(t, 3) for t in keyframe_times(clip)] == decoded
    assert keyframe_times(tmp_path / "missing.mp4") == []


@pytest.mark.parametrize(("duration", "keys", "expected"), [
    (14.0, [0, 2, 4, 6, 8, 10, 12], [2.001, 6.001, 8.001, 12.001]),  # nearest keyframe in each slice
    (5.0, [0, 2, 4], [0.001, 2.001, 3.125, 4.001]),                    # a slice without one keeps its centre
    (14.0, [0, 10], [0.001, 5.25, 10.001, 12.25]),                     # sparse GOP (imported media)
    (14.0, None, [1.75, 5.25, 8.75, 12.25]),                           # keyframes unknown: centres
])
def test_tiles_sit_on_keyframes_when_a_slice_has_one(duration: float, keys: list[float] | None,
                                                     expected: list[float]) -> None:
    times = tile_times(duration, 4, keys)
    assert times == expected
    assert times == sorted(set(times))  # distinct and in order


def test_contact_sheet_shows_four_different_moments(tmp_path: Path) -> None:
    clip = media.render_local_clip(tmp_path / "c.mp4", prompt="sheet", duration=8, resolution="320x180", seed=4).path
    sheet = media.contact_sheet(clip, tmp_path / "sheet.jpg", tiles=4, tile_width=120)
    with av.open(str(sheet)) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="rgb24").astype(int)
    assert frame.shape[1] == 480 and frame.shape[0] in (67, 68)
    tiles = [frame[:, i * 120:(i + 1) * 120] for i in range(4)]
    for a, b in zip(tiles, tiles[1:], strict=False):
        assert np.abs(a - b).mean() > 2  # the procedural motion moves between tiles
