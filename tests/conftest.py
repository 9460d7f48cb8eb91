"""Shared fixtures: real PostgreSQL, a real S3 endpoint (moto server on loopback), and Settings
for the two deployments every storage-touching test runs on:

* ``embedded``   — SQLite + local artefact folder (the default a fresh clone runs);
* ``production`` — PostgreSQL + S3 (moto's server, over HTTP on 127.0.0.1).
"""

from __future__ import annotations

import functools
import http.server
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from vidassets.settings import Settings

PG_ADMIN_URL = os.environ.get("VIDASSETS_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
S3_BUCKET = "vidassets-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated template database; each test gets a fast copy of it (CREATE DATABASE ... TEMPLATE)."""
    name = f"vidassets_tmpl_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    from vidassets.storage.db import get_engine
    from vidassets.storage.migrate import upgrade

    upgrade(url)
    get_engine(url).dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_database(pg_template: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test, dropped afterwards."""
    name = f"vidassets_test_{os.getpid()}_{secrets.token_hex(4)}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    from vidassets.storage.db import get_engine, get_sessionmaker

    get_engine(url).dispose()
    get_engine.cache_clear()
    get_sessionmaker.cache_clear()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on a loopback port, with the test bucket created."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    from vidassets.storage.artefacts import s3_client

    s3_client(endpoint, "us-east-1", "testing", "testing").create_bucket(Bucket=S3_BUCKET)
    yield endpoint
    server.stop()


def embedded_settings(data_dir: Path, **overrides: object) -> Settings:
    from vidassets.storage.migrate import upgrade

    settings = Settings(data_dir=data_dir, **overrides)  # type: ignore[arg-type]
    upgrade(settings.resolved_database_url)
    return settings


def production_settings(data_dir: Path, pg_url: str, s3_url: str, **overrides: object) -> Settings:
    return Settings(  # type: ignore[arg-type]
        data_dir=data_dir, database_url=pg_url, artefact_store="s3", s3_endpoint_url=s3_url,
        s3_bucket=S3_BUCKET, s3_prefix=f"t{secrets.token_hex(3)}", s3_access_key_id="testing",
        s3_secret_access_key="testing", redis_url="redis://127.0.0.1:6379/15", **overrides,
    )


@pytest.fixture(scope="session")
def redis_test_db() -> str:
    """Redis database 15, emptied once per session (cache entries and buckets from earlier runs)."""
    import redis

    url = "redis://127.0.0.1:6379/15"
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture(params=["embedded", "production"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings for the parametrised backend, on a fresh data dir."""
    if backend == "embedded":
        return embedded_settings(tmp_path / "data")
    request.getfixturevalue("redis_test_db")
    return production_settings(tmp_path / "data", request.getfixturevalue("pg_database"),
                               request.getfixturevalue("s3_endpoint"))


@pytest.fixture
def services(settings: Settings):  # type: ignore[no-untyped-def]
    from vidassets.services import build_services

    return build_services(settings)


def settings_env(settings: Settings) -> dict[str, str]:
    """The VIDASSETS_* environment that reproduces ``settings`` in another process."""
    env: dict[str, str] = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        if isinstance(value, (list, dict)):
            import json

            value = json.dumps(value)
        env[f"VIDASSETS_{name.upper()}"] = str(value)
    if settings.s3_secret_access_key is not None:
        env["VIDASSETS_S3_SECRET_ACCESS_KEY"] = settings.s3_secret_access_key.get_secret_value()
    return env


@pytest.fixture
def settings_in_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Expose ``settings`` through the environment (as the run worker and sensors read it)."""
    from vidassets.services import get_services
    from vidassets.settings import get_settings

    for key, value in settings_env(settings).items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    get_services.cache_clear()
    yield get_settings()
    get_settings.cache_clear()
    get_services.cache_clear()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Files a plan can point at by URL: a voice track, a real clip, a non-media file."""
    from vidassets import media

    folder = tmp_path_factory.mktemp("served")
    media.run_ffmpeg(["-f", "lavfi", "-i", "sine=frequency=440:duration=3:sample_rate=48000",
                      "-c:a", "aac", str(folder / "voice.m4a")], timeout=60)
    media.run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=24:duration=1",
                      "-c:v", "libx264", "-pix_fmt", "yuv420p", str(folder / "clip.mp4")], timeout=60)
    (folder / "notes.mp4").write_text("this is not a video\n" * 100)
    return folder


@pytest.fixture(scope="session")
def media_url(media_dir: Path) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(media_dir)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()



@dataclass
class Receiver:
    """A real HTTP receiver on loopback. ``script`` is consumed per request: an int status code,
    or "hang" to sleep past any client timeout."""

    url: str
    script: list[object] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - stdlib name
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            state.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            action = state.script.pop(0) if state.script else 200
            if action == "hang":
                time.sleep(5)
                return
            self.send_response(int(action))  # type: ignore[arg-type]
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield state
    server.shutdown()


def make_client(settings: Settings, tenant: str = "tenant-a", **key_kwargs: Any):  # type: ignore[no-untyped-def]
    """A TestClient for the app with a fresh API key of ``tenant`` in its default headers.
    Dagster is pointed at a closed port: these tests cover the API alone."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from vidassets.storage.keys import ApiKeyRepository

    settings = settings.model_copy(update={"dagster_graphql_url": "http://127.0.0.1:9/graphql", "dagster_timeout_s": 1.0})
    key, _ = ApiKeyRepository(settings.resolved_database_url).create(tenant, "tests", **key_kwargs)
    client = TestClient(create_app(settings))
    client.headers["Authorization"] = f"Bearer {key}"
    return client


@pytest.fixture
def client(settings: Settings):  # type: ignore[no-untyped-def]
    return make_client(settings)
