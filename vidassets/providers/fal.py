"""fal queue API: video generation, lip sync and transcription.

``POST {base}/{model_id}`` queues a request and answers ``{request_id, status_url, response_url,
cancel_url}``. The status URL reports ``IN_QUEUE`` (with ``queue_position``), ``IN_PROGRESS``
(with logs, when asked for) and ``COMPLETED``; the result is then read from the response URL,
which answers 4xx when the model rejected the input (``content_policy_violation`` included).
Retries, polling, cancellation and downloads live in :mod:`vidassets.providers.http`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from pydantic import SecretStr

from vidassets.providers.base import (
    GenerateRequest,
    LipSyncRequest,
    ProgressCallback,
    ProviderError,
    ProviderResult,
    PublishFn,
    Word,
    words_from_output,
)
from vidassets.providers.http import (
    HttpPolicy,
    HttpProvider,
    PollState,
    Timing,
    VendorSession,
    first_url,
    inline_or_publish,
    progress_from_logs,
)

DEFAULT_BASE_URL = "https://queue.fal.run"


@dataclass(frozen=True)
class FalModels:
    """Models used when a plan names none. Any fal endpoint with matching inputs works."""

    video: str = "fal-ai/minimax/video-01"
    lip_sync: str = "fal-ai/sync-lipsync"
    transcription: str = "fal-ai/whisper"


@dataclass(frozen=True)
class QueuedRequest:
    id: str
    status_url: str
    response_url: str
    cancel_url: str


def request_urls(base_url: str, model: str, request_id: str) -> tuple[str, str, str]:
    """Status, response and cancel URLs, built the way fal builds them: below the app ID, which
    is the model path's first two segments (``fal-ai/kling-video/v2/...`` -> ``fal-ai/kling-video``)."""
    app = "/".join(model.strip("/").split("/")[:2])
    root = f"{base_url}/{app}/requests/{request_id}"
    return f"{root}/status", root, f"{root}/cancel"


class FalProvider(HttpProvider):
    name = "fal"
    auth_scheme = "Key"
    key_setting = "VIDASSETS_FAL_API_KEY"

    def __init__(self, *, base_url: str = DEFAULT_BASE_URL, api_key: str | SecretStr | None = None, policy: HttpPolicy | None = None,
                 timing: Timing | None = None, models: FalModels = FalModels()):
        super().__init__(base_url=base_url, api_key=api_key, policy=policy, timing=timing)
        self.models = models

    # -- the three job kinds --------------------------------------------------------------

    def generate(self, request: GenerateRequest, *, out: Path, api_key: str | None,
                 on_progress: ProgressCallback, cancel: threading.Event) -> ProviderResult:
        model = request.model or self.models.video
        payload = request.model_input(image_key="image_url", end_image_key="end_image_url")
        return self._media_job(model, payload, out=out, api_key=api_key, on_progress=on_progress, cancel=cancel)

    def lip_sync(self, request: LipSyncRequest, *, video: Path, audio: Path, out: Path, api_key: str | None,
                 on_progress: ProgressCallback, cancel: threading.Event,
                 publish: PublishFn | None) -> ProviderResult:
        model = request.model or self.models.lip_sync
        payload = {"video_url": inline_or_publish(video, publish), "audio_url": inline_or_publish(audio, publish),
                   **dict(request.extra)}
        return self._media_job(model, payload, out=out, api_key=api_key, on_progress=on_progress, cancel=cancel)

    def transcribe(self, *, media: Path, language: str | None, model: str | None, api_key: str | None,
                   cancel: threading.Event, publish: PublishFn | None) -> list[Word]:
        chosen = model or self.models.transcription
        payload: dict[str, Any] = {"audio_url": inline_or_publish(media, publish), "task": "transcribe",
                                   "chunk_level": "word"}
        if language:
            payload["language"] = language
        with self.session(api_key, cancel) as session:
            _, output = self._run(session, chosen, payload, None)
        return words_from_output(output)

    # -- the queue ------------------------------------------------------------------------

    def _media_job(self, model: str, payload: Mapping[str, Any], *, out: Path, api_key: str | None,
                   on_progress: ProgressCallback, cancel: threading.Event) -> ProviderResult:
        with self.session(api_key, cancel) as session:
            request_id, output = self._run(session, model, payload, on_progress)
            url = first_url(output)
            if url is None:
                raise ProviderError(f"fal request {request_id} returned no media URL", code="provider_failed")
            size = session.download(url, out)
        on_progress(1.0)
        return ProviderResult(path=out, provider=self.name, model=model,
                              details={"requestId": request_id, "bytes": size})

    def _run(self, session: VendorSession, model: str, payload: Mapping[str, Any],
             on_progress: ProgressCallback | None) -> tuple[str, Any]:
        def submit() -> QueuedRequest:
            body = session.request("POST", f"{self.base_url}/{model.strip('/')}", json=dict(payload))
            request_id = str(body.get("request_id") or "")
            if not request_id:
                raise session.error("fal did not return a request_id", code="provider_failed")
            status, response, cancel_url = request_urls(self.base_url, model, request_id)
            return QueuedRequest(request_id, session.url(body.get("status_url"), status),
                                 session.url(body.get("response_url"), response),
                                 session.url(body.get("cancel_url"), cancel_url))

        def state(queued: QueuedRequest) -> PollState:
            body = session.request("GET", queued.status_url, params={"logs": "1"})
            status = body.get("status")
            if status == "COMPLETED":
                if body.get("error"):
                    return PollState(failure=session.job_failed(body.get("error")))
                return PollState(done=True)
            if status == "IN_PROGRESS":
                logs = body.get("logs") if isinstance(body.get("logs"), list) else []
                text = "\n".join(str(entry.get("message", "")) for entry in logs if isinstance(entry, Mapping))
                return PollState(progress=progress_from_logs(text))
            return PollState(progress=0.0 if status == "IN_QUEUE" else None)

        def cancel_remote(queued: QueuedRequest) -> None:
            session.fire("PUT", queued.cancel_url)

        queued, _ = session.run_job(submit, state, cancel_remote, on_progress)
        return queued.id, session.request("GET", queued.response_url)
