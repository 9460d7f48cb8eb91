"""``pip install ./sdk/python`` in a fresh venv brings no server dependency, and the SDK's own tests
pass there against the installed copy."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

SDK = Path(__file__).resolve().parents[2] / "sdk" / "python"
SERVER_ONLY = ("vidassets", "dagster", "fastapi", "cv2", "sqlalchemy", "numpy")

CHECK = f"""
import importlib.util, json, sys
import vidassets_sdk
print(json.dumps({{
    "sdk": vidassets_sdk.__file__,
    "prefix": sys.prefix,
    "importable": [name for name in {SERVER_ONLY!r} if importlib.util.find_spec(name) is not None],
}}))
"""


def run(*args: str | Path, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{args}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_the_sdk_installs_and_passes_its_tests_without_the_server(tmp_path: Path) -> None:
    # A copy, so the build leaves nothing in the checkout.
    source = tmp_path / "sdk"
    shutil.copytree(SDK, source, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build", ".pytest_cache"))
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"{source}[test]", cwd=tmp_path)

    seen = json.loads(run(python, "-c", CHECK, cwd=tmp_path))
    assert Path(seen["sdk"]).is_relative_to(venv) and Path(seen["prefix"]) == venv
    assert seen["importable"] == [], f"server dependencies leaked into the SDK's venv: {seen['importable']}"

    out = run(venv / "bin" / "pytest", "-q", "-p", "no:cacheprovider", source / "tests", cwd=tmp_path)
    assert " passed" in out and "failed" not in out and "error" not in out, out
