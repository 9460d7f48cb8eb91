"""Text to speech over vendors' synchronous HTTP APIs: what ElevenLabs and Hume share.

Both vendors answer one POST with the audio file itself: there is no job to poll and no id to
cancel. Each request is billed (per character) the moment the vendor starts answering, and
neither offers an idempotency key, so a request whose answer is lost (a crash, a dropped
connection, a 500 after the vendor did the work) may have been billed already; sending it again
can bill twice. The request therefore goes through the vendor-job ledger like any paid create
(:func:`vidassets.providers.ledger.run_once`): the attempt is claimed before anything is sent,
the vendor's request id is recorded the moment the answer arrives, and an answer that was lost
is looked up where the vendor offers a way (ElevenLabs keeps a history of generations) or ends
the job ``vendor_create_unconfirmed`` (Hume offers none). A resumed attempt whose request
succeeded fetches the audio again from the vendor's history instead of paying for it twice.
The lookup narrows the risk of a double charge; it does not close it: a crash or lost answer
while ElevenLabs is still generating (its history shows the item only when done) can pass both
lookups, and the request is then sent, and billed, again.

The audio is streamed to a temp file beside the output (size-capped, see ``VendorSession``) and
sniffed before it is accepted (:func:`vidassets.providers.outputs.place`: an ID3 tag or MPEG frame
sync, RIFF/WAVE, Ogg ...); a body that is not audio is refused. Raw PCM (ElevenLabs
``pcm_<rate>``: 16-bit little-endian mono) is wrapped into a WAV file, so the artefact always says
what it holds.
"""

from __future__ import annotations

import abc
import os
import re
import threading
import uuid
import wave
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

import httpx
from pydantic import SecretStr

from vidassets.providers.base import ProgressCallback, ProviderError, ProviderResult
from vidassets.providers.http import CreateUnanswered, HttpPolicy, HttpProvider, PollState, Timing, VendorSession, where
from vidassets.providers.ledger import Ledger, VendorCall, run_once
from vidassets.providers.outputs import place
from vidassets.storage.vendor_jobs import VendorRef

if TYPE_CHECKING:
    import datetime as dt

    from vidassets.providers.base import SpeechRequest

#: The ledger step of a speech request (one per job attempt, like ``generate``).
STEP = "speak"
_HEADER_SAFE = re.compile(r"^[\x21-\x7e]+$")


def wrap_pcm(raw: Path, out: Path, *, rate: int, channels: int = 1, sample_width: int = 2) -> None:
    """Write raw little-endian PCM samples from ``raw`` as a WAV file at ``out``."""
    tmp = out.with_name(f".{out.name}.part")
    try:
        with raw.open("rb") as source, wave.open(str(tmp), "wb") as target:
            target.setnchannels(channels)
            target.setsampwidth(sample_width)
            target.setframerate(rate)
            while chunk := source.read(1024 * 1024):
                target.writeframes(chunk)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


@dataclass(frozen=True)
class SpeechPlan:
    """One vendor request: where it goes, what it sends and what comes back.

    ``pcm_rate``: the answer is raw 16-bit mono PCM at this rate (wrapped into WAV), else None.
    ``lookup``: the fields a vendor's history item must match to be this request (see ``find``).
    """

    url: str
    body: Mapping[str, Any]
    model: str
    params: Mapping[str, str] = field(default_factory=dict)
    pcm_rate: int | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Speech:
    """A speech request the vendor answered. ``file``: its bytes as received (None when the
    handle was rebuilt from the ledger); ``audio_url``: where the vendor serves it again."""

    id: str
    file: Path | None = None
    audio_url: str | None = None
    usage: Mapping[str, Any] = field(default_factory=dict)
    error: ProviderError | None = None  # the answer arrived but cannot be used (too large, empty)


class SpeechSession(VendorSession):
    """A vendor session that can send a synchronous, billed request whose answer is a file."""

    def synthesize(self, url: str, *, json: Any, params: Mapping[str, str], out: Path,
                   before_send: Callable[[], None]) -> tuple[httpx.Headers, ProviderError | None]:
        """POST ``json`` and stream the audio answer into ``out``; the answer's headers, and the
        error that makes the bytes unusable (size cap, empty), if any.

        Sent like a create (:meth:`VendorSession.create`): resent only when the vendor refused it
        (429, 503, no connection). A lost answer, a 500/502/504 or a body that broke off raises
        :class:`CreateUnanswered`: the vendor may have billed it.
        """
        response = self._send("POST", url, json=json, params=params, create=True, stream=True,
                              before_send=before_send)
        try:
            try:
                self._write_stream(response, out, url)
            except httpx.TransportError as exc:
                raise CreateUnanswered(f"the audio broke off ({type(exc).__name__})") from None
            except ProviderError as exc:
                if exc.code in ("cancelled", "timeout"):
                    raise
                return response.headers, exc
            return response.headers, None
        finally:
            response.close()


class DirectSpeechProvider(HttpProvider, abc.ABC):
    """A text-to-speech vendor: subclasses say how a request is built and how the answer is named."""

    def __init__(self, *, base_url: str, api_key: SecretStr | str | None, policy: HttpPolicy,
                 timing: Timing | None = None):
        super().__init__(base_url=base_url, api_key=api_key, policy=policy, timing=timing)

    # -- what a vendor says --------------------------------------------------------------------

    @abc.abstractmethod
    def plan(self, request: SpeechRequest) -> SpeechPlan:
        """The vendor's request for ``request``: URL, body, query and how to read the answer."""

    def answered(self, plan: SpeechPlan, headers: httpx.Headers, file: Path) -> Speech:
        """The handle for an answered request: the vendor's id from its headers (or our own)."""
        return Speech(id=f"{self.name}-{uuid.uuid4().hex}", file=file)

    def refetch_url(self, session: SpeechSession, plan: SpeechPlan, speech: Speech) -> str | None:
        """Where the vendor serves an answered request's audio again (None: nowhere)."""
        return speech.audio_url

    def finder(self, session: SpeechSession, plan: SpeechPlan) -> Callable[[dt.datetime], Sequence[Speech]] | None:
        """How to find a request whose answer was lost (None: the vendor offers no way)."""
        return None

    # -- the call -----------------------------------------------------------------------------

    def session(self, api_key: str | None, cancel: threading.Event) -> SpeechSession:
        """The call's key wins over the server's; without either the provider is not configured."""
        key = api_key or self._server_key.value
        if not key:
            raise ProviderError(f"{self.name} is not configured: set {self.key_setting} on the server, or pass "
                                f"the model's apiKey (providerApiKeys.{self.name})", code="provider_unavailable")
        if not _HEADER_SAFE.match(key):
            raise ProviderError(f"the {self.name} API key contains characters not allowed in an HTTP header",
                                code="provider_auth")
        session = SpeechSession(self.name, base_url=self.base_url, auth=self.key_headers(key), secret=key,
                                policy=self.policy, timing=self.timing, cancel=cancel)
        session.server_key = not api_key
        return session

    def speak(self, request: SpeechRequest, *, out_dir: Path, api_key: str | None, on_progress: ProgressCallback,
              cancel: threading.Event, ledger: Ledger | None = None) -> ProviderResult:
        """Synthesise ``request`` into ``out_dir/speech.<mp3|wav|ogg>`` (see the module docstring)."""
        plan = self.plan(request)
        out_dir.mkdir(parents=True, exist_ok=True)
        raw = out_dir / ".speech.download"
        session = self.session(api_key, cancel)
        with session:

            def create(before_send: Callable[[], None]) -> Speech:
                headers, error = session.synthesize(plan.url, json=plan.body, params=plan.params, out=raw,
                                                    before_send=before_send)
                answered = self.answered(plan, headers, raw)
                return Speech(answered.id, raw, answered.audio_url, answered.usage, error)

            call: VendorCall[Speech] = VendorCall(
                step=STEP, model=plan.model,
                body={"url": where(plan.url), "params": dict(plan.params), "json": plan.body},
                create=create,
                ref=lambda speech: VendorRef(speech.id, get_url=speech.audio_url),
                rebuild=lambda ref: Speech(ref.vendor_job_id, audio_url=ref.get_url),
                state=lambda speech: self._state(session, plan, speech, out_dir),
                cancel=lambda speech: False,  # answered: nothing runs at the vendor any more
                find=self.finder(session, plan),
            )
            try:
                run = run_once(session, call, ledger, on_progress)
            finally:
                raw.unlink(missing_ok=True)
        path = Path(run.output)
        on_progress(1.0)
        details = {"requestId": run.handle.id, "bytes": path.stat().st_size, "format": path.suffix.lstrip("."),
                   **plan.details, **dict(run.handle.usage), **run.billing}
        return ProviderResult(path=path, provider=self.name, model=plan.model, details=details)

    def _state(self, session: SpeechSession, plan: SpeechPlan, speech: Speech, out_dir: Path) -> PollState:
        """The request's outcome: its audio checked and named, or why there is none."""
        if speech.error is not None:
            return PollState(failure=speech.error, vendor_status="answered")
        raw = speech.file
        if raw is None or not raw.is_file():
            url = self.refetch_url(session, plan, speech)
            if url is None:
                return PollState(failure=ProviderError(
                    f"{self.name} answered request {speech.id} earlier, but its audio was not kept and {self.name} "
                    "offers no way to fetch it again", code="provider_failed"), vendor_status="answered")
            raw = out_dir / ".speech.download"
            session.download(url, raw, authorised=True)
        try:
            path = self._finish(plan, raw, out_dir, speech.id)
        except ProviderError as exc:
            return PollState(failure=exc, vendor_status="answered", usage=speech.usage or None)
        return PollState(done=True, output=path, vendor_status="answered", usage=speech.usage or None)

    def _finish(self, plan: SpeechPlan, raw: Path, out_dir: Path, job: str) -> Path:
        """The answer as ``out_dir/speech.<suffix>`` after what its bytes are (PCM wrapped into WAV)."""
        if plan.pcm_rate is not None:
            size = raw.stat().st_size
            if size < 2 or size % 2:
                raise ProviderError(f"{self.name} returned {size} bytes, not 16-bit PCM samples", code="provider_failed")
            out = out_dir / "speech.wav"
            wrap_pcm(raw, out, rate=plan.pcm_rate)
            return out
        return place(raw, out_dir, "speech", "audio", vendor=self.name, job=job)[0]


def number(value: Any) -> TypeGuard[float]:
    """Whether ``value`` is a JSON number (a bool is not)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)
