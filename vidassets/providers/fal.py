"""fal queue API: video generation, lip sync, transcription and still images.

``POST {base}/{model_id}`` queues a request and answers ``{request_id, status_url, response_url,
cancel_url}``. The status URL reports ``IN_QUEUE`` (with ``queue_position``), ``IN_PROGRESS``
(with logs, when asked for) and ``COMPLETED``; the result is then read from the response URL,
which answers 4xx when the model rejected the input (``content_policy_violation`` included).
The completed status carries ``metrics.inference_time`` (usage).

Every submit carries ``X-Fal-Request-Timeout`` (a deadline for the request to *start*; fal drops
it unbilled after that). fal offers no way to find a queued request whose submit answer was lost,
so such a job fails with ``vendor_create_unconfirmed`` instead of being submitted again.
Retries, polling and downloads live in :mod:`vidassets.providers.http`, the once-only submit in
:mod:`vidassets.providers.ledger`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from vidassets.providers.base import (
    GenerateRequest,
    ImageRequest,
    LipSyncRequest,
    ProgressCallback,
    ProviderError,
    ProviderResult,
    PublishFn,
    Word,
    words_from_output,
)
from vidassets.providers.catalogue.build import image_request, media_input, vendor_request
from vidassets.providers.http import (
    CreateUnanswered,
    HttpPolicy,
    HttpProvider,
    PollState,
    Timing,
    VendorSession,
    first_url,
    progress_from_logs,
)
from vidassets.providers.ledger import Ledger, VendorCall, VendorRun, run_once
from vidassets.providers.outputs import fetch_output
from vidassets.providers.uploads import FalStorage, InputResolver, LocalInput
from vidassets.storage.vendor_jobs import VendorRef

DEFAULT_BASE_URL = "https://queue.fal.run"
STORAGE_URL = "https://rest.fal.ai"  # uploads (uploads.FalStorage)


@dataclass(frozen=True)
class FalModels:
    """Models used when a plan names none. Any fal endpoint with matching inputs works."""

    video: str = "fal-ai/minimax/video-01"
    lip_sync: str = "fal-ai/sync-lipsync"
    transcription: str = "fal-ai/whisper"
    image: str = "fal-ai/nano-banana"  # with input images: fal-ai/nano-banana/edit


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


def webhook_params(session: VendorSession) -> dict[str, str] | None:
    """``fal_webhook``: where fal posts the result when the ledger gave this attempt a webhook URL
    (fal signs deliveries with its own published keys, whoever's key made the request)."""
    return {"fal_webhook": session.webhook_url} if session.webhook_url else None


class FalProvider(HttpProvider):
    name = "fal"
    auth_scheme = "Key"
    key_setting = "VIDASSETS_FAL_API_KEY"
    cancel_method = "PUT"

    def __init__(self, *, base_url: str = DEFAULT_BASE_URL, api_key: str | SecretStr | None = None,
                 policy: HttpPolicy | None = None, timing: Timing | None = None, models: FalModels = FalModels()):
        super().__init__(base_url=base_url, api_key=api_key, policy=policy, timing=timing)
        self.models = models
        self.inputs = InputResolver(FalStorage(STORAGE_URL))  # files reach fal (uploads.py)

    # -- the three job kinds --------------------------------------------------------------

    def generate(self, request: GenerateRequest, *, out: Path, api_key: str | None,
                 on_progress: ProgressCallback, cancel: threading.Event, ledger: Ledger | None = None) -> ProviderResult:
        # A catalogued model's endpoint follows the plan: image-to-video when a start image is given.
        model, payload = vendor_request(
            self.name, request.model or self.models.video, "generate", request.values(), request.extra, request.input,
            lambda: request.model_input(image_key="image_url", end_image_key="end_image_url"))
        return self._media_job("generate", model, payload, out=out, api_key=api_key, on_progress=on_progress,
                               cancel=cancel, ledger=ledger)

    def lip_sync(self, request: LipSyncRequest, *, video: Path, audio: Path, out: Path, api_key: str | None,
                 on_progress: ProgressCallback, cancel: threading.Event,
                 publish: PublishFn | None, ledger: Ledger | None = None) -> ProviderResult:
        model = request.model or self.models.lip_sync
        files = {"video_url": LocalInput(video, publish), "audio_url": LocalInput(audio, publish)}
        payload = media_input(self.name, model, "lip_sync", files, request.values(), request.extra, request.input)
        return self._media_job("lip_sync", model, payload, out=out, api_key=api_key, on_progress=on_progress,
                               cancel=cancel, ledger=ledger)

    def transcribe(self, *, media: Path, language: str | None, model: str | None, api_key: str | None,
                   cancel: threading.Event, publish: PublishFn | None, ledger: Ledger | None = None,
                   options: Mapping[str, Any] | None = None) -> list[Word]:
        """Timed words (word-level chunks); ``options`` are the model's own inputs (plan ``input``)."""
        chosen = model or self.models.transcription
        generic: dict[str, Any] = {"task": "transcribe", "chunk_level": "word", "language": language}
        payload = media_input(self.name, chosen, "transcribe", {"audio_url": LocalInput(media, publish)},
                              {"language": language}, {k: v for k, v in generic.items() if v}, options or {})
        with self.session(api_key, cancel) as session:
            run = self._run(session, "transcribe", chosen, payload, None, ledger)
        return words_from_output(run.output)

    def generate_image(self, request: ImageRequest, *, out_dir: Path, api_key: str | None,
                       on_progress: ProgressCallback, cancel: threading.Event, publish: PublishFn | None,
                       ledger: Ledger | None = None) -> ProviderResult:
        """A still from Nano Banana (its edit endpoint when input images are given); local input
        images reach fal like lip-sync media. The output is ``{"images": [{"url", "content_type"}]}``."""
        images = [LocalInput(i, publish) if isinstance(i, Path) else i for i in request.images]
        model, payload = image_request(self.name, request.model or self.models.image, request.values(),
                                       request.extra, request.input, images,
                                       lambda: request.model_input(images, image_key="image_urls", jpeg="jpeg"))
        with self.session(api_key, cancel) as session:
            run = self._run(session, "generate_image", model, payload, on_progress, ledger)
            path, size, found = fetch_output(run, session, job=f"request {run.handle.id}", out_dir=out_dir,
                                             stem="image", expect="image")
        on_progress(1.0)
        return ProviderResult(path=path, provider=self.name, model=model,
                              details={"requestId": run.handle.id, "bytes": size, "contentType": found.mime,
                                       **run.billing})

    # -- the queue ------------------------------------------------------------------------

    def _media_job(self, step: str, model: str, payload: Mapping[str, Any], *, out: Path, api_key: str | None,
                   on_progress: ProgressCallback, cancel: threading.Event, ledger: Ledger | None) -> ProviderResult:
        with self.session(api_key, cancel) as session:
            run = self._run(session, step, model, payload, on_progress, ledger)
            url = first_url(run.output)
            if url is None:
                raise run.unusable(ProviderError(f"fal request {run.handle.id} returned no media URL",
                                                 code="provider_failed"))
            size = run.download(session, url, out)
        on_progress(1.0)
        return ProviderResult(path=out, provider=self.name, model=model,
                              details={"requestId": run.handle.id, "bytes": size, **run.billing})

    def _run(self, session: VendorSession, step: str, model: str, payload: Mapping[str, Any],
             on_progress: ProgressCallback | None, ledger: Ledger | None) -> VendorRun[QueuedRequest]:
        headers = {"X-Fal-Request-Timeout": str(max(1, int(self.policy.timeout_s)))}
        payload = self.inputs.resolve(session, payload)  # local files, s3:// and big data: URIs made readable

        def create(before_send: Callable[[], None]) -> QueuedRequest:
            answer = session.create(f"{self.base_url}/{model.strip('/')}", json=dict(payload), headers=headers,
                                    params=webhook_params(session), before_send=before_send)
            if not answer.get("request_id"):
                raise CreateUnanswered("the answer carries no request_id")
            return queued(str(answer["request_id"]), answer)

        def queued(request_id: str, urls: Mapping[str, Any]) -> QueuedRequest:
            status, response, cancel_url = request_urls(self.base_url, model, request_id)
            return QueuedRequest(request_id, session.url(urls.get("status_url"), status),
                                 session.url(urls.get("response_url"), response),
                                 session.url(urls.get("cancel_url"), cancel_url))

        def state(request: QueuedRequest) -> PollState:
            body = session.request("GET", request.status_url, params={"logs": "1"})
            status = str(body.get("status") or "") or None
            if status == "COMPLETED":
                usage = body.get("metrics") if isinstance(body.get("metrics"), Mapping) else None
                if body.get("error"):
                    return PollState(failure=session.job_failed(body.get("error")), vendor_status=status, usage=usage)
                try:
                    result = session.request("GET", request.response_url)
                except ProviderError as exc:
                    if exc.retryable:  # done, but the result did not come: ask again at the next poll
                        return PollState(vendor_status=status, usage=usage)
                    return PollState(failure=exc, vendor_status=status, usage=usage)
                return PollState(done=True, output=result, vendor_status=status, usage=usage)
            if status == "IN_PROGRESS":
                logs = body.get("logs") if isinstance(body.get("logs"), list) else []
                text = "\n".join(str(entry.get("message", "")) for entry in logs if isinstance(entry, Mapping))
                return PollState(progress=progress_from_logs(text), vendor_status=status)
            return PollState(progress=0.0 if status == "IN_QUEUE" else None, vendor_status=status)

        call = VendorCall(
            step=step, model=model, body=dict(payload), create=create,
            ref=lambda q: VendorRef(q.id, q.status_url, q.cancel_url, {"response_url": q.response_url}),
            rebuild=lambda ref: queued(ref.vendor_job_id, {"status_url": ref.get_url, "cancel_url": ref.cancel_url,
                                                           **ref.urls}),
            state=state, cancel=lambda q: session.fire(self.cancel_method, q.cancel_url),
            webhook=True,  # fal signs with its own published keys, whoever's key made the request
        )
        return run_once(session, call, ledger, on_progress)
