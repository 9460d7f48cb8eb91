"""Replicate predictions API: video generation, lip sync and transcription.

A model is ``owner/name`` (the model's current version, via ``/models/{owner}/{name}/predictions``),
``owner/name:version`` or a bare 64-hex version ID (both via ``/predictions``). A prediction is
polled at ``urls.get`` until ``succeeded``, ``failed`` or ``canceled``; its output is a URL or a
list of URLs (media) or JSON (transcripts). Progress comes from the percentages in its logs.
Retries, polling, cancellation and downloads live in :mod:`vidassets.providers.http`.
"""

from __future__ import annotations

import re
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

DEFAULT_BASE_URL = "https://api.replicate.com/v1"
_VERSION = re.compile(r"^[0-9a-f]{64}$")
#: ``hnesk/whisper-wordtimestamps``: openai/whisper with word timestamps; output
#: ``{"segments": [{"start", "end", "text", "words": [{"word", "start", "end", "probability"}]}],
#: "transcription", "detected_language"}``.
WORD_TIMESTAMPS_WHISPER = ("hnesk/whisper-wordtimestamps:"
                           "4a60104c44dd709fc08a03dfeca6c6906257633dd03fd58663ec896a4eeba30e")


@dataclass(frozen=True)
class ReplicateModels:
    """Models used when a plan names none. Any Replicate model with matching inputs works."""

    video: str = "minimax/video-01"
    lip_sync: str = "sync/lipsync-2"
    # openai/whisper on Replicate returns segment times only; this build of the same Whisper
    # exposes word_timestamps. Pinned: a community model's inputs may change between versions.
    transcription: str = WORD_TIMESTAMPS_WHISPER


@dataclass(frozen=True)
class Prediction:
    id: str
    get_url: str
    cancel_url: str


@dataclass(frozen=True)
class _Outcome:
    prediction_id: str
    output: Any


def transcription_input(model: str, audio: str, language: str | None, *, default: bool = False) -> dict[str, Any]:
    """The input a Whisper-family model on Replicate takes to return word timings.

    WhisperX builds (``victor-upmeet/whisperx`` and its forks) take ``audio_file`` and align
    words with ``align_output``; Whisper builds take ``audio`` and ``word_timestamps``. Our
    default model also gets ``large-v2`` (its own default is ``base``, too weak for captions).
    """
    name = model.partition(":")[0].lower()
    payload: dict[str, Any]
    if "whisperx" in name:
        payload = {"audio_file": audio, "align_output": True}
    else:
        payload = {"audio": audio, "word_timestamps": True}
        if default:
            payload["model"] = "large-v2"
    if language:
        payload["language"] = language
    return payload


def prediction_endpoint(base_url: str, model: str) -> tuple[str, dict[str, str]]:
    """Where to create a prediction for ``model`` and the body fields that select its version."""
    name, _, version = model.partition(":")
    if version:
        return f"{base_url}/predictions", {"version": version}
    if _VERSION.match(model):
        return f"{base_url}/predictions", {"version": model}
    owner, _, rest = name.partition("/")
    if not owner or not rest or "/" in rest:
        raise ProviderError(f"replicate model {model!r} must be owner/name, owner/name:version or a version ID",
                            code="invalid_params")
    return f"{base_url}/models/{owner}/{rest}/predictions", {}


class ReplicateProvider(HttpProvider):
    name = "replicate"
    auth_scheme = "Bearer"
    key_setting = "VIDASSETS_REPLICATE_API_KEY"

    def __init__(self, *, base_url: str = DEFAULT_BASE_URL, api_key: str | SecretStr | None = None, policy: HttpPolicy | None = None,
                 timing: Timing | None = None, models: ReplicateModels = ReplicateModels()):
        super().__init__(base_url=base_url, api_key=api_key, policy=policy, timing=timing)
        self.models = models

    # -- the three job kinds --------------------------------------------------------------

    def generate(self, request: GenerateRequest, *, out: Path, api_key: str | None,
                 on_progress: ProgressCallback, cancel: threading.Event) -> ProviderResult:
        model = request.model or self.models.video
        payload = request.model_input(image_key="start_image", end_image_key="end_image")
        return self._media_job(model, payload, out=out, api_key=api_key, on_progress=on_progress, cancel=cancel)

    def lip_sync(self, request: LipSyncRequest, *, video: Path, audio: Path, out: Path, api_key: str | None,
                 on_progress: ProgressCallback, cancel: threading.Event,
                 publish: PublishFn | None) -> ProviderResult:
        model = request.model or self.models.lip_sync
        payload = {"video": inline_or_publish(video, publish), "audio": inline_or_publish(audio, publish),
                   **dict(request.extra)}
        return self._media_job(model, payload, out=out, api_key=api_key, on_progress=on_progress, cancel=cancel)

    def transcribe(self, *, media: Path, language: str | None, model: str | None, api_key: str | None,
                   cancel: threading.Event, publish: PublishFn | None) -> list[Word]:
        """Timed words from a Whisper-family model (see :func:`transcription_input`)."""
        chosen = model or self.models.transcription
        payload = transcription_input(chosen, inline_or_publish(media, publish), language,
                                      default=chosen == self.models.transcription)
        with self.session(api_key, cancel) as session:
            outcome = self._predict(session, chosen, payload, None)
        return words_from_output(outcome.output)

    # -- predictions ----------------------------------------------------------------------

    def _media_job(self, model: str, payload: Mapping[str, Any], *, out: Path, api_key: str | None,
                   on_progress: ProgressCallback, cancel: threading.Event) -> ProviderResult:
        with self.session(api_key, cancel) as session:
            outcome = self._predict(session, model, payload, on_progress)
            url = first_url(outcome.output)
            if url is None:
                raise ProviderError(f"replicate prediction {outcome.prediction_id} returned no media URL",
                                    code="provider_failed")
            size = session.download(url, out)
        on_progress(1.0)
        return ProviderResult(path=out, provider=self.name, model=model,
                              details={"predictionId": outcome.prediction_id, "bytes": size})

    def _predict(self, session: VendorSession, model: str, payload: Mapping[str, Any],
                 on_progress: ProgressCallback | None) -> _Outcome:
        endpoint, version = prediction_endpoint(self.base_url, model)

        def submit() -> Prediction:
            body = session.request("POST", endpoint, json={**version, "input": dict(payload)})
            prediction_id = str(body.get("id") or "")
            if not prediction_id:
                raise session.error("replicate did not return a prediction id", code="provider_failed")
            urls = body.get("urls") if isinstance(body.get("urls"), Mapping) else {}
            own = f"{self.base_url}/predictions/{prediction_id}"
            return Prediction(prediction_id, session.url(urls.get("get"), own),
                              session.url(urls.get("cancel"), f"{own}/cancel"))

        def state(prediction: Prediction) -> PollState:
            body = session.request("GET", prediction.get_url)
            status = body.get("status")
            if status == "succeeded":
                return PollState(done=True, output=body.get("output"))
            if status == "failed":
                return PollState(failure=session.job_failed(body.get("error")))
            if status == "canceled":
                return PollState(failure=ProviderError("replicate prediction was canceled", code="cancelled"))
            return PollState(progress=progress_from_logs(body.get("logs")))

        def cancel_remote(prediction: Prediction) -> None:
            session.fire("POST", prediction.cancel_url)

        prediction, output = session.run_job(submit, state, cancel_remote, on_progress)
        return _Outcome(prediction.id, output)
