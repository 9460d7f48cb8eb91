"""Every catalogued model, through its real provider client, against fake vendors that enforce the
model's published schema (``vendor_schemas.py``): which inputs reach the vendor for one plan.

The plan has a prompt, our default duration / aspect ratio / resolution (5 s, 16:9, 720p), a
start and an end image and a seed. ``EXPECTED`` is written out by hand per model: a value the
model cannot take (5 s for Hailuo-02 or Veo 3) must not be sent, a start frame must arrive under
the model's own name, and the vendor must have dropped nothing (``accepted == sent``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.providers.fakes import KEY, FakeClock, Reply, policy
from tests.providers.vendor_schemas import SchemaFal, SchemaReplicate, SchemaVertex, check
from vidassets.net.guard import AddressPolicy
from vidassets.providers.base import GenerateRequest, LipSyncRequest, ProviderError
from vidassets.providers.catalogue import catalogued, lookup
from vidassets.providers.catalogue.spec import ModelSpec
from vidassets.providers.fal import FalProvider
from vidassets.providers.replicate import ReplicateProvider
from vidassets.providers.vertex import VertexProvider, _parameters

FIRST, LAST = "https://img.example/first.png", "https://img.example/last.png"
SPEECH = "https://audio.example/speech.mp3"
GS_FIRST, GS_LAST = "gs://bucket/first.png", "gs://bucket/last.png"
PROMPT = "a fox in the snow"
_P = {"prompt": PROMPT}
_SEEDANCE = {**_P, "image": FIRST, "last_frame_image": LAST, "duration": 5, "resolution": "720p",
             "aspect_ratio": "16:9", "fps": 24, "seed": 7}
_VEO3 = {**_P, "image": FIRST, "aspect_ratio": "16:9", "resolution": "720p", "seed": 7}
_KLING_I2V = {**_P, "duration": "5", "image_url": FIRST}
_FAL_VEO3 = {**_P, "aspect_ratio": "16:9", "resolution": "720p", "seed": 7, "image_url": FIRST}
_HAILUO_I2V = {**_P, "image_url": FIRST, "end_image_url": LAST}
_VERTEX_VEO3 = {"aspectRatio": "16:9", "resolution": "720p", "seed": 7, "sampleCount": 1, "generateAudio": True}
_GEMINI_VEO3 = {"aspectRatio": "16:9", "resolution": "720p", "seed": 7}
KLING, VEO3, HAILUO = "fal-ai/kling-video/v2.1", "fal-ai/veo3", "fal-ai/minimax/hailuo-02/standard"

# (provider, model, surface) -> (the endpoint called, the input the vendor receives)
EXPECTED: dict[tuple[str, str, str], tuple[str, dict[str, Any]]] = {
    ("replicate", "bytedance/seedance-1-pro", ""): ("bytedance/seedance-1-pro", _SEEDANCE),
    ("replicate", "bytedance/seedance-1-lite", ""): ("bytedance/seedance-1-lite", _SEEDANCE),
    # 5 s and 720p are not Hailuo-02 values: left out, the model makes its own 6 s at 1080p.
    ("replicate", "minimax/hailuo-02", ""): ("minimax/hailuo-02",
                                             {**_P, "first_frame_image": FIRST, "last_frame_image": LAST}),
    ("replicate", "minimax/video-01", ""): ("minimax/video-01", {**_P, "first_frame_image": FIRST}),
    ("replicate", "kwaivgi/kling-v2.1", ""): ("kwaivgi/kling-v2.1", {**_P, "start_image": FIRST, "end_image": LAST,
                                                                     "duration": 5}),
    # Veo 3 makes 4, 6 or 8 s: our 5 s is left out (8 s, the model's default).
    ("replicate", "google/veo-3", ""): ("google/veo-3", _VEO3),
    ("replicate", "google/veo-3-fast", ""): ("google/veo-3-fast", _VEO3),
    ("replicate", "wan-video/wan-2.5-i2v", ""): ("wan-video/wan-2.5-i2v", {**_P, "image": FIRST, "duration": 5,
                                                                           "resolution": "720p", "seed": 7}),
    # Text-to-video only: no image input (a start image is refused at submit, see test_catalogue_submit).
    ("replicate", "wan-video/wan-2.5-t2v-fast", ""): ("wan-video/wan-2.5-t2v-fast",
                                                      {**_P, "size": "1280*720", "duration": 5, "seed": 7}),
    # fal: a start image moves a text-to-video endpoint to its image-to-video sibling; "5" is a string.
    ("fal", f"{KLING}/master/text-to-video", ""): (f"{KLING}/master/image-to-video", _KLING_I2V),
    ("fal", f"{KLING}/master/image-to-video", ""): (f"{KLING}/master/image-to-video", _KLING_I2V),
    ("fal", f"{KLING}/standard/image-to-video", ""): (f"{KLING}/standard/image-to-video", _KLING_I2V),
    ("fal", VEO3, ""): (f"{VEO3}/image-to-video", _FAL_VEO3),
    ("fal", f"{VEO3}/image-to-video", ""): (f"{VEO3}/image-to-video", _FAL_VEO3),
    ("fal", f"{HAILUO}/text-to-video", ""): (f"{HAILUO}/image-to-video", _HAILUO_I2V),
    ("fal", f"{HAILUO}/image-to-video", ""): (f"{HAILUO}/image-to-video", _HAILUO_I2V),
    # Fabric: a still and a speech track (no prompt input: the plan's prompt is not sent).
    ("fal", "veed/fabric-1.0", ""): ("veed/fabric-1.0", {"image_url": FIRST, "audio_url": SPEECH, "resolution": "720p"}),
    ("fal", "veed/fabric-1.0/fast", ""): ("veed/fabric-1.0/fast",
                                          {"image_url": FIRST, "audio_url": SPEECH, "resolution": "720p"}),
    # Veo on Vertex: the prompt and frames travel in the instance; these are the parameters.
    ("google-cloud", "veo-2.0-generate-001", "vertex"): (
        "veo-2.0-generate-001", {"aspectRatio": "16:9", "durationSeconds": 5, "seed": 7, "sampleCount": 1}),
    ("google-cloud", "veo-3.0-generate-001", "vertex"): ("veo-3.0-generate-001", _VERTEX_VEO3),
    ("google-cloud", "veo-3.0-fast-generate-001", "vertex"): ("veo-3.0-fast-generate-001", _VERTEX_VEO3),
    ("google-cloud", "veo-2.0-generate-001", "gemini"): (
        "veo-2.0-generate-001", {"aspectRatio": "16:9", "durationSeconds": 5, "seed": 7}),
    ("google-cloud", "veo-3.0-generate-001", "gemini"): ("veo-3.0-generate-001", _GEMINI_VEO3),
    ("google-cloud", "veo-3.0-fast-generate-001", "gemini"): ("veo-3.0-fast-generate-001", _GEMINI_VEO3),
}


def key(spec: ModelSpec) -> tuple[str, str, str]:
    return spec.provider, spec.model, spec.surface


GENERATE = catalogued("generate")


def plan_request(model: str, **overrides: Any) -> GenerateRequest:
    values: dict[str, Any] = {"prompt": PROMPT, "duration": 5.0, "aspect_ratio": "16:9", "resolution": "720p",
                              "seed": 7, "model": model, "start_image": FIRST, "end_image": LAST}
    return GenerateRequest(**{**values, **overrides})


@pytest.fixture
def vendors(clip_bytes: bytes) -> Iterator[dict[str, Any]]:
    servers = {"replicate": SchemaReplicate(), "fal": SchemaFal(), "google-cloud": SchemaVertex()}
    for server in servers.values():
        server.files["out.mp4"] = clip_bytes
    yield servers
    for server in servers.values():
        server.stop()


def client(name: str, server: Any, clock: FakeClock) -> Any:
    if name == "replicate":
        return ReplicateProvider(base_url=f"{server.url}/v1", policy=policy(), timing=clock.timing)
    if name == "fal":
        return FalProvider(base_url=server.url, policy=policy(), timing=clock.timing)
    return VertexProvider(project="proj", base_url=f"{server.url}/v1", policy=policy(), timing=clock.timing,
                          image_policy=AddressPolicy(allow_private=True))


def sent(name: str, server: Any) -> tuple[str, dict[str, Any]]:
    """The endpoint (model) of the one create the vendor saw, and its input."""
    create = server.requests[0]
    if name == "replicate":
        return create.path.removeprefix("/v1/models/").removesuffix("/predictions"), create.body["input"]
    if name == "fal":
        return create.path.strip("/"), create.body
    return create.path.rsplit("/", 1)[-1].split(":")[0], create.body["parameters"]


def test_every_catalogued_generate_model_has_an_expectation() -> None:
    assert sorted(EXPECTED) == sorted(key(spec) for spec in GENERATE)


@pytest.mark.parametrize("spec", [s for s in GENERATE if s.surface != "gemini"], ids=lambda s: f"{s.provider}:{s.model}")
def test_which_inputs_reach_the_vendor(spec: ModelSpec, vendors: dict[str, Any], fake_clock: FakeClock,
                                       tmp_path: Path, clip_bytes: bytes) -> None:
    server = vendors[spec.provider]
    images: dict[str, Any] = {"start_image": GS_FIRST, "end_image": GS_LAST} if spec.provider == "google-cloud" else {}
    if "audio_url" in spec.inputs:  # a talking-head model: the plan's speech
        images["extra"] = {"audio": SPEECH}
    out = tmp_path / "out.mp4"
    result = client(spec.provider, server, fake_clock).generate(
        plan_request(spec.model, **images), out=out, api_key=KEY, on_progress=lambda _: None, cancel=threading.Event())
    assert out.read_bytes() == clip_bytes and result.provider == spec.provider
    endpoint, body = sent(spec.provider, server)
    assert (endpoint, body) == EXPECTED[key(spec)]
    assert server.accepted == [body]  # the vendor ran with everything we sent: nothing silently dropped
    if spec.provider == "google-cloud":
        instance = server.requests[0].body["instances"][0]
        assert instance["prompt"] == PROMPT and instance["image"]["gcsUri"] == GS_FIRST
        assert instance["lastFrame"]["gcsUri"] == GS_LAST


@pytest.mark.parametrize("spec", [s for s in GENERATE if s.surface == "gemini"], ids=lambda s: s.model)
def test_gemini_parameters_follow_the_gemini_schema(spec: ModelSpec) -> None:
    parameters = _parameters(plan_request(spec.model), spec.model, surface="gemini")
    assert parameters == EXPECTED[key(spec)][1]
    assert check(spec.inputs, parameters) == (parameters, [])


def test_input_wins_over_mapped_params_and_reaches_the_vendor(vendors: dict[str, Any], fake_clock: FakeClock,
                                                              tmp_path: Path) -> None:
    server = vendors["replicate"]
    request = plan_request("minimax/hailuo-02", duration=10.0, input={"duration": 6, "resolution": "768p",
                                                                      "prompt_optimizer": False})
    client("replicate", server, fake_clock).generate(request, out=tmp_path / "o.mp4", api_key=KEY,
                                                     on_progress=lambda _: None, cancel=threading.Event())
    assert sent("replicate", server)[1] == {**_P, "first_frame_image": FIRST, "last_frame_image": LAST,
                                            "duration": 6, "resolution": "768p", "prompt_optimizer": False}


def test_seedance_camera_motion_and_native_names(vendors: dict[str, Any], fake_clock: FakeClock,
                                                 tmp_path: Path) -> None:
    """The SDK's Seedance mapping: cameraMotion "fixed" -> camera_fixed true; a native flat key the
    model declares (the SDK's non-unified mode) is sent as given, one it does not is not."""
    server = vendors["replicate"]
    request = plan_request("bytedance/seedance-1-pro", camera_motion="fixed", start_image=None, end_image=None,
                           extra={"camera_fixed": True, "sendJobWebhook": True})
    client("replicate", server, fake_clock).generate(request, out=tmp_path / "o.mp4", api_key=KEY,
                                                     on_progress=lambda _: None, cancel=threading.Event())
    body = sent("replicate", server)[1]
    assert body["camera_fixed"] is True and "sendJobWebhook" not in body and "image" not in body


def test_an_image_to_video_endpoint_without_an_image_moves_to_text_to_video(vendors: dict[str, Any],
                                                                            fake_clock: FakeClock,
                                                                            tmp_path: Path) -> None:
    server = vendors["fal"]
    request = plan_request(f"{KLING}/master/image-to-video", start_image=None, end_image=None, aspect_ratio="9:16")
    client("fal", server, fake_clock).generate(request, out=tmp_path / "o.mp4", api_key=KEY,
                                               on_progress=lambda _: None, cancel=threading.Event())
    assert sent("fal", server) == (f"{KLING}/master/text-to-video", {**_P, "duration": "5", "aspect_ratio": "9:16"})


def test_an_uncatalogued_model_gets_the_generic_input_and_the_passthrough(vendors: dict[str, Any],
                                                                          fake_clock: FakeClock,
                                                                          tmp_path: Path) -> None:
    server = vendors["replicate"]
    request = plan_request("acme/video-gen", end_image=None, extra={"motion": "high"}, input={"steps": 30, "seed": 9})
    client("replicate", server, fake_clock).generate(request, out=tmp_path / "o.mp4", api_key=KEY,
                                                     on_progress=lambda _: None, cancel=threading.Event())
    assert sent("replicate", server) == ("acme/video-gen", {
        "prompt": PROMPT, "duration": 5, "aspect_ratio": "16:9", "resolution": "720p", "seed": 9,
        "start_image": FIRST, "motion": "high", "steps": 30})


def test_a_value_the_model_refuses_is_the_vendors_422_when_it_reaches_the_vendor(vendors: dict[str, Any],
                                                                                 fake_clock: FakeClock,
                                                                                 tmp_path: Path) -> None:
    """What submit validation spares the user: the fake vendors refuse as the real ones do."""
    for name, model, bad in (("replicate", "minimax/hailuo-02", {"duration": 5}),
                             ("fal", f"{HAILUO}/image-to-video", {"duration": 6})):
        with pytest.raises(ProviderError) as info:
            client(name, vendors[name], fake_clock).generate(
                plan_request(model, input=bad), out=tmp_path / "o.mp4", api_key=KEY, on_progress=lambda _: None,
                cancel=threading.Event())
        assert info.value.code == "provider_rejected" and "duration" in str(info.value)


# -- lip sync and transcription ------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", catalogued("lip_sync"), ids=lambda s: f"{s.provider}:{s.model}")
def test_lip_sync_models_get_their_options(spec: ModelSpec, vendors: dict[str, Any], fake_clock: FakeClock,
                                           small_files: tuple[Path, Path], tmp_path: Path) -> None:
    server = vendors[spec.provider]
    choices = spec.inputs["model"].choices if "model" in spec.inputs else ()
    given = {"model": choices[-1]} if choices else {"temperature": 0.8}
    request = LipSyncRequest(model=spec.model, fit="shortest", input=given)
    client(spec.provider, server, fake_clock).lip_sync(request, video=small_files[0], audio=small_files[1],
                                                       out=tmp_path / "o.mp4", api_key=KEY, on_progress=lambda _: None,
                                                       cancel=threading.Event(), publish=lambda p: f"https://cdn.example/{p.name}")
    body = sent(spec.provider, server)[1]
    media = ({"video": "https://cdn.example/in.mp4", "audio": "https://cdn.example/voice.m4a"}
             if spec.provider == "replicate" else
             {"video_url": "https://cdn.example/in.mp4", "audio_url": "https://cdn.example/voice.m4a"})
    assert body == {**media, "sync_mode": "cut_off", **given} and server.accepted == [body]


def test_lip_sync_fit_video_sends_no_sync_mode(vendors: dict[str, Any], fake_clock: FakeClock,
                                               small_files: tuple[Path, Path], tmp_path: Path) -> None:
    server = vendors["replicate"]
    client("replicate", server, fake_clock).lip_sync(
        LipSyncRequest(model="sync/lipsync-2", extra={"active_speaker": True, "volumeBoost": 2}),
        video=small_files[0], audio=small_files[1], out=tmp_path / "o.mp4", api_key=KEY, on_progress=lambda _: None,
        cancel=threading.Event(), publish=lambda p: f"https://cdn.example/{p.name}")
    body = sent("replicate", server)[1]
    assert "sync_mode" not in body and body["active_speaker"] is True and "volumeBoost" not in body


TRANSCRIPTS = {"replicate": {"segments": [{"start": 0.0, "end": 1.0, "text": "hi there",
                                           "words": [{"word": "hi", "start": 0.0, "end": 0.4},
                                                     {"word": "there", "start": 0.5, "end": 1.0}]}]},
               "fal": {"text": "hi there", "chunks": [{"timestamp": [0.0, 0.4], "text": "hi"},
                                                      {"timestamp": [0.5, 1.0], "text": "there"}]}}
# What each transcriber needs for word timings, beside the audio and the caller's options.
WORD_TIMINGS = {"hnesk/whisper-wordtimestamps": {"word_timestamps": True},
                "vaibhavs10/incredibly-fast-whisper": {"timestamp": "word"},
                "fal-ai/whisper": {"task": "transcribe", "chunk_level": "word"}}


@pytest.mark.parametrize("spec", catalogued("transcribe"), ids=lambda s: f"{s.provider}:{s.model}")
def test_transcription_models_get_word_timings_and_their_options(spec: ModelSpec, vendors: dict[str, Any],
                                                                 fake_clock: FakeClock,
                                                                 small_files: tuple[Path, Path]) -> None:
    server = vendors[spec.provider]
    if spec.provider == "replicate":
        server.output = {**TRANSCRIPTS["replicate"], "chunks": TRANSCRIPTS["fal"]["chunks"]}
    else:
        server.result = Reply(200, TRANSCRIPTS["fal"])
    options = {"temperature": 0.2} if "temperature" in spec.inputs else {"batch_size": 8}
    words = client(spec.provider, server, fake_clock).transcribe(
        media=small_files[1], language="de", model=spec.model, api_key=KEY, cancel=threading.Event(),
        publish=lambda p: f"https://cdn.example/{p.name}", options=options)
    assert [w.text for w in words] == ["hi", "there"]
    body = sent(spec.provider, server)[1]
    audio = "audio_url" if spec.provider == "fal" else "audio"
    assert body == {audio: "https://cdn.example/voice.m4a", "language": "de", **WORD_TIMINGS[spec.model], **options}
    assert server.accepted == [body]


def test_the_pinned_default_transcriber_is_catalogued_and_asks_for_a_strong_model(vendors: dict[str, Any],
                                                                                  fake_clock: FakeClock,
                                                                                  small_files: tuple[Path, Path]) -> None:
    server = vendors["replicate"]
    server.output = TRANSCRIPTS["replicate"]
    provider = client("replicate", server, fake_clock)
    assert lookup("replicate", provider.models.transcription, "transcribe") is not None
    provider.transcribe(media=small_files[1], language=None, model=None, api_key=KEY, cancel=threading.Event(),
                        publish=lambda p: f"https://cdn.example/{p.name}")
    assert server.seen("POST", r"predictions$")[0].body["input"] == {
        "audio": "https://cdn.example/voice.m4a", "word_timestamps": True, "model": "large-v2"}


def test_the_docs_table_lists_every_catalogued_model() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "providers.md").read_text()
    section = docs[docs.index("## Model catalogue"):]
    assert [s.model for s in catalogued() if f"`{s.model}`" not in section] == []


@pytest.mark.parametrize("spec", catalogued(), ids=lambda s: f"{s.provider}:{s.surface}:{s.model}")
def test_each_spec_is_consistent(spec: ModelSpec) -> None:
    """Routes name declared inputs and plan params; siblings exist and point back; fixed inputs and
    the model's own defaults pass the model's schema; the source is a vendor URL."""
    from vidassets.providers.catalogue.spec import PLAN_PARAMS

    assert all(r.to in spec.inputs and r.param in PLAN_PARAMS for r in spec.routes)
    defaults = {name: field.default for name, field in spec.inputs.items() if field.default is not None}
    for given_values in (dict(spec.fixed), defaults):
        assert [e for e in check(spec.inputs, given_values)[1] if e[0] in given_values] == []
    for sibling, back in ((spec.with_image, "without_image"), (spec.without_image, "with_image")):
        if sibling:
            other = lookup(spec.provider, sibling, spec.job, spec.surface)
            assert other is not None and getattr(other, back) == spec.model
    assert spec.source.startswith("https://")
