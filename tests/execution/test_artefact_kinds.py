"""Images and audio as artefacts: the artefact step probes, stores, checks and previews each media
type in its own way. Real files made with ffmpeg go through ``ArtefactStep.record`` into a local
store; the checks' rules are exercised on results directly."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from vidassets.execution.artefacts import ArtefactStep
from vidassets.execution.checks import CHECK_NAMES, DESCRIPTIONS, check_names, check_output, expected_duration
from vidassets.execution.operations import JobOutput
from vidassets.media import default_profile, run_ffmpeg
from vidassets.plan.operations import AssetKind
from vidassets.storage.artefacts import LocalArtefactStore, content_type
from vidassets.storage.models import ExecutionJobRow

PROFILE = default_profile()
TONE = "0.1*sin(2*PI*1000*t)"  # a 1 kHz sine peaking at -20 dBFS: -23 LUFS


# ------------------------------------------------------------------------------------------ media


def _image(out: Path, size: str, *extra: str) -> Path:
    run_ffmpeg(["-f", "lavfi", "-i", f"testsrc2=s={size}", "-frames:v", "1", *extra, "-f", "image2", str(out)])
    return out


def _audio(out: Path, source: str, *codec: str) -> Path:
    run_ffmpeg(["-f", "lavfi", "-i", source, *codec, str(out)])
    return out


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("artefact_kinds")
    tone = f"aevalsrc={TONE}:s=48000:d=2"
    clip = d / "clip.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=320x180:r=24:d=2", "-f", "lavfi", "-i", f"aevalsrc={TONE}:s=48000:d=2",
                "-map", "0:v:0", "-map", "1:a:0", *PROFILE.audio_args(), *PROFILE.video_args(),
                *PROFILE.container_args(), str(clip)])
    return {
        "png": _image(d / "wide.png", "640x360"),
        "jpg": _image(d / "tall.jpg", "360x640", "-q:v", "3"),
        "webp": _image(d / "square.webp", "400x400", "-c:v", "libwebp"),
        "mp3": _audio(d / "voice.mp3", tone, "-c:a", "libmp3lame"),
        "wav": _audio(d / "voice.wav", tone, "-c:a", "pcm_s16le"),
        "m4a": _audio(d / "voice.m4a", f"aevalsrc={TONE}|{TONE}:s=44100:c=stereo:d=2", "-c:a", "aac"),
        "mp4": clip,
        "silent": _audio(d / "silent.wav", "anullsrc=r=48000:cl=mono:d=2", "-c:a", "pcm_s16le"),
        # A full-scale square wave: about 0 LUFS, far too loud, true peak past full scale.
        "hot": _audio(d / "hot.wav", "aevalsrc=0.999*sgn(sin(2*PI*1000*t)):s=48000:d=2", "-c:a", "pcm_s16le"),
    }


@dataclass
class Recorder:
    store: LocalArtefactStore
    workdir: Path

    def __call__(self, path: Path, operation: str, kind: str, params: dict[str, Any] | None = None, *,
                 external: bool = True, inputs: list[dict[str, Any]] | None = None,
                 details: dict[str, Any] | None = None) -> dict[str, Any]:
        job = ExecutionJobRow(execution_id="exec1", job_id=f"{kind}-{path.stem}", position=0, operation=operation,
                              kind=kind, params=params or {}, params_hash="h", depends_on=[])
        self.workdir.mkdir(exist_ok=True)
        output = JobOutput(path, provider="replicate" if external else None, details=details or {}, external=external)
        return ArtefactStep(self.store).record("exec1", job, output, inputs or [], self.workdir)


@pytest.fixture
def record(tmp_path: Path) -> Recorder:
    return Recorder(LocalArtefactStore(tmp_path / "store", "http://localhost:3000", b"k" * 32), tmp_path / "work")


def _checks(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in result["checks"]}


def _jpeg(path: Path) -> np.ndarray:
    """Decode a preview: it must be one JPEG picture."""
    with av.open(str(path)) as container:
        assert container.streams.video[0].codec_context.name == "mjpeg"
        frame = next(container.decode(video=0))
        return frame.to_ndarray(format="rgb24").astype(np.float32)


# ------------------------------------------------------------------------------------- record()


CASES = [
    # name, operation, kind, params, media type, content type, (width, height)
    ("png", "generateImage", "generated_images", {"aspectRatio": "16:9"}, "image", "image/png", (640, 360)),
    ("jpg", "generateImage", "generated_images", {"aspectRatio": "9:16"}, "image", "image/jpeg", (360, 640)),
    ("webp", "removeImageBackground", "image_cutouts", {}, "image", "image/webp", (400, 400)),
    ("mp3", "generateAudio", "generated_audio", {"duration": 2}, "audio", "audio/mpeg", (0, 0)),
    ("wav", "generateAudio", "generated_audio", {}, "audio", "audio/wav", (0, 0)),
    ("m4a", "generateAudio", "generated_audio", {}, "audio", "audio/mp4", (0, 0)),
    ("mp4", "generate", "generated_clips", {"prompt": "p", "duration": 2, "aspectRatio": "16:9"}, "video", "video/mp4",
     (320, 180)),
]


@pytest.mark.parametrize(("name", "operation", "kind", "params", "media", "mime", "size"), CASES,
                         ids=[c[0] for c in CASES])
def test_each_media_type_is_stored_described_checked_and_previewed(
        record: Recorder, files: dict[str, Path], name: str, operation: str, kind: str, params: dict[str, Any],
        media: str, mime: str, size: tuple[int, int]) -> None:
    result = record(files[name], operation, kind, params)
    assert result["mediaType"] == media
    assert result["key"].endswith("." + name) and content_type(result["key"]) == mime
    assert record.store.path_for(result["key"]).read_bytes() == files[name].read_bytes()
    assert (result["width"], result["height"]) == size and result["decodable"] is True
    if media == "image":
        assert result["duration"] == 0.0 and result["hasAudio"] is False
        assert result["aspectRatio"] == {(640, 360): "16:9", (360, 640): "9:16", (400, 400): "1:1"}[size]
    elif media == "audio":
        assert abs(result["duration"] - 2.0) < 0.1 and result["hasAudio"] is True
        assert result["sampleRate"] in (44100, 48000) and result["channels"] in (1, 2)
        expected_lufs = -20.0 if result["channels"] == 2 else -23.01  # the same sine in both channels: +3 dB
        assert abs(result["loudnessLufs"] - expected_lufs) <= 1.5, result["loudnessLufs"]
        assert result["truePeakDbfs"] is not None and result["truePeakDbfs"] < -15
    else:
        assert abs(result["duration"] - 2.0) < 0.1 and result["hasAudio"] is True and result["fps"] == 24
    checks = _checks(result)
    assert tuple(checks) == CHECK_NAMES[kind]
    assert all(c["passed"] for c in checks.values()), checks
    # The preview: a decodable JPEG stored beside the artefact, shaped for the media type.
    sheet = record.store.path_for(result["sheetKey"])
    assert result["sheetKey"] != result["key"] and sheet.suffix == ".jpg"
    picture = _jpeg(sheet)
    if media == "image":
        assert max(picture.shape[:2]) <= 480
        assert abs(picture.shape[1] / picture.shape[0] - size[0] / size[1]) < 0.02
    elif media == "audio":
        assert picture.shape[:2] == (160, 960)
    else:
        assert picture.shape[1] == 960  # four 240-px tiles


def test_a_silent_voice_fails_loudness_and_a_hot_one_too(record: Recorder, files: dict[str, Path]) -> None:
    silent = record(files["silent"], "generateAudio", "generated_audio")
    checks = _checks(silent)
    assert silent["loudnessLufs"] == -70.0 and silent["truePeakDbfs"] is None  # -inf dBFS: not JSON
    assert not checks["loudness"]["passed"] and "silent" in checks["loudness"]["message"]
    assert checks["decodable"]["passed"] and checks["duration"]["passed"]
    hot = record(files["hot"], "generateAudio", "generated_audio")
    assert hot["loudnessLufs"] > -5 and not _checks(hot)["loudness"]["passed"], hot["loudnessLufs"]


def test_an_image_of_the_wrong_aspect_fails_resolution(record: Recorder, files: dict[str, Path]) -> None:
    result = record(files["png"], "generateImage", "generated_images", {"aspectRatio": "1:1"})
    checks = _checks(result)
    assert not checks["resolution"]["passed"] and "640x360" in checks["resolution"]["message"]
    assert checks["decodable"]["passed"]
    no_ask = record(files["png"], "generateImage", "generated_images", {})
    assert _checks(no_ask)["resolution"]["passed"]


def test_a_truncated_provider_voice_fails_decodable(record: Recorder, files: dict[str, Path], tmp_path: Path) -> None:
    data = files["wav"].read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) // 2 + 7])  # mid-sample: the last packet is partial
    result = record(cut, "generateAudio", "generated_audio", external=True)
    assert result["mediaType"] == "audio" and result["decodable"] is not True
    assert not _checks(result)["decodable"]["passed"]
    # Our own renders are not decoded again (encoder success and the probe vouch for them).
    assert record(cut, "generateAudio", "generated_audio", external=False)["decodable"] is True


def test_a_cut_off_provider_jpeg_fails_decodable(record: Recorder, files: dict[str, Path], tmp_path: Path) -> None:
    """The JPEG decoder greys out a missing half and reports success unless told to be strict."""
    data = files["jpg"].read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) // 2])
    result = record(cut, "generateImage", "generated_images", {"aspectRatio": "9:16"})
    assert result["mediaType"] == "image" and not _checks(result)["decodable"]["passed"]
    assert _checks(result)["resolution"]["passed"]  # the header still says 360x640


def test_a_misnamed_provider_file_is_keyed_by_what_it_is(record: Recorder, files: dict[str, Path], tmp_path: Path) -> None:
    image = tmp_path / "output"  # no extension at all
    image.write_bytes(files["png"].read_bytes())
    audio = tmp_path / "speech.mp4"  # mp3 bytes under a video name
    audio.write_bytes(files["mp3"].read_bytes())
    assert record(image, "generateImage", "generated_images")["key"].endswith(".png")
    voiced = record(audio, "generateAudio", "generated_audio")
    assert voiced["mediaType"] == "audio" and voiced["key"].endswith(".mp3")
    assert content_type(voiced["key"]) == "audio/mpeg"


def test_previews_show_the_content(record: Recorder, tmp_path: Path) -> None:
    """A cut-out's transparent part is grey and its subject shows; a tone draws a wide waveform,
    silence (almost) none."""
    cutout = tmp_path / "cutout.png"
    run_ffmpeg(["-f", "lavfi", "-i", "color=c=white:s=800x400,format=rgba,"
                "geq=r=255:g=0:b=0:a='if(lt(X,400),255,0)'", "-frames:v", "1", "-f", "image2", str(cutout)])
    picture = _jpeg(record.store.path_for(record(cutout, "removeImageBackground", "image_cutouts")["sheetKey"]))
    assert picture.shape[:2] == (240, 480)
    left, right = picture[100:140, 40:200].mean(axis=(0, 1)), picture[100:140, 280:440].mean(axis=(0, 1))
    assert left[0] > 200 and left[1] < 60 and left[2] < 60, left  # the red subject
    assert np.all(np.abs(right - 128) < 12), right  # grey where the background was removed
    tone = tmp_path / "tone.wav"
    _audio(tone, "aevalsrc=0.5*sin(2*PI*200*t):s=48000:d=2", "-c:a", "pcm_s16le")
    silence = tmp_path / "silence.wav"
    _audio(silence, "anullsrc=r=48000:cl=mono:d=2", "-c:a", "pcm_s16le")

    def drawn(path: Path) -> float:
        wave = _jpeg(record.store.path_for(record(path, "generateAudio", "generated_audio")["sheetKey"]))
        return float((wave.max(axis=2) > 60).mean())

    assert drawn(tone) > 0.3 and drawn(silence) < 0.05


# ----------------------------------------------------------------------------------- the checks


def test_declared_checks_are_described_and_the_old_kinds_unchanged() -> None:
    assert CHECK_NAMES["generated_clips"] == ("decodable", "duration", "resolution", "audio")
    assert CHECK_NAMES["subtitled"] == ("decodable", "duration", "resolution", "audio", "captions")
    assert CHECK_NAMES["generated_audio"] == ("decodable", "duration", "loudness")
    assert CHECK_NAMES["layered"] == ("decodable", "duration", "resolution", "audio", "placement")
    assert all(name in DESCRIPTIONS for names in CHECK_NAMES.values() for name in names)
    kinds = {k.value for k in AssetKind}
    assert set(CHECK_NAMES) <= kinds  # Dagster declares checks on these asset keys
    # A kind nobody declared still gets its media type's checks, without kind-only ones.
    assert check_names("unheard_of", "video") == ("decodable", "duration", "resolution", "audio")
    assert check_names("unheard_of", "audio") == ("decodable", "duration", "loudness")
    assert check_names("generated_clips", "image") == ("decodable", "resolution")


def _video(**extra: Any) -> dict[str, Any]:
    return {"mediaType": "video", "kind": "layered", "decodable": True, "duration": 4.0, "fps": 24, "width": 640,
            "height": 360, "hasAudio": True, **extra}


def _layer_checks(layout: Any, params: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    result = _video(details={"layout": layout} if layout is not None else {}, **extra)
    return {c.name: c for c in check_output("layer", params or {}, result, [])}


def test_placement_accepts_layers_inside_the_canvas_only() -> None:
    inside = [{"x": 0, "y": 0, "w": 640, "h": 360}, [{"x": 480, "y": 270, "w": 160, "h": 90}, {"x": 10, "y": 10, "w": 5, "h": 5}]]
    assert _layer_checks(inside)["placement"].passed
    assert "3 layer(s)" in _layer_checks(inside)["placement"].message
    outside = _layer_checks([{"x": 0, "y": 0, "w": 640, "h": 360}, {"x": 600, "y": 300, "w": 160, "h": 90}])
    assert not outside["placement"].passed and "layer 1" in outside["placement"].message
    assert not _layer_checks([{"x": 10, "y": 10, "w": 0, "h": 40}])["placement"].passed  # empty
    assert not _layer_checks([{"x": -20, "y": 0, "w": 40, "h": 40}])["placement"].passed
    assert not _layer_checks(None)["placement"].passed and not _layer_checks([])["placement"].passed
    assert not _layer_checks([{"x": "a", "y": 0, "w": 1, "h": 1}])["placement"].passed
    assert not _layer_checks(["not a rect"])["placement"].passed


def test_layer_duration_and_canvas_follow_the_params() -> None:
    layout = [{"x": 0, "y": 0, "w": 640, "h": 360}]
    assert _layer_checks(layout, {"outputDuration": 4})["duration"].passed
    assert not _layer_checks(layout, {"outputDuration": 6})["duration"].passed
    assert _layer_checks(layout, {})["duration"].passed  # no expectation: positive is enough
    assert _layer_checks(layout, {"outputWidth": 1280, "outputHeight": 720})["resolution"].passed
    assert not _layer_checks(layout, {"outputWidth": 720, "outputHeight": 1280})["resolution"].passed


def test_merge_duration_counts_trims_stills_and_not_audio() -> None:
    clip = {"mediaType": "video", "duration": 5.0, "width": 640, "height": 360}
    still = {"mediaType": "image", "duration": 0.0, "width": 640, "height": 360}
    voice = {"mediaType": "audio", "duration": 9.0}
    # trim 3 of a 5 s clip, a still for 2 s, an untrimmed clip, a trim longer than its clip (no effect)
    params = {"clips": [{"duration": 3}, {"duration": 2}, {}, {"duration": 60}]}
    assert expected_duration("merge", params, [clip, still, voice, clip, clip]) == pytest.approx(3 + 2 + 5 + 5)
    assert expected_duration("merge", {}, [still, clip]) == pytest.approx(1 + 5)  # a still defaults to one second
    fade = {"transition": {"type": "fade", "duration": 0.5}}
    assert expected_duration("merge", fade, [clip, clip]) == pytest.approx(9.5)
    assert expected_duration("merge", {"transition": "cut"}, [clip, clip]) == pytest.approx(10)
    assert expected_duration("merge", {}, [clip, clip]) == pytest.approx(10)  # as before
    assert expected_duration("merge", {"clips": "junk"}, [voice]) is None


def test_audio_duration_tolerance_and_missing_fields_never_raise() -> None:
    voice = {"mediaType": "audio", "kind": "generated_audio", "decodable": True, "duration": 10.2,
             "loudnessLufs": -18.0, "truePeakDbfs": -1.0}
    assert all(c.passed for c in check_output("generateAudio", {"duration": 10}, voice, []))
    assert not {c.name: c for c in check_output("generateAudio", {"duration": 20}, voice, [])}["duration"].passed
    clipped = {c.name: c for c in check_output("generateAudio", {}, {**voice, "truePeakDbfs": 0.8}, [])}
    assert not clipped["loudness"].passed and "clipped" in clipped["loudness"].message
    unmeasured = {c.name: c for c in check_output("generateAudio", {}, {**voice, "loudnessLufs": None}, [])}
    assert not unmeasured["loudness"].passed
    # Nothing at all, or junk, in the result and params: every check answers, none raises.
    for result, params in (({}, {}), ({"kind": "layered", "details": "x", "width": "wide"}, {"aspectRatio": 5}),
                           ({"mediaType": "image", "kind": "generated_images"}, {"aspectRatio": "nonsense"}),
                           ({"mediaType": "audio", "kind": "generated_audio", "duration": float("nan")}, {})):
        outcomes = check_output("merge", params, result, [{"duration": None}, "junk"])  # type: ignore[list-item]
        assert outcomes and not all(c.passed for c in outcomes)
