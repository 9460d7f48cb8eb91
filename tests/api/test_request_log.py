"""The request log line: one JSON object per request with the documented fields, whatever the
client sends (hostile user agents and paths cannot break or forge a line), in process and from a
real uvicorn server on both backends."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.conftest import make_client, settings_env
from tests.docs.doc_tables import first_column
from tests.helpers import LogLines as Lines
from tests.helpers import capture_log
from vidassets.logs import JsonFormatter, RedactingFormatter, clip, redact
from vidassets.settings import Settings
from vidassets.storage.keys import ApiKeyRepository

ROOT = Path(__file__).resolve().parents[2]
PLAN = {"jobs": [{"id": "a", "type": "generate", "params": {"prompt": "p", "duration": 1}}]}
# Characters some reader breaks a line on, or that reorder what a terminal shows.
LINE_BREAKERS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"




@pytest.fixture
def request_lines() -> Iterator[Lines]:
    with capture_log("vidassets.request", Lines(JsonFormatter())) as handler:
        yield handler


def only_line(lines: Lines) -> dict:  # type: ignore[type-arg]
    taken = lines.take()
    assert len(taken) == 1, taken
    assert len(taken[0].splitlines()) == 1 and not set(taken[0]) & set(LINE_BREAKERS)
    entry: dict = json.loads(taken[0])  # type: ignore[type-arg]
    return entry


def test_a_request_line_has_the_documented_fields(settings: Settings, request_lines: Lines) -> None:
    client = make_client(settings, tenant="acme")
    token = client.headers["Authorization"].split()[1]
    resp = client.post("/api/execute", json=PLAN, headers={"User-Agent": "synthome-sdk/1.0", "X-Request-ID": "req-1"})
    assert resp.status_code == 202
    entry = only_line(request_lines)
    assert entry["logger"] == "vidassets.request" and entry["level"] == "info" and entry["event"] == "http.request"
    assert entry["method"] == "POST" and entry["route"] == "/api/execute" and entry["path"] == "/api/execute"
    assert entry["status"] == 202 and entry["duration_ms"] > 0
    assert entry["user_agent"] == "synthome-sdk/1.0" and entry["request_id"] == "req-1" == resp.headers["x-request-id"]
    assert entry["tenant_id"] == "acme" and entry["key_id"] == token.split("_")[1]
    assert entry["ts"].endswith("Z") and entry["msg"].startswith("POST /api/execute 202")

    eid = resp.json()["id"]
    status = client.get(f"/api/execute/{eid}/status?include=jobs&sig=deadbeefcafe")
    entry = only_line(request_lines)
    assert entry["route"] == "/api/execute/{execution_id}/status" and entry["path"] == f"/api/execute/{eid}/status"
    assert entry["status"] == status.status_code and entry["request_id"] == status.headers["x-request-id"]
    assert entry["query_params"] == ["include", "sig"]  # names only: a value can be a credential
    everything = json.dumps(entry)
    assert "deadbeefcafe" not in everything and token not in everything and "Bearer" not in everything
    documented = first_column("Request line") | first_column("Every line") | {"ts", "level", "logger", "msg"}
    assert set(entry) <= documented, set(entry) - documented


def test_unauthenticated_unmatched_and_rejected_requests_are_logged(settings: Settings, request_lines: Lines) -> None:
    client = make_client(settings)
    client.headers.pop("Authorization")
    assert client.get("/api/executions").status_code == 401
    entry = only_line(request_lines)
    assert entry["status"] == 401 and entry["route"] == "/api/executions" and "tenant_id" not in entry

    assert client.get("/no/such/route").status_code == 404
    entry = only_line(request_lines)
    assert entry["route"] is None and entry["path"] == "/no/such/route" and entry["status"] == 404

    big = client.post("/api/execute", content=b"x" * (settings.max_body_bytes + 1),
                      headers={"content-type": "application/json"})
    assert big.status_code == 413
    assert only_line(request_lines)["status"] == 413


hostile_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=400)
# No "%": the test client percent-decodes a path twice, which would change the path itself.
hostile_path = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="%"), max_size=400)


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(user_agent=hostile_text.map(lambda t: t.encode()), path=hostile_path)
def test_hostile_user_agents_and_paths_stay_one_line(settings: Settings, request_lines: Lines,
                                                    user_agent: bytes, path: str) -> None:
    """Any user agent (control characters, line separators, quotes: as UTF-8 bytes, which the
    server reads as Latin-1) and any path: one line, valid JSON, the values kept as sent (clipped,
    redacted), in JSON and in the text format. Raw non-UTF-8 bytes go through the real server below."""
    client = _client_for(settings)
    text_lines = Lines(RedactingFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.getLogger("vidassets.request").addHandler(text_lines)
    try:
        # Dots encoded too: a client would otherwise resolve "." and ".." segments before sending.
        client.get("/health/" + quote(path, safe="").replace(".", "%2E"), headers=[(b"user-agent", user_agent)],
                   follow_redirects=False)
    finally:
        logging.getLogger("vidassets.request").removeHandler(text_lines)
    entry = only_line(request_lines)
    assert entry["user_agent"] == redact(clip(user_agent.decode("latin-1"), 256))
    assert entry["path"] == redact(clip("/health/" + path, 512))
    [text] = text_lines.take()
    assert len(text.splitlines()) == 1 and not set(text) & set(LINE_BREAKERS)


_CLIENTS: dict[str, object] = {}


def _client_for(settings: Settings):  # type: ignore[no-untyped-def]
    """One app per backend for all of Hypothesis' examples (building one per example is slow)."""
    key = settings.resolved_database_url
    if key not in _CLIENTS:
        _CLIENTS.clear()
        _CLIENTS[key] = make_client(settings)
    return _CLIENTS[key]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _raw_get(port: int, path: bytes, user_agent: bytes, token: str | None = None) -> bytes:
    """An HTTP/1.1 request written byte by byte: header bytes no client library would send."""
    head = b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: " + user_agent + b"\r\nConnection: close\r\n"
    if token:
        head += b"Authorization: Bearer " + token.encode() + b"\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head + b"\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_a_real_server_writes_one_json_object_per_line(settings: Settings, tmp_path: Path) -> None:
    """uvicorn as deployed: every stderr line is a JSON object, one request line per request,
    uvicorn's own lines included, and hostile bytes in a user agent or path stay inside their field."""
    token, _ = ApiKeyRepository(settings.resolved_database_url).create("acme", "tests")
    port = _free_port()
    env = {**os.environ, **settings_env(settings), "VIDASSETS_LOG_FORMAT": "json", "VIDASSETS_LOG_LEVEL": "INFO",
           "VIDASSETS_DAGSTER_GRAPHQL_URL": "http://127.0.0.1:9/graphql"}
    err = (tmp_path / "api.err").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        _wait_ready(port, proc)
        # Bytes a server accepts in a header value (no C0 controls: uvicorn answers 400 to those itself).
        hostile_ua = 'evil\x85\xe2\x80\xa8}{"level":"critical"} \xc2\x9b31m token=abcdefgh'.encode("latin-1")
        hostile_path = b"/api/execute/%0A%7B%22forged%22%3Atrue%7D%E2%80%A8x/status"
        answers = [_raw_get(port, b"/api/executions?limit=2", b"curl/8", token),
                   _raw_get(port, hostile_path, hostile_ua, token),
                   _raw_get(port, b"/health", b"probe")]
        assert [a.split(b" ", 2)[1] for a in answers] == [b"200", b"404", b"200"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        err.close()
    lines = [line for line in (tmp_path / "api.err").read_text().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line: one JSON object
    requests = [e for e in entries if e.get("event") == "http.request" and e["user_agent"] != READY_CHECK]
    assert [(e["method"], e["status"]) for e in requests] == [("GET", 200), ("GET", 404), ("GET", 200)]
    listed, hostile, health = requests
    assert listed["route"] == "/api/executions" and listed["query_params"] == ["limit"]
    assert listed["tenant_id"] == "acme" and token not in json.dumps(entries)
    assert hostile["path"] == '/api/execute/\n{"forged":true}\u2028x/status'
    assert hostile["user_agent"].startswith("evil\x85") and "abcdefgh" not in hostile["user_agent"]
    assert not any("forged" in e and e.get("level") == "critical" for e in entries)
    assert health["route"] == "/health" and "tenant_id" not in health
    assert any(e["logger"].startswith("uvicorn") for e in entries)  # uvicorn's own lines are JSON too


READY_CHECK = "ready-check"


def _wait_ready(port: int, proc: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the API exited during start-up"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", headers={"user-agent": READY_CHECK},
                         timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise TimeoutError("the API did not start")
