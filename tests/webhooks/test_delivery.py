"""The outbox deliverer against a real receiver, with the clock injected (no sleeping)."""

from __future__ import annotations

import datetime as dt
import json
import random
import time

from tests.conftest import Receiver
from tests.helpers import submit
from vidassets.storage.models import utcnow
from vidassets.webhooks.deliver import JITTER, RETRY_SCHEDULE_S, WebhookDeliverer
from vidassets.webhooks.events import enqueue_event
from vidassets_sdk import verify_webhook


def _finished_execution(services, url: str, secret: str | None = "topsecret") -> str:  # type: ignore[no-untyped-def]
    hook = {"url": url, **({"secret": secret} if secret else {})}
    eid = submit(services, {"jobs": [{"id": "a", "type": "generate", "params": {"prompt": "p"}}], "webhook": hook})
    services.repo.job_completed(eid, "a", {"key": f"executions/{eid}/a/generated_clips-abc.mp4", "digest": "d"})
    services.repo.finish(eid, "completed", result={"jobId": "a", "key": f"executions/{eid}/a/generated_clips-abc.mp4"})
    return eid


def test_schedule_spans_more_than_a_day() -> None:
    assert sum(RETRY_SCHEDULE_S) * (1 - JITTER) > 24 * 3600
    assert list(RETRY_SCHEDULE_S) == sorted(RETRY_SCHEDULE_S)


def test_signed_payload_delivered_once(services, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    eid = _finished_execution(services, receiver.url)
    assert enqueue_event(services, eid) is not None
    results = WebhookDeliverer(services).deliver_due()
    assert [r.outcome for r in results] == ["delivered"]
    headers, body = receiver.received[0]
    verify_webhook(body, headers, "topsecret")
    payload = json.loads(body)
    assert payload["executionId"] == eid and payload["status"] == "completed" and payload["type"] == "execution.completed"
    assert payload["outputs"]["a"]["operation"] == "generate" and payload["rootUrl"] == payload["outputs"]["a"]["url"]
    assert payload["createdAt"].endswith("Z") and payload["completedAt"]
    assert WebhookDeliverer(services).deliver_due() == []  # nothing left: delivered exactly once here


def test_failures_retry_on_schedule_then_succeed(services, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    receiver.script = [500, 503, 200]
    eid = _finished_execution(services, receiver.url)
    enqueue_event(services, eid)
    deliverer = WebhookDeliverer(services, rng=random.Random(1))
    t0 = utcnow()
    assert [r.outcome for r in deliverer.deliver_due(now=t0)] == ["retry"]
    assert deliverer.deliver_due(now=t0 + dt.timedelta(seconds=4)) == []  # 5 s (±10%) not yet up
    assert [r.outcome for r in deliverer.deliver_due(now=t0 + dt.timedelta(seconds=6))] == ["retry"]
    assert deliverer.deliver_due(now=t0 + dt.timedelta(seconds=6 + 26)) == []  # 30 s (±10%)
    assert [r.outcome for r in deliverer.deliver_due(now=t0 + dt.timedelta(seconds=6 + 34))] == ["delivered"]
    (delivery, attempts), = services.webhooks.for_execution(eid)
    assert delivery.status == "delivered" and delivery.attempts == 3
    assert [(a.attempt, a.status_code, a.outcome) for a in attempts] == [
        (1, 500, "retry"), (2, 503, "retry"), (3, 200, "delivered")]
    assert len({h["webhook-id"] for h, _ in receiver.received}) == 1  # same message id on every retry
    assert len({b for _, b in receiver.received}) == 1


def test_gives_up_after_the_schedule(services, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    receiver.script = [500] * 20
    eid = _finished_execution(services, receiver.url)
    enqueue_event(services, eid)
    deliverer = WebhookDeliverer(services, rng=random.Random(2))
    now = utcnow()
    outcomes = []
    for _ in range(len(RETRY_SCHEDULE_S) + 1):
        outcomes += [r.outcome for r in deliverer.deliver_due(now=now)]
        now += dt.timedelta(hours=13)
    assert outcomes == ["retry"] * len(RETRY_SCHEDULE_S) + ["failed"]
    assert deliverer.deliver_due(now=now + dt.timedelta(days=3)) == []


def test_a_hanging_receiver_times_out_without_blocking_others(services, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    receiver.script = ["hang"]
    slow = _finished_execution(services, receiver.url)
    enqueue_event(services, slow)
    fast_receiver_url = receiver.url + "?fast"
    fast = _finished_execution(services, fast_receiver_url)
    enqueue_event(services, fast)
    started = time.monotonic()
    results = {r.delivery_id: r for r in WebhookDeliverer(services, timeout_s=1.0).deliver_due()}
    assert time.monotonic() - started < 4
    outcomes = sorted((r.outcome, r.error or "") for r in results.values())
    assert outcomes[0][0] == "delivered" and outcomes[1][0] == "retry" and "timed out" in outcomes[1][1]


def test_no_secret_still_delivers_unsigned_with_ids(services, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    eid = _finished_execution(services, receiver.url, secret=None)
    enqueue_event(services, eid)
    assert [r.outcome for r in WebhookDeliverer(services).deliver_due()] == ["delivered"]
    headers, _ = receiver.received[0]
    assert "webhook-id" in headers and "x-webhook-signature" not in headers
