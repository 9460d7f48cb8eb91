"""Several hosts on one machine: network namespaces on a private bridge, each process of the
production topology on its own host, bound to that host's address.

::

    hub (netns) ── br0 ─┬─ services 10.251.0.2   PostgreSQL (own initdb), Redis (broker + cache),
                        │                        moto S3, a fake Replicate
                        ├─ dagster  10.251.0.3   code server, dagster-webserver, dagster-daemon
                        ├─ api      10.251.0.4   uvicorn
                        ├─ client   10.251.0.5   where this process talks from (one thread)
                        └─ workerN  10.251.0.1N  celery run workers

The bridge lives in its own namespace and no namespace has a default route, so nothing leaves
the namespaces created here; the root namespace gets no interface at all. Each process also
gets its own UTS namespace with the host's name as hostname, so ``host:pid`` records (run
workers, Celery node names) say which host did what. ``close()`` kills every process in every
namespace and deletes the namespaces; it runs from finalizers, also after failures.

Used by tests/multihost (``pytest -m multihost``, root only) and bench/scaling.py.
"""

from __future__ import annotations

import ctypes
import glob
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SUBNET = "10.251.0"
CLONE_NEWNET = 0x40000000
TAG_PREFIX = "vmh"  # namespaces are named vmh<pid of the test process>x<random>-<host>
T = TypeVar("T")


def missing_prerequisites() -> list[str]:
    """Why this machine cannot build the topology (empty when it can)."""
    missing = []
    if os.geteuid() != 0:
        missing.append("root (network namespaces)")
    for tool in ("ip", "unshare", "runuser", "redis-server"):
        if shutil.which(tool) is None:
            missing.append(tool)
    if not postgres_bin():
        missing.append("PostgreSQL server binaries (/usr/lib/postgresql/*/bin)")
    return missing


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), check=check, capture_output=True, text=True, timeout=60)


@dataclass
class Host:
    name: str
    ns: str
    ip: str


@dataclass
class Cluster:
    root: Path
    worker_hosts: int = 2
    worker_concurrency: int = 2
    worker_queues: str = "render,provider"
    vendor_delay_s: float = 3.0
    worker_env: dict[str, str] = field(default_factory=dict)
    worker_loglevel: str = "INFO"
    monitoring_poll_s: int = 2
    worker_lost_after_s: int = 10
    tag: str = field(default_factory=lambda: f"{TAG_PREFIX}{os.getpid()}x{secrets.token_hex(2)}")
    hosts: dict[str, Host] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    api_key: str = ""

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.logs = self.root / "logs"
        self.logs.mkdir(exist_ok=True)
        layout = {"services": 2, "dagster": 3, "api": 4, "client": 5}
        layout.update({f"worker{i}": 10 + i for i in range(1, self.worker_hosts + 1)})
        self.hosts = {name: Host(name, f"{self.tag}-{name}", f"{SUBNET}.{octet}") for name, octet in layout.items()}
        self.hub = f"{self.tag}-hub"
        self.secret_key = _fernet_key()
        self._client_pool: ThreadPoolExecutor | None = None
        self._pgdata: Path | None = None
        self._created_ns: list[str] = []

    # -- addresses ------------------------------------------------------------------------

    @property
    def services_ip(self) -> str:
        return self.hosts["services"].ip

    @property
    def db_url(self) -> str:
        return f"postgresql+psycopg2://postgres@{self.services_ip}:5432/vidassets"

    @property
    def dagster_db_url(self) -> str:
        return f"postgresql+psycopg2://postgres@{self.services_ip}:5432/dagster"

    @property
    def api_url(self) -> str:
        return f"http://{self.hosts['api'].ip}:3000"

    @property
    def dagster_url(self) -> str:
        return f"http://{self.hosts['dagster'].ip}:3001"

    @property
    def vendor_url(self) -> str:
        return f"http://{self.services_ip}:8080"

    @property
    def broker_url(self) -> str:
        return f"redis://{self.services_ip}:6379/1"

    # -- network --------------------------------------------------------------------------

    def create_network(self) -> None:
        sh("ip", "netns", "add", self.hub)
        self._created_ns.append(self.hub)
        sh("ip", "-n", self.hub, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", self.hub, "link", "set", "br0", "up")
        sh("ip", "-n", self.hub, "link", "set", "lo", "up")
        for host in self.hosts.values():
            sh("ip", "netns", "add", host.ns)
            self._created_ns.append(host.ns)
            port = f"v-{host.name}"[:15]
            sh("ip", "-n", self.hub, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", host.ns)
            sh("ip", "-n", self.hub, "link", "set", port, "master", "br0", "up")
            sh("ip", "-n", host.ns, "addr", "add", f"{host.ip}/24", "dev", "eth0")
            sh("ip", "-n", host.ns, "link", "set", "eth0", "up")
            sh("ip", "-n", host.ns, "link", "set", "lo", "up")
        # No namespace has a default route: only 10.251.0.0/24 on the bridge is reachable.

    def client(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn`` on a thread that lives in the client host's namespace (sockets it opens
        belong to that namespace; the rest of this process stays where it was)."""
        if self._client_pool is None:
            ns_path = f"/run/netns/{self.hosts['client'].ns}"

            def enter() -> None:
                libc = ctypes.CDLL(None, use_errno=True)
                fd = os.open(ns_path, os.O_RDONLY)
                try:
                    if libc.setns(fd, CLONE_NEWNET) != 0:
                        raise OSError(ctypes.get_errno(), "setns failed")
                finally:
                    os.close(fd)

            self._client_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="netns-client", initializer=enter)
        return self._client_pool.submit(fn, *args, **kwargs).result()

    # -- processes ------------------------------------------------------------------------

    def env(self, host: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("VIDASSETS_", "DAGSTER_", "AWS_")) and "proxy" not in k.lower()}
        home = self.root / "hosts" / host
        data = home / "data"
        data.mkdir(parents=True, exist_ok=True)
        ip = self.services_ip
        base.update({
            "PYTHONUNBUFFERED": "1",
            "VIDASSETS_DATA_DIR": str(data),
            "VIDASSETS_DATABASE_URL": self.db_url,
            "VIDASSETS_REDIS_URL": f"redis://{ip}:6379/0",
            "VIDASSETS_ARTEFACT_STORE": "s3",
            "VIDASSETS_S3_BUCKET": "vidassets",
            "VIDASSETS_S3_ENDPOINT_URL": f"http://{ip}:9000",
            "VIDASSETS_S3_ACCESS_KEY_ID": "testing",
            "VIDASSETS_S3_SECRET_ACCESS_KEY": "testing",
            "VIDASSETS_SECRET_KEY": self.secret_key,
            "VIDASSETS_PUBLIC_BASE_URL": self.api_url,
            "VIDASSETS_DAGSTER_GRAPHQL_URL": f"{self.dagster_url}/graphql",
            "VIDASSETS_LAUNCH_GRACE_S": "5",
            "VIDASSETS_LOG_LEVEL": "INFO",
            "VIDASSETS_REPLICATE_BASE_URL": f"{self.vendor_url}/v1",
            "VIDASSETS_REPLICATE_API_KEY": "r8_multihost",
            "VIDASSETS_PROVIDER_POLL_INTERVAL_S": "0.5",
            "VIDASSETS_PROVIDER_CONCURRENCY": json.dumps({"replicate": 64}),
            "VIDASSETS_PROVIDER_RATE_LIMITS": json.dumps({"replicate": 100000}),
            "DAGSTER_HOME": str(self._dagster_home(home)),
            "DAGSTER_POSTGRES_URL": self.dagster_db_url,
            "DAGSTER_COMPUTE_LOGS_BUCKET": "dagster-logs",
            "DAGSTER_S3_ENDPOINT_URL": f"http://{ip}:9000",
            "DAGSTER_CELERY_BROKER_URL": self.broker_url,
            "DAGSTER_CELERY_BACKEND_URL": f"redis://{ip}:6379/2",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        })
        base.update(extra or {})
        return base

    def _dagster_home(self, home: Path) -> Path:
        """A copy of the production deploy/dagster.yaml; only run monitoring's poll interval and
        the lost-worker delay are shortened, so a lost host is noticed in seconds."""
        path = home / "dagster_home"
        path.mkdir(parents=True, exist_ok=True)
        config = yaml.safe_load((ROOT / "deploy" / "dagster.yaml").read_text())
        config["run_monitoring"]["poll_interval_seconds"] = self.monitoring_poll_s
        config["run_launcher"]["config"]["worker_lost_after_seconds"] = self.worker_lost_after_s
        (path / "dagster.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        return path

    def spawn(self, host: str, name: str, argv: list[str], *, env: dict[str, str] | None = None,
              user: str | None = None) -> subprocess.Popen[bytes]:
        """Start ``argv`` on ``host``: in its network namespace, with its hostname."""
        h = self.hosts[host]
        if user:
            argv = ["runuser", "-u", user, "--", *argv]
        wrapped = ["ip", "netns", "exec", h.ns, "unshare", "--uts", "--", "sh", "-c", 'hostname "$0" && exec "$@"',
                   h.name, *argv]
        out = (self.logs / f"{host}-{name}.log").open("ab")
        proc = subprocess.Popen(wrapped, cwd=ROOT, env=env if env is not None else self.env(host), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[f"{host}/{name}"] = proc
        return proc

    def run(self, host: str, name: str, argv: list[str], timeout: float = 300) -> None:
        proc = self.spawn(host, name, argv)
        if proc.wait(timeout) != 0:
            raise RuntimeError(f"{host}/{name} exited {proc.returncode}: {self.log_tail(f'{host}-{name}')}")

    def pids(self, host: str) -> list[int]:
        out = sh("ip", "netns", "pids", self.hosts[host].ns, check=False).stdout
        return [int(p) for p in out.split() if p.isdigit() and int(p) != os.getpid()]

    def cpu_seconds(self, host: str) -> float:
        """CPU time used so far by the processes on ``host`` and the children they reaped."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.pids(host):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
        return total / tick

    def kill_host(self, host: str) -> list[int]:
        """Every process on ``host`` gets SIGKILL at once: the host is gone."""
        pids = self.pids(host)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return pids

    def log_tail(self, name: str, chars: int = 4000) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def dump_logs(self, chars: int = 5000) -> str:
        return "\n".join(f"==== {p.name}\n{p.read_text(errors='replace')[-chars:]}" for p in sorted(self.logs.glob("*.log")))

    # -- bring-up -------------------------------------------------------------------------

    def start(self, *, workers: int | None = None) -> Cluster:
        self.create_network()
        self.start_services()
        self.start_dagster_and_api()
        for i in range(1, (self.worker_hosts if workers is None else workers) + 1):
            self.start_worker(i)
        self.wait_workers([f"worker{i}" for i in range(1, (self.worker_hosts if workers is None else workers) + 1)])
        return self

    def start_services(self) -> None:
        ip = self.services_ip
        pg = postgres_bin()
        assert pg is not None
        self._pgdata = Path(tempfile.mkdtemp(prefix="vidassets-mh-pg-"))
        shutil.chown(self._pgdata, "postgres", "postgres")
        sh("runuser", "-u", "postgres", "--", str(pg / "initdb"), "-D", str(self._pgdata / "data"), "--auth=trust",
           "-U", "postgres", "-E", "UTF8", "--no-sync")
        with (self._pgdata / "data" / "pg_hba.conf").open("a") as fh:
            fh.write(f"host all all {SUBNET}.0/24 trust\n")
        self.spawn("services", "postgres", [str(pg / "postgres"), "-D", str(self._pgdata / "data"),
                                            "-c", f"listen_addresses={ip}", "-c", "port=5432",
                                            "-c", f"unix_socket_directories={self._pgdata}", "-c", "fsync=off",
                                            "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                                            "-c", "max_connections=300"], user="postgres")
        self.spawn("services", "redis", ["redis-server", "--bind", ip, "--port", "6379", "--save", "",
                                         "--appendonly", "no", "--protected-mode", "no"])
        self.spawn("services", "moto", [str(BIN / "moto_server"), "-H", ip, "-p", "9000"])
        self.spawn("services", "vendor", [sys.executable, str(ROOT / "tests" / "multihost" / "vendor.py"), "--host", ip,
                                          "--port", "8080", "--delay", str(self.vendor_delay_s)])
        self.client(self._wait_services)

    def _wait_services(self) -> None:
        import httpx
        import psycopg2
        import redis

        from vidassets.storage.artefacts import s3_client

        ip = self.services_ip
        _until(lambda: psycopg2.connect(host=ip, user="postgres", dbname="postgres", connect_timeout=2).close(),
               "PostgreSQL on the services host")
        conn = psycopg2.connect(host=ip, user="postgres", dbname="postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE vidassets")
            cur.execute("CREATE DATABASE dagster")
        conn.close()
        _until(lambda: redis.Redis(host=ip, port=6379, socket_timeout=2).ping(), "Redis on the services host")
        _until(lambda: httpx.get(f"http://{ip}:9000/", timeout=2), "moto S3 on the services host")
        s3 = s3_client(f"http://{ip}:9000", "us-east-1", "testing", "testing")
        for bucket in ("vidassets", "dagster-logs"):
            s3.create_bucket(Bucket=bucket)
        _until(lambda: httpx.get(f"{self.vendor_url}/stats", timeout=2).raise_for_status(), "the fake vendor")

    def start_dagster_and_api(self) -> None:
        dagster_ip = self.hosts["dagster"].ip
        workspace = self.root / "hosts" / "dagster" / "workspace.yaml"
        workspace.parent.mkdir(parents=True, exist_ok=True)
        workspace.write_text(yaml.safe_dump({"load_from": [{"grpc_server": {
            "host": dagster_ip, "port": 4000, "location_name": "vidassets"}}]}))
        # Schemas first, each by one process: Dagster's storage, then vidassets' tables.
        self.run("dagster", "migrate", [str(BIN / "dagster"), "instance", "migrate"])
        self.run("api", "migrate", [str(BIN / "vidassets"), "migrate"])
        self.spawn("dagster", "code-server", [str(BIN / "dagster"), "api", "grpc", "-m", "vidassets.dagster.definitions",
                                              "-a", "defs", "-h", dagster_ip, "-p", "4000"])
        self.spawn("dagster", "webserver", [str(BIN / "dagster-webserver"), "-h", dagster_ip, "-p", "3001",
                                            "-w", str(workspace)])
        self.spawn("dagster", "daemon", [str(BIN / "dagster-daemon"), "run", "-w", str(workspace)])
        self.spawn("api", "uvicorn", [sys.executable, "-m", "uvicorn", "api.main:app", "--host", self.hosts["api"].ip,
                                      "--port", "3000", "--no-access-log"])
        self.api_key = self.client(self._wait_dagster_and_api)

    def _wait_dagster_and_api(self) -> str:
        import httpx

        from vidassets.storage.keys import ApiKeyRepository

        _until(lambda: httpx.get(f"{self.api_url}/health", timeout=2).raise_for_status(), "the API", timeout=180,
               alive=self._check_alive)
        query = {"query": "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus "
                          "locationOrLoadError { __typename } } } } }"}

        def loaded() -> None:
            entries = httpx.post(f"{self.dagster_url}/graphql", json=query, timeout=5).json()[
                "data"]["workspaceOrError"]["locationEntries"]
            assert entries and all(e["loadStatus"] == "LOADED" and
                                   e["locationOrLoadError"]["__typename"] == "RepositoryLocation" for e in entries), entries

        _until(loaded, "the Dagster code location", timeout=240, alive=self._check_alive)
        key, _ = ApiKeyRepository(self.db_url).create("multihost", "tests", rate_limit_per_min=10**6)
        return key

    def start_worker(self, index: int, *, extra_env: dict[str, str] | None = None) -> None:
        host = f"worker{index}"
        env = self.env(host, {**self.worker_env, **(extra_env or {})})
        self.spawn(host, "celery", [sys.executable, "-m", "celery", "-A", "vidassets.dagster.celery_app", "worker",
                                    "-Q", self.worker_queues, "-c", str(self.worker_concurrency), "-n", "worker@%h",
                                    "--loglevel", self.worker_loglevel], env=env)

    def wait_workers(self, hosts: list[str], timeout: float = 180) -> None:
        expected = {f"worker@{h}" for h in hosts}

        def answered() -> None:
            from celery import Celery

            app = Celery(broker=self.broker_url)
            try:
                replies = app.control.ping(timeout=1.0) or []
            finally:
                app.close()
            nodes = {name for reply in replies for name in reply}
            assert expected <= nodes, f"workers answering: {sorted(nodes)}"

        self.client(_until, answered, f"Celery workers {sorted(expected)}", timeout=timeout, alive=self._check_alive)

    def _check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None and not name.endswith("/migrate") and proc.returncode not in (0, -9):
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log_tail(name.replace('/', '-'))}")

    # -- queries (run on the client thread) -----------------------------------------------

    def sql(self, query: str, params: dict[str, Any] | None = None, *, database: str = "vidassets") -> list[tuple]:
        def go() -> list[tuple]:
            import psycopg2

            conn = psycopg2.connect(host=self.services_ip, user="postgres", dbname=database)
            try:
                with conn.cursor() as cur:
                    cur.execute(query, params or {})
                    return list(cur.fetchall())
            finally:
                conn.close()

        return self.client(go)

    def api(self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        def go() -> Any:
            import httpx

            resp = httpx.request(method, f"{self.api_url}{path}", timeout=30,
                                 headers={"Authorization": f"Bearer {self.api_key}", **(headers or {})}, **kwargs)
            resp.raise_for_status()
            return resp.json()

        return self.client(go)

    def vendor_stats(self) -> dict[str, Any]:
        def go() -> dict[str, Any]:
            import httpx

            return httpx.get(f"{self.vendor_url}/stats", timeout=10).json()

        return self.client(go)

    # -- tear-down ------------------------------------------------------------------------

    def close(self) -> None:
        """Stop every process on every host, delete the namespaces and the database files.
        Safe to call more than once and after a partial start."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for host in self.hosts:
                if self.hosts[host].ns in self._created_ns:
                    for pid in self.pids(host):
                        try:
                            os.kill(pid, sig)
                        except ProcessLookupError:
                            pass
            for proc in self.procs.values():
                try:
                    os.killpg(proc.pid, sig)
                except (ProcessLookupError, PermissionError):
                    pass
            deadline = time.monotonic() + (10 if sig == signal.SIGTERM else 5)
            while time.monotonic() < deadline and any(self.pids(h) for h in self.hosts
                                                      if self.hosts[h].ns in self._created_ns):
                time.sleep(0.2)
        for proc in self.procs.values():
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        if self._client_pool is not None:
            self._client_pool.shutdown(wait=True)
            self._client_pool = None
        for ns in reversed(self._created_ns):
            sh("ip", "netns", "del", ns, check=False)
        self._created_ns.clear()
        if self._pgdata is not None:
            shutil.rmtree(self._pgdata, ignore_errors=True)
            self._pgdata = None

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _until(probe: Callable[[], Any], what: str, *, timeout: float = 90, interval: float = 0.3,
           alive: Callable[[], None] | None = None) -> None:
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        if alive is not None:
            alive()
        try:
            probe()
            return
        except Exception as exc:  # noqa: BLE001 - not up yet
            last = exc
        time.sleep(interval)
    raise TimeoutError(f"{what} did not come up within {timeout:.0f}s: {last!r}")


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def reap_stale() -> list[str]:
    """Delete namespaces (and kill their processes) left by an earlier test process that died
    without cleaning up (SIGKILL, OOM): their names carry its pid, which no longer runs."""
    out = sh("ip", "netns", "list", check=False).stdout
    reaped = []
    for line in out.splitlines():
        name = line.split()[0] if line.split() else ""
        owner = name[len(TAG_PREFIX):].split("x", 1)[0]
        if not name.startswith(TAG_PREFIX) or not owner.isdigit() or Path(f"/proc/{owner}").exists():
            continue
        for pid in sh("ip", "netns", "pids", name, check=False).stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        sh("ip", "netns", "del", name, check=False)
        reaped.append(name)
    return reaped
