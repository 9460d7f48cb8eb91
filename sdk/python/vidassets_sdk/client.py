"""The synchronous client: submit a plan, follow its execution, cancel or retry it."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, TypeVar

import httpx

from vidassets_sdk import _wire
from vidassets_sdk._wire import DEFAULT_API_URL, Call, Endpoint, Exchange, ProgressHandler
from vidassets_sdk.compose import Node, Pipeline
from vidassets_sdk.models import Accepted, ActionResult, ExecutionStatus

T = TypeVar("T")


class _Api:
    """Drives exchanges over the caller's ``httpx.Client``, or over a client of its own per call."""

    def __init__(self, timeout: float, client: httpx.Client | None):
        self.timeout = timeout
        self.client = client

    def run(self, exchange: Exchange[T]) -> T:
        if self.client is not None:
            return _drive(exchange, self.client)
        with httpx.Client(timeout=self.timeout) as client:
            return _drive(exchange, client)


def _drive(exchange: Exchange[T], client: httpx.Client) -> T:
    reply: httpx.Response | None = None
    while True:
        try:
            step = exchange.send(reply)
        except StopIteration as done:
            result: T = done.value
            return result
        if isinstance(step, Call):
            try:
                reply = client.request(step.method, step.url, headers=dict(step.headers), json=step.json)
            except httpx.TransportError as exc:
                raise _wire.connection_error(step, exc) from exc
        else:
            reply = None
            time.sleep(step)


class Execution(_wire.Handle):
    """A submitted execution. ``Execution(id, api_url=..., api_key=...)`` attaches to an existing one."""

    def __init__(self, id: str, *, api_url: str = DEFAULT_API_URL, api_key: str | None = None,
                 timeout: float = 30.0, client: httpx.Client | None = None, accepted: Accepted | None = None):
        super().__init__(id, Endpoint(api_url, api_key), accepted)
        self._api = _Api(timeout, client)

    def status(self) -> ExecutionStatus:
        return self._api.run(_wire.status(self._endpoint, self.id))

    def wait(self, timeout: float = 600, poll_interval: float = 1.0, on_progress: ProgressHandler | None = None,
             *, max_poll_interval: float = 10.0) -> ExecutionStatus:
        """Poll until the execution ends; return the final status when it completed.

        Raises :class:`ExecutionFailed` (failed or cancelled) or :class:`ExecutionTimeout`.
        ``on_progress(status)`` is called whenever status, progress or the current job changes.
        """
        return self._api.run(_wire.wait(self._endpoint, self.id, timeout=timeout, poll_interval=poll_interval,
                                        max_poll_interval=max_poll_interval, on_progress=on_progress))

    def cancel(self) -> ActionResult:
        return self._api.run(_wire.action(self._endpoint, self.id, "cancel"))

    def retry(self) -> ActionResult:
        """Re-run what failed, reusing what succeeded; then :meth:`wait` again."""
        return self._api.run(_wire.action(self._endpoint, self.id, "retry"))


def execute(plan: Pipeline | Node | Mapping[str, Any], *, api_url: str = DEFAULT_API_URL, api_key: str | None = None,
            base_execution_id: str | None = None, webhook_url: str | None = None, webhook_secret: str | None = None,
            idempotency_key: str | None = None, provider_api_keys: Mapping[str, str] | None = None,
            timeout: float = 30.0, client: httpx.Client | None = None) -> Execution:
    """Submit ``plan`` (a Pipeline, a Node or a request body) and return its :class:`Execution`."""
    body = _wire.request_body(plan, base_execution_id=base_execution_id, webhook_url=webhook_url,
                              webhook_secret=webhook_secret, provider_api_keys=provider_api_keys)
    accepted = _Api(timeout, client).run(_wire.submit(Endpoint(api_url, api_key), body, idempotency_key))
    return Execution(accepted.id, api_url=api_url, api_key=api_key, timeout=timeout, client=client,
                     accepted=accepted)
