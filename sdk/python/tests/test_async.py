"""The asyncio twin, against the same fake API."""

from __future__ import annotations

import asyncio

import pytest
from fake_api import API_KEY, FakeApi

from vidassets_sdk import (
    ApiError,
    AsyncExecution,
    ExecutionFailed,
    ExecutionStatus,
    ExecutionTimeout,
    compose,
    execute_async,
    generate_video,
)


def test_execute_async_and_wait(api: FakeApi) -> None:
    seen: list[ExecutionStatus] = []

    async def scenario() -> ExecutionStatus:
        execution = await compose(generate_video(prompt="sunrise")).execute_async(api_url=api.api_url, api_key=API_KEY)
        assert isinstance(execution, AsyncExecution) and execution.id == "ex_ok"
        return await execution.wait(timeout=10, poll_interval=0.01, on_progress=seen.append)

    final = asyncio.run(scenario())
    assert final.status == "completed" and final.url is not None
    assert [s.progress for s in seen] == [0, 50, 100]
    assert all(r.headers["authorization"] == f"Bearer {API_KEY}" for r in api.requests)


def test_async_failure_timeout_and_actions(api: FakeApi) -> None:
    async def scenario() -> None:
        doomed = await execute_async(generate_video(prompt="doomed"), api_url=api.api_url, api_key=API_KEY)
        with pytest.raises(ExecutionFailed) as failed:
            await doomed.wait(timeout=10, poll_interval=0.01)
        assert failed.value.code == "content_policy"

        slow = await execute_async(generate_video(prompt="forever"), api_url=api.api_url, api_key=API_KEY)
        with pytest.raises(ExecutionTimeout):
            await slow.wait(timeout=0.2, poll_interval=0.02)
        assert (await slow.cancel()).status == "cancelled"
        assert (await slow.retry()).status == "pending"

        with pytest.raises(ApiError) as missing:
            await AsyncExecution("nope", api_url=api.api_url, api_key=API_KEY).status()
        assert missing.value.code == "not_found"

    asyncio.run(scenario())
