"""Start and stop the embedded stack: Dagster (webserver + daemon + code server) and the API.

Used by ``make run`` / ``make demo`` (through the CLI) and by the end-to-end tests, so the
processes a user runs are the processes the tests run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def prepare_dagster_home(data_dir: Path, dagster_yaml: Path | None = None) -> Path:
    """DAGSTER_HOME under the data dir, holding a copy of the repository's dagster.yaml."""
    home = (data_dir / "dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    source = dagster_yaml or ROOT / "dagster.yaml"
    target = home / "dagster.yaml"
    content = source.read_text()
    if not target.exists() or target.read_text() != content:
        target.write_text(content)
    return home


@dataclass
class Stack:
    """Child processes in their own process groups, stopped together."""

    env: dict[str, str]
    api_port: int = 3000
    dagster_port: int = 3001
    host: str = "127.0.0.1"
    log_dir: Path | None = None
    api_key: str | None = None  # for callers that talk to the API (demo, tests)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    @property
    def dagster_url(self) -> str:
        return f"http://{self.host}:{self.dagster_port}"

    def _spawn(self, name: str, argv: list[str]) -> None:
        out = None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            out = (self.log_dir / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT if out else None,
                                            start_new_session=True)

    def start(self, *, dagster: bool = True, api: bool = True) -> Stack:
        bin_dir = Path(sys.executable).parent
        if dagster:
            self._spawn("dagster", [str(bin_dir / "dagster"), "dev", "-w", str(ROOT / "workspace.yaml"),
                                    "-h", self.host, "-p", str(self.dagster_port)])
        if api:
            self._spawn("api", [sys.executable, "-m", "uvicorn", "api.main:app", "--host", self.host,
                                "--port", str(self.api_port), "--no-access-log"])
        return self

    def wait_ready(self, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        targets = []
        if "api" in self.procs:
            targets.append(f"{self.api_url}/health")
        if "dagster" in self.procs:
            targets.append(f"{self.dagster_url}/server_info")
        for url in targets:
            while True:
                self._check_alive()
                try:
                    if httpx.get(url, timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{url} did not answer within {timeout_s:.0f}s")
                time.sleep(0.5)
        if "dagster" in self.procs:
            self._wait_code_location(deadline)

    def _wait_code_location(self, deadline: float) -> None:
        query = {"query": "{ workspaceOrError { __typename ... on Workspace { locationEntries { name "
                          "loadStatus locationOrLoadError { __typename } } } } }"}
        while True:
            self._check_alive()
            try:
                body = httpx.post(f"{self.dagster_url}/graphql", json=query, timeout=5).json()
                entries = body["data"]["workspaceOrError"]["locationEntries"]
                if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                    kinds = {e["locationOrLoadError"]["__typename"] for e in entries}
                    if kinds != {"RepositoryLocation"}:
                        raise RuntimeError(f"code location failed to load: {entries}")
                    return
            except (httpx.HTTPError, KeyError, TypeError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("Dagster code location did not load in time")
            time.sleep(0.5)

    def _check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with code {proc.returncode}")

    def stop(self, timeout_s: float = 20.0) -> None:
        """SIGINT each process group, wait for *every* member to go (run workers and the
        forkserver outlive `dagster dev` by a moment), SIGKILL what is left after ``timeout_s``."""
        groups = [proc.pid for proc in self.procs.values()]
        for pgid in groups:
            _signal_group(pgid, signal.SIGINT)
        deadline = time.monotonic() + timeout_s
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        while any(_signal_group(pgid, 0) for pgid in groups) and time.monotonic() < deadline:
            time.sleep(0.1)
        for pgid in groups:
            _signal_group(pgid, signal.SIGKILL)
        for proc in self.procs.values():
            proc.wait()
        self.procs.clear()

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def stack_env(data_dir: Path, extra: dict[str, str] | None = None, *, api_port: int = 3000,
              dagster_port: int = 3001) -> dict[str, str]:
    """Environment for the children: data dir, DAGSTER_HOME, where the API finds Dagster."""
    env = dict(os.environ)
    env.update({
        "VIDASSETS_DATA_DIR": str(data_dir.resolve()),
        "DAGSTER_HOME": str(prepare_dagster_home(data_dir)),
        "VIDASSETS_DAGSTER_GRAPHQL_URL": f"http://127.0.0.1:{dagster_port}/graphql",
        "VIDASSETS_PUBLIC_BASE_URL": env.get("VIDASSETS_PUBLIC_BASE_URL", f"http://127.0.0.1:{api_port}"),
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra or {})
    return env


def _signal_group(pgid: int, sig: int) -> bool:
    """Send ``sig`` to a process group; False when the group has no process left."""
    try:
        os.killpg(pgid, sig)
        return True
    except ProcessLookupError:
        return False
