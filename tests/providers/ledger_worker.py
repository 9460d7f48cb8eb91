"""A run worker for the crash tests: runs one execution's plan in this process the way Dagster's
run worker does (the plan executor, the real vendor clients over HTTP, the durable ledger), so a
test can SIGKILL it at any point. Settings come from the ``VIDASSETS_*`` environment.

Usage: ``python -m tests.providers.ledger_worker EXECUTION_ID RUN_ID``; prints the outcome as JSON.
"""

from __future__ import annotations

import faulthandler
import json
import signal
import sys

from vidassets.execution.executor import PlanExecutor
from vidassets.execution.operations import OperationRunner
from vidassets.providers.fal import FalProvider
from vidassets.providers.http import HttpPolicy
from vidassets.providers.local import LocalProvider
from vidassets.providers.registry import ProviderRegistry
from vidassets.providers.replicate import ReplicateProvider
from vidassets.services import build_services
from vidassets.settings import Settings, get_settings


def registry(settings: Settings) -> ProviderRegistry:
    """The production clients; only the waits before a lookup are short, to keep tests quick."""
    policy = HttpPolicy.from_settings(settings, lookup_settle_s=0.2, ledger_wait_s=0.1)
    replicate = ReplicateProvider(base_url=settings.replicate_base_url, api_key=settings.replicate_api_key, policy=policy)
    fal = FalProvider(base_url=settings.fal_base_url, api_key=settings.fal_api_key, policy=policy)
    return ProviderRegistry({"local": LocalProvider(), "replicate": replicate, "fal": fal},
                            lip_sync={"replicate": replicate, "fal": fal}, transcribers={"replicate": replicate, "fal": fal})


def main(execution_id: str, run_id: str) -> None:
    settings = get_settings()
    services = build_services(settings)
    executor = PlanExecutor(services, OperationRunner(services, registry(settings)), max_workers=2,
                            progress_interval_s=0.2)
    _, outcome = executor.run_to_end(execution_id, run_id)
    status = executor.finalize(execution_id, outcome)
    print(json.dumps({"status": status, "failures": {j: f.code for j, f in outcome.failures.items()}}), flush=True)


if __name__ == "__main__":
    faulthandler.register(signal.SIGUSR1)  # a stuck worker's stacks, on demand
    main(sys.argv[1], sys.argv[2])
