"""The vidassets Python SDK: compose a plan, execute it, follow it, verify its webhooks.

    from vidassets_sdk import compose, generate_video, media, merge

    cut = merge(generate_video(prompt="sunrise", duration=3), media("https://example.com/b.mp4"))
    final = cut.reframe("9:16").add_subtitles(text="Good morning")
    execution = compose(final).execute(api_url="http://localhost:3000/api/execute", api_key="...")
    print(execution.wait(on_progress=lambda s: print(s.progress)).url)
"""

from vidassets_sdk._wire import DEFAULT_API_URL
from vidassets_sdk.aio import AsyncExecution, execute_async
from vidassets_sdk.client import Execution, execute
from vidassets_sdk.compose import (
    Node,
    Pipeline,
    add_subtitles,
    compose,
    generate_video,
    lip_sync,
    media,
    merge,
    ref,
    reframe,
)
from vidassets_sdk.errors import ApiConnectionError, ApiError, ExecutionFailed, ExecutionTimeout, VidassetsError
from vidassets_sdk.models import Accepted, ActionResult, ExecutionResult, ExecutionStatus, JobStatus
from vidassets_sdk.webhooks import WebhookVerificationError, verify_webhook

__all__ = [
    "DEFAULT_API_URL", "Accepted", "ActionResult", "ApiConnectionError", "ApiError", "AsyncExecution", "Execution",
    "ExecutionFailed", "ExecutionResult", "ExecutionStatus", "ExecutionTimeout", "JobStatus", "Node", "Pipeline",
    "VidassetsError", "WebhookVerificationError", "add_subtitles", "compose", "execute", "execute_async",
    "generate_video", "lip_sync", "media", "merge", "ref", "reframe", "verify_webhook",
]
