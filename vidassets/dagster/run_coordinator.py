"""The run queue, checked twice a second.

Dagster's ``QueuedRunCoordinator`` takes ``dequeue_interval_seconds`` as whole seconds, so a run
waits up to a second in the queue before the daemon launches it; with submit → run started
budgeted at 1.5 s that second is most of the budget. This subclass accepts a fraction of a second
(the daemon's loop then wakes every 0.5 s, its finest step) and changes nothing else: limits
(``concurrency: runs``), tag limits and pools behave exactly as in the parent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster import Field
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster._serdes.config_class import ConfigurableClassData
from typing_extensions import Self

DEFAULT_INTERVAL_S = 0.25


class PromptQueuedRunCoordinator(QueuedRunCoordinator):
    """A ``QueuedRunCoordinator`` whose dequeue interval may be under a second."""

    def __init__(self, *, dequeue_interval_seconds: float | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self._prompt_interval_s = float(DEFAULT_INTERVAL_S if dequeue_interval_seconds is None
                                        else dequeue_interval_seconds)

    @property
    def dequeue_interval_seconds(self) -> float:  # type: ignore[override]  # the daemon accepts floats
        return self._prompt_interval_s

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        return {**super().config_type(),
                "dequeue_interval_seconds": Field(float, is_required=False, default_value=DEFAULT_INTERVAL_S,
                                                  description="Seconds between queue checks (fractions allowed).")}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]) -> Self:
        return cls(
            inst_data=inst_data,
            max_concurrent_runs=config_value.get("max_concurrent_runs"),
            tag_concurrency_limits=config_value.get("tag_concurrency_limits"),
            dequeue_interval_seconds=config_value.get("dequeue_interval_seconds"),
            dequeue_use_threads=config_value.get("dequeue_use_threads"),
            dequeue_num_workers=config_value.get("dequeue_num_workers"),
            max_user_code_failure_retries=config_value.get("max_user_code_failure_retries"),
            user_code_failure_retry_delay=config_value.get("user_code_failure_retry_delay"),
            block_op_concurrency_limited_runs=config_value.get("block_op_concurrency_limited_runs"),
        )
