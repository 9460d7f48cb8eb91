"""The asyncio twin of :mod:`vidassets.sdk.client`: same calls, same semantics, ``await``-able."""

from __future__ import annotations

import asyncio
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


class _AsyncApi:
    def __init__(self, endpoint: Endpoint, *, timeout: float, client: httpx.AsyncClient | None):
        self.endpoint = endpoint
        self.timeout = timeout
        self.client = client

    async def send(self, call: Call) -> Any:
        if self.client is not None:
            return await self._send(self.client, call)
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            return await self._send(client, call)

    async def _send(self, client: httpx.AsyncClient, call: Call) -> Any:
        attempt = 0
        while True:
            try:
                response = await client.request(call.method, call.url, headers=dict(call.headers), json=call.json)
            except httpx.TransportError as exc:
                raise ApiConnectionError(f"{call.method} {call.url}: {type(exc).__name__}: {exc}") from exc
            delay = retry_delay(response, attempt)
            if delay is None:
                return parse(response)
            attempt += 1
            await asyncio.sleep(delay)


class AsyncExecution:
    """A submitted execution, followed with asyncio."""

    def __init__(self, id: str, *, api_url: str = DEFAULT_API_URL, api_key: str | None = None,
                 timeout: float = 30.0, client: httpx.AsyncClient | None = None, accepted: Accepted | None = None):
        self.id = id
        self.accepted = accepted
        self._api = _AsyncApi(Endpoint(api_url, api_key), timeout=timeout, client=client)

    def __repr__(self) -> str:
        return f"AsyncExecution({self.id!r}, api_url={self._api.endpoint.api_url!r})"

    async def status(self) -> ExecutionStatus:
        return ExecutionStatus.from_json(await self._api.send(self._api.endpoint.status(self.id)))

    async def wait(self, timeout: float = 600, poll_interval: float = 1.0,
                   on_progress: ProgressHandler | None = None, *, max_poll_interval: float = 10.0) -> ExecutionStatus:
        """As :meth:`Execution.wait`: final status on completed, typed errors otherwise."""
        poller = Poller(self.id, timeout=timeout, poll_interval=poll_interval, max_poll_interval=max_poll_interval,
                        on_progress=on_progress)
        while True:
            final = poller.observe(await self.status())
            if final is not None:
                return final
            await asyncio.sleep(poller.next_delay())

    async def cancel(self) -> ActionResult:
        return ActionResult.from_json(await self._api.send(self._api.endpoint.action(self.id, "cancel")))

    async def retry(self) -> ActionResult:
        return ActionResult.from_json(await self._api.send(self._api.endpoint.action(self.id, "retry")))


async def execute_async(plan: Pipeline | Node | Mapping[str, Any], *, api_url: str = DEFAULT_API_URL, api_key: str | None = None,
                        base_execution_id: str | None = None, webhook_url: str | None = None,
                        webhook_secret: str | None = None, idempotency_key: str | None = None,
                        provider_api_keys: Mapping[str, str] | None = None, timeout: float = 30.0,
                        client: httpx.AsyncClient | None = None) -> AsyncExecution:
    """Submit ``plan`` and return its :class:`AsyncExecution`."""
    body = request_body(plan, base_execution_id=base_execution_id, webhook_url=webhook_url,
                        webhook_secret=webhook_secret, provider_api_keys=provider_api_keys)
    api = _AsyncApi(Endpoint(api_url, api_key), timeout=timeout, client=client)
    accepted = Accepted.from_json(await api.send(api.endpoint.submit(body, idempotency_key)))
    return AsyncExecution(accepted.id, api_url=api_url, api_key=api_key, timeout=timeout, client=client,
                          accepted=accepted)
