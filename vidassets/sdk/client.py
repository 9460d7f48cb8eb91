"""The synchronous client: submit a plan, follow its execution, cancel or retry it."""

from __future__ import annotations

import time
from typing import Any, Mapping

import httpx

from vidassets.sdk._wire import (
    DEFAULT_API_URL,
    Call,
    Endpoint,
    Poller,
    ProgressHandler,
    parse,
    request_body,
    retry_delay,
)
from vidassets.sdk.compose import Node, Pipeline
from vidassets.sdk.errors import ApiConnectionError
from vidassets.sdk.models import Accepted, ActionResult, ExecutionStatus


class _Api:
    """Sends calls with one retry policy; uses the caller's ``httpx.Client`` when given one."""

    def __init__(self, endpoint: Endpoint, *, timeout: float, client: httpx.Client | None):
        self.endpoint = endpoint
        self.timeout = timeout
        self.client = client

    def send(self, call: Call) -> Any:
        if self.client is not None:
            return self._send(self.client, call)
        with httpx.Client(timeout=self.timeout) as client:
            return self._send(client, call)

    def _send(self, client: httpx.Client, call: Call) -> Any:
        attempt = 0
        while True:
            try:
                response = client.request(call.method, call.url, headers=dict(call.headers), json=call.json)
            except httpx.TransportError as exc:
                raise ApiConnectionError(f"{call.method} {call.url}: {type(exc).__name__}: {exc}") from exc
            delay = retry_delay(response, attempt)
            if delay is None:
                return parse(response)
            attempt += 1
            time.sleep(delay)


class Execution:
    """A submitted execution. ``Execution(id, api_url=..., api_key=...)`` attaches to an existing one."""

    def __init__(self, id: str, *, api_url: str = DEFAULT_API_URL, api_key: str | None = None,
                 timeout: float = 30.0, client: httpx.Client | None = None, accepted: Accepted | None = None):
        self.id = id
        self.accepted = accepted
        self._api = _Api(Endpoint(api_url, api_key), timeout=timeout, client=client)

    def __repr__(self) -> str:
        return f"Execution({self.id!r}, api_url={self._api.endpoint.api_url!r})"

    def status(self) -> ExecutionStatus:
        return ExecutionStatus.from_json(self._api.send(self._api.endpoint.status(self.id)))

    def wait(self, timeout: float = 600, poll_interval: float = 1.0, on_progress: ProgressHandler | None = None,
             *, max_poll_interval: float = 10.0) -> ExecutionStatus:
        """Poll until the execution ends; return the final status when it completed.

        Raises :class:`ExecutionFailed` (failed or cancelled) or :class:`ExecutionTimeout`.
        ``on_progress(status)`` is called whenever status, progress or the current job changes.
        """
        poller = Poller(self.id, timeout=timeout, poll_interval=poll_interval, max_poll_interval=max_poll_interval,
                        on_progress=on_progress)
        while True:
            final = poller.observe(self.status())
            if final is not None:
                return final
            time.sleep(poller.next_delay())

    def cancel(self) -> ActionResult:
        return ActionResult.from_json(self._api.send(self._api.endpoint.action(self.id, "cancel")))

    def retry(self) -> ActionResult:
        """Re-run what failed, reusing what succeeded; then :meth:`wait` again."""
        return ActionResult.from_json(self._api.send(self._api.endpoint.action(self.id, "retry")))


def execute(plan: Pipeline | Node | Mapping[str, Any], *, api_url: str = DEFAULT_API_URL, api_key: str | None = None,
            base_execution_id: str | None = None, webhook_url: str | None = None, webhook_secret: str | None = None,
            idempotency_key: str | None = None, provider_api_keys: Mapping[str, str] | None = None,
            timeout: float = 30.0, client: httpx.Client | None = None) -> Execution:
    """Submit ``plan`` (a Pipeline, a Node or a request body) and return its :class:`Execution`."""
    body = request_body(plan, base_execution_id=base_execution_id, webhook_url=webhook_url,
                        webhook_secret=webhook_secret, provider_api_keys=provider_api_keys)
    api = _Api(Endpoint(api_url, api_key), timeout=timeout, client=client)
    accepted = Accepted.from_json(api.send(api.endpoint.submit(body, idempotency_key)))
    return Execution(accepted.id, api_url=api_url, api_key=api_key, timeout=timeout, client=client,
                     accepted=accepted)
