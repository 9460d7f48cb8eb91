"""Bounded partitions: does the stack stay as fast at 1M executions as at 1k?

For each size a fresh embedded stack (SQLite, the repository's dagster.yaml) gets N synthetic
executions, then retention is applied as in production: the executions outside the default
window (Settings ``partition_retention_*``) are archived, the window's partitions are in Dagster,
plus one prune batch of executions that just left the window, which the pruner itself (the
function the ``prune_partitions`` sensor runs) removes, timed. Then, with the stack running:

* submit -> run started (p50) and a tiny plan end to end (p50), through the HTTP API;
* the GraphQL queries behind an asset's overview and Partitions pages, as the Dagster UI sends
  them: captured from the pages loaded in headless Chromium (DevTools protocol), then replayed
  with httpx (median per query, summed per page);
* the asset's Partitions page itself in headless Chromium: navigation until the network is
  quiet (the last GraphQL answer), median of warm loads.

Synthetic executions are bulk-inserted rows (one a 0.6 s apart, i.e. 100/min, ending now;
completed, one-job plan, no job rows), partitions added with ``instance.add_dynamic_partitions``
in chunks. Goal (issue 17): every figure at the largest size within 1.5 x its value at the
smallest. Sizes are flags: ``--sizes 1000,5000`` tries it small first.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from common import append_results, free_port  # noqa: E402

from vidassets.contract import PARTITIONS_DEF_NAME  # noqa: E402
from vidassets.settings import Settings  # noqa: E402
from vidassets.stack import Stack, prepare_dagster_home, stack_env  # noqa: E402
from vidassets.storage.keys import ApiKeyRepository  # noqa: E402
from vidassets.storage.migrate import upgrade  # noqa: E402

ASSET = "generated_clips"
TINY = {"jobs": [{"id": "c", "type": "generate", "params": {"prompt": "tiny", "duration": 1, "resolution": "160x90"}}]}
SPACING_MS = 600  # 100 executions a minute
#: Request types a page load waits for: the page's data (scripts served from the browser's cache
#: do not always report their end; what they load shows as GraphQL requests and rendering).
TRACKED = {"Document", "XHR", "Fetch"}


@dataclass
class Figures:
    size: int
    live: int = 0
    prune_s: float = 0.0
    pruned: int = 0
    populate_s: float = 0.0
    values: dict[str, float] = field(default_factory=dict)
    slowest: dict[str, str] = field(default_factory=dict)
    adds: str = "-"  # ms per partition: one per request / batched
    ops: dict[str, dict[str, float]] = field(default_factory=dict)  # page -> operation -> median s


# -- synthetic executions ---------------------------------------------------------------------

def populate(settings: Settings, n: int) -> list[str]:
    """N completed executions, newest now, bulk-inserted in chunks; returns their ids oldest first."""
    from sqlalchemy import insert

    from vidassets.storage.db import get_engine
    from vidassets.storage.models import ExecutionRow

    now_ms = int(time.time() * 1000)
    plan = {"jobs": [{"id": "c", "operation": "generate", "params": {}, "dependsOn": []}], "rootJobIds": ["c"]}
    ids: list[str] = []
    engine = get_engine(settings.resolved_database_url)
    for start in range(0, n, 20_000):
        rows = []
        for i in range(start, min(n, start + 20_000)):
            ms = now_ms - (n - 1 - i) * SPACING_MS
            at = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
            eid = f"{ms:012x}{i:020x}"
            ids.append(eid)
            rows.append({"id": eid, "tenant_id": "synthetic", "status": "completed", "plan": plan, "created_at": at,
                         "updated_at": at, "completed_at": at, "partition_at": at, "launch_attempts": 0})
        with engine.begin() as conn:
            conn.execute(insert(ExecutionRow.__table__), rows)
    return ids


def apply_retention(settings: Settings, ids: list[str], fig: Figures) -> None:
    """Steady state of production: what the window holds is in Dagster, older executions are
    archived, and the last prune batch to leave the window is removed by the pruner, timed."""
    import dagster as dg
    from sqlalchemy import update

    from vidassets.dagster.retention import Window, prune
    from vidassets.storage.db import session_scope
    from vidassets.storage.models import ExecutionRow, utcnow
    from vidassets.storage.partition_repo import PartitionRepository

    window = Window.from_settings(settings)
    repo = PartitionRepository(settings.resolved_database_url)
    now = utcnow()
    cutoff = repo.cutoff(now=now, max_age=window.max_age, max_live=window.max_live)
    outside = [i for i in ids if cutoff is not None and _at(i) < cutoff]
    keep_for_pruner = outside[-window.batch:]
    if outside[:-window.batch]:
        with session_scope(settings.resolved_database_url) as s:
            s.execute(update(ExecutionRow).where(ExecutionRow.partition_at < _at(keep_for_pruner[0]))
                      .values(partition_at=None, archived_at=now))
    live = ids[len(outside) - len(keep_for_pruner):]
    with dg.DagsterInstance.from_config(str(prepare_dagster_home(settings.data_dir))) as instance:
        for start in range(0, len(live), 10_000):
            instance.add_dynamic_partitions(PARTITIONS_DEF_NAME, live[start:start + 10_000])
        t0 = time.perf_counter()
        result = prune(instance, repo, window, now=now)
        fig.prune_s = time.perf_counter() - t0
        fig.pruned = len(result.removed)
        fig.live = len(instance.get_dynamic_partitions(PARTITIONS_DEF_NAME))


def _at(eid: str) -> dt.datetime:
    """When a synthetic execution was created (its id starts with the milliseconds)."""
    return dt.datetime.fromtimestamp(int(eid[:12], 16) / 1000, dt.UTC)


# -- headless Chromium over the DevTools protocol -----------------------------------------------

class Browser:
    """Headless Chromium driven over its DevTools websocket: navigate, record GraphQL requests,
    wait until the network is quiet."""

    def __init__(self, binary: str, profile: Path):
        self.port = free_port()
        self.proc = subprocess.Popen([binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                      "--disable-dev-shm-usage", f"--remote-debugging-port={self.port}",
                                      f"--user-data-dir={profile}", "--window-size=1400,1000", "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        from websockets.sync.client import connect

        deadline = time.monotonic() + 30
        while True:
            try:
                pages = [t for t in httpx.get(f"http://127.0.0.1:{self.port}/json/list").json() if t["type"] == "page"]
                break
            except (httpx.HTTPError, ValueError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self._connection = connect(pages[0]["webSocketDebuggerUrl"], max_size=None)
        self.ws = self._connection.__enter__()
        self._id = 0
        self.events: list[dict[str, Any]] = []
        self.call("Network.enable")
        self.call("Page.enable")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self._id:
                return dict(message.get("result", {}))
            self.events.append(message)

    def _next_event(self, timeout_s: float) -> dict[str, Any] | None:
        if self.events:
            return self.events.pop(0)
        try:
            return dict(json.loads(self.ws.recv(timeout=timeout_s)))
        except TimeoutError:
            return None

    def load(self, url: str, quiet_s: float = 0.5, timeout_s: float = 180) -> tuple[float, list[dict[str, Any]]]:
        """Navigate; return seconds until the last network answer (or the end of rendering) before
        ``quiet_s`` of silence (the UI polls live data every 2 s: the gaps are the silence), and the
        distinct GraphQL requests the page sent (operationName, query, variables). Websockets
        and other long-lived requests are not waited for."""
        self.events.clear()
        t0 = time.monotonic()
        self.call("Page.navigate", url=url)
        inflight: set[str] = set()
        graphql: dict[str, dict[str, Any]] = {}
        last = t0
        while time.monotonic() - t0 < timeout_s:
            event = self._next_event(0.05)
            if event is None:
                if not inflight and time.monotonic() - last >= quiet_s and graphql:
                    # The network is quiet; is the page still rendering? A probe runs on the
                    # renderer's main thread, so it answers late while JS is busy.
                    probe = time.monotonic()
                    self.call("Runtime.evaluate", expression="0")
                    if time.monotonic() - probe < 0.05:
                        break
                    last = time.monotonic()
                continue
            method, params = event.get("method"), event.get("params", {})
            if method == "Network.requestWillBeSent":
                if params.get("type") not in TRACKED:
                    continue
                inflight.add(params["requestId"])
                request = params["request"]
                if request["url"].split("?")[0].endswith("/graphql") and request.get("method") == "POST":
                    graphql[params["requestId"]] = self._body(params["requestId"], request)
            elif method in ("Network.loadingFinished", "Network.loadingFailed"):
                inflight.discard(params["requestId"])
                last = time.monotonic()
        distinct = {json.dumps([g.get("operationName"), g.get("variables")], sort_keys=True): g
                    for g in graphql.values() if g}
        return last - t0, list(distinct.values())

    def _body(self, request_id: str, request: dict[str, Any]) -> dict[str, Any]:
        text = request.get("postData")
        if text is None and request.get("hasPostData"):
            result = self.call("Network.getRequestPostData", requestId=request_id)
            text = result.get("postData")
            if result.get("base64Encoded"):
                text = base64.b64decode(text or "").decode()
        try:
            return dict(json.loads(text or "{}"))
        except ValueError:
            return {}

    def close(self) -> None:
        self._connection.__exit__(None, None, None)
        self.proc.terminate()
        self.proc.wait(20)


# -- measurements -------------------------------------------------------------------------------

def api_latencies(client: httpx.Client, samples: int) -> tuple[float, float]:
    """p50 submit -> run started and p50 tiny plan end to end."""
    started, total = [], []
    for i in range(samples):
        body = json.loads(json.dumps(TINY))
        body["jobs"][0]["params"]["prompt"] = f"tiny {i} {time.time()}"  # fresh: no result-cache hit
        t0 = time.perf_counter()
        eid = client.post("/api/execute", json=body).json()["id"]
        first = None
        while True:
            status = client.get(f"/api/execute/{eid}/status").json()
            if first is None and status["status"] != "pending":
                first = time.perf_counter() - t0
            if status["status"] in ("completed", "failed", "cancelled"):
                if status["status"] != "completed":
                    raise SystemExit(f"tiny plan {status['status']}: {status.get('error')}")
                break
            time.sleep(0.02)
        started.append(first or 0.0)
        total.append(time.perf_counter() - t0)
    return statistics.median(started), statistics.median(total)


def replay(graphql_url: str, queries: list[dict[str, Any]], repeat: int) -> dict[str, float]:
    """Each distinct operation the page sent, replayed ``repeat`` times: its median seconds."""
    per: dict[str, float] = {}
    with httpx.Client(timeout=300) as client:
        for q in queries:
            name = str(q.get("operationName") or "anonymous")
            if name in per:
                continue  # the same operation again (a poll): counted once
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                resp = client.post(graphql_url, json=q)
                times.append(time.perf_counter() - t0)
                if resp.status_code != 200 or resp.json().get("errors"):
                    raise SystemExit(f"{name}: {resp.text[:300]}")
            per[name] = statistics.median(times)
    return per


def ui_figures(stack: Stack, browser: Browser, fig: Figures, loads: int, repeat: int) -> None:
    base = f"{stack.dagster_url}/assets/{ASSET}"
    pages = {"overview": base, "partitions": f"{base}?view=partitions"}
    captured: dict[str, list[dict[str, Any]]] = {}
    for name, url in pages.items():
        browser.load(url)  # warm: the UI's bundle in the browser cache, the code location loaded
        _, captured[name] = browser.load(url)
    page_times = [browser.load(pages["partitions"])[0] for _ in range(loads)]
    fig.values["partitions page in Chromium"] = statistics.median(page_times)
    for name, queries in captured.items():
        fig.ops[name] = replay(f"{stack.dagster_url}/graphql", queries, repeat)


def page_query_figures(figs: list[Figures]) -> None:
    """Per page, the sum of the operations every size's page sent (a live-data poll caught in one
    load and not another would otherwise change the set), and the slowest of them."""
    for page in figs[0].ops:
        common = set.intersection(*(set(f.ops.get(page, {})) for f in figs))
        for f in figs:
            f.values[f"{page} page GraphQL, {len(common)} queries"] = sum(f.ops[page][n] for n in common)
            slowest = max(common, key=f.ops[page].__getitem__) if common else "-"
            f.slowest[page] = f"{slowest} {f.ops[page].get(slowest, 0):.3f}s"


def partition_adds(stack: Stack, fig: Figures, n: int = 100) -> None:
    """Adding ``n`` partitions through the webserver, one GraphQL request each (the API's old
    launch path) against batched aliases in one request per 50 (LaunchQueue under load)."""
    from vidassets.runs.launch import DagsterLauncher

    launcher = DagsterLauncher(Settings(dagster_graphql_url=f"{stack.dagster_url}/graphql", dagster_timeout_s=300))
    t0 = time.perf_counter()
    for i in range(n):
        launcher.add_partitions([f"bench-single-{i}"])
    single = time.perf_counter() - t0
    t0 = time.perf_counter()
    launcher.add_partitions([f"bench-batched-{i}" for i in range(n)])
    batched = time.perf_counter() - t0
    fig.adds = f"{1000 * single / n:.1f} / {1000 * batched / n:.1f} ms"


def measure(size: int, args: argparse.Namespace, chromium: str | None) -> Figures:
    fig = Figures(size)
    root = Path(tempfile.mkdtemp(prefix=f"vidassets-partitions-{size}-"))
    data = root / "data"
    settings = Settings(data_dir=data)
    upgrade(settings.resolved_database_url)
    t0 = time.perf_counter()
    ids = populate(settings, size)
    apply_retention(settings, ids, fig)
    fig.populate_s = time.perf_counter() - t0
    key, _ = ApiKeyRepository(settings.resolved_database_url).create("bench", "bench", rate_limit_per_min=10**6)
    api_port, dagster_port = free_port(), free_port()
    env = stack_env(data, {"VIDASSETS_LOG_LEVEL": "WARNING"}, api_port=api_port, dagster_port=dagster_port)
    with Stack(env=env, api_port=api_port, dagster_port=dagster_port, log_dir=data / "logs").start() as stack:
        stack.wait_ready(300)
        client = httpx.Client(base_url=stack.api_url, headers={"Authorization": f"Bearer {key}"}, timeout=60)
        api_latencies(client, 1)  # warm-up: first run forks the warm server
        started, total = api_latencies(client, args.samples)
        fig.values["submit -> run started (p50)"] = started
        fig.values["tiny plan end to end (p50)"] = total
        partition_adds(stack, fig)
        if chromium:
            browser = Browser(chromium, root / "chromium")
            try:
                ui_figures(stack, browser, fig, args.loads, args.repeat)
            finally:
                browser.close()
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return fig


def report(figs: list[Figures], goal: float) -> list[str]:
    page_query_figures(figs)
    small, large = figs[0], figs[-1]
    width = max(len(k) for k in small.values) + 2
    head = "".join(f"{f.size:>12,}" for f in figs)
    lines = [
        "Synthetic executions: bulk-inserted rows 0.6 s apart (100/min) ending now, completed, no job rows;",
        "partitions added with instance.add_dynamic_partitions; retention as in production (default Settings:",
        f"{Settings().partition_retention_days:g} days / {Settings().partition_retention_max:,} live), the last prune batch "
        "removed by the pruner itself.",
        "",
        f"{'executions':<{width}}{head}   ratio  goal <= {goal}x",
        f"{'live partitions in Dagster':<{width}}" + "".join(f"{f.live:>12,}" for f in figs),
        f"{'prune tick (s) / removed':<{width}}" + "".join(f"{f'{f.prune_s:.2f}/{f.pruned}':>12}" for f in figs),
        "partition add, ms each, one per GraphQL request / batched: " + ",  ".join(f.adds for f in figs),
    ]
    ok_all = True
    for name in small.values:
        ratio = large.values[name] / small.values[name] if small.values[name] else float("inf")
        ok = ratio <= goal
        ok_all &= ok
        lines.append(f"{name:<{width}}" + "".join(f"{f.values[name]:>11.3f}s" for f in figs)
                     + f"  {ratio:5.2f}x  {'ok' if ok else 'FAIL'}")
    for page in small.slowest:
        lines.append(f"slowest {page} query:  " + "   ".join(f"{f.slowest.get(page, '-')}" for f in figs))
    lines.append(f"every figure at {large.size:,} within {goal}x of {small.size:,}: {'ok' if ok_all else 'FAIL'}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,100000,1000000", help="comma-separated execution counts")
    parser.add_argument("--samples", type=int, default=7, help="tiny plans per size (p50)")
    parser.add_argument("--loads", type=int, default=3, help="Partitions page loads per size (median)")
    parser.add_argument("--repeat", type=int, default=3, help="replays per GraphQL query (median)")
    parser.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser"))
    parser.add_argument("--no-results", action="store_true", help="do not write bench/results.md")
    parser.add_argument("--keep", action="store_true", help="keep the data dirs")
    args = parser.parse_args()
    if not args.chromium:
        print("chromium not found (apt-get install -y chromium): page figures skipped", file=sys.stderr)
    sizes = [int(s) for s in args.sizes.split(",")]
    figs = []
    for size in sizes:
        t0 = time.perf_counter()
        figs.append(measure(size, args, args.chromium))
        print(f"{size:,} executions measured in {time.perf_counter() - t0:.0f}s "
              f"(populate + retention {figs[-1].populate_s:.0f}s)", file=sys.stderr)
    lines = report(figs, 1.5)
    print("\n".join(lines))
    if not args.no_results and sizes == [1000, 100000, 1000000]:
        append_results("Bounded partitions", lines)
    return 0  # a benchmark reports; ok/FAIL is in its output (make bench runs on)


if __name__ == "__main__":
    sys.exit(main())
