"""The run queue, checked twice a second.

Dagster's ``QueuedRunCoordinator`` takes ``dequeue_interval_seconds`` as whole seconds, so a run
waits up to a second in the queue before the daemon launches it; with submit → run started
budgeted at 1.5 s that second is most of the budget. This subclass accepts a fraction of a second
(the daemon's loop then wakes every 0.5 s, its finest step) and changes nothing else: limits
(``concurrency: runs``), tag limits and pools behave exactly as in the parent. The daemon reads
the interval from the ``dequeue_interval_seconds`` property, which the parent documents as whole
seconds; ``tests/dagster_defs/test_internals.py`` checks that it still does.
"""

from __future__ import annotations

from typing import Any, cast

from dagster import Field, QueuedRunCoordinator

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
        return {**cast(dict[str, Any], super().config_type()),
                "dequeue_interval_seconds": Field(float, is_required=False, default_value=DEFAULT_INTERVAL_S,
                                                  description="Seconds between queue checks (fractions allowed).")}
