"""The SDK's clients submit what the server's normaliser accepts, and surface its 422s intact."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.sdk.conftest import API_KEY, FakeApi
from vidassets.plan import Submission
from vidassets_sdk import ApiError, compose, execute, execute_async, generate_video, merge, ref

CLIP_JOB = {"id": "clip", "params": {"prompt": "x", "modelId": "m"}}
SHAPES: dict[str, Any] = {
    "built": compose(merge(generate_video(prompt="sunrise", duration=3), generate_video(prompt="dusk")).reframe("9:16")),
    "typescript": {"jobs": [{**CLIP_JOB, "type": "generate"}]},
    "documented": {"executionPlan": {"jobs": [{**CLIP_JOB, "operation": "generate"}]}, "options": {}},
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_request_shape_with_the_options_is_accepted(api: FakeApi, shape: str) -> None:
    execution = execute(SHAPES[shape], api_url=api.api_url, api_key=API_KEY, webhook_url="https://hooks.example/x",
                        webhook_secret="s3cret", provider_api_keys={"fal": "k"})
    assert execution.id == "ex_1"
    submission = api.accepted[0]
    assert isinstance(submission, Submission)
    assert submission.webhook is not None and submission.webhook.url == "https://hooks.example/x"
    assert submission.provider_keys == {"fal": "k"}
    assert submission.plan.root_job_ids == (("reframe_1",) if shape == "built" else ("clip",))


def test_the_async_client_submits_the_same(api: FakeApi) -> None:
    async def submit() -> str:
        return (await execute_async(generate_video(prompt="x"), api_url=api.api_url, api_key=API_KEY)).id

    assert asyncio.run(submit()) == "ex_1" and len(api.accepted) == 1


def test_the_servers_validation_errors_reach_the_caller(api: FakeApi) -> None:
    dangling = {"executionPlan": {"jobs": [{"id": "a", "operation": "merge", "dependsOn": ["b"], "params": {}}]}}
    with pytest.raises(ApiError) as info:
        execute(dangling, api_url=api.api_url, api_key=API_KEY)
    assert (info.value.status, info.value.code) == (422, "invalid_plan")
    assert info.value.details == [{"field": "executionPlan.jobs[0].dependsOn[0]", "message": "unknown job 'b'",
                                   "jobId": "a"}]

    # A ref to a base job needs a base execution: the SDK cannot know, the server says so.
    with pytest.raises(ApiError) as info:
        execute(compose(ref("cut").reframe("1:1")), api_url=api.api_url, api_key=API_KEY)
    assert info.value.status == 422 and "cut" in str(info.value.details)
