"""Google Vertex AI (Veo) long-running predictions: video generation.

``POST {base}/projects/{p}/locations/{l}/publishers/google/models/{model}:predictLongRunning``
answers an operation ``{name}``; ``POST ...:fetchPredictOperation {operationName}`` reports it
until ``done``. The response carries the videos inline (``bytesBase64Encoded``) or, when the
request set ``storageUri``, as ``gs://`` objects this server cannot read without GCS access.
Refusals by the safety filters show up as ``raiMediaFilteredCount`` with no videos.

A create whose answer was lost cannot be found again (operations of publisher models are not
listed), so such a job fails with ``vendor_create_unconfirmed`` instead of being sent again (see
:mod:`vidassets.providers.ledger`).

The key is an OAuth access token (``Authorization: Bearer``). Veo takes images as bytes or
``gs://`` URIs, never as https URLs, so a remote start/end image is fetched here, through the
same SSRF guard as every other user-supplied URL, and sent inline.
"""

from __future__ import annotations

import base64
import mimetypes
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from vidassets.net.fetch import FetchError, fetch_to_file
from vidassets.net.guard import AddressPolicy
from vidassets.providers.base import GenerateRequest, ProgressCallback, ProviderError, ProviderResult
from vidassets.providers.http import (
    CreateUnanswered,
    HttpPolicy,
    HttpProvider,
    PollState,
    Timing,
    VendorSession,
    first_url,
    origin,
)
from vidassets.providers.ledger import Ledger, VendorCall, run_once
from vidassets.storage.vendor_jobs import VendorRef

DEFAULT_MODEL = "veo-2.0-generate-001"
IMAGE_MAX_BYTES = 20 * 1024 * 1024
_GRPC_AUTH = {7, 16}  # PERMISSION_DENIED, UNAUTHENTICATED
_GRPC_TRANSIENT = {4, 8, 13, 14}  # DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, INTERNAL, UNAVAILABLE
_GRPC_INVALID = {3, 5, 9, 11}  # INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION, OUT_OF_RANGE


def default_base_url(location: str) -> str:
    return f"https://{location}-aiplatform.googleapis.com/v1"


@dataclass(frozen=True)
class Operation:
    name: str


class VertexProvider(HttpProvider):
    name = "google-cloud"
    auth_scheme = "Bearer"
    key_setting = "VIDASSETS_GOOGLE_ACCESS_TOKEN"
    cancel_method = "POST"

    def __init__(self, *, project: str | None, location: str = "us-central1", base_url: str | None = None,
                 api_key: str | SecretStr | None = None, policy: HttpPolicy | None = None, timing: Timing | None = None,
                 model: str = DEFAULT_MODEL, image_policy: AddressPolicy | None = None):
        super().__init__(base_url=base_url or default_base_url(location), api_key=api_key, policy=policy,
                         timing=timing)
        self.project = project
        self.location = location
        self.model = model
        self.image_policy = image_policy or AddressPolicy()

    def generate(self, request: GenerateRequest, *, out: Path, api_key: str | None,
                 on_progress: ProgressCallback, cancel: threading.Event, ledger: Ledger | None = None) -> ProviderResult:
        if not self.project:
            raise ProviderError("google-cloud needs a project: set VIDASSETS_VERTEX_PROJECT",
                                code="provider_unavailable")
        model = request.model or self.model
        endpoint = (f"{self.base_url}/projects/{self.project}/locations/{self.location}"
                    f"/publishers/google/models/{model}")
        with self.session(api_key, cancel) as session:
            body = {"instances": [self._instance(request, out.parent)], "parameters": _parameters(request, model)}

            def create(before_send: Callable[[], None]) -> Operation:
                answer = session.create(f"{endpoint}:predictLongRunning", json=body, before_send=before_send)
                if not answer.get("name"):
                    raise CreateUnanswered("the answer carries no operation name")
                return Operation(str(answer["name"]))

            def state(operation: Operation) -> PollState:
                answer = session.request("POST", f"{endpoint}:fetchPredictOperation",
                                         json={"operationName": operation.name}, idempotent=True)
                if not answer.get("done"):
                    return PollState(vendor_status="running")
                if isinstance(answer.get("error"), Mapping):
                    return PollState(failure=_operation_error(session, answer["error"]), vendor_status="error")
                return PollState(done=True, output=answer.get("response") or {}, vendor_status="done")

            call = VendorCall(
                step="generate", model=model, body=body, create=create,
                ref=lambda op: VendorRef(op.name, f"{endpoint}:fetchPredictOperation", self._cancel_url(op.name)),
                rebuild=lambda ref: Operation(ref.vendor_job_id), state=state,
                cancel=lambda op: session.fire(self.cancel_method, self._cancel_url(op.name)),
            )
            run = run_once(session, call, ledger, on_progress)
            try:
                size = self._save(session, run.output, out)
            except ProviderError as exc:
                raise run.unusable(exc) from None
        on_progress(1.0)
        return ProviderResult(path=out, provider=self.name, model=model,
                              details={"operation": run.handle.name.rsplit("/", 1)[-1], "bytes": size})

    def _cancel_url(self, operation: str) -> str:
        return f"{self.base_url}/{operation}:cancel"

    # -- request --------------------------------------------------------------------------

    def _instance(self, request: GenerateRequest, scratch: Path) -> dict[str, Any]:
        instance: dict[str, Any] = {}
        if request.prompt:
            instance["prompt"] = request.prompt
        if request.start_image:
            instance["image"] = self._image(request.start_image, scratch)
        if request.end_image:
            instance["lastFrame"] = self._image(request.end_image, scratch)
        return instance

    def _image(self, url: str, scratch: Path) -> dict[str, str]:
        """Veo's image field: ``gs://`` passes through; ``data:`` and http(s) images go inline."""
        mime = mimetypes.guess_type(urlsplit(url).path)[0] or "image/png"
        if url.startswith("gs://"):
            return {"gcsUri": url, "mimeType": mime}
        if url.startswith("data:"):
            header, _, data = url.partition(",")
            return {"bytesBase64Encoded": data, "mimeType": header[5:].split(";")[0] or mime}
        if urlsplit(url).scheme not in ("http", "https"):
            raise ProviderError("google-cloud takes images as http(s), gs:// or data: URLs", code="invalid_params")
        scratch.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=scratch) as folder:
            try:
                fetched = fetch_to_file(url, Path(folder) / "image", policy=self.image_policy,
                                        max_bytes=IMAGE_MAX_BYTES, timeout_s=min(self.policy.request_timeout_s, 60.0))
            except FetchError as exc:
                raise ProviderError(f"cannot fetch the image for google-cloud: {exc}", code="invalid_params") from None
            data = base64.b64encode(fetched.path.read_bytes()).decode()
        content_type = (fetched.content_type or "").split(";")[0].strip()
        return {"bytesBase64Encoded": data, "mimeType": content_type if content_type.startswith("image/") else mime}

    # -- response -------------------------------------------------------------------------

    def _save(self, session: VendorSession, response: Mapping[str, Any], out: Path) -> int:
        videos = _videos(response)
        if not videos:
            filtered = response.get("raiMediaFilteredCount")
            reasons = "; ".join(str(r) for r in response.get("raiMediaFilteredReasons") or []) or "no reason given"
            if filtered:
                raise session.error(f"google-cloud refused the request (content policy): {reasons}",
                                    code="content_policy")
            raise session.error("google-cloud finished without a video", code="provider_failed")
        video = videos[0]
        if isinstance(video.get("bytesBase64Encoded"), str):
            return session.write_base64(video["bytesBase64Encoded"], out)
        url = first_url(video)
        if url:
            # Google-hosted object URLs take the same token; anything else must be public.
            google = origin(url)[1].endswith(".googleapis.com") or session.same_origin(url)
            return session.download(url, out, authorised=google)
        if video.get("gcsUri"):
            raise session.error(f"google-cloud wrote the video to {video['gcsUri']}; gcs output needs storageUri "
                                "config and GCS access on this server (omit storageUri to get it inline)",
                                code="provider_failed")
        raise session.error("google-cloud returned a video without content", code="provider_failed")


def _parameters(request: GenerateRequest, model: str) -> dict[str, Any]:
    parameters: dict[str, Any] = {"aspectRatio": request.aspect_ratio, "sampleCount": 1,
                                  "durationSeconds": int(round(request.duration))}
    if request.seed is not None:
        parameters["seed"] = request.seed
    if request.negative_prompt:
        parameters["negativePrompt"] = request.negative_prompt
    if model.startswith("veo-3"):
        parameters["resolution"] = request.resolution  # Veo 2 rejects the field; Veo 3 takes 720p/1080p
    return {**parameters, **dict(request.extra)}


def _videos(response: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """``videos: [...]`` (current) or ``generatedSamples: [{video: {...}}]`` (older responses)."""
    videos = response.get("videos")
    if isinstance(videos, list):
        return [v for v in videos if isinstance(v, Mapping)]
    samples = response.get("generatedSamples")
    if isinstance(samples, list):
        return [s["video"] for s in samples if isinstance(s, Mapping) and isinstance(s.get("video"), Mapping)]
    return []


def _operation_error(session: VendorSession, error: Mapping[str, Any]) -> ProviderError:
    """Map a finished operation's google.rpc.Status to our codes (the message is Google's own)."""
    code = error.get("code")
    message = session.redact(str(error.get("message") or "no reason given"))
    if code in _GRPC_AUTH:
        return ProviderError(f"google-cloud refused the credentials: {message}", code="provider_auth")
    if code in _GRPC_TRANSIENT:
        return ProviderError(f"google-cloud job failed (transient): {message}", code="provider_unavailable",
                             retryable=True)
    failure = session.job_failed(message)
    if failure.code == "content_policy" or code not in _GRPC_INVALID:
        return failure
    return ProviderError(f"google-cloud rejected the request: {message}", code="provider_rejected")
