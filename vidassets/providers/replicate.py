"""Replicate predictions API: video generation, lip sync, transcription, stills, speech and matting.

A model is ``owner/name`` (the model's current version, via ``/models/{owner}/{name}/predictions``),
``owner/name:version`` or a bare 64-hex version ID (both via ``/predictions``). A prediction is
polled at ``urls.get`` until ``succeeded``, ``failed`` or ``canceled``; its output is a URL or a
list of URLs (media) or JSON (transcripts). Progress comes from the percentages in its logs.
Community models run only at a version: a catalogued one named without it gets the catalogue's.
Retries, polling, cancellation and downloads live in :mod:`vidassets.providers.http`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from vidassets.providers.base import (
    GenerateRequest,
    ImageRequest,
    LipSyncRequest,
    MattingRequest,
    ProgressCallback,
    ProviderError,
    ProviderResult,
    PublishFn,
    SpeechRequest,
    Word,
    words_from_output,
)
from vidassets.providers.catalogue import lookup
from vidassets.providers.catalogue.build import (
    build_input,
    image_request,
    media_input,
    media_name,
    pinned,
    vendor_request,
)
from vidassets.providers.http import (
    CreateUnanswered,
    HttpPolicy,
    HttpProvider,
    PollState,
    Timing,
    VendorSession,
    first_url,
    progress_from_logs,
    where,
)
from vidassets.providers.ledger import Ledger, VendorCall, VendorRun, run_once
from vidassets.providers.outputs import MediaKind, fetch_output
from vidassets.providers.uploads import InputResolver, LocalInput, ReplicateFiles
from vidassets.storage.vendor_jobs import VendorRef

DEFAULT_BASE_URL = "https://api.replicate.com/v1"
_VERSION = re.compile(r"^[0-9a-f]{64}$")
#: Replicate's deadline runs this much past ours, so we normally cancel (and record it) first.
CANCEL_AFTER_MARGIN_S = 60.0
#: Pages (100 predictions each) of the account's newest predictions searched for a lost create.
LOOKUP_PAGES = 5
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
    image: str = "google/nano-banana"
    image_cutout: str = "codeplugtech/background_remover"  # removeImageBackground
    speech: str = "elevenlabs/turbo-v2.5"
    matting: str = "arielreplicate/robust_video_matting"


@dataclass(frozen=True)
class Prediction:
    id: str
    get_url: str
    cancel_url: str


def transcription_input(model: str, audio: str | LocalInput, language: str | None, *,
                        default: bool = False) -> dict[str, Any]:
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


def same_input(sent: Mapping[str, Any], listed: Any) -> bool:
    """Whether a listed prediction's input is the one we sent: the fields both have are equal and
    at least one of them says something. A ``data:`` URI matches anything (it may not be echoed
    verbatim) and an http(s) URL is compared without its query (a presigned URL is signed anew
    each time it is made)."""
    if not isinstance(listed, Mapping):
        return False
    telling = False
    for key in sent.keys() & listed.keys():
        ours, theirs = sent[key], listed[key]
        if isinstance(ours, str) and ours.startswith("data:"):
            continue
        if isinstance(ours, str) and isinstance(theirs, str) and ours.startswith(("http://", "https://")):
            ours, theirs = where(ours), where(theirs)
        if isinstance(ours, bool) or isinstance(theirs, bool):
            equal = ours is theirs
        elif isinstance(ours, (int, float)) and isinstance(theirs, (int, float)):
            equal = math.isclose(ours, theirs)
        else:
            equal = ours == theirs
        if not equal:
            return False
        telling = True
    return telling


def with_webhook(body: Mapping[str, Any], session: VendorSession) -> dict[str, Any]:
    """The create body, asking for a delivery when the ledger gave this attempt a webhook URL
    (only jobs made with this server's key get one: see ``webhook=`` below)."""
    if session.webhook_url is None:
        return dict(body)
    return {**body, "webhook": session.webhook_url, "webhook_events_filter": ["completed"]}


def cancel_after(seconds: float) -> str:
    """A ``Cancel-After`` header value (a duration such as ``960s``)."""
    return f"{max(5, math.ceil(seconds))}s"


class ReplicateProvider(HttpProvider):
    name = "replicate"
    auth_scheme = "Bearer"
    key_setting = "VIDASSETS_REPLICATE_API_KEY"
    cancel_method = "POST"

    def __init__(self, *, base_url: str = DEFAULT_BASE_URL, api_key: str | SecretStr | None = None,
                 policy: HttpPolicy | None = None, timing: Timing | None = None, models: ReplicateModels = ReplicateModels()):
        super().__init__(base_url=base_url, api_key=api_key, policy=policy, timing=timing)
        self.models = models
        self.inputs = InputResolver(ReplicateFiles(self.base_url))  # files reach Replicate (uploads.py)

    # -- the three job kinds --------------------------------------------------------------

    def generate(self, request: GenerateRequest, *, out: Path, api_key: str | None,
                 on_progress: ProgressCallback, cancel: threading.Event, ledger: Ledger | None = None) -> ProviderResult:
        model, payload = vendor_request(
            self.name, request.model or self.models.video, "generate", request.values(), request.extra, request.input,
            lambda: request.model_input(image_key="start_image", end_image_key="end_image"))
        return self._media_job("generate", model, payload, out=out, api_key=api_key, on_progress=on_progress,
                               cancel=cancel, ledger=ledger)

    def lip_sync(self, request: LipSyncRequest, *, video: Path, audio: Path, out: Path, api_key: str | None,
                 on_progress: ProgressCallback, cancel: threading.Event,
                 publish: PublishFn | None, ledger: Ledger | None = None) -> ProviderResult:
        model = request.model or self.models.lip_sync
        files = {"video": LocalInput(video, publish), "audio": LocalInput(audio, publish)}
        payload = media_input(self.name, model, "lip_sync", files, request.values(), request.extra, request.input)
        return self._media_job("lip_sync", model, payload, out=out, api_key=api_key, on_progress=on_progress,
                               cancel=cancel, ledger=ledger)

    def transcribe(self, *, media: Path, language: str | None, model: str | None, api_key: str | None,
                   cancel: threading.Event, publish: PublishFn | None, ledger: Ledger | None = None,
                   options: Mapping[str, Any] | None = None) -> list[Word]:
        """Timed words from a Whisper-family model (see :func:`transcription_input`); ``options``
        are the model's own inputs (the plan's ``input``), checked against the catalogue at submit."""
        chosen = model or self.models.transcription
        payload = transcription_input(chosen, LocalInput(media, publish), language,
                                      default=chosen == self.models.transcription)
        spec = lookup(self.name, chosen, "transcribe")
        if spec is not None:  # only inputs the model declares, plus the ones it needs for word timings
            payload = {**{k: v for k, v in payload.items() if k in spec.inputs},
                       **build_input(spec, {"language": language}, {}, options or {})}
        elif options:
            payload.update(options)
        with self.session(api_key, cancel) as session:
            run = self._predict(session, "transcribe", chosen, payload, None, ledger)
        return words_from_output(run.output)

    # -- stills, speech and background removal (today's SDK) ------------------------------

    def generate_image(self, request: ImageRequest, *, out_dir: Path, api_key: str | None,
                       on_progress: ProgressCallback, cancel: threading.Event, publish: PublishFn | None,
                       ledger: Ledger | None = None) -> ProviderResult:
        """A still from Nano Banana, Seedream, a background remover ...: input images that are
        local files reach Replicate like lip-sync media (signed URL, inline, or its files API)."""
        images = [LocalInput(i, publish) if isinstance(i, Path) else i for i in request.images]
        model, payload = image_request(self.name, request.model or self.models.image, request.values(),
                                       request.extra, request.input, images,
                                       lambda: request.model_input(images, image_key="image_input"))
        return self._file_job("generate_image", pinned(self.name, model, "image"), payload, out_dir=out_dir,
                              stem="image", expect="image", api_key=api_key, on_progress=on_progress, cancel=cancel,
                              ledger=ledger)

    def speak(self, request: SpeechRequest, *, out_dir: Path, api_key: str | None, on_progress: ProgressCallback,
              cancel: threading.Event, ledger: Ledger | None = None) -> ProviderResult:
        """Speech from a Replicate-hosted TTS model (ElevenLabs Turbo v2.5 by default)."""
        model, payload = vendor_request(self.name, request.model or self.models.speech, "speech", request.values(),
                                        request.extra, request.input, request.model_input)
        return self._file_job("speak", pinned(self.name, model, "speech"), payload, out_dir=out_dir, stem="speech",
                              expect="audio", api_key=api_key, on_progress=on_progress, cancel=cancel, ledger=ledger)

    def remove_background(self, request: MattingRequest, *, video: Path, out_dir: Path, api_key: str | None,
                          on_progress: ProgressCallback, cancel: threading.Event, publish: PublishFn | None,
                          ledger: Ledger | None = None) -> ProviderResult:
        """The video with its background removed (a green screen, or a matte: ``output_type``)."""
        model = request.model or self.models.matting
        files = {media_name(self.name, model, "matting", "video"): LocalInput(video, publish)}
        payload = media_input(self.name, model, "matting", files, request.values(),
                              request.model_input() if lookup(self.name, model, "matting") is None else request.extra,
                              request.input)
        return self._file_job("remove_background", pinned(self.name, model, "matting"), payload, out_dir=out_dir,
                              stem="matted", expect="video", api_key=api_key, on_progress=on_progress, cancel=cancel,
                              ledger=ledger)

    def _file_job(self, step: str, model: str, payload: Mapping[str, Any], *, out_dir: Path, stem: str,
                  expect: MediaKind, api_key: str | None, on_progress: ProgressCallback, cancel: threading.Event,
                  ledger: Ledger | None) -> ProviderResult:
        with self.session(api_key, cancel) as session:
            run = self._predict(session, step, model, payload, on_progress, ledger)
            path, size, found = fetch_output(run, session, job=f"prediction {run.handle.id}", out_dir=out_dir,
                                             stem=stem, expect=expect)
        on_progress(1.0)
        return ProviderResult(path=path, provider=self.name, model=model,
                              details={"predictionId": run.handle.id, "bytes": size, "contentType": found.mime,
                                       **run.billing})

    # -- predictions ----------------------------------------------------------------------

    def _media_job(self, step: str, model: str, payload: Mapping[str, Any], *, out: Path, api_key: str | None,
                   on_progress: ProgressCallback, cancel: threading.Event, ledger: Ledger | None) -> ProviderResult:
        with self.session(api_key, cancel) as session:
            run = self._predict(session, step, model, payload, on_progress, ledger)
            url = first_url(run.output)
            if url is None:
                raise run.unusable(ProviderError(f"replicate prediction {run.handle.id} returned no media URL",
                                                 code="provider_failed"))
            size = run.download(session, url, out)
        on_progress(1.0)
        return ProviderResult(path=out, provider=self.name, model=model,
                              details={"predictionId": run.handle.id, "bytes": size, **run.billing})

    def _predict(self, session: VendorSession, step: str, model: str, payload: Mapping[str, Any],
                 on_progress: ProgressCallback | None, ledger: Ledger | None) -> VendorRun[Prediction]:
        endpoint, version = prediction_endpoint(self.base_url, model)
        body = {**version, "input": self.inputs.resolve(session, payload)}
        headers = {"Cancel-After": cancel_after(self.policy.timeout_s + CANCEL_AFTER_MARGIN_S)}

        def create(before_send: Callable[[], None]) -> Prediction:
            answer = session.create(endpoint, json=with_webhook(body, session), headers=headers,
                                    before_send=before_send)
            if not answer.get("id"):
                raise CreateUnanswered("the answer carries no prediction id")
            return self._prediction(session, answer)

        def state(prediction: Prediction) -> PollState:
            answer = session.request("GET", prediction.get_url)
            status = str(answer.get("status") or "")
            usage = answer.get("metrics") if isinstance(answer.get("metrics"), Mapping) else None
            if status == "succeeded":
                return PollState(done=True, output=answer.get("output"), vendor_status=status, usage=usage)
            if status == "failed":
                return PollState(failure=session.job_failed(answer.get("error")), vendor_status=status, usage=usage)
            if status == "canceled":
                return PollState(failure=ProviderError("replicate prediction was canceled", code="cancelled"),
                                 vendor_status=status, usage=usage)
            if status == "aborted":  # its Cancel-After deadline passed before it started (not billed)
                return PollState(failure=ProviderError("replicate aborted the prediction: its deadline passed "
                                                       "before it started", code="timeout"), vendor_status=status)
            return PollState(progress=progress_from_logs(answer.get("logs")), vendor_status=status or None)

        call = VendorCall(
            step=step, model=model, body=body, create=create,
            ref=lambda p: VendorRef(p.id, p.get_url, p.cancel_url),
            rebuild=lambda ref: self._prediction(session, {"id": ref.vendor_job_id,
                                                           "urls": {"get": ref.get_url, "cancel": ref.cancel_url}}),
            state=state, cancel=lambda p: session.fire(self.cancel_method, p.cancel_url),
            find=lambda since: self._find(session, model, body, since),
            # Replicate signs a delivery with the secret of the account whose key made the job:
            # this server can verify only its own account's, so callers' keys mean polling.
            webhook=session.server_key,
        )
        return run_once(session, call, ledger, on_progress)

    def _prediction(self, session: VendorSession, answer: Mapping[str, Any]) -> Prediction:
        """A prediction from Replicate's JSON; its URLs are trusted only on Replicate's own origin."""
        prediction_id = str(answer["id"])
        urls = answer.get("urls")
        urls = urls if isinstance(urls, Mapping) else {}
        own = f"{self.base_url}/predictions/{prediction_id}"
        return Prediction(prediction_id, session.url(urls.get("get"), own), session.url(urls.get("cancel"), f"{own}/cancel"))

    def _find(self, session: VendorSession, model: str, body: Mapping[str, Any], since: dt.datetime) -> Sequence[Prediction]:
        """Predictions made through the API since ``since`` for this model and input, oldest first."""
        url = f"{self.base_url}/predictions"
        params: dict[str, str] | None = {"created_after": since.astimezone(dt.UTC).isoformat()}
        name = model.partition(":")[0]
        found: list[tuple[str, Prediction]] = []
        for _ in range(LOOKUP_PAGES):
            page = session.request("GET", url, params=params)
            for item in page.get("results") or []:
                if not isinstance(item, Mapping) or not item.get("id") or item.get("source", "api") != "api":
                    continue
                same_model = item.get("version") == body["version"] if "version" in body else item.get("model") == name
                if same_model and same_input(body["input"], item.get("input")):
                    found.append((str(item.get("created_at") or ""), self._prediction(session, item)))
            following = page.get("next")
            if not isinstance(following, str) or not session.same_origin(following):
                break
            url, params = following, None
        return [prediction for _, prediction in sorted(found, key=lambda pair: pair[0])]
