"""Hostile media and URLs at execution time, through the real executor and ffmpeg (both backends).

Non-media, truncated, empty and missing inputs must end as a clean ``failed`` execution with a
clear job error code and nothing left behind in the work dir; filter-syntax text must render as
text; private and metadata addresses must be refused at fetch time under the strict policy, before
a single byte is sent.
"""

from __future__ import annotations

import http.server
import ipaddress
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpcore
import pytest

from tests.helpers import submit
from tests.hostile.corpus import INJECTIONS, UNICODE
from vidassets import media
from vidassets.execution.executor import PlanExecutor, RunOutcome
from vidassets.execution.operations import OperationRunner
from vidassets.net.fetch import FetchError, fetch_to_file
from vidassets.net.guard import AddressPolicy
from vidassets.plan import PlanValidationError
from vidassets.providers import default_registry
from vidassets.services import Services, build_services
from vidassets.settings import Settings

GEN = {"id": "g", "type": "generate", "params": {"prompt": "a small clip", "duration": 1, "resolution": "160x90"}}


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Safety net: any fetch connection to a non-loopback address fails here instead of leaving the machine."""
    attempts: list[tuple[str, int]] = []
    original = httpcore.SyncBackend.connect_tcp

    def connect_tcp(self: Any, host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        try:
            loopback = ipaddress.ip_address(host.strip("[]").split("%", 1)[0]).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            attempts.append((host, port))
            raise httpcore.ConnectError(f"test safety net: refusing to connect to {host}:{port}")
        return original(self, host, port, *args, **kwargs)

    monkeypatch.setattr(httpcore.SyncBackend, "connect_tcp", connect_tcp)
    return attempts


@pytest.fixture(scope="session")
def hostile_media(media_dir: Path) -> Path:
    """Bad inputs next to the shared served media: a truncated mp4, an empty file, a PNG named .mp4, ..."""
    clip = media_dir / "hostile-whole.mp4"
    media.run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=160x90:rate=12:duration=1", "-c:v", "libx264",
                      "-pix_fmt", "yuv420p", str(clip.resolve())], timeout=60)
    data = clip.read_bytes()
    (media_dir / "hostile-half.mp4").write_bytes(data[: len(data) // 2])
    faststart = media_dir / "hostile-faststart.mp4"
    media.run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=160x90:rate=12:duration=1", "-c:v", "libx264",
                      "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(faststart.resolve())], timeout=60)
    fs = faststart.read_bytes()
    (media_dir / "hostile-faststart-half.mp4").write_bytes(fs[: len(fs) // 2])
    (media_dir / "hostile-empty.mp4").write_bytes(b"")
    (media_dir / "hostile-text.mp4").write_text("<html><body>not a video</body></html>\n" * 50)
    png = media_dir / "hostile-still.png"
    media.run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=64x64:rate=1:duration=1", "-frames:v", "1",
                      str(png.resolve())], timeout=60)
    (media_dir / "hostile-png.mp4").write_bytes(png.read_bytes())
    (media_dir / "hostile-png.srt").write_bytes(png.read_bytes())
    return media_dir


@pytest.fixture
def executor(services: Services) -> PlanExecutor:
    return PlanExecutor(services, OperationRunner(services, default_registry()), max_workers=2, progress_interval_s=0.2)


def _run(services: Services, executor: PlanExecutor, jobs: list[dict[str, Any]],
         submitted_by: Services | None = None) -> tuple[str, str, RunOutcome]:
    eid = submit(submitted_by or services, {"jobs": jobs})
    _, summary = executor.run_to_end(eid, "run-hostile")
    return eid, executor.finalize(eid, summary), summary


def _files_left(settings: Settings, eid: str) -> list[Path]:
    return [p for p in (settings.resolved_work_dir / eid).rglob("*") if p.is_file()]


def _stored_jobs(settings: Settings, eid: str) -> set[str]:
    """Jobs of ``eid`` with a file in the local artefact store (keys are executions/<eid>/<job>/...)."""
    if settings.artefact_store != "local":
        return set()
    root = settings.resolved_artefacts_dir / "executions" / eid
    return {p.relative_to(root).parts[0] for p in root.rglob("*") if p.is_file()}


def _layer_over_g(url: str) -> dict[str, Any]:
    return {"id": "L", "type": "layer", "dependsOn": ["g"], "params": {"layers": [
        {"clips": [{"input": "g"}]}, {"clips": [{"url": url}], "placement": "pip"}]}}


def _music_under_g(url: str) -> dict[str, Any]:
    return {"id": "m", "type": "merge", "dependsOn": ["g"], "params": {"audio": [{"url": url}]}}


BAD_INPUTS = [
    # (name, jobs builder(base url), failing job, expected code)
    ("text file as a clip", lambda u: [{"id": "imp", "type": "generate", "params": {"url": f"{u}/hostile-text.mp4"}}],
     "imp", "invalid_media"),
    ("truncated mp4 (moov at the end)", lambda u: [{"id": "imp", "type": "generate", "params": {"url": f"{u}/hostile-half.mp4"}}],
     "imp", "invalid_media"),
    ("truncated mp4 (faststart)", lambda u: [{"id": "imp", "type": "generate",
                                              "params": {"url": f"{u}/hostile-faststart-half.mp4"}}], "imp", "invalid_media"),
    ("empty file", lambda u: [{"id": "imp", "type": "generate", "params": {"url": f"{u}/hostile-empty.mp4"}}],
     "imp", "invalid_media"),
    ("404 URL", lambda u: [{"id": "imp", "type": "generate", "params": {"url": f"{u}/hostile-missing.mp4"}}],
     "imp", "fetch_rejected"),
    ("truncated mp4 to reframe", lambda u: [{"id": "r", "type": "reframe",
                                             "params": {"aspectRatio": "1:1", "url": f"{u}/hostile-half.mp4"}}],
     "r", "invalid_media"),
    ("text file as audio", lambda u: [GEN, {"id": "l", "type": "lipSync", "params": {"audioUrl": f"{u}/hostile-text.mp4"},
                                            "dependsOn": ["g"]}], "l", "invalid_media"),
    ("silent video as audio", lambda u: [GEN, {"id": "l", "type": "lipSync", "params": {"audioUrl": f"{u}/hostile-whole.mp4"},
                                               "dependsOn": ["g"]}], "l", "invalid_media"),
    ("404 audio", lambda u: [GEN, {"id": "l", "type": "lipSync", "params": {"audioUrl": f"{u}/hostile-missing.m4a"},
                                   "dependsOn": ["g"]}], "l", "fetch_rejected"),
    ("PNG as a subtitle file", lambda u: [GEN, {"id": "s", "type": "addSubtitles",
                                                "params": {"subtitlesUrl": f"{u}/hostile-png.srt"}, "dependsOn": ["g"]}],
     "s", "invalid_params"),
    ("text file as a layer", lambda u: [GEN, _layer_over_g(f"{u}/hostile-text.mp4")], "L", "invalid_media"),
    ("truncated mp4 as a layer", lambda u: [GEN, _layer_over_g(f"{u}/hostile-half.mp4")], "L", "invalid_media"),
    ("404 layer media", lambda u: [GEN, _layer_over_g(f"{u}/hostile-missing.png")], "L", "fetch_rejected"),
    ("text file as music", lambda u: [GEN, _music_under_g(f"{u}/hostile-text.mp4")], "m", "invalid_media"),
    ("silent video as music", lambda u: [GEN, _music_under_g(f"{u}/hostile-whole.mp4")], "m", "invalid_media"),
]


def test_bad_media_fails_cleanly(services: Services, executor: PlanExecutor, settings: Settings, hostile_media: Path,
                                 media_url: str) -> None:
    """Each bad input in its own execution: failed, the job's code, upstream work kept, nothing left behind."""
    for name, build, job_id, code in BAD_INPUTS:
        eid, status, summary = _run(services, executor, build(media_url))
        assert status == "failed" and summary.status == "failed", name
        assert summary.failures[job_id].code == code, (name, summary.failures)
        row = services.repo.get(eid)
        assert row.status == "failed" and row.error_code == code and job_id in (row.error or ""), name
        jobs = {j.job_id: j for j in row.jobs}
        assert jobs[job_id].status == "failed" and jobs[job_id].error_code == code and jobs[job_id].error, name
        assert jobs[job_id].result is None, name
        assert all(j.status == "completed" for jid, j in jobs.items() if jid != job_id), name  # upstream work survived
        assert _files_left(settings, eid) == [], name
        assert job_id not in _stored_jobs(settings, eid), name


def test_png_with_a_video_extension_is_sniffed_not_trusted(services: Services, executor: PlanExecutor,
                                                            settings: Settings, hostile_media: Path, media_url: str) -> None:
    """The importer reads content, not names: a still named .mp4 imports as a still clip (documented
    image import), it neither crashes nor passes the PNG bytes through as an "mp4"."""
    eid, status, summary = _run(services, executor, [
        {"id": "imp", "type": "generate", "params": {"url": f"{media_url}/hostile-png.mp4", "duration": 1}}])
    assert status == "completed", summary.failures
    result = services.repo.jobs(eid)[0].result
    assert result["videoCodec"] and result["width"] > 0 and abs(result["duration"] - 1.0) < 0.2
    assert result["decodable"] is True
    assert _files_left(settings, eid) == []


def test_garbage_subtitles_end_cleanly(services: Services, executor: PlanExecutor, settings: Settings) -> None:
    """Malformed SRT/VTT text is data: refused at submit naming its field, or the job ends (lenient
    parse or a clear error), never internal_error."""
    for params in ({"srt": "garbage\x01 --> \n\n\n"}, {"vtt": "WEBVTT\n\n99:99.999 --> 00:00.000\nx"},
                   {"srt": "1\n00:00:05,000 --> 00:00:01,000\nreversed cue\n"}):
        try:
            eid, status, summary = _run(services, executor, [GEN, {"id": "s", "type": "addSubtitles", "params": params,
                                                                    "dependsOn": ["g"]}])
        except PlanValidationError as exc:
            assert all(i.field.startswith("jobs[1].params.") and i.job_id == "s" for i in exc.issues), exc.issues
            continue
        assert status in ("completed", "failed"), params
        assert all(f.code != "internal_error" for f in summary.failures.values()), summary.failures
        assert _files_left(settings, eid) == []


def test_filter_syntax_is_rendered_as_text(services: Services, executor: PlanExecutor, settings: Settings) -> None:
    """Injection strings in prompts, subtitle text and font names reach ffmpeg as text, not as filter syntax."""
    hostile = " ".join(INJECTIONS[k] for k in ("drawtext", "pts-expansion", "ass-override", "filter-labels", "escapes"))
    eid, status, summary = _run(services, executor, [
        {"id": "g", "type": "generate", "params": {"prompt": hostile + " " + UNICODE["rtl-override"] + UNICODE["emoji"],
                                                   "duration": 1, "resolution": "160x90"}},
        {"id": "s", "type": "addSubtitles", "params": {"text": hostile, "fontFamily": "O'Reilly Sans"}, "dependsOn": ["g"]},
        {"id": "t", "type": "addSubtitles", "params": {"srt": "1\n00:00:00,000 --> 00:00:00,900\n" + hostile + "\n"},
         "dependsOn": ["g"]},
    ])
    assert status == "completed", summary.failures
    results = {j.job_id: j.result for j in services.repo.jobs(eid)}
    assert all(r["decodable"] is True and abs(r["duration"] - 1.0) < 0.2 for r in results.values())
    assert _files_left(settings, eid) == []


def test_nothing_at_all_is_left_in_the_work_dir(services: Services, executor: PlanExecutor, settings: Settings,
                                                hostile_media: Path, media_url: str) -> None:
    eid, status, _ = _run(services, executor, [
        {"id": "imp", "type": "generate", "params": {"url": f"{media_url}/hostile-text.mp4"}}])
    assert status == "failed"
    assert not (settings.resolved_work_dir / eid).exists(), list((settings.resolved_work_dir / eid).rglob("*"))


# -- SSRF at fetch time -----------------------------------------------------------------------------------------------

@pytest.fixture
def strict_services(settings: Settings) -> Services:
    return build_services(settings.model_copy(update={"allow_private_urls": False}))


@pytest.fixture(scope="module")
def _counting_server() -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            hits.append(self.path)
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


@pytest.fixture
def counting_server(_counting_server: tuple[str, list[str]]) -> tuple[str, list[str]]:
    """A loopback server that answers 200 to everything and records each request it gets."""
    _counting_server[1].clear()
    return _counting_server


def _private_url_plans(base: str) -> dict[str, list[dict[str, Any]]]:
    port = base.rsplit(":", 1)[1]
    return {
        "generate.url loopback": [{"id": "x", "type": "generate", "params": {"url": f"{base}/clip.mp4"}}],
        "generate.url localhost": [{"id": "x", "type": "generate", "params": {"url": f"http://localhost:{port}/clip.mp4"}}],
        "generate.url ::1": [{"id": "x", "type": "generate", "params": {"url": f"http://[::1]:{port}/clip.mp4"}}],
        "generate.url decimal": [{"id": "x", "type": "generate", "params": {"url": f"http://2130706433:{port}/clip.mp4"}}],
        "reframe.url": [{"id": "x", "type": "reframe", "params": {"aspectRatio": "1:1", "url": f"{base}/clip.mp4"}}],
        "lipSync.audioUrl": [GEN, {"id": "x", "type": "lipSync", "params": {"audioUrl": f"{base}/voice.m4a"},
                                   "dependsOn": ["g"]}],
        "addSubtitles.subtitlesUrl": [GEN, {"id": "x", "type": "addSubtitles",
                                            "params": {"subtitlesUrl": f"{base}/subs.srt"}, "dependsOn": ["g"]}],
    }


def test_literal_private_urls_are_refused_at_submit_under_the_strict_policy(
        strict_services: Services, counting_server: tuple[str, list[str]]) -> None:
    """With allow_private_urls=False a URL whose host is a literal private address is a 422 naming
    the field at submit; a host *name* passes submit (it is not resolved then) and meets the guard
    when connecting (below)."""
    base, hits = counting_server
    for name, jobs in _private_url_plans(base).items():
        if "localhost" in name:
            submit(strict_services, {"jobs": jobs})
            continue
        with pytest.raises(PlanValidationError) as info:
            submit(strict_services, {"jobs": jobs})
        field = name.split(".", 1)[1].split(" ")[0]
        assert [i.field.rsplit(".", 1)[-1] for i in info.value.issues] == [field], (name, info.value.issues)
        assert "non-public" in info.value.issues[0].message
    assert hits == []


def test_private_urls_accepted_at_submit_are_refused_at_fetch(services: Services, strict_services: Services,
                                                              settings: Settings,
                                                              counting_server: tuple[str, list[str]],
                                                              loopback_only: list[tuple[str, int]]) -> None:
    """Accepted at submit (the embedded default allows loopback URLs), run under allow_private_urls=False:
    every URL field is still refused at fetch (url_blocked), before any request reaches the target —
    the connect-time guard does not rely on the submit-time one."""
    base, hits = counting_server
    executor = PlanExecutor(strict_services, OperationRunner(strict_services, default_registry()), max_workers=2,
                            progress_interval_s=0.2)
    for name, jobs in _private_url_plans(base).items():
        eid, status, summary = _run(strict_services, executor, jobs, submitted_by=services)
        assert status == "failed", name
        assert summary.failures["x"].code == "url_blocked", (name, summary.failures)
        assert strict_services.repo.get(eid).error_code == "url_blocked"
        assert _files_left(settings, eid) == []
    assert hits == []  # refused before a byte was sent
    assert loopback_only == []  # and nothing tried to leave the machine


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "127.1", "2130706433", "0x7f000001", "[::1]",
                                  "[::ffff:127.0.0.1]", "0.0.0.0", "localhost."])
def test_strict_fetch_refuses_loopback_spellings(host: str, tmp_path: Path, counting_server: tuple[str, list[str]],
                                                 loopback_only: list[tuple[str, int]]) -> None:
    base, hits = counting_server
    port = base.rsplit(":", 1)[1]
    with pytest.raises(FetchError) as info:
        fetch_to_file(f"http://{host}:{port}/x", tmp_path / "out.bin", policy=AddressPolicy(allow_private=False),
                      max_bytes=1000, timeout_s=5)
    assert info.value.code in ("url_blocked", "fetch_failed"), info.value  # fetch_failed: a spelling that does not resolve
    assert hits == [] and loopback_only == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/latest/",
                                 "http://100.100.100.200/latest/meta-data/"])
def test_metadata_is_refused_even_in_dev_mode(url: str, tmp_path: Path, loopback_only: list[tuple[str, int]]) -> None:
    with pytest.raises(FetchError) as info:
        fetch_to_file(url, tmp_path / "out.bin", policy=AddressPolicy(allow_private=True), max_bytes=1000, timeout_s=5)
    assert info.value.code == "url_blocked"
    assert loopback_only == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://127.0.0.1:6379/_FLUSHALL", "ftp://127.0.0.1/x",
                                 "data:video/mp4;base64,AAAA", "javascript:alert(1)", "dict://127.0.0.1:11211/stat"])
def test_fetch_refuses_other_schemes(url: str, tmp_path: Path) -> None:
    with pytest.raises(FetchError) as info:
        fetch_to_file(url, tmp_path / "out.bin", policy=AddressPolicy(allow_private=True), max_bytes=1000, timeout_s=5)
    assert info.value.code == "invalid_url"
    assert list(tmp_path.iterdir()) == []


def test_unencodable_host_is_a_clear_url_error(tmp_path: Path, loopback_only: list[tuple[str, int]]) -> None:
    with pytest.raises(FetchError) as info:
        fetch_to_file("http://exa\u202emple.invalid/clip.mp4", tmp_path / "out.bin",
                      policy=AddressPolicy(allow_private=False), max_bytes=1000, timeout_s=5)
    assert info.value.code in ("invalid_url", "url_blocked")
