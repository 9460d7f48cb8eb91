"""Run the original TypeScript SDK (synthome ``@repo/ai-video-sdk`` at commit 6720e6a) unmodified.

Licence rule: the SDK's code is never committed here, nor vendored by a script. At test time it is
extracted from a local snapshot of ``synthome-dev/synthome`` (a bare git directory) into a
temporary folder with ``git archive``; ``@repo/model-schemas`` (same repository) is linked into
that folder's ``node_modules`` next to ``zod``, which comes from this harness's own
``package.json`` / ``package-lock.json`` together with ``tsx``. Our driver scripts
(``drivers/*.ts``) import the SDK's ``src/index.ts`` by path and are run with ``npx tsx``.

Where the snapshot is: ``$VIDASSETS_SYNTHOME_GIT``, else
``/work/.mirror/synthome-dev+synthome/repo``. Without it (or without node/npm) the tests skip with
the reason, except under CI (``$CI`` set), where a missing prerequisite is a failure.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

HARNESS = Path(__file__).resolve().parent
SDK_COMMIT = "6720e6a"
SDK_DIR = "packages/ai-video-sdk"
SCHEMAS_DIR = "packages/model-schemas"
DEFAULT_SNAPSHOT = Path("/work/.mirror/synthome-dev+synthome/repo")
RESULT_MARK = "@@RESULT@@ "
# Vendor keys the SDK's generateVideoAPI reads from the environment; never leak ours into drivers.
_VENDOR_ENV = ("REPLICATE_API_KEY", "FAL_API_KEY", "GOOGLE_CLOUD_API_KEY")


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

    @property
    def entry(self) -> Path:
        return self.root / SDK_DIR / "src" / "index.ts"

    def run(self, script: str, *, api_url: str, api_key: str, args: dict[str, Any] | None = None,
            timeout_s: float = 480) -> Any:
        env = {k: v for k, v in os.environ.items() if k not in _VENDOR_ENV}
        env.update({"SYNTHOME_SDK_ENTRY": str(self.entry), "VIDASSETS_SDK_API_URL": api_url,
                    "VIDASSETS_SDK_API_KEY": api_key, "VIDASSETS_SDK_ARGS": json.dumps(args or {}),
                    "NO_COLOR": "1"})
        try:
            proc = subprocess.run([self.npx, "--no", "--", "tsx", f"drivers/{script}"], cwd=HARNESS, env=env,
                                  capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"driver {script} did not finish in {timeout_s}s\nstdout:\n{exc.stdout}\n"
                                 f"stderr:\n{exc.stderr}") from None
        lines = [line for line in proc.stdout.splitlines() if line.startswith(RESULT_MARK)]
        if proc.returncode != 0 or not lines:
            raise AssertionError(f"driver {script} exited {proc.returncode} without a result\n"
                                 f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}")
        return json.loads(lines[-1][len(RESULT_MARK):])


def _ensure_harness_deps(npm: str) -> None:
    """``npm ci`` into the harness folder when ``.ci/run`` (or a developer) has not done it yet."""
    if (HARNESS / "node_modules" / "tsx").is_dir() and (HARNESS / "node_modules" / "zod").is_dir():
        return
    proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HARNESS, capture_output=True, text=True,
                          timeout=600)
    if proc.returncode != 0:
        unavailable(f"npm ci in {HARNESS} failed:\n{proc.stderr[-2000:]}")


@pytest.fixture(scope="session")
def ts_sdk(tmp_path_factory: pytest.TempPathFactory) -> TsSdk:
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
    try:
        _git(snapshot, "cat-file", "-e", f"{SDK_COMMIT}^{{commit}}")
    except subprocess.CalledProcessError:
        unavailable(f"commit {SDK_COMMIT} is not in the synthome snapshot at {snapshot}")

    root = tmp_path_factory.mktemp("synthome")
    archive = _git(snapshot, "archive", "--format=tar", SDK_COMMIT, SDK_DIR, SCHEMAS_DIR, binary=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(root, filter="data")
    manifest = json.loads((root / SDK_DIR / "package.json").read_text())
    assert manifest["name"] == "@repo/ai-video-sdk", manifest
    assert manifest["dependencies"] == {"@repo/model-schemas": "*"}, manifest  # what we wire below
    schemas = json.loads((root / SCHEMAS_DIR / "package.json").read_text())
    assert schemas["name"] == "@repo/model-schemas" and set(schemas["dependencies"]) == {"zod"}, schemas

    _ensure_harness_deps(npm)
    modules = root / "node_modules"
    (modules / "@repo").mkdir(parents=True)
    (modules / "@repo" / "model-schemas").symlink_to(Path("..", "..", SCHEMAS_DIR), target_is_directory=True)
    (modules / "zod").symlink_to(HARNESS / "node_modules" / "zod", target_is_directory=True)
    return TsSdk(root=root, npx=npx)


@pytest.fixture(scope="session")
def sdk_media(media_dir: Path) -> dict[str, str]:
    """Extra files in the served media folder: a still image and spoken audio (espeak-ng)."""
    from vidassets import media

    media.run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=1:duration=1", "-frames:v", "1",
                      str(media_dir / "still.png")], timeout=60)
    files = {"image": "still.png", "voice": "voice.m4a", "clip": "clip.mp4", "notMedia": "notes.mp4"}
    espeak = shutil.which("espeak-ng")
    if espeak:
        for lang, text in (("en", "Hello world. Testing captions."), ("fr", "Bonjour le monde. Sous-titres.")):
            raw = media_dir / f"speech_{lang}_raw.wav"
            subprocess.run([espeak, "-v", lang, "-s", "150", "-w", str(raw), text], check=True, capture_output=True,
                           timeout=60)
            media.run_ffmpeg(["-i", str(raw), "-ar", "48000", "-ac", "1", "-c:a", "aac",
                              str(media_dir / f"speech_{lang}.m4a")], timeout=60)
            files[f"speech_{lang}"] = f"speech_{lang}.m4a"
    return files
