"""End to end: a run worker process (``ledger_worker.py``: the executor, the vendor clients, the
durable ledger) is killed with SIGKILL at each point of a paid vendor job, and a second one resumes
the execution, as Dagster's run retry does. Each ends with exactly one vendor job created, counted
at the fake vendor: completed, or failed cleanly with ``vendor_create_unconfirmed`` where the
vendor (fal) gives no way to find a job whose create answer was never recorded. Both backends.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import settings_env
from tests.helpers import submit
from tests.providers.fakes import FakeFal, FakeReplicate, FakeServer
from tests.providers.hook_api import api_server, reserve_port, webhook_settings
from vidassets.services import build_services
from vidassets.storage.vendor_jobs import VendorJobRepository

ROOT = Path(__file__).resolve().parents[2]
KEY = "r8_CrashTestKey0123456789"
FAL_MODEL = "fal-ai/kling-video/v2/master/text-to-video"


class Stage:
    """Where the fake vendor stops the world: ``reached`` is set there; the request waits for
    ``release`` (the worker is killed meanwhile) unless the stage does not hold."""

    def __init__(self, hold: bool = True):
        self.reached = threading.Event()
        self.release = threading.Event()
        self.hold = hold

    def __call__(self, *_: Any) -> None:
        self.reached.set()
        if self.hold:
            self.release.wait(60)


def before_the_answer(server: FakeServer, stage: Stage) -> None:
    server.on_create = stage  # type: ignore[attr-defined]  # the job exists; its answer waits


def after_the_answer(server: FakeServer, stage: Stage) -> None:
    """Killed the moment the create's answer is out: before or after the worker recorded it."""
    stage.hold = False
    server.on_answered = lambda seen: stage() if seen.method == "POST" else None


def at_first_poll(server: FakeServer, stage: Stage) -> None:
    server.on_poll = lambda n: stage() if n == 1 else None  # type: ignore[attr-defined]


def while_downloading(server: FakeServer, stage: Stage) -> None:
    server.on_download = stage
    server.download_hold = stage.release
    stage.hold = False  # the download itself stalls half-way


def disarm(server: FakeServer) -> None:
    for hook in ("on_create", "on_poll", "on_download", "on_answered", "download_hold"):
        setattr(server, hook, None)


STAGES = {
    "before-the-create-is-answered": before_the_answer,
    "right-after-the-create": after_the_answer,
    "while-polling": at_first_poll,
    "while-downloading": while_downloading,
}


@pytest.fixture
def vendors(clip_bytes: bytes) -> Iterator[dict[str, FakeServer]]:
    servers: dict[str, FakeServer] = {"replicate": FakeReplicate(), "fal": FakeFal()}
    for server in servers.values():
        server.files["out.mp4"] = clip_bytes
    yield servers
    for server in servers.values():
        server.stop()


def worker(settings: Any, execution_id: str, run_id: str) -> subprocess.Popen[str]:
    env = {**os.environ, **settings_env(settings), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "tests.providers.ledger_worker", execution_id, run_id], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str]) -> dict[str, Any]:
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGUSR1)  # its stacks, to stderr
        threading.Event().wait(1)
        proc.kill()
        out, err = proc.communicate()
    assert proc.returncode == 0, err[-4000:]
    return dict(json.loads(out.strip().splitlines()[-1]))


def plan(vendor: str) -> dict[str, Any]:
    params = {"provider": vendor, "prompt": "a red fox at dawn", "duration": 5}
    if vendor == "replicate":
        params["modelId"] = "acme/video-1"
    else:
        params["modelId"] = FAL_MODEL
    return {"jobs": [{"id": "gen", "type": "generate", "params": params}], "providerApiKeys": {vendor: KEY}}


@pytest.mark.parametrize("stage_name", sorted(STAGES))
@pytest.mark.parametrize("vendor", ["replicate", "fal"])
def test_sigkill_at_each_point_creates_exactly_one_vendor_job(settings, vendors: dict[str, FakeServer],  # type: ignore[no-untyped-def]
                                                              vendor: str, stage_name: str,
                                                              clip_bytes: bytes) -> None:
    server = vendors[vendor]
    # No provider slots: a Redis slot a killed worker held stays taken until its lease (the
    # provider timeout) ends, and these tests kill many workers sharing one Redis database.
    settings = settings.model_copy(update={"replicate_base_url": f"{vendors['replicate'].url}/v1",
                                           "fal_base_url": vendors["fal"].url, "provider_poll_interval_s": 0.05,
                                           "provider_concurrency": {}, "provider_rate_limits": {}})
    services = build_services(settings)
    eid = submit(services, plan(vendor))
    stage = Stage()
    STAGES[stage_name](server, stage)

    first = worker(settings, eid, "run-1")
    try:
        assert stage.reached.wait(120), first.communicate(timeout=5)
        os.kill(first.pid, signal.SIGKILL)
    finally:
        first.wait(30)
        disarm(server)
        stage.release.set()
    assert first.returncode == -signal.SIGKILL

    outcome = finish(worker(settings, eid, "run-2"))  # Dagster's run retry: resume the execution

    assert server.created == 1, f"{server.created} vendor jobs created"  # type: ignore[attr-defined]
    [job] = VendorJobRepository(settings.resolved_database_url).for_execution(eid)
    execution = services.repo.get(eid)
    assert execution is not None
    unrecorded = job.status == "unconfirmed"  # after-the-answer: the kill may land before the record
    if vendor == "fal" and (stage_name == "before-the-create-is-answered" or unrecorded):
        # fal cannot find the request the dead worker queued: a clear failure, nothing sent again.
        assert outcome == {"status": "failed", "failures": {"gen": "vendor_create_unconfirmed"}}
        assert execution.status == "failed" and execution.error_code == "vendor_create_unconfirmed"
        assert job.status == "unconfirmed" and job.posts == 1 and "taken over" in str(job.evidence)
        return
    assert outcome == {"status": "completed", "failures": {}}, outcome
    assert execution.status == "completed"
    assert services.store.exists(execution.jobs[0].result["key"])
    assert job.status == "succeeded" and job.vendor_attempt == 1 and job.vendor_job_id in ("p1", "r1")
    if stage_name == "before-the-create-is-answered":
        assert "found by lookup" in str(job.evidence)  # Replicate: the dead worker's prediction, found again


# -- with webhooks: the delivery arrives before, during and after a crash ------------------------


def webhook_before_the_crash(server: Any, stage: Stage, hold: Stage) -> None:
    """Delivered while the first worker polls (slowly): it wakes, polls, and is killed downloading."""
    wait_for(lambda: server.polls >= 1, 60, "the first poll")
    while_downloading(server, hold)
    sent = server.complete(only_job(server))
    assert sent is not None and sent.status == 200, sent


def webhook_during_the_crash(server: Any, stage: Stage, hold: Stage) -> None:
    """Killed while the create's answer is on its way; delivered while no worker runs."""
    before_the_answer(server, hold)


def webhook_after_the_crash(server: Any, stage: Stage, hold: Stage) -> None:
    """Killed at its first poll; delivered while the resumed run polls (slowly)."""
    at_first_poll(server, hold)


HOOK_STAGES = {
    "webhook-before-the-crash": webhook_before_the_crash,
    "webhook-during-the-crash": webhook_during_the_crash,
    "webhook-after-the-crash": webhook_after_the_crash,
}


def only_job(server: Any) -> str:
    jobs = server.predictions if isinstance(server, FakeReplicate) else server.submitted
    [job_id] = list(jobs)
    return str(job_id)


def wait_for(condition: Any, timeout_s: float, what: str) -> None:
    end = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.mark.parametrize("stage_name", sorted(HOOK_STAGES))
@pytest.mark.parametrize("vendor", ["replicate", "fal"])
def test_sigkill_with_webhooks_creates_exactly_one_vendor_job(settings, vendors: dict[str, FakeServer],  # type: ignore[no-untyped-def]
                                                              vendor: str, stage_name: str) -> None:
    """Webhooks on (the real API receives the fake vendors' signed deliveries), polls 20 s apart:
    whenever the delivery comes, the execution completes with one vendor job, woken by it (fal
    too: the delivery names the request a dead worker queued)."""
    server: Any = vendors[vendor]
    server.polls_needed = 10**6  # only the vendor's completion (and its delivery) ends the job
    sock = reserve_port()
    settings = webhook_settings(settings, sock, vendors["replicate"], vendors["fal"],  # type: ignore[arg-type]
                                replicate_api_key=KEY, fal_api_key=KEY, provider_poll_interval_s=20.0,
                                vendor_ledger_check_s=0.05)
    with api_server(settings, sock):
        services = build_services(settings)
        body = plan(vendor)
        del body["providerApiKeys"]  # the server's keys: Replicate deliveries are signed for its account
        eid = submit(services, body)
        stage, hold = Stage(), Stage()
        first = worker(settings, eid, "run-1")
        try:
            HOOK_STAGES[stage_name](server, stage, hold)
            delivered = time.monotonic()
            assert hold.reached.wait(60), "the worker never reached the stage"
            if stage_name == "webhook-before-the-crash":  # woken at once, not at the next poll 20 s on
                assert time.monotonic() - delivered < 10 and server.polls == 2
            os.kill(first.pid, signal.SIGKILL)
        finally:
            first.wait(30)
            disarm(server)
            hold.release.set()
        assert first.returncode == -signal.SIGKILL
        if stage_name == "webhook-during-the-crash":
            sent = server.complete(only_job(server))
            assert sent is not None and sent.status == 200, sent
        second = worker(settings, eid, "run-2")
        if stage_name == "webhook-after-the-crash":
            wait_for(lambda: server.polls >= 2, 60, "the resumed run's first poll")
            sent = server.complete(only_job(server))
            assert sent is not None and sent.status == 200, sent
        delivered = time.monotonic()
        outcome = finish(second)
        assert time.monotonic() - delivered < 15  # woken by the delivery, not by the 20 s poll schedule

    assert server.created == 1, f"{server.created} vendor jobs created"
    assert outcome == {"status": "completed", "failures": {}}, outcome
    [job] = VendorJobRepository(settings.resolved_database_url).for_execution(eid)
    assert job.status == "succeeded" and job.vendor_attempt == 1 and job.vendor_job_id == only_job(server)
    assert "webhook" in [e["event"] for e in job.evidence] and job.billed_seconds is not None
    execution = services.repo.get(eid)
    assert execution is not None and execution.status == "completed"


@pytest.mark.parametrize("vendor", ["replicate", "fal"])
def test_api_down_when_the_vendor_delivers(settings, vendors: dict[str, FakeServer],  # type: ignore[no-untyped-def]
                                          vendor: str) -> None:
    """The API restarts while a job waits for its delivery: the delivery finds no API, polling (the
    fallback) finishes the job with one vendor job, and the vendor's retry of the delivery to the
    restarted API on the same address is taken without changing the finished job."""
    server: Any = vendors[vendor]
    server.polls_needed = 10**6  # only the vendor's completion ends the job
    sock = reserve_port()
    port = sock.getsockname()[1]
    settings = webhook_settings(settings, sock, vendors["replicate"], vendors["fal"],  # type: ignore[arg-type]
                                replicate_api_key=KEY, fal_api_key=KEY, provider_poll_interval_s=0.5,
                                vendor_webhook_poll_max_interval_s=2.0, vendor_ledger_check_s=0.05)
    services = build_services(settings)
    body = plan(vendor)
    del body["providerApiKeys"]  # the server's keys: Replicate deliveries are signed for its account
    with api_server(settings, sock):
        eid = submit(services, body)
        run = worker(settings, eid, "run-1")
        wait_for(lambda: server.polls >= 1, 60, "the first poll")
    job_id = only_job(server)
    missed = server.complete(job_id)  # the API is down: the delivery is lost
    assert missed is not None and missed.status is None, missed
    outcome = finish(run)
    assert outcome == {"status": "completed", "failures": {}}, outcome
    [job] = VendorJobRepository(settings.resolved_database_url).for_execution(eid)
    assert job.status == "succeeded" and job.vendor_job_id == job_id and server.created == 1
    assert "webhook" not in [e["event"] for e in job.evidence]  # finished by polling

    again = reserve_port(port)
    with api_server(settings, again):
        retried = server.hooks.post(*server.delivery(job_id))  # the vendor's retry, same delivery id
    assert retried.status == 200 and retried.answer["accepted"] is True, retried
    [after] = VendorJobRepository(settings.resolved_database_url).for_execution(eid)
    assert (after.status, after.vendor_job_id, after.vendor_attempt) == ("succeeded", job_id, 1)
    assert server.created == 1
    execution = services.repo.get(eid)
    assert execution is not None and execution.status == "completed"

