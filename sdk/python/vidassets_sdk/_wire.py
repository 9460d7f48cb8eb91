"""What the sync and async clients share: requests, error parsing, Retry-After and the wait loop.

Only I/O differs between :mod:`vidassets_sdk.client` and :mod:`vidassets_sdk.aio`; everything
that decides something lives here, once. An operation is an :data:`Exchange`: a generator that
yields a :class:`Call` to send (the client sends back the response) or a delay in seconds to
sleep (the client sends back None), and returns the operation's result. The clients only drive it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from vidassets_sdk.compose import Node, Pipeline, compose
from vidassets_sdk.errors import ApiConnectionError, ApiError, ExecutionFailed, ExecutionTimeout
from vidassets_sdk.models import Accepted, ActionResult, ExecutionStatus

DEFAULT_API_URL = "http://localhost:3000/api/execute"
USER_AGENT = "vidassets-sdk-python/0.1"
MAX_RETRIES = 3
MAX_RETRY_AFTER_S = 60.0
RETRYABLE_STATUSES = frozenset({429, 503})
POLL_GROWTH = 1.5

ProgressHandler = Callable[[ExecutionStatus], None]
T = TypeVar("T")


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    headers: Mapping[str, str]
    json: Any = None


Exchange = Generator[Call | float, Any, T]


@dataclass(frozen=True)
class Endpoint:
    """The API's base URL (``.../api/execute``) and the caller's key (sent as a Bearer token)."""

    api_url: str = DEFAULT_API_URL
    api_key: str | None = field(default=None, repr=False)

    def _headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return {**headers, **(extra or {})}

    @property
    def base(self) -> str:
        return self.api_url.rstrip("/")

    def submit(self, body: Mapping[str, Any], idempotency_key: str | None) -> Call:
        extra = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return Call("POST", self.base, self._headers(extra), body)

    def status(self, execution_id: str) -> Call:
        return Call("GET", f"{self.base}/{execution_id}/status", self._headers())

    def action(self, execution_id: str, action: str) -> Call:
        return Call("POST", f"{self.base}/{execution_id}/{action}", self._headers())


def request_body(plan: Pipeline | Node | Mapping[str, Any], *, base_execution_id: str | None = None,
                 webhook_url: str | None = None, webhook_secret: str | None = None,
                 provider_api_keys: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The JSON to post: a pipeline or node is rendered; a ready-made body gets the options merged."""
    if isinstance(plan, (Pipeline, Node)):
        pipeline = plan if isinstance(plan, Pipeline) else compose(plan)
        return pipeline.to_plan(base_execution_id=base_execution_id, webhook_url=webhook_url,
                                webhook_secret=webhook_secret, provider_api_keys=provider_api_keys)
    if not isinstance(plan, Mapping):
        raise TypeError(f"expected a Pipeline, a Node or a plan dict, got {type(plan).__name__}")
    body = dict(plan)
    if "executionPlan" in body:
        options = {"baseExecutionId": base_execution_id, "webhookUrl": webhook_url, "webhookSecret": webhook_secret}
        body["options"] = {**dict(body.get("options") or {}), **{k: v for k, v in options.items() if v is not None}}
    else:
        if base_execution_id:
            body["baseExecutionId"] = base_execution_id
        if webhook_url:
            body["webhook"] = {"url": webhook_url, **({"secret": webhook_secret} if webhook_secret else {})}
    if provider_api_keys:
        body["providerApiKeys"] = {**dict(body.get("providerApiKeys") or {}), **provider_api_keys}
    return body


def retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER_S)
    except ValueError:
        return None


def retry_delay(response: httpx.Response, attempt: int) -> float | None:
    """Seconds to wait before resending, or None to give up: 429 and 503 are retried a few times,
    honouring ``Retry-After`` (the server has not processed the request)."""
    if response.status_code not in RETRYABLE_STATUSES or attempt >= MAX_RETRIES:
        return None
    after = retry_after(response)
    return after if after is not None else min(2.0 ** attempt, MAX_RETRY_AFTER_S)


def parse(response: httpx.Response) -> Any:
    """The JSON body of a success, or :class:`ApiError` built from the API's error body."""
    if response.status_code < 400:
        try:
            return response.json() if response.content else {}
        except ValueError:
            raise ApiError(response.status_code, "invalid_response", "the API answered with non-JSON content") from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, Mapping):
        detail = body.get("detail")
        message = str(body.get("error") or (detail if isinstance(detail, str) else "") or response.reason_phrase)
        code = str(body.get("code") or f"http_{response.status_code}")
        details = body.get("details", detail if not isinstance(detail, str) else None)
    else:
        message = (response.text or response.reason_phrase or "").strip()[:500]
        code, details = f"http_{response.status_code}", None
    raise ApiError(response.status_code, code, message, details, retry_after(response))


class Poller:
    """The decisions of ``wait()``: when to look again, when to report, when to stop.

    The interval starts at ``poll_interval``, grows 1.5x while nothing changes (up to
    ``max_poll_interval``), and drops back when something does, so a busy execution is followed
    closely and an idle one is not hammered.
    """

    def __init__(self, execution_id: str, *, timeout: float, poll_interval: float, max_poll_interval: float,
                 on_progress: ProgressHandler | None, clock: Callable[[], float] = time.monotonic):
        self.execution_id = execution_id
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.max_poll_interval = max(max_poll_interval, poll_interval)
        self.on_progress = on_progress
        self.clock = clock
        self.deadline = clock() + timeout
        self.interval = poll_interval
        self.last: ExecutionStatus | None = None

    def observe(self, status: ExecutionStatus) -> ExecutionStatus | None:
        """Return the status when completed, raise when failed/cancelled, else None (keep waiting)."""
        changed = self.last is None or status.fingerprint != self.last.fingerprint
        self.last = status
        if changed:
            self.interval = self.poll_interval
            if self.on_progress is not None:
                self.on_progress(status)
        else:
            self.interval = min(self.interval * POLL_GROWTH, self.max_poll_interval)
        if status.status == "completed":
            return status
        if status.status in ("failed", "cancelled"):
            error = status.error or f"execution {status.status}"
            raise ExecutionFailed(error, status.error_code or status.status, status)
        return None

    def next_delay(self) -> float:
        remaining = self.deadline - self.clock()
        if remaining <= 0:
            raise ExecutionTimeout(self.execution_id, self.timeout, self.last)
        return min(self.interval, remaining)


class Handle:
    """What :class:`Execution` and :class:`AsyncExecution` share: the ID, the 202 body, the endpoint."""

    def __init__(self, id: str, endpoint: Endpoint, accepted: Accepted | None):
        self.id = id
        self.accepted = accepted
        self._endpoint = endpoint

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r}, api_url={self._endpoint.api_url!r})"


def send(call: Call) -> Exchange[Any]:
    """Send ``call`` (again after :func:`retry_delay` while it says so); return the parsed body."""
    attempt = 0
    while True:
        response = yield call
        delay = retry_delay(response, attempt)
        if delay is None:
            return parse(response)
        attempt += 1
        yield delay


def connection_error(call: Call, exc: Exception) -> ApiConnectionError:
    return ApiConnectionError(f"{call.method} {call.url}: {type(exc).__name__}: {exc}")


def submit(endpoint: Endpoint, body: Mapping[str, Any], idempotency_key: str | None) -> Exchange[Accepted]:
    return Accepted.from_json((yield from send(endpoint.submit(body, idempotency_key))))


def status(endpoint: Endpoint, execution_id: str) -> Exchange[ExecutionStatus]:
    return ExecutionStatus.from_json((yield from send(endpoint.status(execution_id))))


def action(endpoint: Endpoint, execution_id: str, name: str) -> Exchange[ActionResult]:
    return ActionResult.from_json((yield from send(endpoint.action(execution_id, name))))


def wait(endpoint: Endpoint, execution_id: str, *, timeout: float, poll_interval: float, max_poll_interval: float,
         on_progress: ProgressHandler | None) -> Exchange[ExecutionStatus]:
    """Poll until the execution ends: its final status when completed, typed errors otherwise."""
    poller = Poller(execution_id, timeout=timeout, poll_interval=poll_interval, max_poll_interval=max_poll_interval,
                    on_progress=on_progress)
    while True:
        final = poller.observe((yield from status(endpoint, execution_id)))
        if final is not None:
            return final
        yield poller.next_delay()
