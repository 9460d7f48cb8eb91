"""Launch an execution's Dagster run through the webserver's GraphQL API.

One request carries the mutations, executed in order: add the execution IDs as dynamic
partitions (and the archived base executions the variants among them build on, so base lineage
shows), then launch the plan job for each partition. A burst of submissions is launched in
batches: one HTTP request, one aliased mutation per partition and per run. Only httpx is needed,
so the API process does not import Dagster; the job, partitions and tag names come from
``vidassets.contract``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from vidassets.contract import JOB_NAME, PARTITION_TAG, PARTITIONS_DEF_NAME, launch_tags
from vidassets.settings import Settings
from vidassets.storage.partition_repo import PartitionRepository

log = logging.getLogger(__name__)

_ADD_RESULT = """{
    __typename
    ... on PythonError { message }
    ... on UnauthorizedError { message }
  }"""

_LAUNCH_RESULT = """{
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConflict { message }
    ... on UnauthorizedError { message }
    ... on InvalidSubsetError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on PipelineNotFoundError { message }
    ... on NoModeProvidedError { message }
  }"""

#: Partitions and runs per GraphQL request: one round trip for a burst, bounded request size.
BATCH = 50


def batch_mutation(partition_count: int, run_count: int) -> str:
    """One mutation adding ``partition_count`` partitions then launching ``run_count`` runs, each
    under its own alias (GraphQL runs mutation fields in order). Keys and params are variables."""
    params = ["$repo: RepositorySelector!", "$partitionsDefName: String!"] if partition_count else []
    params += [f"$k{i}: String!" for i in range(partition_count)]
    params += [f"$e{i}: ExecutionParams!" for i in range(run_count)]
    fields = [f"  p{i}: addDynamicPartition(repositorySelector: $repo, partitionsDefName: $partitionsDefName, "
              f"partitionKey: $k{i}) {_ADD_RESULT}" for i in range(partition_count)]
    fields += [f"  r{i}: launchRun(executionParams: $e{i}) {_LAUNCH_RESULT}" for i in range(run_count)]
    return f"mutation Launch({', '.join(params)}) {{\n" + "\n".join(fields) + "\n}"


_BACKFILL = """
mutation Backfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on UnauthorizedError { message }
    ... on PartitionSetNotFoundError { message }
    ... on InvalidStepError { invalidStepKey }
    ... on InvalidOutputError { stepKey }
    ... on ConflictingExecutionParamsError { message }
  }
}
"""


class LaunchError(RuntimeError):
    pass


class DagsterLauncher:
    """GraphQL client for the Dagster webserver; one pooled HTTP connection per process."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._client = httpx.Client(timeout=settings.dagster_timeout_s)

    def close(self) -> None:
        self._client.close()

    def _post(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        try:
            resp = self._client.post(self.settings.dagster_graphql_url, json={"query": query, "variables": variables})
        except httpx.HTTPError as exc:
            raise LaunchError(f"Dagster webserver unreachable at {self.settings.dagster_graphql_url}: {exc}") from exc
        if resp.status_code != 200:
            raise LaunchError(f"Dagster GraphQL answered HTTP {resp.status_code}: {resp.text[:300]}")
        body: dict[str, Any] = resp.json()
        if body.get("errors"):
            raise LaunchError(f"Dagster GraphQL errors: {body['errors'][0].get('message')}")
        data: dict[str, Any] = body["data"]
        return data

    def _repo(self) -> dict[str, str]:
        return {"repositoryLocationName": self.settings.dagster_location_name,
                "repositoryName": self.settings.dagster_repository_name}

    def _execution_params(self, execution_id: str, tags: dict[str, str] | None) -> dict[str, Any]:
        run_tags = {PARTITION_TAG: execution_id, **launch_tags(execution_id), **(tags or {})}
        return {"selector": {**self._repo(), "jobName": JOB_NAME}, "runConfigData": {},
                "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in run_tags.items()]}}

    def _mutate(self, partitions: list[str], runs: list[str], tags: dict[str, str] | None) -> dict[str, Any]:
        variables: dict[str, Any] = {"repo": self._repo(), "partitionsDefName": PARTITIONS_DEF_NAME} if partitions else {}
        variables.update({f"k{i}": key for i, key in enumerate(partitions)})
        variables.update({f"e{i}": self._execution_params(e, tags) for i, e in enumerate(runs)})
        data = self._post(batch_mutation(len(partitions), len(runs)), variables)
        for i, key in enumerate(partitions):
            added = data[f"p{i}"]
            if added["__typename"] not in ("AddDynamicPartitionSuccess", "DuplicateDynamicPartitionError"):
                raise LaunchError(f"adding partition {key} failed: {added['__typename']}: {added.get('message')}")
        return data

    def add_partitions(self, partition_keys: list[str]) -> None:
        """Add these executions as partitions (existing ones are left as they are), ``BATCH`` per request."""
        keys = list(dict.fromkeys(partition_keys))
        for i in range(0, len(keys), BATCH):
            self._mutate(keys[i:i + BATCH], [], None)

    def launch(self, execution_id: str, *, tags: dict[str, str] | None = None,
               extra_partitions: Sequence[str] = (), with_partition: bool = True) -> str:
        """Launch the plan job for this execution in one request: first add ``extra_partitions``
        (bases its run needs) and, unless it was added already, its own partition."""
        keys = [*extra_partitions, execution_id] if with_partition else list(extra_partitions)
        launched = self._mutate(list(dict.fromkeys(keys)), [execution_id], tags)["r0"]
        if launched["__typename"] != "LaunchRunSuccess":
            detail = launched.get("message") or launched.get("errors")
            raise LaunchError(f"launching run failed: {launched['__typename']}: {detail}")
        return str(launched["run"]["runId"])

    def backfill(self, partition_keys: list[str], asset_keys: list[str], *, title: str,
                 tags: dict[str, str] | None = None) -> str:
        """A partitioned asset backfill over ``partition_keys`` for ``asset_keys`` (visible under
        Backfills in the UI). Pass ``contract.rerender_tags`` so its runs re-render the selected kinds."""
        data = self._post(_BACKFILL, {"params": {
            "partitionNames": partition_keys,
            "assetSelection": [{"path": [k]} for k in asset_keys],
            "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()],
            "title": title,
        }})["launchPartitionBackfill"]
        if data["__typename"] != "LaunchBackfillSuccess":
            raise LaunchError(f"backfill failed: {data['__typename']}: {data.get('message') or data}")
        return str(data["backfillId"])

    def ping(self) -> None:
        self._post("query { version }", {})


class LaunchQueue:
    """Launches committed executions from background threads, so a submission never waits on
    Dagster and a burst of submissions becomes a steady stream of launches.

    A submission alone is launched in one request (its partition and its run). Under load the
    partitions of everything queued are added together first, in one request per ``batch``
    (measured: adding partitions one per request costs twice as much per partition), and the
    runs are then launched by ``workers`` threads, one request each (a launch costs the same
    batched or not: the webserver snapshots the job for each run).

    When a launch fails (Dagster down or overloaded) the queue stops trying for ``backoff_s`` and
    leaves what it holds to the reconciliation sensor, which launches every committed execution
    that has no run: nothing is lost, and a down Dagster is not hammered. With ``partitions``,
    archived executions (a retry of an old one) and the bases of variants are marked live (the
    bases' time in the window restarts) before their partitions are added, so the pruner does
    not take them away while the variants run.
    """

    def __init__(self, launcher: DagsterLauncher, on_launched: Callable[[str, str], None],
                 on_failed: Callable[[str, str], None], *, claim: Callable[[str], bool] = lambda _: True,
                 partitions: PartitionRepository | None = None, workers: int = 2, backoff_s: float = 5.0,
                 batch: int = BATCH):
        self.launcher = launcher
        self.on_launched = on_launched
        self.on_failed = on_failed
        self.claim = claim  # the right to launch: the sensor may be launching the same execution
        self.partitions = partitions
        self.backoff_s = backoff_s
        self.batch = batch
        self._incoming: queue.Queue[str | None] = queue.Queue()
        # (execution, partitions to add with its run, whether its own partition is still to add)
        self._ready: queue.Queue[tuple[str, list[str], bool] | None] = queue.Queue()
        self._paused_until = 0.0
        self._workers = workers
        self._threads = [threading.Thread(target=self._partitioner, name="launcher-partitions", daemon=True)]
        self._threads += [threading.Thread(target=self._work, name=f"launcher-{i}", daemon=True) for i in range(workers)]
        for thread in self._threads:
            thread.start()

    def submit(self, execution_id: str) -> None:
        self._incoming.put(execution_id)

    def stop(self) -> None:
        self._incoming.put(None)

    def _take(self) -> tuple[list[str], bool]:
        """The next submission and whatever else is queued, up to ``batch``; True when told to stop."""
        first = self._incoming.get()
        if first is None:
            return [], True
        ids = [first]
        while len(ids) < self.batch:
            try:
                more = self._incoming.get_nowait()
            except queue.Empty:
                break
            if more is None:
                self._incoming.put(None)  # stop after this batch
                break
            ids.append(more)
        return ids, False

    def _partitioner(self) -> None:
        while True:
            ids, stop = self._take()
            if stop:
                for _ in range(self._workers):
                    self._ready.put(None)
                return
            try:
                self._prepare(ids)
            except Exception:  # a bookkeeping error must not kill the thread
                log.exception("launch bookkeeping for %s failed", ", ".join(ids))

    def _prepare(self, ids: list[str]) -> None:
        if self._paused():
            for execution_id in ids:
                self.on_failed(execution_id, "launch deferred: Dagster was unreachable moments ago")
            return
        claimed = [i for i in ids if self.claim(i)]
        for execution_id in set(ids) - set(claimed):
            log.info("launch of %s skipped: it has a run or another launcher claimed it", execution_id)
        if not claimed:
            return
        bases: list[str] = []
        if self.partitions is not None:
            bases = self.partitions.bases_of(claimed)
            self.partitions.mark_live(bases, touch=True)  # none is pruned while its variants run
            self.partitions.mark_live(claimed, touch=False)
        if len(claimed) == 1:
            self._ready.put((claimed[0], bases, True))
            return
        try:
            self.launcher.add_partitions([*bases, *claimed])
        except LaunchError as exc:
            self._failed(claimed, exc)
            return
        for execution_id in claimed:
            self._ready.put((execution_id, [], False))

    def _work(self) -> None:
        while True:
            item = self._ready.get()
            if item is None:
                return
            execution_id, extra, with_partition = item
            try:
                if self._paused():
                    self.on_failed(execution_id, "launch deferred: Dagster was unreachable moments ago")
                    continue
                try:
                    run_id = self.launcher.launch(execution_id, extra_partitions=extra, with_partition=with_partition)
                except LaunchError as exc:
                    self._failed([execution_id], exc)
                    continue
                self.on_launched(execution_id, run_id)
            except Exception:  # a bookkeeping error must not kill the worker
                log.exception("launch bookkeeping for %s failed", execution_id)

    def _paused(self) -> bool:
        return time.monotonic() < self._paused_until

    def _failed(self, execution_ids: list[str], exc: LaunchError) -> None:
        self._paused_until = time.monotonic() + self.backoff_s
        log.warning("launch of %s failed (the reconciliation sensor will launch it): %s", ", ".join(execution_ids), exc)
        for execution_id in execution_ids:
            self.on_failed(execution_id, str(exc))
