"""Launch an execution's Dagster run through the webserver's GraphQL API.

One request carries two mutations, executed in order: add the execution ID as a dynamic
partition, then launch the plan job for that partition. Only httpx is needed, so the API process
does not import Dagster; the job, partitions and tag names come from ``vidassets.contract``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from vidassets.contract import JOB_NAME, PARTITION_TAG, PARTITIONS_DEF_NAME, launch_tags
from vidassets.settings import Settings

log = logging.getLogger(__name__)

_LAUNCH = """
mutation Launch($repo: RepositorySelector!, $partitionsDefName: String!, $partitionKey: String!,
                $executionParams: ExecutionParams!) {
  addDynamicPartition(repositorySelector: $repo, partitionsDefName: $partitionsDefName,
                      partitionKey: $partitionKey) {
    __typename
    ... on PythonError { message }
    ... on UnauthorizedError { message }
  }
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConflict { message }
    ... on UnauthorizedError { message }
    ... on InvalidSubsetError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on PipelineNotFoundError { message }
    ... on NoModeProvidedError { message }
  }
}
"""


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

    def launch(self, execution_id: str, *, tags: dict[str, str] | None = None) -> str:
        s = self.settings
        run_tags = {PARTITION_TAG: execution_id, **launch_tags(execution_id), **(tags or {})}
        data = self._post(_LAUNCH, {
            "repo": {"repositoryLocationName": s.dagster_location_name, "repositoryName": s.dagster_repository_name},
            "partitionsDefName": PARTITIONS_DEF_NAME,
            "partitionKey": execution_id,
            "executionParams": {
                "selector": {"repositoryLocationName": s.dagster_location_name,
                             "repositoryName": s.dagster_repository_name, "jobName": JOB_NAME},
                "runConfigData": {},
                "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in run_tags.items()]},
            },
        })
        added = data["addDynamicPartition"]
        if added["__typename"] not in ("AddDynamicPartitionSuccess", "DuplicateDynamicPartitionError"):
            raise LaunchError(f"adding partition failed: {added['__typename']}: {added.get('message')}")
        launched = data["launchRun"]
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
    """Launches committed executions from a background thread, so a submission never waits on
    Dagster and a burst of submissions becomes a steady stream of launches.

    When a launch fails (Dagster down or overloaded) the queue stops trying for ``backoff_s`` and
    leaves what it holds to the reconciliation sensor, which launches every committed execution
    that has no run: nothing is lost, and a down Dagster is not hammered.
    """

    def __init__(self, launcher: DagsterLauncher, on_launched: Callable[[str, str], None],
                 on_failed: Callable[[str, str], None], *, claim: Callable[[str], bool] = lambda _: True,
                 workers: int = 2, backoff_s: float = 5.0):
        self.launcher = launcher
        self.on_launched = on_launched
        self.on_failed = on_failed
        self.claim = claim  # the right to launch: the sensor may be launching the same execution
        self.backoff_s = backoff_s
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._paused_until = 0.0
        self._threads = [threading.Thread(target=self._work, name=f"launcher-{i}", daemon=True) for i in range(workers)]
        for thread in self._threads:
            thread.start()

    def submit(self, execution_id: str) -> None:
        self._queue.put(execution_id)

    def stop(self) -> None:
        for _ in self._threads:
            self._queue.put(None)

    def _work(self) -> None:
        while True:
            execution_id = self._queue.get()
            if execution_id is None:
                return
            try:
                if time.monotonic() < self._paused_until:
                    self.on_failed(execution_id, "launch deferred: Dagster was unreachable moments ago")
                    continue
                if not self.claim(execution_id):
                    log.info("launch of %s skipped: it has a run or another launcher claimed it", execution_id)
                    continue
                try:
                    run_id = self.launcher.launch(execution_id)
                except LaunchError as exc:
                    self._paused_until = time.monotonic() + self.backoff_s
                    log.warning("launch of %s failed (the reconciliation sensor will launch it): %s", execution_id, exc)
                    self.on_failed(execution_id, str(exc))
                    continue
                self.on_launched(execution_id, run_id)
            except Exception:  # a bookkeeping error must not kill the worker
                log.exception("launch bookkeeping for %s failed", execution_id)
