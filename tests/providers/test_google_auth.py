"""Google credentials: a service-account key whose tokens are renewed ahead of expiry and after a
401, against a fake token endpoint that verifies the signed JWT grant, a Vertex that checks bearers,
and Cloud Storage for ``gcsUri`` outputs (fakes in ``google_fakes.py``)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.providers.fakes import FakeClock, FakeVertex, Reply, policy
from tests.providers.google_fakes import AuthedVertex, FakeGcs, FakeTokenEndpoint
from vidassets.net.guard import AddressPolicy
from vidassets.providers.base import GenerateRequest, ProviderError
from vidassets.providers.google_auth import GoogleCredentials
from vidassets.providers.registry import default_registry
from vidassets.providers.vertex import VertexProvider, gcs_media_url
from vidassets.settings import Settings

POLLS = r":fetchPredictOperation$"
REQUEST = GenerateRequest(prompt="a lighthouse in a storm", duration=6.0, aspect_ratio="16:9", resolution="720p")


@pytest.fixture
def tokens(fake_clock: FakeClock) -> Iterator[FakeTokenEndpoint]:
    server = FakeTokenEndpoint(fake_clock)
    yield server
    server.stop()


@pytest.fixture
def vertex(tokens: FakeTokenEndpoint, clip_bytes: bytes) -> Iterator[AuthedVertex]:
    server = AuthedVertex(tokens)
    server.files["out.mp4"] = clip_bytes
    yield server
    server.stop()


@pytest.fixture
def key_file(tokens: FakeTokenEndpoint, tmp_path: Path) -> Path:
    path = tmp_path / "sa.json"
    path.write_text(json.dumps(tokens.key_file()))
    return path


def provider(vertex: FakeVertex, clock: FakeClock, credentials: GoogleCredentials, **policy_overrides: object) -> VertexProvider:
    return VertexProvider(project=None, base_url=f"{vertex.url}/v1", policy=policy(**policy_overrides),
                          timing=clock.timing, image_policy=AddressPolicy(allow_private=True), credentials=credentials,
                          gcs_base_url=vertex.url)


def generate(p: VertexProvider, out: Path) -> None:
    p.generate(REQUEST, out=out, api_key=None, on_progress=lambda _: None, cancel=threading.Event())


def test_a_token_that_expires_mid_run_is_renewed_before_it_does(tokens: FakeTokenEndpoint, vertex: AuthedVertex,
                                                               key_file: Path, fake_clock: FakeClock, tmp_path: Path,
                                                               clip_bytes: bytes) -> None:
    tokens.lifetime_s = 60  # the fake refuses a token 60 s (fake time) after it was issued
    vertex.polls_needed = 14  # polls 1, 1.5, 2.25 ... 5 s apart: the run outlives the first token
    credentials = GoogleCredentials.from_file(key_file, clock=fake_clock.clock, margin_s=20)
    out = tmp_path / "out.mp4"
    generate(provider(vertex, fake_clock, credentials), out)
    assert out.read_bytes() == clip_bytes
    assert len(tokens.grants) == 2 and tokens.refused == []  # two signed grants, both verified
    first, second = tokens.grants
    bearers = vertex.bearers(POLLS)
    assert bearers[0] == first and bearers[-1] == second
    switched = bearers.index(second)
    assert set(bearers[:switched]) == {first} and set(bearers[switched:]) == {second}
    assert vertex.unauthorised == 0  # renewed ahead of expiry, never refused
    # The project comes from the key file, as Google's clients take it.
    assert vertex.seen("POST", r":predictLongRunning$")[0].path.startswith("/v1/projects/sa-project/")


def test_a_token_revoked_mid_run_is_renewed_once_on_401(tokens: FakeTokenEndpoint, vertex: AuthedVertex,
                                                        key_file: Path, fake_clock: FakeClock, tmp_path: Path) -> None:
    vertex.polls_needed = 5
    vertex.on_poll = lambda n: tokens.revoke(tokens.grants[0]) if n == 2 else None
    credentials = GoogleCredentials.from_file(key_file, clock=fake_clock.clock)
    generate(provider(vertex, fake_clock, credentials), tmp_path / "out.mp4")
    assert len(tokens.grants) == 2 and vertex.unauthorised == 1
    assert vertex.bearers(POLLS)[-1] == tokens.grants[1]
    assert vertex.created == 1


def test_credentials_refused_twice_fail_as_provider_auth_without_a_job(tokens: FakeTokenEndpoint,
                                                                       vertex: AuthedVertex, key_file: Path,
                                                                       fake_clock: FakeClock, tmp_path: Path) -> None:
    tokens.live = lambda bearer: False  # type: ignore[method-assign]  # e.g. the account lacks the API
    credentials = GoogleCredentials.from_file(key_file, clock=fake_clock.clock)
    with pytest.raises(ProviderError) as info:
        generate(provider(vertex, fake_clock, credentials), tmp_path / "out.mp4")
    assert info.value.code == "provider_auth"
    assert len(tokens.grants) == 2 and vertex.unauthorised == 2 and vertex.created == 0


def test_a_bad_key_is_provider_auth_naming_the_file_not_the_key(tokens: FakeTokenEndpoint, vertex: AuthedVertex,
                                                                key_file: Path, fake_clock: FakeClock,
                                                                tmp_path: Path) -> None:
    info_json = json.loads(key_file.read_text())
    tokens.key_file()  # the endpoint now trusts another key: the file's signature no longer verifies
    credentials = GoogleCredentials.from_file(key_file, clock=fake_clock.clock)
    with pytest.raises(ProviderError) as info:
        generate(provider(vertex, fake_clock, credentials), tmp_path / "out.mp4")
    assert info.value.code == "provider_auth" and "sa.json" in str(info.value)
    assert tokens.refused == ["Invalid JWT Signature."] and vertex.requests == []
    assert info_json["private_key"].splitlines()[1] not in str(info.value)


def test_gcs_output_is_downloaded_with_the_same_bearer(tokens: FakeTokenEndpoint, key_file: Path,
                                                       fake_clock: FakeClock, tmp_path: Path, clip_bytes: bytes) -> None:
    gcs = FakeGcs(tokens)
    vertex = AuthedVertex(tokens)
    try:
        gcs.objects[("vid-out", "runs/1/sample_0.mp4")] = clip_bytes
        vertex.response = {"videos": [{"gcsUri": "gs://vid-out/runs/1/sample_0.mp4", "mimeType": "video/mp4"}]}
        credentials = GoogleCredentials.from_file(key_file, clock=fake_clock.clock)
        p = provider(vertex, fake_clock, credentials)
        p.gcs_base_url = gcs.url
        out = tmp_path / "out.mp4"
        generate(p, out)
        assert out.read_bytes() == clip_bytes
        (read,) = gcs.requests
        assert read.path == "/storage/v1/b/vid-out/o/runs%2F1%2Fsample_0.mp4" and read.query == {"alt": ["media"]}
        assert read.headers["authorization"] == f"Bearer {tokens.grants[-1]}"
    finally:
        gcs.stop()
        vertex.stop()


def test_tokens_never_reach_logs_or_errors(tokens: FakeTokenEndpoint, vertex: AuthedVertex, key_file: Path,
                                           fake_clock: FakeClock, tmp_path: Path,
                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    credentials = GoogleCredentials.from_file(key_file, clock=fake_clock.clock)
    vertex.on_create = lambda _: vertex.fault("POST", POLLS, Reply(403, {"error": {
        "code": 403, "message": f"token {tokens.grants[-1]} lacks aiplatform.endpoints.predict",
        "status": "PERMISSION_DENIED"}}))
    with pytest.raises(ProviderError) as info:
        generate(provider(vertex, fake_clock, credentials), tmp_path / "out.mp4")
    assert info.value.code == "provider_auth" and "[redacted]" in str(info.value)
    for token in tokens.grants:
        assert token not in str(info.value) and token not in caplog.text
    assert "sa-project" not in repr(credentials) and "PRIVATE" not in repr(credentials)


def test_settings_wire_the_key_file_and_storage(tokens: FakeTokenEndpoint, vertex: AuthedVertex, key_file: Path,
                                                tmp_path: Path, clip_bytes: bytes) -> None:
    """VIDASSETS_GOOGLE_CREDENTIALS_FILE and the base URLs reach the registry's google-cloud provider."""
    settings = Settings(data_dir=tmp_path, google_credentials_file=key_file, vertex_base_url=f"{vertex.url}/v1",
                        gcs_base_url=vertex.url, provider_poll_interval_s=0.01)
    registry = default_registry(settings=settings)
    out = tmp_path / "out.mp4"
    registry.get("google-cloud").generate(REQUEST, out=out, api_key=None, on_progress=lambda _: None,
                                          cancel=threading.Event())
    assert out.read_bytes() == clip_bytes and len(tokens.grants) == 1


_OBJECT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\r\n"), min_size=1,
                  max_size=60).filter(lambda name: name not in (".", ".."))


@given(bucket=st.from_regex(r"[a-z0-9][a-z0-9._-]{1,20}[a-z0-9]", fullmatch=True), name=_OBJECT)
def test_gcs_urls_name_exactly_the_object(bucket: str, name: str) -> None:
    """Whatever object name the vendor returns, the URL reads that object of that bucket: no other
    path, no extra query, the same host."""
    url = gcs_media_url("https://storage.example", f"gs://{bucket}/{name}")
    parts = urlsplit(url)
    assert parts.netloc == "storage.example" and parts.query == "alt=media" and not parts.fragment
    segments = parts.path.split("/")
    assert segments[:4] == ["", "storage", "v1", "b"] and segments[5] == "o" and len(segments) == 7
    assert unquote(segments[4]) == bucket and unquote(segments[6]) == name


@pytest.mark.parametrize("uri", ["s3://b/x.mp4", "gs://UPPER/x", "gs://b/", "gs://bucket", "gs://bu cket/x",
                                 "gs://bucket/a\nb", "gs://bucket/..", "gs://bucket/."])
def test_gcs_uris_that_are_not_bucket_objects_are_refused(uri: str) -> None:
    with pytest.raises(ProviderError):
        gcs_media_url("https://storage.example", uri)
