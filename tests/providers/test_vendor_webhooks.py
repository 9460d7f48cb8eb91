"""Vendor webhooks in, end to end on both backends: the fake vendors send real signed deliveries
(``fake_hooks.py``) to the real API (uvicorn, ``hook_api.py``), whose receiver writes them to the
vendor-job ledger; the vendor clients, polling slowly, are woken through the ledger.

Each refused delivery (unsigned, badly signed, stale, replayed, for an unknown token, another
vendor, another vendor job or model) is a 4xx JSON answer and leaves the ledger row as it was.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from api.presenters import execution_public, vendor_usage
from tests.conftest import make_client
from tests.helpers import submit
from tests.providers.fake_hooks import FalSigner, replicate_secret, standard_headers
from tests.providers.fakes import KEY, FakeFal, FakeReplicate, VendorFake
from tests.providers.hook_api import api_server, reserve_port, wait_for, webhook_settings
from vidassets.providers.base import GenerateRequest, ProviderResult
from vidassets.providers.fal import FalProvider
from vidassets.providers.http import HttpPolicy
from vidassets.providers.replicate import ReplicateProvider
from vidassets.providers.usage import PriceTable
from vidassets.services import build_services
from vidassets.settings import Settings
from vidassets.storage.vendor_jobs import VendorJob, VendorJobRepository

MODELS = {"replicate": "acme/video-1", "fal": "fal-ai/kling-video/v2/master/text-to-video"}
SECONDS = {"replicate": 4.2, "fal": 2.5}  # what each fake reports: predict_time, inference_time
PRICES = {"replicate": {"acme/video-1": {"per_second": 0.01}}, "fal": {"*": {"per_job": 0.35}}}


@dataclass
class Hooked:
    settings: Settings
    api: str
    replicate: FakeReplicate
    fal: FakeFal
    repo: VendorJobRepository

    def server(self, vendor: str) -> Any:
        return self.replicate if vendor == "replicate" else self.fal

    def provider(self, vendor: str, **overrides: Any) -> Any:
        # Polls 30 s apart: a job that ends within seconds was woken by its delivery.
        values = {"poll_interval_s": 30.0, "ledger_check_s": 0.05, "request_timeout_s": 10.0, "timeout_s": 120.0,
                  **overrides}
        policy = HttpPolicy.from_settings(self.settings, **values)
        if vendor == "replicate":  # the server's own key: its account's deliveries can be verified
            return ReplicateProvider(base_url=self.settings.replicate_base_url, api_key=KEY, policy=policy)
        return FalProvider(base_url=self.settings.fal_base_url, api_key=KEY, policy=policy)


@pytest.fixture
def hooked(settings: Settings, replicate_server: FakeReplicate, fal_server: FakeFal) -> Iterator[Hooked]:
    sock = reserve_port()
    configured = webhook_settings(settings, sock, replicate_server, fal_server, vendor_prices=PRICES)
    with api_server(configured, sock) as api:
        yield Hooked(configured, api, replicate_server, fal_server, VendorJobRepository(configured.resolved_database_url))


def execution(hooked: Hooked, vendor: str) -> str:
    params = {"provider": vendor, "prompt": "a red fox at dawn", "duration": 5, "modelId": MODELS[vendor]}
    return submit(build_services(hooked.settings), {"jobs": [{"id": "gen", "type": "generate", "params": params}]})


class Background:
    """A provider call on another thread, as the run worker makes it."""

    def __init__(self, hooked: Hooked, vendor: str, eid: str, out: Path, **policy: Any):
        self.result: ProviderResult | None = None
        self.error: BaseException | None = None
        request = GenerateRequest(prompt="a red fox at dawn", duration=5, aspect_ratio="16:9", resolution="720p",
                                  model=MODELS[vendor])
        provider = hooked.provider(vendor, **policy)
        ledger = hooked.repo.for_job(eid, "gen")

        def run() -> None:
            try:
                self.result = provider.generate(request, out=out, api_key=None, on_progress=lambda _: None,
                                                 cancel=threading.Event(), ledger=ledger)
            except BaseException as exc:  # reported by join()
                self.error = exc

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def join(self, timeout_s: float) -> ProviderResult:
        self.thread.join(timeout_s)
        assert not self.thread.is_alive(), f"still polling after {timeout_s}s: the delivery did not wake it"
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


def vendor_job_id(server: VendorFake) -> str:
    jobs = server.predictions if isinstance(server, FakeReplicate) else server.submitted  # type: ignore[attr-defined]
    [only] = list(jobs)
    return str(only)


def events(job: VendorJob | None) -> list[str]:
    assert job is not None
    return [e["event"] for e in job.evidence]


@pytest.fixture(params=["replicate", "fal"])
def vendor(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_a_delivery_wakes_the_poller_and_records_usage(hooked: Hooked, vendor: str, tmp_path: Path,
                                                       clip_bytes: bytes) -> None:
    server = hooked.server(vendor)
    server.polls_needed = 10**6  # only the delivery's completion ends the job
    eid = execution(hooked, vendor)
    worker = Background(hooked, vendor, eid, tmp_path / "o.mp4")
    wait_for(lambda: server.polls >= 1, 20, "the first poll")
    job_id = vendor_job_id(server)

    started = time.monotonic()
    sent = server.complete(job_id)
    assert sent is not None and sent.status == 200 and sent.answer["accepted"] is True, sent
    result = worker.join(15)
    assert time.monotonic() - started < 15 and server.polls == 2  # woken: one poll before, one after

    assert (tmp_path / "o.mp4").read_bytes() == clip_bytes and server.created == 1
    assert sent.url.startswith(f"{hooked.api}/api/vendor-webhooks/{vendor}/")
    if vendor == "replicate":
        body = server.seen("POST", r"/predictions$")[0].body
        assert body["webhook"] == sent.url and body["webhook_events_filter"] == ["completed"]
    else:
        assert server.seen("POST", r"^/fal-ai/")[0].query["fal_webhook"] == [sent.url]
    job = hooked.repo.latest(eid, "gen", "generate")
    assert job is not None and job.status == "succeeded" and job.vendor_job_id == job_id
    assert job.hook is not None and job.hook["vendor_job_id"] == job_id
    assert job.billed_seconds == SECONDS[vendor]
    assert ["webhook requested", "acknowledged", "webhook", "succeeded"] == \
        [e for e in events(job) if e in ("webhook requested", "acknowledged", "webhook", "succeeded")]
    cost = SECONDS[vendor] * 0.01 if vendor == "replicate" else 0.35
    assert result.details["billedSeconds"] == SECONDS[vendor] and result.details["costUsd"] == pytest.approx(cost)
    check_usage_is_reported(hooked, eid, vendor, cost)


def check_usage_is_reported(hooked: Hooked, eid: str, vendor: str, cost: float) -> None:
    """The status answer (per job and in all) and the Prometheus counters show the usage."""
    build_services(hooked.settings).repo.job_started(eid, "gen", None)  # as the run worker marks it
    status = make_client(hooked.settings, tenant="default").get(f"/api/execute/{eid}/status").json()
    [usage] = status["jobs"][0]["vendorJobs"]
    assert (usage["vendor"], usage["model"], usage["status"], usage["attempt"], usage["billedSeconds"]) == \
        (vendor, MODELS[vendor], "succeeded", 1, SECONDS[vendor])
    assert usage["costUsd"] == pytest.approx(cost) and usage["usage"]
    assert status["usage"]["vendorJobs"] == 1 and status["usage"]["unpricedJobs"] == 0
    assert status["usage"]["costUsd"] == pytest.approx(cost) and status["usage"]["billedSeconds"] == SECONDS[vendor]
    services = build_services(hooked.settings)
    view = services.repo.view(eid)
    assert view is not None
    unpriced = execution_public(view, services.store, vendor_usage(hooked.repo, view), PriceTable())
    assert unpriced.usage is not None and unpriced.usage.costUsd is None and unpriced.usage.unpricedJobs == 1
    text = httpx.get(f"{hooked.api}/metrics", timeout=10).text
    labels = f'model="{MODELS[vendor]}",vendor="{vendor}"'
    assert f"vidassets_vendor_seconds_total{{{labels}}} {SECONDS[vendor]}" in text
    assert f"vidassets_vendor_jobs_total{{{labels}}} 1.0" in text
    assert f"vidassets_vendor_cost_usd_total{{{labels}}} {round(cost, 6)}" in text


def test_a_delivery_before_the_create_answer_is_recorded(hooked: Hooked, vendor: str, tmp_path: Path) -> None:
    """The vendor finishes and delivers before the create's answer reaches the worker: the
    delivery records the job on the attempt, and the worker follows that one job."""
    server = hooked.server(vendor)
    server.polls_needed = 10**6
    answers: list[Any] = []
    server.on_create = lambda job_id: answers.append(server.complete(job_id))  # the answer waits for this
    eid = execution(hooked, vendor)
    Background(hooked, vendor, eid, tmp_path / "o.mp4").join(20)
    assert answers[0].status == 200 and server.created == 1 and server.polls == 1
    job = hooked.repo.latest(eid, "gen", "generate")
    assert job is not None and job.status == "succeeded" and job.vendor_job_id == vendor_job_id(server)
    assert "webhook" in events(job) and "followed" in events(job)


def refusals(hooked: Hooked, vendor: str, token_url: str, job_id: str) -> list[tuple[str, str, bytes, dict[str, str], int, str]]:
    """(case, url, body, headers, status, code) for every delivery that must be refused."""
    server = hooked.server(vendor)
    url, body, headers = server.delivery(job_id)
    assert url == token_url
    stale = server.delivery(job_id, timestamp=int(time.time()) - 3600)[2]
    unknown = url.rsplit("/", 1)[0] + "/" + secrets.token_urlsafe(24)
    cases = [
        ("unsigned", url, body, {"content-type": "application/json"}, 401, "webhook_unsigned"),
        ("tampered", url, body.replace(b'"', b' "', 1), headers, 401, "webhook_bad_signature"),
        ("stale", url, body, stale, 401, "webhook_stale"),
        ("unknown-token", unknown, body, headers, 404, "webhook_unknown_job"),
        ("unknown-vendor", url.replace(f"/{vendor}/", "/acme/"), body, headers, 404, "not_found"),
    ]
    if vendor == "replicate":
        other = standard_headers(replicate_secret(), body)
        final = server.final(job_id)
        for name, changed in (("other-job", {**final, "id": "p999"}), ("other-model", {**final, "model": "acme/other"})):
            changed_body = httpx.Request("POST", url, json=changed).content
            cases.append((name, url, changed_body, standard_headers(server.webhook_secret, changed_body), 409,
                          "webhook_mismatch"))
        cases.append(("other-account", url, body, other, 401, "webhook_bad_signature"))
    else:
        cases.append(("other-key", url, body, FalSigner().headers(job_id, body), 401, "webhook_bad_signature"))
        other_body = body.replace(f'"{job_id}"'.encode(), b'"r999"')
        cases.append(("other-job", url, other_body, server.signer.headers("r999", other_body), 409, "webhook_mismatch"))
        cases.append(("signed-id-not-the-body's", url, body, server.signer.headers("r999", body), 409,
                      "webhook_mismatch"))
    return cases


def test_bad_deliveries_are_refused_and_change_nothing(hooked: Hooked, vendor: str, tmp_path: Path) -> None:
    server = hooked.server(vendor)
    server.polls_needed = 10**6
    eid = execution(hooked, vendor)
    worker = Background(hooked, vendor, eid, tmp_path / "o.mp4")
    wait_for(lambda: server.polls >= 1, 20, "the first poll")
    job_id = vendor_job_id(server)
    before = hooked.repo.latest(eid, "gen", "generate")
    assert before is not None and before.hook_token
    token_url = f"{hooked.api}/api/vendor-webhooks/{vendor}/{before.hook_token}"
    for case, url, body, headers, status, code in refusals(hooked, vendor, token_url, job_id):
        answer = httpx.post(url, content=body, headers=headers, timeout=10)
        assert (answer.status_code, answer.json().get("code")) == (status, code), (case, answer.text)
        after = hooked.repo.get(before.id)
        assert after is not None and after.hook is None and after.status == before.status, case
        assert events(after) == events(before) and after.billed_seconds is None, case

    sent = server.complete(job_id)  # the real one, once
    assert sent is not None and sent.status == 200
    replayed = httpx.post(sent.url, content=sent.body, headers=dict(sent.headers), timeout=10)
    assert (replayed.status_code, replayed.json()["code"]) == (409, "webhook_replayed")
    worker.join(15)
    job = hooked.repo.get(before.id)
    assert job is not None and events(job).count("webhook") == 1 and server.created == 1


def test_without_a_public_url_creates_ask_for_no_webhook_and_polling_does_it(
        settings: Settings, replicate_server: FakeReplicate, fal_server: FakeFal, vendor: str, tmp_path: Path) -> None:
    sock = reserve_port()
    plain = webhook_settings(settings, sock, replicate_server, fal_server, vendor_webhook_base_url=None)
    sock.close()
    hooked = Hooked(plain, "", replicate_server, fal_server, VendorJobRepository(plain.resolved_database_url))
    eid = execution(hooked, vendor)
    Background(hooked, vendor, eid, tmp_path / "o.mp4", poll_interval_s=0.05).join(30)
    server = hooked.server(vendor)
    if vendor == "replicate":
        assert "webhook" not in server.seen("POST", r"/predictions$")[0].body
    else:
        assert "fal_webhook" not in server.seen("POST", r"^/fal-ai/")[0].query
    job = hooked.repo.latest(eid, "gen", "generate")
    assert job is not None and job.status == "succeeded" and "webhook requested" not in events(job)
    assert job.billed_seconds == SECONDS[vendor]


def test_a_replicate_job_made_with_the_callers_own_key_asks_for_no_webhook(hooked: Hooked, tmp_path: Path) -> None:
    """Replicate signs a delivery with the secret of the account whose key made the job: this
    server can only verify its own account's, so a caller's key means polling."""
    eid = execution(hooked, "replicate")
    provider = hooked.provider("replicate", poll_interval_s=0.05)
    request = GenerateRequest(prompt="a red fox at dawn", duration=5, aspect_ratio="16:9", resolution="720p",
                              model=MODELS["replicate"])
    provider.generate(request, out=tmp_path / "o.mp4", api_key=KEY, on_progress=lambda _: None,
                      cancel=threading.Event(), ledger=hooked.repo.for_job(eid, "gen"))
    assert "webhook" not in hooked.replicate.seen("POST", r"/predictions$")[0].body


header_values = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80)


@pytest.mark.parametrize("backend", ["embedded"], indirect=True)
def test_hostile_deliveries_are_4xx_json_never_a_server_error(settings: Settings, replicate_server: FakeReplicate,
                                                              fal_server: FakeFal) -> None:
    """Anything posted to the receiver (any vendor, token, headers, body) is refused with a 4xx
    JSON naming its code, whatever part of it looks like a signature."""
    sock = reserve_port()
    client = make_client(webhook_settings(settings, sock, replicate_server, fal_server))
    sock.close()
    names = ["webhook-id", "webhook-timestamp", "webhook-signature", "x-fal-webhook-request-id",
             "x-fal-webhook-user-id", "x-fal-webhook-timestamp", "x-fal-webhook-signature"]

    @hypothesis_settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
    @given(vendor=st.sampled_from(["replicate", "fal", "acme", "REPLICATE"]),
           token=st.text(alphabet=st.characters(min_codepoint=48, max_codepoint=122), min_size=1, max_size=70),
           headers=st.dictionaries(st.sampled_from(names), header_values, max_size=7),
           body=st.binary(max_size=300), stamp_now=st.booleans())
    def fuzz(vendor: str, token: str, headers: dict[str, str], body: bytes, stamp_now: bool) -> None:
        if stamp_now:  # fresh timestamps, so the signature itself is what gets checked
            headers = {**headers, "webhook-timestamp": str(int(time.time())),
                       "x-fal-webhook-timestamp": str(int(time.time()))}
        answer = client.post(f"/api/vendor-webhooks/{vendor}/{token}", content=body, headers=headers)
        assert 400 <= answer.status_code < 500, (answer.status_code, answer.text)
        assert answer.json()["code"], answer.text

    fuzz()
