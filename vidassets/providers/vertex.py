"""Google Vertex AI (Veo) long-running predictions: video generation.

``POST {base}/projects/{p}/locations/{l}/publishers/google/models/{model}:predictLongRunning``
answers an operation ``{name}``; ``POST ...:fetchPredictOperation {operationName}`` reports it
until ``done``. The response carries the videos inline (``bytesBase64Encoded``) or, when the
request set ``storageUri``, as ``gs://`` objects, downloaded through the Cloud Storage JSON API
(``{gcs}/storage/v1/b/{bucket}/o/{object}?alt=media``) with the same credentials and the same
SSRF guard as every other download. Refusals by the safety filters show up as
``raiMediaFilteredCount`` with no videos.

A create whose answer was lost cannot be found again (operations of publisher models are not
listed), so such a job fails with ``vendor_create_unconfirmed`` instead of being sent again (see
:mod:`vidassets.providers.ledger`).

Credentials (``google_auth.py``): the server's service-account key or Application Default
Credentials, whose tokens are renewed ahead of expiry and after a 401; or a caller's OAuth access
token (``providerApiKeys.google-cloud``, used as given); or the legacy static
``VIDASSETS_GOOGLE_ACCESS_TOKEN``. A Google *API key* (``AIza...``) cannot call Vertex: such a
key, or a server with only ``VIDASSETS_GEMINI_API_KEY``, runs on the Gemini API instead
(:mod:`vidassets.providers.gemini`), which this class hands the job to. Veo takes images as bytes or
``gs://`` URIs, never as https URLs, so a remote start/end image is fetched here, through the
same SSRF guard as every other user-supplied URL, and sent inline.
"""

from __future__ import annotations

import base64
import mimetypes
import re
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from pydantic import SecretStr

from vidassets.net.fetch import FetchError, fetch_to_file
from vidassets.net.guard import AddressPolicy
from vidassets.providers.base import GenerateRequest, ProgressCallback, ProviderError, ProviderResult
from vidassets.providers.catalogue.build import vendor_request
from vidassets.providers.google_auth import GoogleCredentials, is_api_key
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
from vidassets.storage.vendor_jobs import VendorJob, VendorRef

if TYPE_CHECKING:
    from vidassets.providers.gemini import GeminiProvider

DEFAULT_MODEL = "veo-2.0-generate-001"
IMAGE_MAX_BYTES = 20 * 1024 * 1024
_GRPC_AUTH = {7, 16}  # PERMISSION_DENIED, UNAUTHENTICATED
_GRPC_TRANSIENT = {4, 8, 13, 14}  # DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, INTERNAL, UNAVAILABLE
_GRPC_INVALID = {3, 5, 9, 11}  # INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION, OUT_OF_RANGE
GCS_BASE_URL = "https://storage.googleapis.com"
# Bucket names: lowercase letters, digits, '-', '_' and '.', starting and ending with a letter or digit.
_MODEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")


def default_base_url(location: str) -> str:
    return f"https://{location}-aiplatform.googleapis.com/v1"


@dataclass(frozen=True)
class Operation:
    name: str


class VertexProvider(HttpProvider):
    name = "google-cloud"
    auth_scheme = "Bearer"
    key_setting = "VIDASSETS_GOOGLE_CREDENTIALS_FILE (or VIDASSETS_GOOGLE_USE_ADC, VIDASSETS_GEMINI_API_KEY)"
    cancel_method = "POST"

    def __init__(self, *, project: str | None, location: str = "us-central1", base_url: str | None = None,
                 api_key: str | SecretStr | None = None, policy: HttpPolicy | None = None, timing: Timing | None = None,
                 model: str = DEFAULT_MODEL, image_policy: AddressPolicy | None = None,
                 credentials: GoogleCredentials | None = None, gemini: GeminiProvider | None = None,
                 gcs_base_url: str = GCS_BASE_URL):
        super().__init__(base_url=base_url or default_base_url(location), api_key=api_key, policy=policy,
                         timing=timing)
        self.project = project
        self.location = location
        self.model = model
        self.image_policy = image_policy or AddressPolicy()
        self.credentials = credentials
        self.gemini = gemini
        self.s3: Callable[[], Any] | None = None  # a boto3 client factory: s3:// images are read here
        self.gcs_base_url = gcs_base_url.rstrip("/")

    # -- credentials ------------------------------------------------------------------------

    def session(self, api_key: str | None, cancel: threading.Event) -> VendorSession:
        """A caller's token or the static one as given; otherwise the renewing credentials."""
        if api_key or self.credentials is None:
            return super().session(api_key, cancel)
        session = VendorSession(self.name, base_url=self.base_url, auth={}, secret="", policy=self.policy,
                                timing=self.timing, cancel=cancel, tokens=self.credentials)
        session.server_key = True
        return session

    def _on_gemini(self, api_key: str | None) -> GeminiProvider | None:
        """The Gemini API client when this call runs there: a caller's API key, or a server whose
        only Google credential is a Gemini API key."""
        if self.gemini is None:
            return None
        if api_key:
            return self.gemini if is_api_key(api_key) else None
        vertex_ready = self.credentials is not None or self._server_key.value is not None
        return self.gemini if not vertex_ready and self.gemini.has_server_key else None

    def _project(self) -> str:
        project = self.project or (self.credentials.project if self.credentials is not None else None)
        if not project:
            raise ProviderError("google-cloud needs a project: set VIDASSETS_VERTEX_PROJECT (or use credentials "
                                "that name one)", code="provider_unavailable")
        return project

    def cancel_recorded(self, job: VendorJob, api_key: str | None) -> bool:
        """A job recorded on the Gemini API is cancelled there (its URLs say where it ran)."""
        if self.gemini is not None and job.cancel_url and self.gemini.owns(job.cancel_url):
            return self.gemini.cancel_recorded(job, api_key)
        return super().cancel_recorded(job, api_key)

    def generate(self, request: GenerateRequest, *, out: Path, api_key: str | None,
                 on_progress: ProgressCallback, cancel: threading.Event, ledger: Ledger | None = None) -> ProviderResult:
        gemini = self._on_gemini(api_key)
        if gemini is not None:
            return gemini.generate(request, out=out, api_key=api_key, on_progress=on_progress, cancel=cancel,
                                   ledger=ledger)
        project = self._project()
        model = model_name(request.model or self.model)
        endpoint = (f"{self.base_url}/projects/{project}/locations/{self.location}"
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
                response = answer.get("response") or {}
                return PollState(done=True, output=response, vendor_status="done", usage=video_usage(body, response))

            call = VendorCall(
                step="generate", model=model, body=body, create=create,
                ref=lambda op: VendorRef(op.name, f"{endpoint}:fetchPredictOperation", self._cancel_url(op.name)),
                rebuild=lambda ref: Operation(ref.vendor_job_id), state=state,
                cancel=lambda op: session.fire(self.cancel_method, self._cancel_url(op.name)),
            )
            return self._run_and_save(session, call, ledger, on_progress, out, model)

    def _run_and_save(self, session: VendorSession, call: VendorCall[Operation], ledger: Ledger | None,
                      on_progress: Callable[[float], None], out: Path, model: str,
                      **details: Any) -> ProviderResult:
        """Follow the long-running operation once (ledger), then save its video (Vertex and Gemini)."""
        run = run_once(session, call, ledger, on_progress)
        try:
            size = self._save(session, run.output, out)
        except ProviderError as exc:
            raise run.unusable(exc) from None
        on_progress(1.0)
        return ProviderResult(path=out, provider=self.name, model=model,
                              details={"operation": run.handle.name.rsplit("/", 1)[-1], "bytes": size,
                                       **details, **run.billing})

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
        """Veo's image field: ``gs://`` passes through; ``data:``, http(s) and ``s3://`` images go inline."""
        mime = mimetypes.guess_type(urlsplit(url).path)[0] or "image/png"
        if url.startswith("gs://"):
            return {"gcsUri": url, "mimeType": mime}
        if url.startswith("data:"):
            header, _, data = url.partition(",")
            return {"bytesBase64Encoded": data, "mimeType": header[5:].split(";")[0] or mime}
        if urlsplit(url).scheme not in ("http", "https", *(("s3",) if self.s3 is not None else ())):
            raise ProviderError("google-cloud takes images as http(s), gs:// or data: URLs", code="invalid_params")
        scratch.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=scratch) as folder:
            try:
                fetched = fetch_to_file(url, Path(folder) / "image", policy=self.image_policy,
                                        max_bytes=IMAGE_MAX_BYTES, timeout_s=min(self.policy.request_timeout_s, 60.0),
                                        s3_client_factory=self.s3)
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
        inline = video.get("bytesBase64Encoded") or video.get("encodedVideo")  # Vertex, Gemini API
        if isinstance(inline, str):
            return session.write_base64(inline, out)
        url = first_url(video)
        if url:
            # Google-hosted object URLs take the same token; anything else must be public.
            google = origin(url)[1].endswith(".googleapis.com") or session.same_origin(url)
            return session.download(url, out, authorised=google)
        if isinstance(video.get("gcsUri"), str):
            # Written to the request's storageUri: read it back with the same credentials.
            return session.download(gcs_media_url(self.gcs_base_url, video["gcsUri"]), out, authorised=True)
        raise session.error("google-cloud returned a video without content", code="provider_failed")


def model_name(model: str) -> str:
    """A Veo model name, checked before it becomes part of a URL path."""
    if not _MODEL.match(model) or ".." in model:
        raise ProviderError(f"google-cloud model {model!r} is not a model name (letters, digits, '.', '_', '-')",
                            code="invalid_params")
    return model


def gcs_media_url(base_url: str, uri: str) -> str:
    """The Cloud Storage JSON API URL that reads ``gs://bucket/object`` (bucket and object encoded
    whole, so a name from the vendor's answer cannot reach another path or add a query)."""
    parts = urlsplit(uri)
    bucket, name = parts.netloc, uri[len("gs://") + len(parts.netloc) + 1:]
    if parts.scheme != "gs" or not _BUCKET.match(bucket) or name in ("", ".", "..") or "\r" in name or "\n" in name:
        raise ProviderError("google-cloud returned an output that is not a gs://bucket/object URI",
                            code="provider_failed")
    return f"{base_url}/storage/v1/b/{quote(bucket, safe='')}/o/{quote(name, safe='')}?alt=media"


def _parameters(request: GenerateRequest, model: str, surface: str = "vertex") -> dict[str, Any]:
    """Veo's ``parameters``. A catalogued model (:mod:`vidassets.providers.catalogue.google`) gets
    only values it takes (Veo 3: 4, 6 or 8 s; otherwise its own default applies); any other model
    the generic set below. Plan extras, then the plan's ``input``, are merged over either."""

    def generic() -> dict[str, Any]:
        parameters: dict[str, Any] = {"aspectRatio": request.aspect_ratio, "sampleCount": 1,
                                      "durationSeconds": int(round(request.duration))}
        if request.seed is not None:
            parameters["seed"] = request.seed
        if request.negative_prompt:
            parameters["negativePrompt"] = request.negative_prompt
        if model.startswith("veo-3"):
            parameters["resolution"] = request.resolution  # Veo 2 rejects the field; Veo 3 takes 720p/1080p
        return {**parameters, **dict(request.extra)}

    return vendor_request("google-cloud", model, "generate", request.values(), request.extra, request.input,
                          generic, surface)[1]


def video_usage(body: Mapping[str, Any], response: Any) -> dict[str, Any] | None:
    """What Veo bills: seconds of video made (the requested length times the videos returned)."""
    parameters = body.get("parameters") or {}
    seconds = parameters.get("durationSeconds") if isinstance(parameters, Mapping) else None
    videos = len(_videos(response)) if isinstance(response, Mapping) else 0
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not videos:
        return None
    return {"video_seconds": float(seconds) * videos, "videos": videos}


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
