"""The vendor-job ledger's queries: every paid job a vendor was asked to run, durably, per job attempt.

A vendor call of a job (``step``: ``generate``, ``lip_sync``, ``transcribe``) goes through rows of
``vendor_jobs`` numbered by ``vendor_attempt``:

* the caller *claims* the next attempt (an INSERT: ``(execution, job, step, attempt)`` is unique,
  so of two racing workers exactly one gets to send the create) with status ``creating``, a
  holder (``host:pid:token``) and a lease, before anything is sent;
* the moment the vendor acknowledges the create, the row gets the vendor's job id, its URLs and
  ``submitted`` - before any polling - and later the outcome: ``succeeded`` (output URL, usage),
  ``failed`` or ``canceled``;
* a create whose answer was lost ends ``unconfirmed`` when the vendor offers no way to find the
  job (the evidence stays in the row), or the row adopts the job a lookup found.

Which attempt is current is what makes runs safe to repeat: an attempt is *reused* (polled, its
output downloaded again) while it is ``creating``, ``submitted`` or ``succeeded``, and stays a
blocker while ``unconfirmed``; only an attempt that ended in a failure (:data:`ENDED`) lets the
next create happen. Job rows count every start (``attempts``), so they cannot tell a resumed run
from a deliberate retry; the ledger's attempt number can. A deliberate retry (``POST /retry``)
releases ``unconfirmed`` attempts (:func:`release_unconfirmed`), accepting that risk knowingly.

:class:`JobLedger` (durable, per job) and :class:`MemoryLedger` (one call, no database) have the
same methods; :mod:`vidassets.providers.ledger` drives either.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import secrets
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vidassets.storage.db import rowcount, session_scope
from vidassets.storage.models import VendorJobRow, VendorWebhookDeliveryRow, utcnow

CREATING, SUBMITTED, SUCCEEDED = "creating", "submitted", "succeeded"
FAILED, CANCELED, NOT_CREATED, UNCONFIRMED = "failed", "canceled", "not_created", "unconfirmed"
RELEASED, OUTPUT_LOST = "released", "output_lost"
#: A vendor job may still run (and bill): these are polled, cancelled with the execution.
IN_FLIGHT = frozenset({CREATING, SUBMITTED})
#: The attempt ended without an output we can use: the next call may create a new vendor job.
ENDED = frozenset({FAILED, CANCELED, NOT_CREATED, RELEASED, OUTPUT_LOST})
EVIDENCE_MAX = 50


@dataclass(frozen=True)
class VendorRef:
    """What a vendor said about a job it created: its id and where to poll and cancel it."""

    vendor_job_id: str
    get_url: str | None = None
    cancel_url: str | None = None
    urls: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VendorJob:
    """A ledger row as read (a snapshot: change it through the ledger)."""

    id: str
    execution_id: str
    job_id: str
    step: str
    vendor_attempt: int
    vendor: str
    model: str
    status: str
    input_digest: str
    created_at: dt.datetime
    vendor_job_id: str | None = None
    get_url: str | None = None
    cancel_url: str | None = None
    urls: Mapping[str, Any] = field(default_factory=dict)
    holder: str | None = None
    lease_until: dt.datetime | None = None
    posts: int = 0
    vendor_status: str | None = None
    output_url: str | None = None
    usage: Mapping[str, Any] | None = None
    error_code: str | None = None
    error: str | None = None
    evidence: Sequence[Mapping[str, Any]] = ()
    submitted_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    hook_token: str | None = field(default=None, repr=False)  # in the webhook URL: binds a delivery to this attempt
    hook: Mapping[str, Any] | None = None  # the last verified webhook delivery (vidassets.vendorhooks)
    billed_seconds: float | None = None

    @property
    def ref(self) -> VendorRef | None:
        if not self.vendor_job_id:
            return None
        return VendorRef(self.vendor_job_id, self.get_url, self.cancel_url, dict(self.urls or {}))

    @classmethod
    def of(cls, row: VendorJobRow) -> VendorJob:
        values = {f.name: getattr(row, f.name) for f in dataclasses.fields(cls)}
        values["urls"] = dict(row.urls or {})
        values["evidence"] = tuple(row.evidence or ())
        return cls(**values)


def this_host() -> str:
    return socket.gethostname()


def new_holder() -> str:
    """Who is sending a create: this host and process, and a token for this one call."""
    return f"{this_host()}:{os.getpid()}:{secrets.token_hex(4)}"


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs on this host; a zombie (killed, not yet reaped) does not."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (FileNotFoundError, IndexError):
        return False
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return True


def holder_alive(job: VendorJob, me: str, now: dt.datetime | None = None) -> bool:
    """May the holder of a ``creating`` row still be sending (or about to record) its create?

    Not once its lease ran out (a holder renews it before every request it sends, and gives it up
    when it stops). Before that, a holder in another process on this host is alive while that
    process is (a worker killed with SIGKILL is not, at once); any other is taken at its lease's word.
    """
    if job.holder is None or job.holder == me:
        return False
    if job.lease_until is None or job.lease_until <= (now or utcnow()):
        return False
    host, _, rest = job.holder.partition(":")
    pid = rest.partition(":")[0]
    if host == this_host() and pid.isdigit() and int(pid) != os.getpid():
        return process_alive(int(pid))
    return True


def _event(event: str, detail: Mapping[str, Any]) -> dict[str, Any]:
    return {"at": utcnow().isoformat(), "event": event, **{k: v for k, v in detail.items() if v is not None}}


def _lease(seconds: float) -> dt.datetime:
    return utcnow() + dt.timedelta(seconds=seconds)


def new_hook_token() -> str:
    """The secret part of an attempt's webhook URL (192 random bits, URL-safe)."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Delivery:
    """A verified vendor webhook delivery, as :meth:`VendorJobRepository.accept_delivery` records it:
    ``ref`` puts the vendor's job on an attempt whose create answer was not recorded yet."""

    vendor: str
    delivery_id: str
    hook: Mapping[str, Any]
    vendor_status: str | None = None
    ref: VendorRef | None = None
    usage: Mapping[str, Any] | None = None
    billed_seconds: float | None = None


class DeliveryRefused(Exception):
    """A delivery that must change nothing: ``replayed`` (its id was accepted before) or
    ``mismatched`` (its vendor job is recorded on another attempt)."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class VendorUsage:
    """One ledger row as the status answer and the metrics need it."""

    job_id: str
    vendor: str
    model: str
    status: str
    vendor_attempt: int
    billed_seconds: float | None
    usage: Mapping[str, Any] | None


class VendorJobRepository:
    """Reads and writes of ``vendor_jobs`` (see the module docstring for the life of a row)."""

    def __init__(self, db_url: str):
        self.db_url = db_url

    def for_job(self, execution_id: str, job_id: str) -> JobLedger:
        return JobLedger(self, execution_id, job_id)

    # -- reads ----------------------------------------------------------------------------

    def latest(self, execution_id: str, job_id: str, step: str) -> VendorJob | None:
        with session_scope(self.db_url) as s:
            row = s.scalars(select(VendorJobRow).where(
                VendorJobRow.execution_id == execution_id, VendorJobRow.job_id == job_id, VendorJobRow.step == step,
            ).order_by(VendorJobRow.vendor_attempt.desc()).limit(1)).one_or_none()
            return VendorJob.of(row) if row else None

    def get(self, row_id: str) -> VendorJob | None:
        with session_scope(self.db_url) as s:
            row = s.get(VendorJobRow, row_id)
            return VendorJob.of(row) if row else None

    def for_execution(self, execution_id: str, statuses: Iterable[str] | None = None) -> list[VendorJob]:
        with session_scope(self.db_url) as s:
            stmt = select(VendorJobRow).where(VendorJobRow.execution_id == execution_id)
            if statuses is not None:
                stmt = stmt.where(VendorJobRow.status.in_(list(statuses)))
            rows = s.scalars(stmt.order_by(VendorJobRow.created_at, VendorJobRow.job_id, VendorJobRow.vendor_attempt))
            return [VendorJob.of(r) for r in rows]

    # -- claims ---------------------------------------------------------------------------

    def claim(self, execution_id: str, job_id: str, step: str, attempt: int, *, vendor: str, model: str,
              input_digest: str, holder: str, lease_s: float) -> VendorJob | None:
        """Insert attempt ``attempt`` as ``creating``; None when another worker claimed it first."""
        now = utcnow()
        row = VendorJobRow(id=secrets.token_hex(16), execution_id=execution_id, job_id=job_id, step=step,
                           vendor_attempt=attempt, vendor=vendor, model=model[:255], status=CREATING,
                           input_digest=input_digest, holder=holder, lease_until=_lease(lease_s), posts=0,
                           hook_token=new_hook_token(),
                           evidence=[_event("claimed", {"holder": holder})], created_at=now, updated_at=now)
        try:
            with session_scope(self.db_url) as s:
                s.add(row)
        except IntegrityError:
            return None
        return VendorJob.of(row)

    def take_over(self, job: VendorJob, *, holder: str, lease_s: float, reason: str) -> VendorJob | None:
        """Become the holder of a ``creating`` row whose holder stopped; None if someone else did."""
        with session_scope(self.db_url) as s:
            moved = s.execute(update(VendorJobRow).where(
                VendorJobRow.id == job.id, VendorJobRow.status == CREATING, VendorJobRow.holder == job.holder,
            ).values(holder=holder, lease_until=_lease(lease_s), updated_at=utcnow()))
            if not rowcount(moved):
                return None
        return self.note(job.id, "taken over", previous=job.holder, holder=holder, reason=reason)

    def renew(self, row_id: str, holder: str, lease_s: float, *, posted: bool = False) -> bool:
        """Extend the holder's lease; ``posted`` also counts a create request about to be sent."""
        values: dict[str, Any] = {"lease_until": _lease(lease_s), "updated_at": utcnow()}
        if posted:
            values["posts"] = VendorJobRow.posts + 1
        with session_scope(self.db_url) as s:
            moved = s.execute(update(VendorJobRow).where(
                VendorJobRow.id == row_id, VendorJobRow.status == CREATING, VendorJobRow.holder == holder,
            ).values(**values))
            return bool(rowcount(moved))

    def let_go(self, row_id: str, holder: str, reason: str) -> None:
        """Give up a claim at once (its lease ends now), so the next call recovers the create."""
        with session_scope(self.db_url) as s:
            moved = s.execute(update(VendorJobRow).where(
                VendorJobRow.id == row_id, VendorJobRow.status == CREATING, VendorJobRow.holder == holder,
            ).values(lease_until=utcnow(), updated_at=utcnow()))
        if rowcount(moved):
            self.note(row_id, "let go", reason=reason)

    # -- what the vendor said -------------------------------------------------------------

    def created(self, row_id: str, ref: VendorRef, *, how: str = "acknowledged") -> VendorJob | None:
        """Record the vendor's job on an attempt still being created; the first answer recorded
        wins (a lease that ran out can make two). None when the attempt already has its job or
        this one is recorded for another attempt (a lookup found someone else's)."""
        now = utcnow()
        try:
            with session_scope(self.db_url) as s:
                moved = s.execute(update(VendorJobRow).where(
                    VendorJobRow.id == row_id, VendorJobRow.status == CREATING,
                ).values(status=SUBMITTED, vendor_job_id=ref.vendor_job_id, get_url=ref.get_url,
                         cancel_url=ref.cancel_url, urls=dict(ref.urls), submitted_at=now, lease_until=None,
                         updated_at=now))
                if not rowcount(moved):
                    return None
        except IntegrityError:
            return None
        return self.note(row_id, how, vendor_job_id=ref.vendor_job_id)

    def finish(self, row_id: str, status: str, *, vendor_status: str | None = None, output_url: str | None = None,
               usage: Mapping[str, Any] | None = None, error_code: str | None = None, error: str | None = None,
               event: str | None = None, billed_seconds: float | None = None, **detail: Any) -> VendorJob | None:
        """An outcome: ``succeeded``, ``failed``, ``canceled``, ``not_created``, ``unconfirmed``,
        ``output_lost``. A released row stays released."""
        values: dict[str, Any] = {"status": status, "updated_at": utcnow(), "lease_until": None}
        if status != SUBMITTED:
            values["finished_at"] = utcnow()
        for name, value in (("vendor_status", vendor_status), ("output_url", output_url), ("error_code", error_code),
                            ("error", error[:4000] if error else None), ("billed_seconds", billed_seconds)):
            if value is not None:
                values[name] = value
        if usage:
            values["usage"] = dict(usage)
        with session_scope(self.db_url) as s:
            s.execute(update(VendorJobRow).where(VendorJobRow.id == row_id, VendorJobRow.status != RELEASED)
                      .values(**values))
        return self.note(row_id, event or status, error_code=error_code, **detail)

    def note(self, row_id: str, event: str, **detail: Any) -> VendorJob | None:
        """Append to the row's evidence (what was sent, answered, looked up, decided)."""
        with session_scope(self.db_url) as s:
            row = s.get(VendorJobRow, row_id, with_for_update=True)
            if row is None:
                return None
            row.evidence = [*(row.evidence or []), _event(event, detail)][-EVIDENCE_MAX:]
            row.updated_at = utcnow()
            s.flush()
            return VendorJob.of(row)


    # -- webhooks in ----------------------------------------------------------------------

    def by_token(self, token: str) -> VendorJob | None:
        """The attempt whose webhook URL carries ``token``."""
        with session_scope(self.db_url) as s:
            row = s.scalars(select(VendorJobRow).where(VendorJobRow.hook_token == token)).one_or_none()
            return VendorJob.of(row) if row else None

    def accept_delivery(self, row_id: str, delivery: Delivery) -> VendorJob:
        """Record a verified delivery on its attempt, all or nothing: its id (a replay is refused
        by the primary key), the vendor's job on an attempt still ``creating`` (as the worker's own
        record would: the first one wins), the vendor's status and usage while the job is in
        flight, and the delivery itself. Raises :class:`DeliveryRefused`."""
        step = "replayed"
        try:
            with session_scope(self.db_url) as s:
                row = s.get(VendorJobRow, row_id, with_for_update=True)
                if row is None:
                    raise DeliveryRefused("mismatched", "the vendor job this delivery names is gone")
                s.add(VendorWebhookDeliveryRow(vendor=delivery.vendor, delivery_id=delivery.delivery_id[:128],
                                               vendor_job_row=row_id, received_at=utcnow()))
                s.flush()
                step = "mismatched"
                _apply_delivery(row, delivery)
                s.flush()
                return VendorJob.of(row)
        except IntegrityError:
            message = ("this delivery was received before" if step == "replayed"
                       else "its vendor job is recorded for another attempt")
            raise DeliveryRefused(step, message) from None

    # -- usage ----------------------------------------------------------------------------

    def usage_of_execution(self, execution_id: str) -> list[VendorUsage]:
        """The execution's vendor jobs, oldest first, with what each used (the status answer)."""
        with session_scope(self.db_url) as s:
            rows = s.execute(select(
                VendorJobRow.job_id, VendorJobRow.vendor, VendorJobRow.model, VendorJobRow.status,
                VendorJobRow.vendor_attempt, VendorJobRow.billed_seconds, VendorJobRow.usage,
            ).where(VendorJobRow.execution_id == execution_id)
                .order_by(VendorJobRow.created_at, VendorJobRow.job_id, VendorJobRow.vendor_attempt)).all()
        return [VendorUsage(*row) for row in rows]

    def usage_totals(self) -> list[tuple[str, str, int, float, int]]:
        """Per vendor and model, over every vendor job that billed (succeeded, or reported usage):
        jobs, billed seconds in all, and how many of the jobs reported seconds."""
        billed = (VendorJobRow.status == SUCCEEDED) | VendorJobRow.billed_seconds.is_not(None)
        with session_scope(self.db_url) as s:
            rows = s.execute(select(
                VendorJobRow.vendor, VendorJobRow.model, func.count(), func.coalesce(func.sum(VendorJobRow.billed_seconds), 0.0),
                func.count(VendorJobRow.billed_seconds),
            ).where(billed).group_by(VendorJobRow.vendor, VendorJobRow.model)).all()
        return [(str(v), str(m), int(n), float(sec or 0.0), int(with_seconds)) for v, m, n, sec, with_seconds in rows]


def _apply_delivery(row: VendorJobRow, delivery: Delivery) -> None:
    """A verified delivery's changes to its ledger row (see :meth:`VendorJobRepository.accept_delivery`)."""
    now = utcnow()
    detail: dict[str, Any] = {"delivery": delivery.delivery_id, "vendor_status": delivery.vendor_status}
    # An attempt without the vendor's job (its create answer lost, or not recorded yet, maybe by a
    # dead worker) gets it: it is followed from now on instead of failing unconfirmed.
    if delivery.ref is not None and row.status in (CREATING, UNCONFIRMED) and row.vendor_job_id is None:
        row.status, row.vendor_job_id = SUBMITTED, delivery.ref.vendor_job_id
        row.get_url, row.cancel_url, row.urls = delivery.ref.get_url, delivery.ref.cancel_url, dict(delivery.ref.urls)
        row.submitted_at, row.lease_until, row.finished_at = now, None, None
        detail["recorded"] = delivery.ref.vendor_job_id
    if row.status in IN_FLIGHT and delivery.vendor_status:
        row.vendor_status = delivery.vendor_status[:32]
    if delivery.usage and not row.usage:
        row.usage = dict(delivery.usage)
    if delivery.billed_seconds is not None and row.billed_seconds is None:
        row.billed_seconds = delivery.billed_seconds
    row.hook = {**dict(delivery.hook), "at": now.isoformat()}
    row.evidence = [*(row.evidence or []), _event("webhook", detail)][-EVIDENCE_MAX:]
    row.updated_at = now


def release_unconfirmed(session: Session, execution_id: str, job_ids: Sequence[str]) -> None:
    """A deliberate retry of these jobs: their ``unconfirmed`` attempts no longer block a new create."""
    if job_ids:
        session.execute(update(VendorJobRow).where(
            VendorJobRow.execution_id == execution_id, VendorJobRow.job_id.in_(list(job_ids)),
            VendorJobRow.status == UNCONFIRMED,
        ).values(status=RELEASED, updated_at=utcnow()))


class JobLedger:
    """The ledger as one job sees it (what :class:`~vidassets.execution.operations.JobContext`
    carries to the providers): its steps' attempts, claimed under one holder identity."""

    durable = True

    def __init__(self, repo: VendorJobRepository, execution_id: str, job_id: str):
        self.repo = repo
        self.execution_id = execution_id
        self.job_id = job_id
        self.holder = new_holder()

    def __repr__(self) -> str:
        return f"JobLedger({self.execution_id!r}, {self.job_id!r})"

    def latest(self, step: str) -> VendorJob | None:
        return self.repo.latest(self.execution_id, self.job_id, step)

    def reload(self, job: VendorJob) -> VendorJob | None:
        return self.repo.get(job.id)

    def claim(self, step: str, attempt: int, *, vendor: str, model: str, input_digest: str,
              lease_s: float) -> VendorJob | None:
        return self.repo.claim(self.execution_id, self.job_id, step, attempt, vendor=vendor, model=model,
                               input_digest=input_digest, holder=self.holder, lease_s=lease_s)

    def holder_alive(self, job: VendorJob) -> bool:
        return holder_alive(job, self.holder)

    def take_over(self, job: VendorJob, *, lease_s: float, reason: str) -> VendorJob | None:
        return self.repo.take_over(job, holder=self.holder, lease_s=lease_s, reason=reason)

    def renew(self, job: VendorJob, lease_s: float, *, posted: bool = False) -> bool:
        return self.repo.renew(job.id, self.holder, lease_s, posted=posted)

    def let_go(self, job: VendorJob, reason: str) -> None:
        self.repo.let_go(job.id, self.holder, reason)

    def created(self, job: VendorJob, ref: VendorRef, *, how: str = "acknowledged") -> VendorJob | None:
        return self.repo.created(job.id, ref, how=how)

    def finish(self, job: VendorJob, status: str, **values: Any) -> VendorJob | None:
        return self.repo.finish(job.id, status, **values)

    def note(self, job: VendorJob, event: str, **detail: Any) -> VendorJob | None:
        return self.repo.note(job.id, event, **detail)


class MemoryLedger:
    """The same ledger for one provider call without a database (direct provider use, tests):
    the create-once rules hold within the call; nothing survives the process."""

    durable = False

    def __init__(self) -> None:
        self.rows: dict[str, VendorJob] = {}
        self.holder = new_holder()

    def latest(self, step: str) -> VendorJob | None:
        mine = [r for r in self.rows.values() if r.step == step]
        return max(mine, key=lambda r: r.vendor_attempt) if mine else None

    def reload(self, job: VendorJob) -> VendorJob | None:
        return self.rows.get(job.id)

    def claim(self, step: str, attempt: int, *, vendor: str, model: str, input_digest: str,
              lease_s: float) -> VendorJob | None:
        if any(r.step == step and r.vendor_attempt == attempt for r in self.rows.values()):
            return None
        job = VendorJob(id=secrets.token_hex(16), execution_id="", job_id="", step=step, vendor_attempt=attempt,
                        vendor=vendor, model=model, status=CREATING, input_digest=input_digest,
                        created_at=utcnow(), holder=self.holder, lease_until=_lease(lease_s),
                        hook_token=new_hook_token())
        self.rows[job.id] = job
        return job

    def holder_alive(self, job: VendorJob) -> bool:
        return False

    def take_over(self, job: VendorJob, *, lease_s: float, reason: str) -> VendorJob | None:
        return self._change(job, holder=self.holder, lease_until=_lease(lease_s))

    def renew(self, job: VendorJob, lease_s: float, *, posted: bool = False) -> bool:
        current = self.rows[job.id]
        self._change(job, lease_until=_lease(lease_s), posts=current.posts + (1 if posted else 0))
        return True

    def let_go(self, job: VendorJob, reason: str) -> None:
        self._change(job, lease_until=utcnow())

    def created(self, job: VendorJob, ref: VendorRef, *, how: str = "acknowledged") -> VendorJob | None:
        taken = any(r.vendor_job_id == ref.vendor_job_id for r in self.rows.values())
        if self.rows[job.id].status != CREATING or taken:
            return None
        return self._change(job, status=SUBMITTED, vendor_job_id=ref.vendor_job_id, get_url=ref.get_url,
                            cancel_url=ref.cancel_url, urls=dict(ref.urls), submitted_at=utcnow())

    def finish(self, job: VendorJob, status: str, *, vendor_status: str | None = None, output_url: str | None = None,
               usage: Mapping[str, Any] | None = None, error_code: str | None = None, error: str | None = None,
               event: str | None = None, billed_seconds: float | None = None, **detail: Any) -> VendorJob | None:
        current = self.rows[job.id]
        return self._change(job, status=status, vendor_status=vendor_status or current.vendor_status,
                            output_url=output_url or current.output_url, usage=usage or current.usage,
                            error_code=error_code or current.error_code, error=error or current.error,
                            billed_seconds=current.billed_seconds if billed_seconds is None else billed_seconds)

    def note(self, job: VendorJob, event: str, **detail: Any) -> VendorJob | None:
        current = self.rows[job.id]
        return self._change(job, evidence=(*current.evidence, _event(event, detail))[-EVIDENCE_MAX:])

    def _change(self, job: VendorJob, **values: Any) -> VendorJob:
        self.rows[job.id] = dataclasses.replace(self.rows[job.id], **values)
        return self.rows[job.id]
