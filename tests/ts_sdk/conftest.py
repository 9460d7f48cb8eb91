"""Run the TypeScript SDK unmodified: the original (synthome ``@repo/ai-video-sdk`` at 6720e6a)
and today's (``@synthome/sdk`` at 1ac63f8), each an :class:`SdkVersion`.

Licence rule: the SDK's code is never committed here, nor vendored by a script. At test time it is
extracted from a local snapshot of ``synthome-dev/synthome`` (a bare git directory) into a
temporary folder with ``git archive``; workspace packages it depends on (``@repo/model-schemas``
for the original) are linked into that folder's ``node_modules`` next to ``zod``, which comes
from this harness's own ``package.json`` / ``package-lock.json`` together with ``tsx``. Our
driver scripts (``drivers/*.ts`` for the original, ``drivers_current/*.ts`` for today's) import
the SDK's ``src/index.ts`` by path and are run with ``npx tsx``.

One real stack (uvicorn + Dagster on the embedded default) and one set of fake vendors serve
every SDK test of the session (:func:`stack`, :func:`vendors`).

Where the snapshot is: ``$VIDASSETS_SYNTHOME_GIT``, else
``/work/.mirror/synthome-dev+synthome/repo``. Without it (or without node/npm) the tests skip with
the reason, except under CI (``$CI`` set), where a missing prerequisite is a failure.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.providers.fakes import FakeFal, FakeReplicate, FakeVertex
from tests.providers.tts_fakes import ELEVENLABS_KEY, HUME_KEY, FakeElevenLabs, FakeHume
from vidassets.providers.catalogue import CATALOGUE
from vidassets.stack import Stack, stack_env

HARNESS = Path(__file__).resolve().parent
DEFAULT_SNAPSHOT = Path("/work/.mirror/synthome-dev+synthome/repo")
RESULT_MARK = "@@RESULT@@ "
# Keys and endpoints the SDKs read from the environment; never leak ours into drivers.
_VENDOR_ENV = ("REPLICATE_API_KEY", "FAL_API_KEY", "FAL_KEY", "GOOGLE_CLOUD_API_KEY", "SYNTHOME_API_KEY",
               "SYNTHOME_API_URL")
# What the harness's own package.json provides to every SDK version (tsx runs the drivers).
HARNESS_PACKAGES = ("zod",)


@dataclass(frozen=True)
class SdkVersion:
    """One SDK release in the synthome snapshot: where it is, what its manifest must say (the
    dependencies are exactly what we wire: workspace packages linked from the same commit, the
    rest from the harness's node_modules) and which folder holds its driver scripts."""

    label: str
    commit: str
    package_dir: str
    package_name: str
    dependencies: dict[str, str]
    drivers: str
    workspace: dict[str, str] = field(default_factory=dict)  # package name -> dir in the snapshot


ORIGINAL = SdkVersion("original", "6720e6a", "packages/ai-video-sdk", "@repo/ai-video-sdk",
                      {"@repo/model-schemas": "*"}, "drivers", {"@repo/model-schemas": "packages/model-schemas"})
# Today's SDK (issue 19): the snapshot's head when it was pinned; it depends on zod only.
CURRENT = SdkVersion("current", "1ac63f8", "packages/synthome-sdk", "@synthome/sdk", {"zod": "^3.23.8"},
                     "drivers_current")
SDK_COMMIT, SDK_DIR = ORIGINAL.commit, ORIGINAL.package_dir  # the names older code imports


def unavailable(reason: str) -> None:
    """Skip locally; under CI a missing prerequisite must not turn into a silent skip."""
    if os.environ.get("CI"):
        pytest.fail(f"TypeScript SDK tests cannot run under CI: {reason}", pytrace=False)
    pytest.skip(reason)


def snapshot_dir() -> Path:
    return Path(os.environ.get("VIDASSETS_SYNTHOME_GIT") or DEFAULT_SNAPSHOT)


def _git(snapshot: Path, *args: str, binary: bool = False) -> Any:
    return subprocess.run(["git", "--git-dir", str(snapshot), *args], capture_output=True, check=True,
                          text=not binary, timeout=120).stdout


@dataclass(frozen=True)
class TsSdk:
    """The extracted SDK and a way to run our driver scripts against it."""

    root: Path  # the temporary folder holding packages/ and node_modules/
    npx: str
    version: SdkVersion = ORIGINAL

    @property
    def entry(self) -> Path:
        return self.root / self.version.package_dir / "src" / "index.ts"

    def run(self, script: str, *, api_url: str, api_key: str, args: dict[str, Any] | None = None,
            timeout_s: float = 480) -> Any:
        env = {k: v for k, v in os.environ.items() if k not in _VENDOR_ENV}
        env.update({"SYNTHOME_SDK_ENTRY": str(self.entry), "VIDASSETS_SDK_API_URL": api_url,
                    "VIDASSETS_SDK_API_KEY": api_key, "VIDASSETS_SDK_ARGS": json.dumps(args or {}),
                    "NO_COLOR": "1"})
        driver = f"{self.version.drivers}/{script}"
        try:
            proc = subprocess.run([self.npx, "--no", "--", "tsx", driver], cwd=HARNESS, env=env,
                                  capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"driver {driver} did not finish in {timeout_s}s\nstdout:\n{exc.stdout}\n"
                                 f"stderr:\n{exc.stderr}") from None
        lines = [line for line in proc.stdout.splitlines() if line.startswith(RESULT_MARK)]
        if proc.returncode != 0 or not lines:
            raise AssertionError(f"driver {driver} exited {proc.returncode} without a result\n"
                                 f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}")
        return json.loads(lines[-1][len(RESULT_MARK):])


def _ensure_harness_deps(npm: str) -> None:
    """``npm ci`` into the harness folder when ``.ci/run`` (or a developer) has not done it yet."""
    if (HARNESS / "node_modules" / "tsx").is_dir() and all((HARNESS / "node_modules" / p).is_dir()
                                                         for p in HARNESS_PACKAGES):
        return
    proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HARNESS, capture_output=True, text=True,
                          timeout=600)
    if proc.returncode != 0:
        unavailable(f"npm ci in {HARNESS} failed:\n{proc.stderr[-2000:]}")


@dataclass(frozen=True)
class Toolchain:
    npm: str
    npx: str
    snapshot: Path


@pytest.fixture(scope="session")
def sdk_toolchain() -> Toolchain:
    """node >= 18, npm, npx, git and the synthome snapshot: what every SDK version needs (checked
    before any stack starts, so a machine without them skips - or fails under CI - at once)."""
    node, npm, npx = shutil.which("node"), shutil.which("npm"), shutil.which("npx")
    if not (node and npm and npx):
        unavailable("node, npm and npx are needed to run the TypeScript SDK")
    major = int(subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip().lstrip("v").split(".")[0])
    if major < 18:
        unavailable(f"node >= 18 is needed (global fetch); found {major}")
    if not shutil.which("git"):
        unavailable("git is needed to extract the SDK from the synthome snapshot")
    snapshot = snapshot_dir()
    if not snapshot.exists():
        unavailable(f"synthome snapshot not found at {snapshot} (set VIDASSETS_SYNTHOME_GIT to a clone or bare "
                    f"git dir of synthome-dev/synthome)")
    _ensure_harness_deps(npm)  # type: ignore[arg-type]
    return Toolchain(npm=npm, npx=npx, snapshot=snapshot)  # type: ignore[arg-type]


def extract_sdk(version: SdkVersion, tools: Toolchain, root: Path) -> TsSdk:
    """``git archive`` the SDK (and its workspace packages) at the pinned commit into ``root`` and
    wire its dependencies, after checking its manifest says what we wire."""
    try:
        _git(tools.snapshot, "cat-file", "-e", f"{version.commit}^{{commit}}")
    except subprocess.CalledProcessError:
        unavailable(f"commit {version.commit} is not in the synthome snapshot at {tools.snapshot}")
    archive = _git(tools.snapshot, "archive", "--format=tar", version.commit, version.package_dir,
                   *version.workspace.values(), binary=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(root, filter="data")
    manifest = json.loads((root / version.package_dir / "package.json").read_text())
    assert manifest["name"] == version.package_name, manifest
    assert manifest.get("dependencies") == version.dependencies, manifest  # what we wire below
    modules = root / "node_modules"
    for name, folder in version.workspace.items():
        package = json.loads((root / folder / "package.json").read_text())
        assert package["name"] == name and set(package.get("dependencies", {})) <= set(HARNESS_PACKAGES), package
        (modules / name).parent.mkdir(parents=True, exist_ok=True)
        (modules / name).symlink_to(Path(*[".."] * name.count("/"), "..", folder), target_is_directory=True)
    for name in HARNESS_PACKAGES:
        modules.mkdir(exist_ok=True)
        (modules / name).symlink_to(HARNESS / "node_modules" / name, target_is_directory=True)
    assert set(version.dependencies) <= {*version.workspace, *HARNESS_PACKAGES}, version
    return TsSdk(root=root, npx=tools.npx, version=version)


@pytest.fixture(scope="session")
def ts_sdk(sdk_toolchain: Toolchain, tmp_path_factory: pytest.TempPathFactory) -> TsSdk:
    """The original SDK (``@repo/ai-video-sdk`` at 6720e6a)."""
    return extract_sdk(ORIGINAL, sdk_toolchain, tmp_path_factory.mktemp("synthome"))


@pytest.fixture(scope="session")
def ts_sdk_current(sdk_toolchain: Toolchain, tmp_path_factory: pytest.TempPathFactory) -> TsSdk:
    """Today's SDK (``@synthome/sdk`` 0.7.1 at 1ac63f8)."""
    return extract_sdk(CURRENT, sdk_toolchain, tmp_path_factory.mktemp("synthome-current"))


@pytest.fixture(scope="session")
def sdk_media(media_dir: Path) -> dict[str, str]:
    """Extra files in the served media folder: a still image and spoken audio (espeak-ng)."""
    from vidassets import media

    media.run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=1:duration=1", "-frames:v", "1",
                      str(media_dir / "still.png")], timeout=60)
    files = {"image": "still.png", "voice": "voice.m4a", "clip": "clip.mp4", "notMedia": "notes.mp4",
             **_layer_media(media_dir)}
    espeak = shutil.which("espeak-ng")
    if espeak:
        for lang, text in (("en", "Hello world. Testing captions."), ("fr", "Bonjour le monde. Sous-titres.")):
            raw = media_dir / f"speech_{lang}_raw.wav"
            subprocess.run([espeak, "-v", lang, "-s", "150", "-w", str(raw), text], check=True, capture_output=True,
                           timeout=60)
            media.run_ffmpeg(["-i", str(raw), "-ar", "48000", "-ac", "1", "-c:a", "aac",
                              str(media_dir / f"speech_{lang}.m4a")], timeout=60)
            files[f"speech_{lang}"] = f"speech_{lang}.m4a"
        # the English speech on a picture: a video to caption by URL (today's SDK's captions())
        media.run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=24:duration=2.5", "-i",
                          str(media_dir / "speech_en_raw.wav"), "-map", "0:v", "-map", "1:a", "-c:v", "libx264",
                          "-pix_fmt", "yuv420p", "-c:a", "aac", "-ar", "48000", "-t", "2.5",
                          str(media_dir / "speech_en.mp4")], timeout=60)
        files["speechVideo_en"] = "speech_en.mp4"
    return files


def _layer_media(media_dir: Path) -> dict[str, str]:
    """What layers and rich merges are tried on: a logo (a red square inside a transparent
    border), a photo, green and blue screens (a red box on the key colour) and a music bed."""
    from vidassets import media

    def make(name: str, *argv: str) -> str:
        media.run_ffmpeg([*argv, str(media_dir / name)], timeout=60)
        return name

    return {
        "logo": make("logo.png", "-f", "lavfi", "-i", "color=c=red:s=48x48,format=rgba,pad=64:64:8:8:color=black@0",
                     "-frames:v", "1"),
        "photo": make("photo.jpg", "-f", "lavfi", "-i", "color=c=blue:s=320x240", "-frames:v", "1"),
        "green": make("green.mp4", "-f", "lavfi", "-i",
                      "color=c=0x00ff00:s=320x240:r=24:d=2,drawbox=x=120:y=80:w=80:h=80:color=red:t=fill",
                      "-c:v", "libx264", "-pix_fmt", "yuv420p"),
        "blue": make("blue.mp4", "-f", "lavfi", "-i",
                     "color=c=0x0000ff:s=320x240:r=24:d=2,drawbox=x=120:y=80:w=80:h=80:color=red:t=fill",
                     "-c:v", "libx264", "-pix_fmt", "yuv420p"),
        "music": make("music.mp3", "-f", "lavfi", "-i", "sine=frequency=660:sample_rate=44100:duration=4",
                      "-c:a", "libmp3lame", "-b:a", "64k"),
    }


# -- one stack and one set of fake vendors for every SDK test of the session ----------------------

VENDOR_KEYS = {"replicate": "r8_sdk_key_0123456789", "fal": "fal_sdk_key_0123456789", "google": "ya29.sdk-token",
               "elevenlabs": ELEVENLABS_KEY, "hume": HUME_KEY}
#: What the fake Whisper on Replicate hears in every file it is sent (timed words, as the
#: ``openai/whisper`` model returns them with ``word_timestamps``: segments holding words).
FAKE_WHISPER_WORDS = [("Hello", 0.2, 0.6), ("from", 0.6, 0.9), ("the", 0.9, 1.0), ("vendor", 1.0, 1.7)]


class WhisperReplicate(FakeReplicate):
    """Replicate's predictions API where a Whisper prediction (input ``audio``, as Replicate's
    Whisper models take it) ends with Whisper's output shape; every other model returns the clip."""

    def final(self, pid: str) -> dict[str, Any]:
        answer = super().final(pid)
        sent = self.predictions[pid]["input"] or {}
        if answer["status"] == "succeeded" and isinstance(sent, dict) and "audio" in sent:
            words = [{"word": w, "start": s, "end": e} for w, s, e in FAKE_WHISPER_WORDS]
            text = " ".join(w for w, _, _ in FAKE_WHISPER_WORDS)
            answer["output"] = {"detected_language": "english", "transcription": text,
                                "segments": [{"id": 0, "start": 0.2, "end": 1.7, "text": text, "words": words}]}
        return answer


@dataclass
class Vendors:
    replicate: WhisperReplicate
    fal: FakeFal
    vertex: FakeVertex
    elevenlabs: FakeElevenLabs
    hume: FakeHume


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def vendors(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Vendors]:
    from vidassets import media

    clip = tmp_path_factory.mktemp("vendor") / "out.mp4"
    media.run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=24:duration=1", "-f", "lavfi", "-i",
                      "sine=frequency=300:duration=1", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
                      "-shortest", str(clip)], timeout=60)
    v = Vendors(WhisperReplicate(), FakeFal(), FakeVertex(), FakeElevenLabs(), FakeHume())
    # community models run at their catalogued version: the fake knows which model each one is
    v.replicate.versions.update({s.version: s.model for s in CATALOGUE if s.provider == "replicate" and s.version})
    for server in (v.replicate, v.fal, v.vertex):
        server.files["out.mp4"] = clip.read_bytes()
        server.polls_needed = 2
    yield v
    for each in (v.replicate, v.fal, v.vertex, v.elevenlabs, v.hume):
        each.stop()


@pytest.fixture(scope="session")
def stack(sdk_toolchain: Toolchain, tmp_path_factory: pytest.TempPathFactory, vendors: Vendors) -> Iterator[Stack]:
    # sdk_toolchain first: without node and the snapshot there is nothing to run, so no stack.
    from tests.conftest import embedded_settings, settings_env
    from tests.helpers import running_stack

    data = tmp_path_factory.mktemp("stack") / "data"
    api_port, dagster_port = _port(), _port()
    settings = embedded_settings(
        data, public_base_url=f"http://127.0.0.1:{api_port}",
        dagster_graphql_url=f"http://127.0.0.1:{dagster_port}/graphql", launch_grace_s=2.0,
        replicate_base_url=f"{vendors.replicate.url}/v1", fal_base_url=vendors.fal.url,
        vertex_base_url=f"{vendors.vertex.url}/v1", vertex_project="proj", provider_poll_interval_s=0.2,
        elevenlabs_base_url=vendors.elevenlabs.url, hume_base_url=vendors.hume.url,
        # One key serves every driver, and media.ts runs ~35 SDK clients at once, each polling its
        # status about once a second: the default 600 requests/min per key is a single user's budget.
        rate_limit_per_min=6000,
    )
    env = stack_env(data, settings_env(settings), api_port=api_port, dagster_port=dagster_port)
    for name in ("VIDASSETS_REPLICATE_API_KEY", "VIDASSETS_FAL_API_KEY", "VIDASSETS_GOOGLE_ACCESS_TOKEN",
                 "VIDASSETS_ELEVENLABS_API_KEY", "VIDASSETS_HUME_API_KEY"):
        env.pop(name, None)  # the keys come from the SDK's model options, or there are none
    with running_stack(settings, env, api_port=api_port, dagster_port=dagster_port, tenant="ts-sdk",
                       log_dir=data / "logs") as s:
        yield s


@pytest.fixture(scope="session")
def api(stack: Stack) -> Iterator[httpx.Client]:
    from tests.helpers import stack_client

    with stack_client(stack) as client:
        yield client
