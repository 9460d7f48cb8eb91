"""The asyncio twin of :mod:`vidassets_sdk.client`: same calls, same semantics, ``await``-able."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, TypeVar

import httpx

from vidassets_sdk import _wire
from vidassets_sdk._wire import DEFAULT_API_URL, Call, Endpoint, Exchange, ProgressHandler
from vidassets_sdk.compose import Node, Pipeline
from vidassets_sdk.models import Accepted, ActionResult, ExecutionStatus

T = TypeVar("T")


class _AsyncApi:
    def __init__(self, timeout: float, client: httpx.AsyncClient | None):
        self.timeout = timeout
        self.client = client

    async def run(self, exchange: Exchange[T]) -> T:
        if self.client is not None:
            return await _drive(exchange, self.client)
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            return await _drive(exchange, client)


async def _drive(exchange: Exchange[T], client: httpx.AsyncClient) -> T:
    reply: httpx.Response | None = None
    while True:
        try:
            step = exchange.send(reply)
        except StopIteration as done:
            result: T = done.value
            return result
        if isinstance(step, Call):
            try:
                reply = await client.request(step.method, step.url, headers=dict(step.headers), json=step.json)
            except httpx.TransportError as exc:
                raise _wire.connection_error(step, exc) from exc
        else:
            reply = None
            await asyncio.sleep(step)


class AsyncExecution(_wire.Handle):
    """A submitted execution, followed with asyncio."""

    def __init__(self, id: str, *, api_url: str = DEFAULT_API_URL, api_key: str | None = None,
                 timeout: float = 30.0, client: httpx.AsyncClient | None = None, accepted: Accepted | None = None):
        super().__init__(id, Endpoint(api_url, api_key), accepted)
        self._api = _AsyncApi(timeout, client)

    async def status(self) -> ExecutionStatus:
        return await self._api.run(_wire.status(self._endpoint, self.id))

    async def wait(self, timeout: float = 600, poll_interval: float = 1.0,
                   on_progress: ProgressHandler | None = None, *, max_poll_interval: float = 10.0) -> ExecutionStatus:
        """As :meth:`Execution.wait`: final status on completed, typed errors otherwise."""
        return await self._api.run(_wire.wait(self._endpoint, self.id, timeout=timeout, poll_interval=poll_interval,
                                              max_poll_interval=max_poll_interval, on_progress=on_progress))

    async def cancel(self) -> ActionResult:
        return await self._api.run(_wire.action(self._endpoint, self.id, "cancel"))

    async def retry(self) -> ActionResult:
        return await self._api.run(_wire.action(self._endpoint, self.id, "retry"))


async def execute_async(plan: Pipeline | Node | Mapping[str, Any], *, api_url: str = DEFAULT_API_URL,
                        api_key: str | None = None, base_execution_id: str | None = None,
                        webhook_url: str | None = None, webhook_secret: str | None = None,
                        idempotency_key: str | None = None, provider_api_keys: Mapping[str, str] | None = None,
                        timeout: float = 30.0, client: httpx.AsyncClient | None = None) -> AsyncExecution:
    """Submit ``plan`` and return its :class:`AsyncExecution`."""
    body = _wire.request_body(plan, base_execution_id=base_execution_id, webhook_url=webhook_url,
                              webhook_secret=webhook_secret, provider_api_keys=provider_api_keys)
    accepted = await _AsyncApi(timeout, client).run(_wire.submit(Endpoint(api_url, api_key), body, idempotency_key))
    return AsyncExecution(accepted.id, api_url=api_url, api_key=api_key, timeout=timeout, client=client,
                          accepted=accepted)
