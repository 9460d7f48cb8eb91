"""The webhook outbox's queries: enqueue, claim due deliveries with a lease, record attempts."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence

from sqlalchemy import or_, select, update

from vidassets.storage.db import rowcount, session_scope
from vidassets.storage.models import WebhookAttemptRow, WebhookDeliveryRow, utcnow


def new_message_id() -> str:
    return f"msg_{secrets.token_hex(12)}"


class WebhookRepository:
    def __init__(self, db_url: str):
        self.db_url = db_url

    def enqueue(self, *, execution_id: str, event: str, url: str, payload: str,
                now: dt.datetime | None = None) -> WebhookDeliveryRow:
        row = WebhookDeliveryRow(id=new_message_id(), execution_id=execution_id, event=event, url=url,
                                 payload=payload, status="pending", attempts=0,
                                 next_attempt_at=now or utcnow(), created_at=now or utcnow())
        with session_scope(self.db_url) as s:
            s.add(row)
        return row

    def claim_due(self, now: dt.datetime, *, lease_s: float, limit: int = 50) -> list[WebhookDeliveryRow]:
        """Optimistic per-row claim (works on SQLite and PostgreSQL): a row is ours if our
        UPDATE moved its lease; two deliverers never send the same attempt."""
        with session_scope(self.db_url) as s:
            candidates = list(s.scalars(
                select(WebhookDeliveryRow.id).where(
                    WebhookDeliveryRow.status == "pending", WebhookDeliveryRow.next_attempt_at <= now,
                    or_(WebhookDeliveryRow.locked_until.is_(None), WebhookDeliveryRow.locked_until < now),
                ).order_by(WebhookDeliveryRow.next_attempt_at).limit(limit)))
        claimed: list[WebhookDeliveryRow] = []
        lease = now + dt.timedelta(seconds=lease_s)
        for delivery_id in candidates:
            with session_scope(self.db_url) as s:
                res = s.execute(update(WebhookDeliveryRow).where(
                    WebhookDeliveryRow.id == delivery_id, WebhookDeliveryRow.status == "pending",
                    or_(WebhookDeliveryRow.locked_until.is_(None), WebhookDeliveryRow.locked_until < now),
                ).values(locked_until=lease))
                if rowcount(res) == 1:
                    claimed.append(s.get(WebhookDeliveryRow, delivery_id))  # type: ignore[arg-type]
        return claimed

    def record_attempt(self, delivery_id: str, *, attempt: int, started_at: dt.datetime, status_code: int | None,
                       latency_ms: float, error: str | None, outcome: str,
                       next_attempt_at: dt.datetime | None) -> None:
        with session_scope(self.db_url) as s:
            s.add(WebhookAttemptRow(delivery_id=delivery_id, attempt=attempt, started_at=started_at,
                                    status_code=status_code, latency_ms=latency_ms,
                                    error=error[:2000] if error else None, outcome=outcome))
            values: dict[str, object] = {"attempts": attempt, "last_status_code": status_code,
                                         "last_error": error[:2000] if error else None, "locked_until": None}
            if outcome == "delivered":
                values.update(status="delivered", delivered_at=started_at)
            elif outcome == "failed":
                values.update(status="failed")
            else:
                values.update(next_attempt_at=next_attempt_at)
            s.execute(update(WebhookDeliveryRow).where(WebhookDeliveryRow.id == delivery_id).values(**values))

    def for_execution(self, execution_id: str) -> list[tuple[WebhookDeliveryRow, list[WebhookAttemptRow]]]:
        with session_scope(self.db_url) as s:
            deliveries = list(s.scalars(select(WebhookDeliveryRow).where(WebhookDeliveryRow.execution_id == execution_id)
                                        .order_by(WebhookDeliveryRow.created_at)))
            out = []
            for d in deliveries:
                attempts = list(s.scalars(select(WebhookAttemptRow).where(WebhookAttemptRow.delivery_id == d.id)
                                          .order_by(WebhookAttemptRow.attempt)))
                out.append((d, attempts))
            return out

    def redeliver(self, execution_id: str, now: dt.datetime | None = None) -> Sequence[str]:
        """Queue the execution's latest delivery of each event again, now (same id and body)."""
        with session_scope(self.db_url) as s:
            latest: dict[str, WebhookDeliveryRow] = {}
            for d in s.scalars(select(WebhookDeliveryRow).where(WebhookDeliveryRow.execution_id == execution_id)
                               .order_by(WebhookDeliveryRow.created_at)):
                latest[d.event] = d
            for d in latest.values():
                d.status = "pending"
                d.next_attempt_at = now or utcnow()
                d.locked_until = None
            return [d.id for d in latest.values()]
