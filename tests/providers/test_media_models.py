"""Stills, speech and background removal on Replicate and fal (today's SDK's model calls), through
the real clients against fake vendors that enforce each model's published schema strictly (an
input the model does not declare is refused too) and return real files made with ffmpeg.

Outputs are served at URLs that say nothing of their content: the file's type must come from its
bytes. Paid jobs go through the vendor-job ledger like video generation.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from tests.frames import frame_at
from tests.helpers import submit
from tests.providers.fakes import KEY, FakeClock, Reply, policy, real_media
from tests.providers.vendor_schemas import SchemaFal, SchemaReplicate
from vidassets.providers.base import (
    ImageRequest,
    MattingRequest,
    ProviderCancelled,
    ProviderError,
    ProviderResult,
    SpeechRequest,
)
from vidassets.providers.catalogue import catalogued, lookup
from vidassets.providers.catalogue.spec import JobKind
from vidassets.providers.fal import FalProvider
from vidassets.providers.outputs import sniff
from vidassets.providers.registry import ProviderRegistry, default_registry
from vidassets.providers.replicate import ReplicateProvider
from vidassets.settings import Settings
from vidassets.storage.vendor_jobs import VendorJobRepository

PROMPT = "a red fox on a white table"
CDN = "https://cdn.example"
REMOVER_VERSION = "37ff2aa89897c0de4a140a3d50969dc62b663ea467e1e2bde18008e3d3731b2b"
MATTING_VERSION = "73d2128a371922d5d1abf0712a1d974be0e4e2358cc1218e4e34714767232bac"
NATERAW_VERSION = "ac5c138171b04413a69222c304f67c135e259d46089fc70ef12da685b3c604aa"


def publish(path: Path) -> str:
    return f"{CDN}/{path.name}"


@pytest.fixture
def replicate() -> Iterator[SchemaReplicate]:
    server = SchemaReplicate(strict=True)
    yield server
    server.stop()


@pytest.fixture
def fal() -> Iterator[SchemaFal]:
    server = SchemaFal(strict=True)
    yield server
    server.stop()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """Earlier jobs' outputs: a real PNG and a real mp4."""
    media = real_media()
    found = {"png": tmp_path / "inputs" / "still.png", "mp4": tmp_path / "inputs" / "clip.mp4"}
    for kind, path in found.items():
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(media[kind])
    return found


def replicate_client(server: SchemaReplicate, clock: FakeClock, **overrides: Any) -> ReplicateProvider:
    return ReplicateProvider(base_url=f"{server.url}/v1", policy=policy(**overrides), timing=clock.timing)


def fal_client(server: SchemaFal, clock: FakeClock, **overrides: Any) -> FalProvider:
    return FalProvider(base_url=server.url, policy=policy(**overrides), timing=clock.timing)


def image(provider: Any, request: ImageRequest, out_dir: Path, **kwargs: Any) -> ProviderResult:
    result: ProviderResult = provider.generate_image(
        request, out_dir=out_dir, api_key=kwargs.pop("api_key", KEY), on_progress=kwargs.pop("on_progress", lambda _: None),
        cancel=kwargs.pop("cancel", threading.Event()), publish=kwargs.pop("publish", publish), **kwargs)
    return result


def speak(provider: Any, request: SpeechRequest, out_dir: Path, **kwargs: Any) -> ProviderResult:
    result: ProviderResult = provider.speak(request, out_dir=out_dir, api_key=KEY, on_progress=lambda _: None,
                                            cancel=threading.Event(), **kwargs)
    return result


def matte(provider: Any, request: MattingRequest, video: Path, out_dir: Path, **kwargs: Any) -> ProviderResult:
    result: ProviderResult = provider.remove_background(
        request, video=video, out_dir=out_dir, api_key=KEY, on_progress=lambda _: None,
        cancel=kwargs.pop("cancel", threading.Event()), publish=kwargs.pop("publish", publish), **kwargs)
    return result


def created(server: SchemaReplicate) -> tuple[str, dict[str, Any]]:
    """Where the one create went and the body it carried."""
    [create] = server.seen("POST", r"predictions$")
    return create.path, create.body


def rgba(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        return frame.to_ndarray(format="rgba")


def seconds(path: Path) -> float:
    with av.open(str(path)) as container:
        assert container.duration is not None
        return container.duration / av.time_base


# -- still images ---------------------------------------------------------------------------------------------


def test_nano_banana_on_replicate_gets_its_inputs_and_the_png_it_made(replicate: SchemaReplicate,
                                                                       fake_clock: FakeClock, files: dict[str, Path],
                                                                       tmp_path: Path) -> None:
    progress: list[float] = []
    request = ImageRequest(prompt=PROMPT, images=("https://img.example/ref.jpg", files["png"]), aspect_ratio="16:9",
                           output_format="png", seed=7, model="google/nano-banana", extra={"sendJobWebhook": True})
    result = image(replicate_client(replicate, fake_clock), request, tmp_path / "out", on_progress=progress.append)

    path, body = created(replicate)
    assert path == "/v1/models/google/nano-banana/predictions"  # an official model runs by name
    # Seed has no input on Nano Banana (not sent); local images reach it as the publisher's URLs.
    assert body["input"] == {"prompt": PROMPT, "image_input": ["https://img.example/ref.jpg", f"{CDN}/still.png"],
                             "aspect_ratio": "16:9", "output_format": "png"}
    assert replicate.accepted == [body["input"]]
    assert result.path == tmp_path / "out" / "image.png" and result.path.read_bytes() == real_media()["png"]
    assert result.details["contentType"] == "image/png" and result.details["predictionId"] == "p1"
    assert result.model == "google/nano-banana" and progress[-1] == 1.0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["image.png"]  # no part files left


def test_the_suffix_comes_from_the_bytes_not_the_request(replicate: SchemaReplicate, fake_clock: FakeClock,
                                                         tmp_path: Path) -> None:
    """Nano Banana's default output format is jpg: no output_format sent, a JPEG comes back."""
    result = image(replicate_client(replicate, fake_clock), ImageRequest(prompt=PROMPT), tmp_path)
    assert created(replicate)[1]["input"] == {"prompt": PROMPT}
    assert result.path.name == "image.jpg" and result.path.read_bytes() == real_media()["jpg"]
    pixel = rgba(result.path)[24, 32]
    assert pixel[2] > 200 and pixel[0] < 60  # the blue the fake model drew


def test_seedream_gets_the_sdk_options_under_its_own_names(replicate: SchemaReplicate, fake_clock: FakeClock,
                                                           tmp_path: Path) -> None:
    request = ImageRequest(prompt=PROMPT, images=("https://img.example/ref.jpg",), aspect_ratio="match_input_image",
                           model="bytedance/seedream-4",
                           extra={"size": "4K", "enhancePrompt": False, "sequentialImageGeneration": "auto",
                                  "maxImages": 3, "max_images": 2})
    result = image(replicate_client(replicate, fake_clock), request, tmp_path)
    assert created(replicate)[1]["input"] == {
        "prompt": PROMPT, "image_input": ["https://img.example/ref.jpg"], "aspect_ratio": "match_input_image",
        "size": "4K", "enhance_prompt": False, "sequential_image_generation": "auto",
        "max_images": 2}  # the model's own flat name wins over the SDK's
    assert result.path.suffix == ".jpg" and result.path.read_bytes() == real_media()["jpg"]  # first of the list


def test_the_image_background_remover_runs_at_its_version_and_returns_transparency(
        replicate: SchemaReplicate, fake_clock: FakeClock, files: dict[str, Path], tmp_path: Path) -> None:
    request = ImageRequest(prompt=None, images=(files["png"],), model="codeplugtech/background_remover")
    result = image(replicate_client(replicate, fake_clock), request, tmp_path, publish=None)
    path, body = created(replicate)
    # A community model: by name it is not found, so the catalogued version is pinned.
    assert path == "/v1/predictions" and body["version"] == REMOVER_VERSION
    assert body["input"]["image"].startswith("data:image/png;base64,")  # small: inlined by the resolver
    assert set(body["input"]) == {"image"} and replicate.predictions["p1"]["model"] == "codeplugtech/background_remover"
    assert result.path.name == "image.png"
    alpha = rgba(result.path)[:, :, 3]
    assert alpha[:, :30].max() == 0 and alpha[:, 34:].min() == 255  # the cut-out's transparent half


def test_a_plan_pinned_version_is_kept(replicate: SchemaReplicate, fake_clock: FakeClock, files: dict[str, Path],
                                       tmp_path: Path) -> None:
    other = "b" * 64
    replicate.versions[other] = "codeplugtech/background_remover"  # another version of the same model
    image(replicate_client(replicate, fake_clock),
          ImageRequest(prompt=None, images=(files["png"],), model=f"codeplugtech/background_remover:{other}"), tmp_path)
    assert created(replicate)[1]["version"] == other


def test_nano_banana_on_fal_text_and_edit_endpoints(fal: SchemaFal, fake_clock: FakeClock, files: dict[str, Path],
                                                    tmp_path: Path) -> None:
    client = fal_client(fal, fake_clock)
    text = image(client, ImageRequest(prompt=PROMPT, aspect_ratio="9:16", output_format="jpg", seed=3), tmp_path / "a")
    edit = image(client, ImageRequest(prompt=PROMPT, images=(files["png"], "https://img.example/b.png"),
                                      output_format="webp", model="fal-ai/nano-banana"), tmp_path / "b")
    first, second = fal.seen("POST", r"^/fal-ai/")
    assert first.path == "/fal-ai/nano-banana"
    assert first.body == {"prompt": PROMPT, "aspect_ratio": "9:16", "output_format": "jpeg"}  # jpg is fal's jpeg
    assert second.path == "/fal-ai/nano-banana/edit"  # input images move the request to the edit endpoint
    assert second.body == {"prompt": PROMPT, "image_urls": [f"{CDN}/still.png", "https://img.example/b.png"],
                           "output_format": "webp"}
    assert fal.accepted == [first.body, second.body]
    assert text.path.name == "image.jpg" and text.path.read_bytes() == real_media()["jpg"]
    assert edit.path.name == "image.webp" and edit.path.read_bytes() == real_media()["webp"]
    assert edit.model == "fal-ai/nano-banana/edit" and edit.details["contentType"] == "image/webp"
    assert fal.submitted["r1"]["timeout"] == "120"  # the start deadline, as for every fal job


def test_a_model_that_needs_an_image_without_one_costs_nothing(replicate: SchemaReplicate, fake_clock: FakeClock,
                                                               tmp_path: Path) -> None:
    with pytest.raises(ProviderError) as info:
        image(replicate_client(replicate, fake_clock), ImageRequest(prompt=None, model="codeplugtech/background_remover"),
              tmp_path)
    assert info.value.code == "invalid_params" and "needs an input image" in str(info.value)
    assert replicate.created == 0


def test_fal_edit_without_images_moves_to_text_to_image(fal: SchemaFal, fake_clock: FakeClock, tmp_path: Path) -> None:
    result = image(fal_client(fal, fake_clock), ImageRequest(prompt=PROMPT, model="fal-ai/nano-banana/edit"), tmp_path)
    assert fal.seen("POST", r"^/fal-ai/")[0].path == "/fal-ai/nano-banana" and result.model == "fal-ai/nano-banana"
    assert result.path.name == "image.png"  # fal's default output format


def test_an_uncatalogued_model_gets_the_generic_input_and_params_input_verbatim(
        replicate: SchemaReplicate, fal: SchemaFal, fake_clock: FakeClock, tmp_path: Path) -> None:
    replicate.output = replicate.file_url("still")
    replicate.files["still"] = real_media()["png"]
    request = ImageRequest(prompt=PROMPT, images=("https://img.example/a.png",), aspect_ratio="1:1",
                           output_format="jpg", seed=5, model="acme/imagegen", extra={"guidance": 3},
                           input={"steps": 4, "seed": 9})
    result = image(replicate_client(replicate, fake_clock), request, tmp_path)
    assert created(replicate) == ("/v1/models/acme/imagegen/predictions", {"input": {
        "prompt": PROMPT, "image_input": ["https://img.example/a.png"], "aspect_ratio": "1:1",
        "output_format": "jpg", "seed": 9, "guidance": 3, "steps": 4}})
    assert result.path.name == "image.png"  # what the bytes are, whatever was asked

    fal.result = Reply(200, {"images": [{"url": fal.file_url("still"), "content_type": "image/jpeg"}]})
    fal.files["still"] = real_media()["png"]
    image(fal_client(fal, fake_clock), ImageRequest(prompt=PROMPT, images=("https://img.example/a.png",),
                                                    output_format="jpg", model="acme/image-model"), tmp_path / "f")
    assert fal.seen("POST", r"^/acme/")[0].body == {"prompt": PROMPT, "image_urls": ["https://img.example/a.png"],
                                                     "output_format": "jpeg"}


def test_a_value_the_model_refuses_is_the_vendors_422(replicate: SchemaReplicate, fal: SchemaFal,
                                                      fake_clock: FakeClock, tmp_path: Path) -> None:
    for client, request in ((replicate_client(replicate, fake_clock),
                             ImageRequest(prompt=PROMPT, input={"output_format": "webp"})),
                            (fal_client(fal, fake_clock), ImageRequest(prompt=PROMPT, input={"num_images": 9})),
                            (replicate_client(replicate, fake_clock),
                             ImageRequest(prompt=PROMPT, input={"negative_prompt": "blur"}))):  # no such input
        with pytest.raises(ProviderError) as info:
            image(client, request, tmp_path)
        assert info.value.code == "provider_rejected"
    assert replicate.created == 0 and fal.created == 0


# -- what the vendor returned ---------------------------------------------------------------------------------


def test_a_file_that_is_not_the_kind_asked_for_ends_the_attempt(replicate: SchemaReplicate, fake_clock: FakeClock,
                                                                tmp_path: Path) -> None:
    replicate.files["page"] = b"<!doctype html><title>Oops</title>"
    replicate.output = replicate.file_url("page")
    with pytest.raises(ProviderError) as info:
        image(replicate_client(replicate, fake_clock), ImageRequest(prompt=PROMPT), tmp_path)
    assert info.value.code == "provider_failed" and "not the image" in str(info.value)
    assert list(tmp_path.iterdir()) == []
    replicate.files["audio"] = real_media()["mp3"]
    replicate.output = replicate.file_url("audio")
    with pytest.raises(ProviderError) as info:
        image(replicate_client(replicate, fake_clock), ImageRequest(prompt=PROMPT), tmp_path)
    assert "audio/mpeg" in str(info.value)


@pytest.mark.parametrize("kind, mime, suffix", [
    ("png", "image/png", ".png"), ("jpg", "image/jpeg", ".jpg"), ("webp", "image/webp", ".webp"),
    ("mp3", "audio/mpeg", ".mp3"), ("mp3_bare", "audio/mpeg", ".mp3"), ("wav", "audio/wav", ".wav"),
    ("mp4", "video/mp4", ".mp4"),
])
def test_real_files_are_recognised_by_their_bytes(kind: str, mime: str, suffix: str) -> None:
    found = sniff(real_media()[kind][:64])
    assert found is not None and (found.mime, found.suffix) == (mime, suffix)


def test_unknown_bytes_are_not_recognised() -> None:
    assert sniff(b'{"detail": "nope"}') is None and sniff(b"") is None


# -- speech ---------------------------------------------------------------------------------------------------


def test_elevenlabs_on_replicate_gets_the_sdk_options_under_its_names(replicate: SchemaReplicate,
                                                                      fake_clock: FakeClock, tmp_path: Path) -> None:
    request = SpeechRequest(text="Hello there.", voice="Rachel",
                            extra={"stability": 0.4, "similarityBoost": 0.8, "style": 0.1, "languageCode": "en",
                                   "previousText": "Hi.", "useSpeakerBoost": True, "outputFormat": "mp3_44100_128"})
    result = speak(replicate_client(replicate, fake_clock), request, tmp_path)
    path, body = created(replicate)
    assert path == "/v1/models/elevenlabs/turbo-v2.5/predictions"
    # useSpeakerBoost and outputFormat have no input on Replicate's model: not sent.
    assert body["input"] == {"text": "Hello there.", "voice": "Rachel", "stability": 0.4, "similarity_boost": 0.8,
                             "style": 0.1, "language_code": "en", "previous_text": "Hi."}
    assert result.path == tmp_path / "speech.mp3" and result.path.read_bytes() == real_media()["mp3"]
    assert seconds(result.path) == pytest.approx(1.0, abs=0.1) and result.details["contentType"] == "audio/mpeg"


def test_a_hume_voice_object_is_not_sent_to_a_model_that_names_voices(replicate: SchemaReplicate,
                                                                       fake_clock: FakeClock, tmp_path: Path) -> None:
    speak(replicate_client(replicate, fake_clock),
          SpeechRequest(text="Hi.", voice={"name": "Ava", "provider": "HUME_AI"}), tmp_path)
    assert created(replicate)[1]["input"] == {"text": "Hi."}


def test_an_uncatalogued_tts_model_gets_text_voice_and_its_input(replicate: SchemaReplicate, fake_clock: FakeClock,
                                                                 tmp_path: Path) -> None:
    replicate.files["voice"] = real_media()["mp3_bare"]
    replicate.output = replicate.file_url("voice")
    result = speak(replicate_client(replicate, fake_clock),
                   SpeechRequest(text="Hi.", voice="af_bella", model="acme/tts", input={"speed": 1.2}), tmp_path)
    assert created(replicate)[1]["input"] == {"text": "Hi.", "voice": "af_bella", "speed": 1.2}
    assert result.path.name == "speech.mp3"  # an untagged mp3 is still an mp3


# -- video background removal ---------------------------------------------------------------------------------


def test_robust_video_matting_gets_its_video_and_output_type(replicate: SchemaReplicate, fake_clock: FakeClock,
                                                             files: dict[str, Path], tmp_path: Path) -> None:
    result = matte(replicate_client(replicate, fake_clock), MattingRequest(output_type="alpha-mask"), files["mp4"],
                   tmp_path)
    path, body = created(replicate)
    assert path == "/v1/predictions" and body == {"version": MATTING_VERSION, "input": {
        "input_video": f"{CDN}/clip.mp4", "output_type": "alpha-mask"}}
    assert replicate.accepted == [body["input"]]
    assert result.path == tmp_path / "matted.mp4" and result.path.read_bytes() == real_media()["mp4"]
    assert result.model == f"arielreplicate/robust_video_matting:{MATTING_VERSION}"
    frame = frame_at(result.path, 0.5)
    assert frame[5, 5, 1] > 200 and frame[5, 5, 0] < 60  # the green screen
    assert frame[45, 80].min() > 200  # the subject, white


def test_nateraw_takes_only_the_video(replicate: SchemaReplicate, fake_clock: FakeClock, files: dict[str, Path],
                                      tmp_path: Path) -> None:
    request = MattingRequest(model="nateraw/video-background-remover", output_type="green-screen",
                             extra={"input_video": "https://ignored.example/x.mp4"})
    result = matte(replicate_client(replicate, fake_clock), request, files["mp4"], tmp_path)
    assert created(replicate)[1] == {"version": NATERAW_VERSION, "input": {"video": f"{CDN}/clip.mp4"}}
    assert result.path.suffix == ".mp4"


def test_an_uncatalogued_matting_model_gets_video_and_passthrough(replicate: SchemaReplicate, fake_clock: FakeClock,
                                                                  files: dict[str, Path], tmp_path: Path) -> None:
    replicate.files["m"] = real_media()["mp4"]
    replicate.output = replicate.file_url("m")
    matte(replicate_client(replicate, fake_clock),
          MattingRequest(model="acme/matte", output_type="alpha-mask", input={"model": "resnet50"}), files["mp4"],
          tmp_path)
    assert created(replicate)[1]["input"] == {"video": f"{CDN}/clip.mp4", "output_type": "alpha-mask",
                                              "model": "resnet50"}


def test_cancel_stops_the_prediction_at_the_vendor(replicate: SchemaReplicate, fake_clock: FakeClock,
                                                   files: dict[str, Path], tmp_path: Path) -> None:
    cancel = threading.Event()
    replicate.polls_needed = 100
    replicate.on_poll = lambda n: cancel.set() if n == 2 else None
    with pytest.raises(ProviderCancelled):
        matte(replicate_client(replicate, fake_clock, timeout_s=600.0), MattingRequest(), files["mp4"],
              tmp_path / "out", cancel=cancel)
    assert replicate.count("POST", r"^/v1/predictions/p1/cancel$") == 1
    assert replicate.predictions["p1"]["cancel_after"] == "660s"  # Replicate's own deadline, past ours
    assert not (tmp_path / "out").exists()


# -- keys -----------------------------------------------------------------------------------------------------


def test_a_bad_or_missing_key_is_provider_auth(replicate: SchemaReplicate, fal: SchemaFal, fake_clock: FakeClock,
                                               tmp_path: Path) -> None:
    replicate.fault("POST", r"predictions$", Reply(401, {"title": "Unauthenticated", "detail": "Invalid token."}))
    fal.fault("POST", r"^/fal-ai/", Reply(401, {"detail": "Invalid Key"}))
    for client in (replicate_client(replicate, fake_clock), fal_client(fal, fake_clock)):
        with pytest.raises(ProviderError) as info:
            image(client, ImageRequest(prompt=PROMPT), tmp_path, api_key="wrong-key")
        assert info.value.code == "provider_auth" and "wrong-key" not in str(info.value)
    with pytest.raises(ProviderError) as info:  # no key in the plan and none on the server
        replicate_client(replicate, fake_clock).speak(SpeechRequest(text="x"), out_dir=tmp_path, api_key=None,
                                                      on_progress=lambda _: None, cancel=threading.Event())
    assert info.value.code == "provider_auth" and "VIDASSETS_REPLICATE_API_KEY" in str(info.value)
    assert replicate.created == 0 and fal.created == 0


# -- paid once: the vendor-job ledger -------------------------------------------------------------------------


@pytest.fixture
def backend() -> str:
    """The ledger's rules are the same on both backends (tests/providers/test_ledger.py runs both)."""
    return "embedded"


@pytest.fixture
def execution(services) -> str:  # type: ignore[no-untyped-def]
    return submit(services, {"jobs": [{"id": job, "type": "generate",
                                       "params": {"provider": "replicate", "prompt": "a fox", "duration": 1}}
                                      for job in ("gen", "other")]})


@pytest.fixture
def repo(services) -> VendorJobRepository:  # type: ignore[no-untyped-def]
    return VendorJobRepository(services.settings.resolved_database_url)


def test_each_media_job_records_one_vendor_job_and_a_retry_follows_it(
        replicate: SchemaReplicate, fal: SchemaFal, repo: VendorJobRepository, execution: str,
        fake_clock: FakeClock, files: dict[str, Path], tmp_path: Path) -> None:
    ledger = repo.for_job(execution, "gen")
    calls: dict[str, Callable[[Path], ProviderResult]] = {
        "generate_image": lambda out: image(replicate_client(replicate, fake_clock), ImageRequest(prompt=PROMPT), out,
                                            ledger=ledger),
        "speak": lambda out: speak(replicate_client(replicate, fake_clock), SpeechRequest(text="Hi."), out,
                                   ledger=ledger),
        "remove_background": lambda out: matte(replicate_client(replicate, fake_clock), MattingRequest(), files["mp4"],
                                               out, ledger=ledger),
    }
    for step, call in calls.items():
        first = call(tmp_path / step / "1")
        again = call(tmp_path / step / "2")  # the job's run resumed: the recorded prediction is followed
        assert again.details["predictionId"] == first.details["predictionId"]
        assert again.path.read_bytes() == first.path.read_bytes()
    assert replicate.created == 3
    jobs = repo.for_execution(execution)
    assert sorted((j.step, j.vendor, j.status, j.posts) for j in jobs) == [
        ("generate_image", "replicate", "succeeded", 1), ("remove_background", "replicate", "succeeded", 1),
        ("speak", "replicate", "succeeded", 1)]
    assert {j.vendor_job_id for j in jobs} == {"p1", "p2", "p3"}

    fal_ledger = repo.for_job(execution, "other")
    for out in ("f1", "f2"):
        image(fal_client(fal, fake_clock), ImageRequest(prompt=PROMPT, model="fal-ai/nano-banana"), tmp_path / out,
              ledger=fal_ledger)
    assert fal.created == 1


def test_a_lost_create_answer_is_found_not_paid_twice(replicate: SchemaReplicate, repo: VendorJobRepository,
                                                      execution: str, fake_clock: FakeClock, tmp_path: Path) -> None:
    replicate.fault("POST", r"predictions$", Reply(drop=True, after=True))
    result = image(replicate_client(replicate, fake_clock, request_timeout_s=0.3),
                   ImageRequest(prompt=PROMPT, output_format="png"), tmp_path, ledger=repo.for_job(execution, "gen"))
    assert replicate.created == 1 and result.path.read_bytes() == real_media()["png"]
    [job] = repo.for_execution(execution)
    assert job.status == "succeeded" and "found by lookup" in [e["event"] for e in job.evidence]


def test_an_unusable_output_lets_the_next_attempt_create(replicate: SchemaReplicate, repo: VendorJobRepository,
                                                         execution: str, fake_clock: FakeClock, tmp_path: Path) -> None:
    replicate.files["page"] = b"<html>gone</html>"
    replicate.output = replicate.file_url("page")
    with pytest.raises(ProviderError):
        image(replicate_client(replicate, fake_clock), ImageRequest(prompt=PROMPT), tmp_path,
              ledger=repo.for_job(execution, "gen"))
    [job] = repo.for_execution(execution)
    assert job.status == "output_lost"
    replicate.output = None
    image(replicate_client(replicate, fake_clock), ImageRequest(prompt=PROMPT), tmp_path,
          ledger=repo.for_job(execution, "gen"))
    assert replicate.created == 2


# -- the registry and the catalogue ---------------------------------------------------------------------------


def test_the_registry_offers_what_each_vendor_hosts(tmp_path: Path) -> None:
    registry = default_registry(settings=Settings(data_dir=tmp_path))
    assert registry.image_names == ["fal", "replicate"] and registry.matting_names == ["replicate"]
    assert "replicate" in registry.speech_names
    replicate: object = registry.get("replicate")
    served: list[object] = [registry.image("replicate"), registry.matting("replicate"), registry.speech("replicate")]
    assert all(provider is replicate for provider in served)
    empty = ProviderRegistry()
    for lookup_in in (empty.image, empty.speech, empty.matting, registry.matting):
        with pytest.raises(ProviderError) as info:
            lookup_in("fal" if lookup_in == registry.matting else "replicate")
        assert info.value.code == "provider_unavailable"


def test_every_media_model_is_catalogued_with_a_source() -> None:
    expected: set[tuple[str, str, JobKind]] = {
                ("replicate", "google/nano-banana", "image"), ("replicate", "bytedance/seedream-4", "image"),
                ("replicate", "codeplugtech/background_remover", "image"),
                ("replicate", "elevenlabs/turbo-v2.5", "speech"),
                ("replicate", "arielreplicate/robust_video_matting", "matting"),
                ("replicate", "nateraw/video-background-remover", "matting"),
                ("fal", "fal-ai/nano-banana", "image"), ("fal", "fal-ai/nano-banana/edit", "image")}
    jobs: tuple[JobKind, ...] = ("image", "speech", "matting")
    found = {(s.provider, s.model, s.job) for job in jobs for s in catalogued(job)}
    assert found == expected
    for provider, model, job in expected:
        spec = lookup(provider, model, job)
        assert spec is not None and spec.source.startswith("https://")
        # Replicate community models are pinned; official ones run by name.
        assert (spec.version is not None) == (model in {"codeplugtech/background_remover",
                                                        "arielreplicate/robust_video_matting",
                                                        "nateraw/video-background-remover"})


def test_a_community_model_by_name_is_not_found_on_replicate(replicate: SchemaReplicate) -> None:
    """The fake behaves as Replicate: which is why the clients pin the catalogued version."""
    import httpx

    answer = httpx.post(f"{replicate.url}/v1/models/nateraw/video-background-remover/predictions",
                        json={"input": {"video": "https://x/y.mp4"}})
    assert answer.status_code == 404 and replicate.created == 0


def test_a_large_local_image_goes_through_replicates_files_api(replicate: SchemaReplicate, fake_clock: FakeClock,
                                                                tmp_path: Path) -> None:
    """Without a publisher, an input image too large to inline is uploaded to the vendor first."""
    from vidassets.media import run_ffmpeg

    big = tmp_path / "noise.png"
    run_ffmpeg(["-f", "lavfi", "-i", "nullsrc=s=512x512,geq=lum='random(1)*255':cb=128:cr=128", "-frames:v", "1",
                str(big)], timeout=60)
    assert big.stat().st_size > 256 * 1024
    image(replicate_client(replicate, fake_clock), ImageRequest(prompt=PROMPT, images=(big,)), tmp_path / "out",
          publish=None)
    [stored] = replicate.uploads.stored.values()
    assert stored.data == big.read_bytes() and stored.content_type == "image/png"
    assert created(replicate)[1]["input"]["image_input"] == [f"{replicate.url}/v1/files/f1"]


def test_submit_time_checks_see_the_media_models_as_the_clients_do() -> None:
    """What a submit-time check (vidassets/plan/vendor_inputs.py) gets from the catalogue for a still:
    input images pick fal's edit endpoint and are never type-checked as values (they are files);
    explicit values outside the schema are named."""
    from vidassets.providers.catalogue.build import choose, has_image, problems

    text = lookup("fal", "fal-ai/nano-banana", "image")
    assert text is not None
    values = {"image": ["https://img.example/a.png"], "outputFormat": "jpg", "aspectRatio": "7:3"}
    edit = choose(text, has_image(text, values, {}, {}))
    assert edit.model == "fal-ai/nano-banana/edit"
    assert [field for field, _ in problems(edit, values, {"image", "outputFormat", "aspectRatio"}, {}, {})] == [
        "aspectRatio"]
    remover = lookup("replicate", "codeplugtech/background_remover", "image")
    assert remover is not None and problems(remover, {"image": ["https://img.example/a.png"]}, {"image"}, {}, {}) == []
    voice = lookup("replicate", "elevenlabs/turbo-v2.5", "speech")
    assert voice is not None
    assert [f for f, _ in problems(voice, {"text": "x", "stability": 3}, {"text", "stability"}, {}, {})] == ["stability"]
