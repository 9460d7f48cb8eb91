"""Inputs to vendors (``vidassets/providers/uploads.py``): what reaches the vendor for local files,
``s3://`` objects and ``data:`` URIs. Replicate's Files API and fal's storage upload are faked in
``fakes.py`` as documented; every test checks the vendor never saw a ``data:`` URI over 256 KiB."""

from __future__ import annotations

import base64
import dataclasses
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import S3_BUCKET
from tests.providers.fakes import KEY, FakeClock, FakeFal, FakeFalStorage, FakeReplicate, FakeServer, Reply, policy
from vidassets.providers.base import GenerateRequest, LipSyncRequest, ProviderError
from vidassets.providers.fal import FalProvider
from vidassets.providers.http import INLINE_LIMIT_BYTES, HttpPolicy, Timing, VendorSession
from vidassets.providers.replicate import ReplicateProvider
from vidassets.providers.uploads import FalStorage, InputResolver, LocalInput, media_type
from vidassets.storage.artefacts import s3_client

MP4_HEAD = b"\x00\x00\x00\x18ftypmp42"
M4A_HEAD = b"\x00\x00\x00\x18ftypM4A "


def data_uris(value: Any) -> list[str]:
    """Every data: URI anywhere in a JSON value."""
    if isinstance(value, str):
        return [value] if value.startswith("data:") else []
    if isinstance(value, list):
        return [uri for item in value for uri in data_uris(item)]
    if isinstance(value, dict):
        return [uri for item in value.values() for uri in data_uris(item)]
    return []


def assert_no_big_data_uri(server: FakeServer) -> None:
    for seen in server.requests:
        for uri in data_uris(seen.body):
            assert len(uri) <= INLINE_LIMIT_BYTES, f"{len(uri)}-character data: URI sent to {seen.path}"


def media(path: Path, head: bytes, size: int) -> Path:
    path.write_bytes(head + bytes(range(256)) * (max(size - len(head), 0) // 256 + 1))
    with path.open("r+b") as fh:
        fh.truncate(size)
    return path


def replicate(server: FakeReplicate, clock: FakeClock) -> ReplicateProvider:
    return ReplicateProvider(base_url=f"{server.url}/v1", policy=policy(), timing=clock.timing)


def test_replicate_big_video_is_uploaded_small_audio_inlined(replicate_server: FakeReplicate, fake_clock: FakeClock,
                                                              tmp_path: Path) -> None:
    video = media(tmp_path / "source.mp4", MP4_HEAD, INLINE_LIMIT_BYTES + 1)
    audio = media(tmp_path / "audio.bin", M4A_HEAD, 2000)  # a work file's name: the type comes from its bytes
    replicate(replicate_server, fake_clock).lip_sync(
        LipSyncRequest(model="sync/lipsync-2"), video=video, audio=audio, out=tmp_path / "o.mp4", api_key=KEY,
        on_progress=lambda _: None, cancel=threading.Event(), publish=None)
    (upload,) = replicate_server.seen("POST", r"^/v1/files$")
    stored = replicate_server.uploads.stored["f1"]
    assert stored.data == video.read_bytes() and stored.content_type == "video/mp4" and stored.filename == "input.mp4"
    assert upload.headers["authorization"] == f"Bearer {KEY}"
    create = replicate_server.seen("POST", r"predictions$")[0]
    assert create.body["input"]["video"] == f"{replicate_server.url}/v1/files/f1"
    assert create.body["input"]["audio"] == "data:audio/mp4;base64," + base64.b64encode(audio.read_bytes()).decode()
    assert replicate_server.requests.index(upload) < replicate_server.requests.index(create)  # uploaded first
    assert_no_big_data_uri(replicate_server)


def test_fal_big_media_goes_through_storage_upload(fal_server: FakeFal, fake_clock: FakeClock, tmp_path: Path) -> None:
    storage = FakeFalStorage(KEY)
    try:
        fal = FalProvider(base_url=fal_server.url, policy=policy(), timing=fake_clock.timing)
        fal.inputs = dataclasses.replace(fal.inputs, files=FalStorage(storage.url))
        track = media(tmp_path / "speech.bin", M4A_HEAD, 3 * INLINE_LIMIT_BYTES)
        fal_server.result = Reply(200, {"text": "hi", "chunks": [{"timestamp": [0.0, 0.5], "text": "hi"}]})
        words = fal.transcribe(media=track, language="en", model=None, api_key=KEY, cancel=threading.Event(),
                               publish=None)
        assert [w.text for w in words] == ["hi"]
        initiate, put = storage.requests
        assert initiate.path == "/storage/upload/initiate" and initiate.query == {"storage_type": ["gcs"]}
        assert initiate.body["content_type"] == "audio/mp4" and initiate.body["file_name"].startswith("input.")
        assert json.loads(initiate.headers["x-fal-object-lifecycle-preference"])["expiration_duration_seconds"] > 0
        assert put.method == "PUT" and put.body == track.read_bytes() and "authorization" not in put.headers
        (submit,) = fal_server.seen("POST", r"^/fal-ai/")
        assert submit.body["audio_url"] == f"{storage.url}/files/u1-{initiate.body['file_name']}"
        assert_no_big_data_uri(fal_server)
    finally:
        storage.stop()


def test_a_public_store_url_is_used_as_given(replicate_server: FakeReplicate, fake_clock: FakeClock,
                                            tmp_path: Path) -> None:
    video = media(tmp_path / "source.mp4", MP4_HEAD, 2 * INLINE_LIMIT_BYTES)
    audio = media(tmp_path / "audio.m4a", M4A_HEAD, 100)
    replicate(replicate_server, fake_clock).lip_sync(
        LipSyncRequest(model="sync/lipsync-2"), video=video, audio=audio, out=tmp_path / "o.mp4", api_key=KEY,
        on_progress=lambda _: None, cancel=threading.Event(), publish=lambda p: f"https://cdn.example/{p.name}?sig=1")
    body = replicate_server.seen("POST", r"predictions$")[0].body["input"]
    assert body["video"] == "https://cdn.example/source.mp4?sig=1" and replicate_server.seen("POST", "/v1/files") == []


def test_a_private_store_is_never_handed_to_vendors(replicate_server: FakeReplicate, fake_clock: FakeClock,
                                                    tmp_path: Path) -> None:
    """A MinIO on the private network: its signed URLs are useless to a vendor, so the file goes
    through the vendor's file API (or inline when small), and the store is not asked to sign."""
    published: list[Path] = []
    p = replicate(replicate_server, fake_clock)
    p.inputs = dataclasses.replace(p.inputs, store_public=lambda: False)
    video = media(tmp_path / "source.mp4", MP4_HEAD, INLINE_LIMIT_BYTES * 2)
    audio = media(tmp_path / "audio.m4a", M4A_HEAD, 100)
    p.lip_sync(LipSyncRequest(model="sync/lipsync-2"), video=video, audio=audio, out=tmp_path / "o.mp4", api_key=KEY,
               on_progress=lambda _: None, cancel=threading.Event(),
               publish=lambda path: published.append(path) or "http://minio:9000/x")  # type: ignore[func-returns-value]
    body = replicate_server.seen("POST", r"predictions$")[0].body["input"]
    assert body["video"].startswith(f"{replicate_server.url}/v1/files/") and body["audio"].startswith("data:audio/")
    assert published == []


@pytest.fixture
def s3_object(s3_endpoint: str) -> Iterator[tuple[Any, str]]:
    client = s3_client(s3_endpoint, "us-east-1", "testing", "testing")
    key = "inputs/still.png"
    client.put_object(Bucket=S3_BUCKET, Key=key, Body=b"\x89PNG\r\n\x1a\n" + b"s" * (INLINE_LIMIT_BYTES + 10))
    yield client, key
    client.delete_object(Bucket=S3_BUCKET, Key=key)


@pytest.mark.parametrize("public", [False, True])
def test_s3_inputs_become_readable(replicate_server: FakeReplicate, fake_clock: FakeClock, tmp_path: Path,
                                   s3_object: tuple[Any, str], public: bool) -> None:
    """An ``s3://`` start image is never passed through: presigned when the endpoint is public,
    otherwise read here and uploaded through Replicate's Files API."""
    client, key = s3_object
    p = replicate(replicate_server, fake_clock)
    p.inputs = dataclasses.replace(p.inputs, s3=lambda: client, store_public=lambda: public, url_ttl_s=900)
    request = GenerateRequest(prompt="wake up", duration=5, aspect_ratio="16:9", resolution="720p",
                              start_image=f"s3://{S3_BUCKET}/{key}", model="acme/video")
    p.generate(request, out=tmp_path / "o.mp4", api_key=KEY, on_progress=lambda _: None, cancel=threading.Event())
    sent = replicate_server.seen("POST", r"predictions$")[0].body["input"]
    values = [v for v in sent.values() if isinstance(v, str)]
    assert not any(v.startswith("s3://") for v in values)
    if public:
        (signed,) = [v for v in values if "X-Amz-Signature=" in v]
        assert signed.startswith(client.meta.endpoint_url) and key in signed and "X-Amz-Expires=900" in signed
        assert replicate_server.seen("POST", "/v1/files") == []
    else:
        assert f"{replicate_server.url}/v1/files/f1" in values
        assert replicate_server.uploads.stored["f1"].data == client.get_object(Bucket=S3_BUCKET, Key=key)["Body"].read()
    assert_no_big_data_uri(replicate_server)


def test_an_unreadable_s3_input_is_invalid_params_before_any_job(replicate_server: FakeReplicate,
                                                                  fake_clock: FakeClock, tmp_path: Path,
                                                                  s3_endpoint: str) -> None:
    client = s3_client(s3_endpoint, "us-east-1", "testing", "testing")
    p = replicate(replicate_server, fake_clock)
    p.inputs = dataclasses.replace(p.inputs, s3=lambda: client)
    request = GenerateRequest(prompt="x", duration=5, aspect_ratio="16:9", resolution="720p",
                              start_image=f"s3://{S3_BUCKET}/missing.png", model="acme/video")
    with pytest.raises(ProviderError) as info:
        p.generate(request, out=tmp_path / "o.mp4", api_key=KEY, on_progress=lambda _: None, cancel=threading.Event())
    assert info.value.code == "invalid_params" and replicate_server.created == 0


# -- the rule, for any mix of inputs --------------------------------------------------------------


class RecordingFiles:
    """A file API that keeps what it was sent (the HTTP side is covered above)."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def upload(self, session: VendorSession, path: Path, mime: str) -> str:
        self.sent.append(path.read_bytes())
        return f"https://files.vendor.example/{len(self.sent)}"


SIZES = st.sampled_from([0, 1, 100, INLINE_LIMIT_BYTES * 3 // 4 - 40, INLINE_LIMIT_BYTES * 3 // 4,
                         INLINE_LIMIT_BYTES * 3 // 4 + 1, INLINE_LIMIT_BYTES, 2 * INLINE_LIMIT_BYTES])
LEAF = st.one_of(SIZES.map(lambda n: ("file", n)), SIZES.map(lambda n: ("data", n)),
                 st.sampled_from(["https://example.com/a.png", "a prompt", 5, None, True]))
PAYLOAD = st.dictionaries(st.sampled_from(["video", "audio", "image", "extra", "items"]),
                          st.recursive(LEAF, lambda inner: st.lists(inner, max_size=3), max_leaves=6), max_size=4)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=PAYLOAD)
def test_no_data_uri_over_the_limit_and_nothing_lost(payload: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("inputs")
    originals: list[bytes] = []

    def build(value: Any) -> Any:
        if isinstance(value, tuple):
            data = bytes([len(originals) % 251]) * value[1]
            originals.append(data)
            if value[0] == "data":
                return "data:application/octet-stream;base64," + base64.b64encode(data).decode()
            path = folder / f"in{len(originals)}.bin"
            path.write_bytes(data)
            return LocalInput(path)
        if isinstance(value, list):
            return [build(item) for item in value]
        return value

    files = RecordingFiles()
    resolver = InputResolver(files)
    with VendorSession("test", base_url="https://vendor.example", auth={}, secret="", policy=HttpPolicy(),
                       timing=Timing(), cancel=threading.Event()) as session:
        resolved = resolver.resolve(session, {key: build(value) for key, value in payload.items()})
    delivered: list[bytes] = []
    for uri in data_uris(resolved):
        assert len(uri) <= INLINE_LIMIT_BYTES
        delivered.append(base64.b64decode(uri.partition(",")[2]))
    delivered += files.sent
    assert sorted(delivered) == sorted(originals)  # every input arrives once, inline or uploaded, intact
    json.dumps(resolved)  # nothing but JSON is left for the create body (no LocalInput)


def test_media_type_reads_the_bytes(tmp_path: Path) -> None:
    cases = {b"ID3\x04": "audio/mpeg", b"RIFF\x00\x00\x00\x00WAVEfmt ": "audio/wav", b"OggS": "audio/ogg",
             b"fLaC": "audio/flac", M4A_HEAD: "audio/mp4", MP4_HEAD: "video/mp4", b"\x89PNG\r\n": "image/png"}
    for head, expected in cases.items():
        path = tmp_path / "work.bin"
        path.write_bytes(head + b"\x00" * 32)
        assert media_type(path) == expected
