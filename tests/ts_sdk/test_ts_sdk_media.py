"""Today's TypeScript SDK's media operations, unmodified, against the real stack (issue 19):
layers(), merges of images and audio, generateImage() / generateAudio() on the fake vendors,
generated media inside merges, layers and an image-to-video model, removeBackgroundWithModel().

Pictures are checked where the placement says: the region of the output that differs from the
background video is the overlay's rectangle, computed here from the SDK docs' placement rules
(``pip`` is a quarter width in the bottom-right corner, corners keep 3 % of the short side free,
``w-1/4`` keeps the media's aspect...), not read back from the server's own layout. Sound is
checked by its tones: the music bed is 660 Hz, the vendors' speech 440 Hz.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest

from tests.frames import frame_at
from tests.providers.tts_fakes import RACHEL
from tests.ts_sdk.conftest import VENDOR_KEYS, Vendors
from tests.ts_sdk.test_ts_sdk import assert_duration, job
from tests.ts_sdk.test_ts_sdk_current import done, drive_current  # noqa: F401 - the module's driver fixture
from vidassets import media
from vidassets.providers.catalogue import lookup

pytestmark = pytest.mark.e2e
W, H = 640, 360  # the speech video every layer case sits on
M = round(0.03 * H)  # corners and edges keep 3 % of the short side free


@pytest.fixture(scope="module")
def cases(drive_current) -> dict[str, Any]:  # type: ignore[no-untyped-def]  # noqa: F811
    return drive_current("media.ts")


def fetch(url: str, dest: Path, content_type: str) -> Path:
    resp = httpx.get(url, timeout=60)
    assert resp.status_code == 200, (url, resp.status_code)
    assert resp.headers["content-type"] == content_type, resp.headers["content-type"]
    dest.write_bytes(resp.content)
    return dest


def video(o: dict[str, Any], tmp_path: Path, name: str = "out.mp4") -> media.MediaInfo:
    return media.probe(fetch(o["result"]["url"], tmp_path / name, "video/mp4"))


def changed_box(before: np.ndarray, after: np.ndarray, threshold: float = 60.0) -> tuple[int, int, int, int]:
    """The bounding box (x, y, w, h) of the pixels ``after`` changed, beyond encoding noise."""
    diff = np.abs(after - before).max(axis=2) > threshold
    # rows and columns with a few changed pixels: a lone pixel of the test pattern's motion is noise
    ys, xs = np.nonzero(diff.sum(axis=1) >= 4)[0], np.nonzero(diff.sum(axis=0) >= 4)[0]
    assert xs.size and ys.size, "nothing changed"
    return int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


def near(box: tuple[int, int, int, int], expected: tuple[float, float, float, float], tol: float = 8) -> None:
    assert all(abs(a - b) <= tol for a, b in zip(box, expected, strict=True)), (box, expected)


def overlay_box(o: dict[str, Any], speech_video: Path, tmp_path: Path, t: float = 0.5) -> tuple[int, int, int, int]:
    info = video(o, tmp_path)
    assert (info.width, info.height) == (W, H)
    assert_duration(info, 2.5)
    return changed_box(frame_at(speech_video, t), frame_at(tmp_path / "out.mp4", t))


def tone_level(path: Path, freq: float, start: float, end: float) -> float:
    """dB of ``freq`` in [start, end) of the file's first audio stream (a Hann-windowed FFT)."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.rate
        chunks = [frame.to_ndarray().astype(np.float64).mean(axis=0) for frame in container.decode(stream)]
    samples = np.concatenate(chunks)[int(start * rate):int(end * rate)]
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size))) / samples.size
    freqs = np.fft.rfftfreq(samples.size, 1 / rate)
    band = spectrum[(freqs > freq - 15) & (freqs < freq + 15)]
    return float(20 * np.log10(band.max() + 1e-12))


@pytest.fixture(scope="module")
def speech_video(media_dir: Path, sdk_media: dict[str, str]) -> Path:
    return media_dir / sdk_media["speechVideo_en"]


# -- layers ---------------------------------------------------------------------------------------------

LOGO = 48  # the logo's red square inside its 64 px transparent frame


@pytest.mark.parametrize("name, expected", [
    ("layers_pip", (W - 160 - M, H - 120 - M, 160, 120)),  # the 320x240 clip at a quarter width
    ("layers_logo", (W - 64 - M + 8, M + 8, LOGO, LOGO)),  # top-right, original size: only red shows
    ("layers_center", ((W - 64) // 2 + 8, (H - 64) // 2 + 8, LOGO, LOGO)),
    ("layers_tailwind", (M, H - 90 - M, 120, 90)),  # w-1/4 h-1/4 box (160x90), 4:3 fitted inside
    ("layers_custom", (50 + 12.5, 100 + 12.5, 75, 75)),  # 100x100 at (50, 100): the logo scaled by 100/64
    ("layers_percent", (W - 160 - 20, H - 120 - 20, 160, 120)),  # 25 % wide, x/y 100 %, 20 px padding
    ("layers_chroma", (W - 320 - M + 120, H - 240 - M + 80, 80, 80)),  # keyed: only the red box remains
])
def test_a_layer_sits_where_its_placement_says(api: httpx.Client, cases: dict[str, Any], speech_video: Path,
                                               tmp_path: Path, name: str,
                                               expected: tuple[float, float, float, float]) -> None:
    o = cases[name]
    view = done(api, o)
    near(overlay_box(o, speech_video, tmp_path), expected)
    result = job(view, "job1")["result"]
    assert all(c["passed"] for c in result["checks"]), result["checks"]
    assert result["details"]["render"]["fused"] is False  # layers are a graph of their own


def test_a_timeline_plays_its_items_in_turn(api: httpx.Client, cases: dict[str, Any], speech_video: Path,
                                            tmp_path: Path) -> None:
    o = cases["layers_timeline"]
    items = o["plan"]["jobs"][0]["params"]["layers"][1]
    assert items["isTimeline"] is True and [i.get("duration") for i in items["timeline"]] == [1, None]
    assert [i.get("placement") for i in items["timeline"]] == ["top-left", "w-1/3 top-left"]
    done(api, o)
    video(o, tmp_path)
    first, then = frame_at(tmp_path / "out.mp4", 0.5), frame_at(tmp_path / "out.mp4", 1.8)
    logo, photo = first[M + 32, M + 32], then[M + 120, M + 160]  # the centres of the logo and the photo
    assert logo[0] > 180 and logo[1] < 80 and logo[2] < 80, logo  # the red logo first (top-left, 64 px)
    assert photo[2] > 180 and photo[0] < 80 and photo[1] < 80, photo  # then the blue photo, a third wide
    beyond = then[M + 60, M + W // 3 + 40]  # right of a third of the width: the photo's own placement
    assert not (beyond[2] > 180 and beyond[0] < 80 and beyond[1] < 80), beyond
    assert not (then[M + 32, M + 32][0] > 180 and then[M + 32, M + 32][2] < 80)  # the logo has gone


def test_explicit_duration_and_size(api: httpx.Client, cases: dict[str, Any], tmp_path: Path) -> None:
    o = cases["layers_duration_size"]
    done(api, o)
    info = video(o, tmp_path)
    assert (info.width, info.height) == (480, 270)
    assert_duration(info, 2.0)
    frame = frame_at(tmp_path / "out.mp4", 1.0)
    assert frame[270 // 2, 480 // 2][0] > 180 and frame[5, 5][2] > 180  # the red logo on the blue photo


def test_the_main_layer_sets_the_duration(api: httpx.Client, cases: dict[str, Any], tmp_path: Path) -> None:
    o = cases["layers_main"]
    done(api, o)
    info = video(o, tmp_path)
    assert_duration(info, 1.0)  # the 1 s clip is main; the photo holds under it
    assert (info.width, info.height) == (320, 240)  # the first layer's size


# -- caption presets -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name, centre_y", [("captions_story", H / 2), ("captions_cinematic", H * 0.85)])
def test_story_and_cinematic_captions_sit_where_their_preset_puts_them(
        api: httpx.Client, cases: dict[str, Any], speech_video: Path, tmp_path: Path, name: str,
        centre_y: float) -> None:
    """story: a box in the middle of the frame; cinematic: light serif text near the bottom."""
    o = cases[name]
    assert o["plan"]["jobs"][0]["params"]["style"]["preset"] == name.removeprefix("captions_")
    done(api, o)
    x, y, w, h = overlay_box(o, speech_video, tmp_path, t=0.8)
    assert abs(x + w / 2 - W / 2) <= 24 and abs(y + h / 2 - centre_y) <= H * 0.12, (x, y, w, h)


# -- merges of images and audio ----------------------------------------------------------------------------


@pytest.mark.parametrize("name, duration", [("merge_slideshow", 3.0), ("merge_image_durations", 3.0),
                                            ("merge_music", 2.5), ("merge_offset", 3.5), ("merge_volume", 2.5),
                                            ("merge_trim", 2.0), ("merge_mixed", 5.0)])
def test_a_merge_of_images_and_audio_lasts_what_its_items_say(api: httpx.Client, cases: dict[str, Any],
                                                               tmp_path: Path, name: str, duration: float) -> None:
    o = cases[name]
    view = done(api, o)
    info = video(o, tmp_path)
    assert_duration(info, duration, tol=0.15)
    assert info.has_audio
    result = job(view, "job1")["result"]
    assert all(c["passed"] for c in result["checks"]), result["checks"]


def test_music_is_laid_under_from_its_offset(api: httpx.Client, cases: dict[str, Any], tmp_path: Path) -> None:
    o = cases["merge_offset"]
    done(api, o)
    path = tmp_path / "out.mp4"
    video(o, tmp_path)
    before, after = tone_level(path, 660, 0.2, 1.3), tone_level(path, 660, 1.8, 3.3)
    assert after - before > 20, (before, after)


def test_volume_keeps_the_music_under_the_quieter_video(api: httpx.Client, cases: dict[str, Any],
                                                       tmp_path: Path) -> None:
    """``{url: video, volume: 0.3}`` with ``{url: music, volume: 0.8}``: the music is there, and
    louder than under the video at full volume (the quieter speech ducks it less). The gains
    themselves are measured in tests/media/test_media_mix.py."""
    full, quieter = cases["merge_music"], cases["merge_volume"]
    done(api, full), done(api, quieter)
    video(full, tmp_path, "full.mp4"), video(quieter, tmp_path, "quieter.mp4")
    under_full = tone_level(tmp_path / "full.mp4", 660, 0.3, 2.3)
    under_quieter = tone_level(tmp_path / "quieter.mp4", 660, 0.3, 2.3)
    assert under_full > -45 and under_quieter > under_full, (under_full, under_quieter)


# -- images and speech on vendors ----------------------------------------------------------------------------


@pytest.mark.parametrize("name, vendor, model, content_type", [
    ("image_replicate", "replicate", "google/nano-banana", "image/png"),
    ("image_fal", "fal", "fal-ai/nano-banana", None),
    ("image_seedream", "replicate", "bytedance/seedream-4", "image/jpeg"),
    ("image_background_remover", "replicate", "codeplugtech/background_remover", "image/png"),
])
def test_an_image_from_a_vendor_model_is_the_result(api: httpx.Client, cases: dict[str, Any], vendors: Vendors,
                                                    tmp_path: Path, name: str, vendor: str, model: str,
                                                    content_type: str | None) -> None:
    o = cases[name]
    view = done(api, o)
    assert o["result"]["type"] == "image" and view["result"]["type"] == "image"
    result = job(view, "job1")["result"]
    assert result["mediaType"] == "image" and result["provider"] == vendor and result["width"] > 0
    got = httpx.get(o["result"]["url"], timeout=30)
    assert got.status_code == 200 and got.headers["content-type"].startswith("image/")
    if content_type:
        assert got.headers["content-type"] == content_type
    server = getattr(vendors, vendor)
    asked = o["plan"]["jobs"][0]["params"]
    sent = [r for r in server.requests if r.method == "POST" and isinstance(r.body, dict)
            and (model in r.path or model in str(r.body.get("version", "")) or _is_version_of(r.body, model))
            and (asked.get("prompt") or asked.get("image")) in json.dumps(r.body)]
    assert len(sent) == 1, [(r.path, r.body) for r in server.requests if r.method == "POST"]
    assert VENDOR_KEYS[vendor] in json.dumps(dict(sent[0].headers))
    assert VENDOR_KEYS[vendor] not in json.dumps(view)


def _is_version_of(body: dict[str, Any], model: str) -> bool:
    spec = lookup("replicate", model, "image")
    return bool(spec and spec.version and body.get("version") == spec.version)


@pytest.mark.parametrize("name, vendor", [("speech_elevenlabs", "elevenlabs"), ("speech_hume", "hume")])
def test_speech_from_a_vendor_is_an_audio_result(api: httpx.Client, cases: dict[str, Any], vendors: Vendors,
                                                 tmp_path: Path, name: str, vendor: str) -> None:
    o = cases[name]
    view = done(api, o)
    assert o["result"]["type"] == "audio" and o["result"]["format"] in ("mp3", "wav")
    result = job(view, "job1")["result"]
    assert result["mediaType"] == "audio" and result["duration"] > 0 and result["provider"] == vendor
    assert all(c["passed"] for c in result["checks"]), result["checks"]
    path = fetch(o["result"]["url"], tmp_path / f"speech.{o['result']['format']}",
                 "audio/mpeg" if o["result"]["format"] == "mp3" else "audio/wav")
    assert tone_level(path, 440, 0.1, min(result["duration"], 1.0)) > -40  # the vendor's speech
    server = getattr(vendors, vendor)
    sent = [r for r in server.requests if r.method == "POST"]
    if vendor == "elevenlabs":
        assert any(r.path.startswith(f"/v1/text-to-speech/{RACHEL}") for r in sent)
    else:
        assert any(u.get("voice") == {"name": "Ava Song", "provider": "HUME_AI"}
                   for r in sent for u in r.body.get("utterances", []))


def test_generated_image_and_speech_in_a_merge(api: httpx.Client, cases: dict[str, Any], tmp_path: Path) -> None:
    o = cases["merge_generated"]
    view = done(api, o)
    kinds = {j["id"]: j["operation"] for j in view["jobs"]}
    assert sorted(kinds.values()) == ["generateAudio", "generateImage", "merge"]
    info = video(o, tmp_path)
    assert_duration(info, 2.0, tol=0.15)
    path = tmp_path / "out.mp4"
    assert tone_level(path, 440, 0.7, 1.4) - tone_level(path, 440, 0.0, 0.4) > 20  # the speech from 0.5 s


def test_a_generated_image_as_a_layer(api: httpx.Client, cases: dict[str, Any], speech_video: Path,
                                      tmp_path: Path) -> None:
    o = cases["layer_generated"]
    done(api, o)
    # the vendor's picture is 64x48 with its left half transparent: a quarter wide (160x120) at the
    # top-left corner, only its right half shows
    near(overlay_box(o, speech_video, tmp_path), (M + 80, M, 80, 120))


def test_a_generated_image_starts_a_video_model(api: httpx.Client, cases: dict[str, Any], vendors: Vendors) -> None:
    o = cases["video_from_image"]
    done(api, o)
    (create,) = [r for r in vendors.replicate.requests if r.method == "POST" and isinstance(r.body, dict)
                 and (r.body.get("input") or {}).get("prompt") == "the fox runs"]
    image = create.body["input"]["image"]
    assert isinstance(image, str) and image.startswith(("http", "data:")) and "JobDependency" not in image


def test_background_removal_on_a_matting_model(api: httpx.Client, cases: dict[str, Any], vendors: Vendors,
                                               tmp_path: Path) -> None:
    o = cases["remove_background"]
    view = done(api, o)
    (create,) = [r for r in vendors.replicate.requests if r.method == "POST" and isinstance(r.body, dict)
                 and "input_video" in (r.body.get("input") or {})]
    assert create.body["input"]["output_type"] == "green-screen" and create.body["input"]["input_video"]
    assert job(view, "job1")["result"]["provider"] == "replicate"
    assert video(o, tmp_path).duration > 0


def test_a_talking_head_from_a_generated_portrait_and_speech(api: httpx.Client, cases: dict[str, Any],
                                                            vendors: Vendors) -> None:
    """generateVideo({model: videoModel("veed/fabric-1.0", fal), image: generateImage(...), audio:
    generateAudio(...)}): Fabric gets the portrait as image_url and the speech as audio_url."""
    o = cases["talking_head"]
    view = done(api, o)
    assert sorted(j["operation"] for j in view["jobs"]) == ["generate", "generateAudio", "generateImage"]
    (create,) = [r for r in vendors.fal.requests if r.method == "POST" and r.path.strip("/") == "veed/fabric-1.0"]
    body = create.body
    assert set(body) == {"image_url", "audio_url", "resolution"} and body["resolution"] == "480p", body
    assert body["image_url"].startswith(("data:image/", "http")) and body["audio_url"].startswith(("data:audio/", "http"))
