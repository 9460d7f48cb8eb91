"""One paid vendor job per job attempt, whatever crashes, races and lost answers happen.

:func:`run_once` is how every vendor client runs a job. Against the job's ledger
(:mod:`vidassets.storage.vendor_jobs`) it:

1. reads the step's current attempt. One still in flight or succeeded is *followed* (polled, its
   output fetched again): that is what a resumed or retried run, or a second worker, does. One
   ``unconfirmed`` fails the job with ``vendor_create_unconfirmed`` again. Otherwise it claims
   the next attempt (an INSERT that only one of two racing workers wins) and only then creates;
2. sends the create (:meth:`VendorSession.create`: resent only when the vendor refused it) and
   records the vendor's id and URLs the moment it answers, before anything else;
3. when the answer was lost, looks for the job where the vendor offers a way (Replicate lists
   predictions) and adopts it, sends again only after two lookups found nothing, and otherwise
   fails with ``vendor_create_unconfirmed``, the evidence kept in the ledger row. A claim whose
   holder died (SIGKILL between sending and recording) is taken over and resolved the same way;
4. polls to the end and records the outcome and the vendor's usage (and the seconds it bills,
   :mod:`vidassets.providers.usage`). Whatever stops the polling (cancel, timeout, an error)
   cancels the job at the vendor and records whether that worked.

Webhooks in: when the vendor can deliver to this server (:meth:`HttpPolicy.webhook_url`), the
create carries the attempt's own URL (its ``hook_token``), recorded as ``webhook requested``
before it is sent. The API's receiver (:mod:`vidassets.vendorhooks`) writes a verified delivery
to the ledger row - from any host, through the database - and the poller, which re-reads the row
between its now slow polls, polls at once when one lands. A delivery for an attempt whose create
answer was never recorded records the vendor's job on it, so a dead worker's job is followed.

:func:`cancel_in_flight` cancels what an execution still has running at vendors.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from vidassets.providers.base import ProviderError
from vidassets.providers.http import CreateUnanswered, PollState, VendorSession, first_url
from vidassets.providers.usage import billed_seconds
from vidassets.storage.vendor_jobs import (
    CANCELED,
    CREATING,
    ENDED,
    FAILED,
    IN_FLIGHT,
    NOT_CREATED,
    OUTPUT_LOST,
    SUCCEEDED,
    UNCONFIRMED,
    MemoryLedger,
    VendorJob,
    VendorJobRepository,
    VendorRef,
    holder_alive,
)

if TYPE_CHECKING:
    from vidassets.providers.registry import ProviderRegistry

log = logging.getLogger(__name__)

H = TypeVar("H")
UNCONFIRMED_CODE = "vendor_create_unconfirmed"
#: A lookup starts this long before the claim: the vendor's clock is not ours.
LOOKUP_SKEW = dt.timedelta(seconds=60)
#: Looks (``lookup_settle_s`` apart) that must find nothing before a create is sent again.
LOOKUPS = 2
#: The evidence event that says the create asked the vendor for a webhook delivery.
WEBHOOK_REQUESTED = "webhook requested"
#: An output that cannot be used for these reasons will not become usable: the attempt is over.
_UNUSABLE_OUTPUT = frozenset({"provider_rejected", "provider_failed", "content_policy"})


class Ledger(Protocol):
    """What a job's vendor-job ledger offers (:class:`~vidassets.storage.vendor_jobs.JobLedger`,
    durable; :class:`~vidassets.storage.vendor_jobs.MemoryLedger`, one call)."""

    durable: bool

    def latest(self, step: str) -> VendorJob | None: ...
    def reload(self, job: VendorJob) -> VendorJob | None: ...
    def claim(self, step: str, attempt: int, *, vendor: str, model: str, input_digest: str,
              lease_s: float) -> VendorJob | None: ...
    def holder_alive(self, job: VendorJob) -> bool: ...
    def take_over(self, job: VendorJob, *, lease_s: float, reason: str) -> VendorJob | None: ...
    def renew(self, job: VendorJob, lease_s: float, *, posted: bool = False) -> bool: ...
    def let_go(self, job: VendorJob, reason: str) -> None: ...
    def created(self, job: VendorJob, ref: VendorRef, *, how: str = "acknowledged") -> VendorJob | None: ...
    def finish(self, job: VendorJob, status: str, **values: Any) -> VendorJob | None: ...
    def note(self, job: VendorJob, event: str, **detail: Any) -> VendorJob | None: ...


@dataclass(frozen=True)
class VendorCall(Generic[H]):
    """How a vendor client creates, finds, follows and cancels one kind of job; ``H`` is its handle."""

    step: str  # the job's call: generate, lip_sync, transcribe
    model: str
    body: Any  # the create request as sent: its digest is recorded
    # Send it: VendorSession.create(..., before_send=<the argument>); CreateUnanswered when the answer was lost.
    create: Callable[[Callable[[], None]], H]
    ref: Callable[[H], VendorRef]  # what to record
    rebuild: Callable[[VendorRef], H]  # a handle from what was recorded
    state: Callable[[H], PollState]
    cancel: Callable[[H], bool]  # whether the vendor accepted the cancel
    # Jobs this account created since a time whose request was this one, oldest first; None
    # when the vendor offers no way to find a job whose create got no answer.
    find: Callable[[dt.datetime], Sequence[H]] | None = None
    # Whether the create can carry a webhook (``session.webhook_url``) whose delivery this server
    # can verify: the ledger then gives it the attempt's URL and the poller waits for it.
    webhook: bool = False


@dataclass(frozen=True)
class VendorRun(Generic[H]):
    """A vendor job that finished: its handle, output and ledger row."""

    handle: H
    output: Any
    job: VendorJob
    ledger: Ledger
    billing: Mapping[str, Any] = field(default_factory=dict)  # billedSeconds, costUsd: for the job's result details

    def unusable(self, error: ProviderError) -> ProviderError:
        """The output cannot be used (gone, empty, refused): the attempt is over, so the next
        call may create a new job. Transient failures keep it, to be fetched again."""
        if error.code in _UNUSABLE_OUTPUT:
            self.ledger.finish(self.job, OUTPUT_LOST, error_code=error.code, error=str(error))
        return error

    def download(self, session: VendorSession, url: str, out: Path) -> int:
        try:
            return session.download(url, out)
        except ProviderError as exc:
            raise self.unusable(exc) from None


def input_digest(vendor: str, model: str, body: Any) -> str:
    """SHA-256 of what a create sends (model and body), recorded on the attempt."""
    data = json.dumps({"vendor": vendor, "model": model, "body": body}, sort_keys=True, default=str)
    return hashlib.sha256(data.encode()).hexdigest()


def run_once(session: VendorSession, call: VendorCall[H], ledger: Ledger | None = None,
             on_progress: Callable[[float], None] | None = None) -> VendorRun[H]:
    """Run ``call``'s vendor job for the current attempt (see the module docstring)."""
    book: Ledger = ledger if ledger is not None else MemoryLedger()
    job, handle = _acquire(session, call, book, input_digest(session.vendor, call.model, call.body))
    return _follow(session, call, book, job, handle, on_progress)


# -- the attempt ------------------------------------------------------------------------------


def _acquire(session: VendorSession, call: VendorCall[H], ledger: Ledger, digest: str) -> tuple[VendorJob, H]:
    """The step's current vendor job, created if the attempt needs one."""
    lease = session.policy.lease_s
    while True:
        session.check()
        current = ledger.latest(call.step)
        found: tuple[VendorJob, H] | None = None
        if current is None or current.status in ENDED:
            attempt = current.vendor_attempt + 1 if current else 1
            mine = ledger.claim(call.step, attempt, vendor=session.vendor, model=call.model,
                                input_digest=digest, lease_s=lease)
            found = _create(session, call, ledger, mine, None) if mine else None
        elif current.status == UNCONFIRMED:
            raise ProviderError(current.error or f"{session.vendor}: the create of this job is unconfirmed",
                                code=UNCONFIRMED_CODE)
        elif current.ref is not None:  # submitted or succeeded: follow it, never create another
            ledger.note(current, "followed")
            return current, call.rebuild(current.ref)
        elif ledger.holder_alive(current):  # another live worker is sending the create
            session.pause(session.policy.ledger_wait_s)
        else:
            taken = ledger.take_over(current, lease_s=lease, reason="its holder stopped before recording an answer")
            if taken is not None:
                # posts counts creates about to be sent: none means the holder died before sending.
                lost = "sent by a worker that stopped before its answer was recorded" if taken.posts else None
                found = _create(session, call, ledger, taken, lost)
        if found is not None:
            return found


def _create(session: VendorSession, call: VendorCall[H], ledger: Ledger, job: VendorJob,
            unanswered: str | None) -> tuple[VendorJob, H] | None:
    """Send the create for a claimed attempt and record the answer; a lost answer is looked up
    before anything is sent again. None: the claim passed to someone else, look again."""
    lease = session.policy.lease_s
    resent = 0
    settle: float | None = None
    hooked = ledger.durable and call.webhook
    session.webhook_url = session.policy.webhook_url(session.vendor, job.hook_token) if hooked else None
    if session.webhook_url is not None:
        job = ledger.note(job, WEBHOOK_REQUESTED) or job

    def before_send() -> None:  # every request, refusals' retries included, counted under a renewed claim
        if not ledger.renew(job, lease, posted=True):
            raise _ClaimLost()

    try:
        while True:
            if unanswered is not None:
                found = _look_up(session, call, ledger, job, unanswered, settle)
                if found is not _ABSENT:
                    return found  # type: ignore[return-value]
                if resent >= session.policy.max_retries:
                    raise _give_up(session, ledger, job, unanswered,
                                   f"{resent + 1} creates went unanswered and lookups found none of them")
                resent += 1
                ledger.note(job, "sending again", reason="two lookups found no job")
            try:
                handle = call.create(before_send)
            except _ClaimLost:
                return None
            except CreateUnanswered as exc:
                ledger.note(job, "create unanswered", reason=str(exc))
                unanswered = str(exc)
                settle = None if exc.retry_after is None else min(exc.retry_after, session.policy.max_retry_after_s)
                continue
            except ProviderError as exc:  # refused: nothing was created (earlier sends were looked up)
                ledger.finish(job, NOT_CREATED, error_code=exc.code, error=str(exc))
                raise
            recorded = _record(call, ledger, job, handle, "acknowledged")
            return None if recorded is _OTHERS else recorded  # type: ignore[return-value]
    except BaseException:
        ledger.let_go(job, "stopped while the create was being sent")  # no-op once it has an outcome
        raise


class _Marker:
    pass


class _ClaimLost(Exception):
    """Our claim on the attempt passed to another worker (our lease ran out) before a send."""


_ABSENT, _OTHERS = _Marker(), _Marker()


def _look_up(session: VendorSession, call: VendorCall[H], ledger: Ledger, job: VendorJob, reason: str,
             settle: float | None) -> tuple[VendorJob, H] | None | _Marker:
    """Find the job an unanswered create made and adopt it; ``_ABSENT`` when two lookups show
    it was not made. Raises ``vendor_create_unconfirmed`` when that cannot be known."""
    if call.find is None:
        current = ledger.reload(job)
        if current is not None and current.ref is not None:  # a webhook delivery named the job meanwhile
            return current, call.rebuild(current.ref)
        raise _give_up(session, ledger, job, reason, f"{session.vendor} offers no way to find the job it may have made")
    since = job.created_at - LOOKUP_SKEW
    for look in range(LOOKUPS):
        session.pause(settle if look == 0 and settle is not None else session.policy.lookup_settle_s)
        if not ledger.renew(job, session.policy.lease_s):
            return None
        try:
            candidates = call.find(since)
        except ProviderError as exc:
            ledger.note(job, "lookup failed", error=str(exc))
            ledger.let_go(job, "lookup failed")
            raise session.error(f"{session.vendor} did not answer the request that creates this job ({reason}) and "
                                f"looking for the job failed ({exc}); the next attempt looks again",
                                code="provider_unavailable", retryable=True) from None
        ledger.note(job, "looked up", candidates=len(candidates))
        for handle in candidates:
            recorded = _record(call, ledger, job, handle, "found by lookup")
            if recorded is not _OTHERS:
                return recorded
    return _ABSENT


def _record(call: VendorCall[H], ledger: Ledger, job: VendorJob, handle: H,
            how: str) -> tuple[VendorJob, H] | None | _Marker:
    """Put the vendor's job on the attempt. ``_OTHERS``: that vendor job is recorded for another
    attempt (a lookup found someone else's); None: the attempt got another job meanwhile."""
    ref = call.ref(handle)
    recorded = ledger.created(job, ref, how=how)
    if recorded is not None:
        return recorded, handle
    current = ledger.reload(job)
    if current is not None and current.status == CREATING:
        return _OTHERS
    if how == "acknowledged" and (current is None or current.vendor_job_id != ref.vendor_job_id):
        # Our lease ran out and another worker settled the attempt: nobody will follow this job.
        answered = call.cancel(handle)
        if current is not None:
            ledger.note(current, "orphan cancelled", vendor_job_id=ref.vendor_job_id, answered=answered)
        return _OTHERS
    return None


def _give_up(session: VendorSession, ledger: Ledger, job: VendorJob, reason: str, why: str) -> ProviderError:
    message = (f"{session.vendor} did not answer the request that creates this job ({reason}); it may have started "
               f"a paid job, and {why}, so the request was not sent again. The evidence is in the vendor-job "
               f"ledger (row {job.id}); retrying the execution creates a new job")
    ledger.finish(job, UNCONFIRMED, error_code=UNCONFIRMED_CODE, error=message)
    log.warning("%s", message)
    return ProviderError(message, code=UNCONFIRMED_CODE)


# -- following it -----------------------------------------------------------------------------


def _follow(session: VendorSession, call: VendorCall[H], ledger: Ledger, job: VendorJob, handle: H,
            on_progress: Callable[[float], None] | None) -> VendorRun[H]:
    try:
        final = session.poll(handle, call.state, on_progress, wake=_waker(ledger, job))
    except BaseException as exc:
        _stop(call, ledger, job, handle, exc)
        raise
    failure = final.failure
    seconds = billed_seconds(session.vendor, final.usage)
    if failure is not None:
        ledger.finish(job, CANCELED if failure.code in ("cancelled", "timeout") else FAILED,
                      vendor_status=final.vendor_status, usage=final.usage, billed_seconds=seconds,
                      error_code=failure.code, error=str(failure))
        raise failure
    done = ledger.finish(job, SUCCEEDED, vendor_status=final.vendor_status, output_url=first_url(final.output),
                         usage=final.usage, billed_seconds=seconds)
    cost = session.policy.prices.cost(session.vendor, job.model, seconds)
    billing = {k: v for k, v in (("billedSeconds", seconds), ("costUsd", cost)) if v is not None}
    return VendorRun(handle, final.output, done or job, ledger, billing)


def _waker(ledger: Ledger, job: VendorJob) -> Callable[[], bool] | None:
    """For an attempt whose create asked for a webhook: whether a delivery landed on its ledger
    row since the last look (the receiver may run on another host; the database is the channel)."""
    if not ledger.durable or not any(event.get("event") == WEBHOOK_REQUESTED for event in job.evidence):
        return None
    seen = job.hook

    def wake() -> bool:
        nonlocal seen
        current = ledger.reload(job)
        hook = current.hook if current is not None else None
        if hook is None or hook == seen:
            return False
        seen = hook
        return True

    return wake


def _stop(call: VendorCall[H], ledger: Ledger, job: VendorJob, handle: H, exc: BaseException) -> None:
    """Polling stopped early (cancel, deadline, an error): cancel the job at the vendor and say so.
    A cancel the vendor did not accept leaves the attempt in flight: the next run follows it,
    unless the vendor said it cannot give this job (a 4xx to the poll: unknown job, gone output)."""
    reason = str(getattr(exc, "code", "") or type(exc).__name__)
    gone = reason in _UNUSABLE_OUTPUT
    if job.status == SUCCEEDED:  # nothing runs at the vendor any more
        if gone:
            ledger.finish(job, OUTPUT_LOST, error_code=reason, error=str(exc))
        return
    if call.cancel(handle):
        ledger.finish(job, CANCELED, error_code=reason, error=f"cancelled at the vendor ({reason}): {exc}",
                      event="cancelled at the vendor")
    elif gone:
        ledger.finish(job, FAILED, error_code=reason, error=str(exc))
    else:
        ledger.note(job, "cancel not accepted", reason=reason)


# -- an execution's jobs ----------------------------------------------------------------------


def cancel_in_flight(repo: VendorJobRepository, registry: ProviderRegistry, execution_id: str,
                     secrets: Mapping[str, Any]) -> list[VendorJob]:
    """Cancel, at their vendors, the jobs an execution still has in flight (after it was cancelled:
    jobs of a worker that died, cancels a vendor did not accept). A create nobody is sending any
    more and whose answer was never recorded cannot be cancelled: it is marked unconfirmed."""
    handled: list[VendorJob] = []
    for job in repo.for_execution(execution_id, IN_FLIGHT):
        if job.status == CREATING:
            if holder_alive(job, me=""):
                continue
            if job.posts:
                repo.finish(job.id, UNCONFIRMED, error_code=UNCONFIRMED_CODE,
                            error="the execution was cancelled while this create was unanswered")
            else:
                repo.finish(job.id, NOT_CREATED, error_code="cancelled", error="the execution was cancelled")
        else:
            key = (secrets.get("jobs") or {}).get(job.job_id) or (secrets.get("providers") or {}).get(job.vendor)
            provider = _vendor(registry, job.vendor)
            answered = provider.cancel_recorded(job, key) if provider is not None else False
            if answered:
                repo.finish(job.id, CANCELED, error_code="cancelled", error="the execution was cancelled",
                            event="cancelled at the vendor")
            else:
                repo.note(job.id, "cancel not accepted", reason="execution cancelled")
        handled.append(job)
    return handled


def _vendor(registry: ProviderRegistry, name: str) -> Any:
    for lookup in (registry.get, registry.lip_sync, registry.transcriber, registry.image, registry.speech,
                   registry.matting):
        try:
            provider = lookup(name)
        except ProviderError:
            continue
        if hasattr(provider, "cancel_recorded"):
            return provider
    return None
