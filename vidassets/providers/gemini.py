"""Veo on the Gemini API (``generativelanguage.googleapis.com``) with a Google API key.

The Gemini API runs the same Veo models as Vertex AI without a Cloud project or service
account: an API key (``AIza...``) in the ``x-goog-api-key`` header is all it takes. As documented
(https://ai.google.dev/gemini-api/docs/video, and the google-genai SDK's wire mapping):

* ``POST {base}/models/{model}:predictLongRunning`` with ``{"instances": [{prompt, image?,
  lastFrame?}], "parameters": {...}}`` answers an operation ``{"name": "models/.../operations/..."}``;
* ``GET {base}/{name}`` reports it until ``done``, then ``response.generateVideoResponse`` holds
  ``generatedSamples: [{"video": {"uri"}}]`` (or ``raiMediaFilteredCount``/``Reasons`` when the
  safety filters refused); an ``error`` is a google.rpc.Status;
* the video ``uri`` (``{base}/files/{id}:download?alt=media``) is read with the same key, which
  goes only to the API's own origin (a redirect elsewhere drops it, see ``VendorSession``).

Images are inline bytes (the Gemini API takes no ``gs://``); ``seed`` is a Vertex-only
parameter (the catalogue's Gemini entries leave it out). There is no documented way to find an
operation whose create answer was lost, so such a job fails with ``vendor_create_unconfirmed``.

The plan names this provider ``google-cloud`` (the SDK's ``providerApiKeys.google-cloud``):
:class:`~vidassets.providers.vertex.VertexProvider` hands a job here when the key is an API key,
or when the server's only Google credential is ``VIDASSETS_GEMINI_API_KEY``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from vidassets.net.guard import AddressPolicy
from vidassets.providers.base import GenerateRequest, ProgressCallback, ProviderError, ProviderResult
from vidassets.providers.http import CreateUnanswered, HttpPolicy, HttpProvider, PollState, Timing, VendorSession, origin
from vidassets.providers.ledger import Ledger, VendorCall
from vidassets.providers.vertex import (
    DEFAULT_MODEL,
    Operation,
    VertexProvider,
    _operation_error,
    _parameters,
    model_name,
    video_usage,
)
from vidassets.storage.vendor_jobs import VendorJob, VendorRef

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com/v1beta"
# An operation name from the API's answer becomes a URL path: plain segments only.
_OPERATION = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")


class GeminiProvider(VertexProvider):
    """Veo through the Gemini API: Vertex's request and response shapes, another URL and key."""

    key_setting = "VIDASSETS_GEMINI_API_KEY"

    def __init__(self, *, base_url: str = DEFAULT_BASE_URL, api_key: str | SecretStr | None = None,
                 policy: HttpPolicy | None = None, timing: Timing | None = None, model: str = DEFAULT_MODEL,
                 image_policy: AddressPolicy | None = None):
        super().__init__(project=None, base_url=base_url, api_key=api_key, policy=policy, timing=timing, model=model,
                         image_policy=image_policy)

    def key_headers(self, key: str) -> dict[str, str]:
        return {"x-goog-api-key": key}

    @property
    def has_server_key(self) -> bool:
        return self._server_key.value is not None

    def owns(self, url: str) -> bool:
        """Whether ``url`` is on this API's origin (a recorded job ran here)."""
        return origin(url) == origin(self.base_url)

    def session(self, api_key: str | None, cancel: threading.Event) -> VendorSession:
        return HttpProvider.session(self, api_key, cancel)

    def cancel_recorded(self, job: VendorJob, api_key: str | None) -> bool:
        return HttpProvider.cancel_recorded(self, job, api_key)

    def generate(self, request: GenerateRequest, *, out: Path, api_key: str | None,
                 on_progress: ProgressCallback, cancel: threading.Event, ledger: Ledger | None = None) -> ProviderResult:
        model = model_name(request.model or self.model)
        endpoint = f"{self.base_url}/models/{model}"
        with self.session(api_key, cancel) as session:
            body = {"instances": [self._instance(request, out.parent)],
                    "parameters": _parameters(request, model, "gemini")}

            def create(before_send: Callable[[], None]) -> Operation:
                answer = session.create(f"{endpoint}:predictLongRunning", json=body, before_send=before_send)
                name = answer.get("name")
                if not isinstance(name, str) or not _OPERATION.match(name) or ".." in name.split("/"):
                    raise CreateUnanswered("the answer carries no usable operation name")
                return Operation(name)

            call = VendorCall(
                step="generate", model=model, body=body, create=create,
                ref=lambda op: VendorRef(op.name, self._operation_url(op.name), self._cancel_url(op.name)),
                rebuild=lambda ref: Operation(_operation_name(ref.vendor_job_id)),
                state=lambda op: self._state(session, op, body),
                cancel=lambda op: session.fire(self.cancel_method, self._cancel_url(op.name)),
            )
            return self._run_and_save(session, call, ledger, on_progress, out, model, api="gemini")

    def _operation_url(self, name: str) -> str:
        return f"{self.base_url}/{name}"

    def _state(self, session: VendorSession, operation: Operation, body: Mapping[str, Any]) -> PollState:
        answer = session.request("GET", self._operation_url(operation.name))
        if not answer.get("done"):
            return PollState(vendor_status="running")
        if isinstance(answer.get("error"), Mapping):
            return PollState(failure=_operation_error(session, answer["error"]), vendor_status="error")
        response = answer.get("response") if isinstance(answer.get("response"), Mapping) else {}
        result = response.get("generateVideoResponse") if isinstance(response.get("generateVideoResponse"),
                                                                     Mapping) else response
        return PollState(done=True, output=result, vendor_status="done", usage=video_usage(body, result))

    def _image(self, url: str, scratch: Path) -> dict[str, str]:
        if url.startswith("gs://"):
            raise ProviderError("the Gemini API takes images as bytes, not gs:// URIs: give an http(s) URL",
                                code="invalid_params")
        return super()._image(url, scratch)


def _operation_name(name: str) -> str:
    if not _OPERATION.match(name) or ".." in name.split("/"):
        raise ProviderError("google-cloud (Gemini API) returned an operation name that is not a resource path",
                            code="provider_failed")
    return name
