from __future__ import annotations

import pytest

from vidassets.execution.executor import PlanExecutor
from vidassets.execution.operations import OperationRunner
from vidassets.providers import default_registry


@pytest.fixture
def executor(services) -> PlanExecutor:  # type: ignore[no-untyped-def]
    return PlanExecutor(services, OperationRunner(services, default_registry()), max_workers=2,
                        progress_interval_s=0.2)
