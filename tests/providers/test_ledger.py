"""The vendor-job ledger's fault matrix: whatever is lost or repeated, each vendor job is created
once per job attempt, counted at the fake vendor, on both backends (SQLite and PostgreSQL).

Provider calls here get a real :class:`JobLedger` for a job of a committed execution, as the job
runner gives them; a crashed worker is the ledger state it leaves behind (a claim held by a dead
process, a recorded job nobody polls). ``test_ledger_crash.py`` kills real worker processes.
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import submit
from tests.providers.fakes import KEY, FakeClock, FakeFal, FakeReplicate, FakeVertex, Reply, policy
from vidassets.providers.base import GenerateRequest, ProviderCancelled, ProviderError
from vidassets.providers.fal import FalProvider
from vidassets.providers.ledger import cancel_in_flight
from vidassets.providers.registry import ProviderRegistry
from vidassets.providers.replicate import ReplicateProvider, same_input
from vidassets.providers.vertex import VertexProvider
from vidassets.storage.vendor_jobs import JobLedger, VendorJob, VendorJobRepository, VendorRef, this_host

REQUEST = GenerateRequest(prompt="a fox in the snow", duration=5, aspect_ratio="16:9", resolution="720p", seed=7,
                          model="acme/video-gen")
PREDICT = r"^/v1/models/acme/video-gen/predictions$"
FAL_MODEL = "fal-ai/kling-video/v2/master/text-to-video"


@pytest.fixture
def execution(services) -> str:  # type: ignore[no-untyped-def]
    return submit(services, {"jobs": [{"id": "gen", "type": "generate",
                                       "params": {"provider": "replicate", "prompt": "a fox", "duration": 1}}]})


@pytest.fixture
def repo(services) -> VendorJobRepository:  # type: ignore[no-untyped-def]
    return VendorJobRepository(services.settings.resolved_database_url)


@pytest.fixture
def replicate(replicate_server: FakeReplicate) -> FakeReplicate:
    return replicate_server


@pytest.fixture
def fal(fal_server: FakeFal) -> FakeFal:
    return fal_server


def replicate_provider(server: FakeReplicate, clock: FakeClock | None = None, **overrides: Any) -> ReplicateProvider:
    return ReplicateProvider(base_url=f"{server.url}/v1", policy=policy(**overrides),
                             timing=clock.timing if clock else None)


def generate(provider: Any, ledger: JobLedger, out: Path, cancel: threading.Event | None = None,
             request: GenerateRequest = REQUEST) -> Any:
    return provider.generate(request, out=out, api_key=KEY, on_progress=lambda _: None,
                             cancel=cancel or threading.Event(), ledger=ledger)


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def events(job: VendorJob) -> list[str]:
    return [e["event"] for e in job.evidence]


def create_at_vendor(server: FakeReplicate, request: GenerateRequest = REQUEST) -> str:
    """A prediction made the way a worker that then died made it (same model, same input)."""
    body = {"input": request.model_input(image_key="start_image", end_image_key="end_image")}
    return str(httpx.post(f"{server.url}/v1/models/acme/video-gen/predictions", json=body).json()["id"])


def recorded_by_dead_worker(repo: VendorJobRepository, execution: str, server: FakeReplicate, pid: str,
                            model: str = "acme/video-gen") -> VendorJob:
    """What a worker killed while polling leaves: prediction ``pid`` recorded on attempt 1."""
    claim = repo.claim(execution, "gen", "generate", 1, vendor="replicate", model=model, input_digest="0" * 64,
                       holder=f"{this_host()}:{dead_pid()}:gone", lease_s=600)
    assert claim is not None
    url = f"{server.url}/v1/predictions/{pid}"
    recorded = repo.created(claim.id, VendorRef(pid, url, f"{url}/cancel"))
    assert recorded is not None
    return recorded


# -- the happy path records everything --------------------------------------------------------


def test_a_create_is_recorded_with_urls_digest_outcome_and_usage(replicate: FakeReplicate, repo: VendorJobRepository,
                                                                  execution: str, fake_clock: FakeClock,
                                                                  tmp_path: Path, clip_bytes: bytes) -> None:
    ledger = repo.for_job(execution, "gen")
    result = generate(replicate_provider(replicate, fake_clock, timeout_s=600.0), ledger, tmp_path / "o.mp4")
    assert result.details["predictionId"] == "p1" and (tmp_path / "o.mp4").read_bytes() == clip_bytes
    assert replicate.created == 1
    assert replicate.predictions["p1"]["cancel_after"] == "660s"  # Replicate's own deadline, past ours
    [job] = repo.for_execution(execution)
    assert (job.job_id, job.step, job.vendor_attempt, job.vendor, job.model) == ("gen", "generate", 1, "replicate",
                                                                                 "acme/video-gen")
    assert job.status == "succeeded" and job.vendor_job_id == "p1" and job.posts == 1
    assert job.get_url == f"{replicate.url}/v1/predictions/p1" and job.cancel_url == f"{job.get_url}/cancel"
    assert len(job.input_digest) == 64 and job.submitted_at is not None and job.finished_at is not None
    assert job.output_url == replicate.file_url("out.mp4") and job.usage == {"predict_time": 4.2, "total_time": 4.5}
    assert events(job)[:3] == ["claimed", "acknowledged", "succeeded"]

    # The same job again (its run resumed after a crash while downloading): polled, never re-created.
    again = generate(replicate_provider(replicate, fake_clock), repo.for_job(execution, "gen"), tmp_path / "again.mp4")
    assert again.details["predictionId"] == "p1" and replicate.created == 1


def test_the_ledger_is_recorded_before_the_first_poll(replicate: FakeReplicate, repo: VendorJobRepository,
                                                       execution: str, fake_clock: FakeClock, tmp_path: Path) -> None:
    seen: list[VendorJob | None] = []
    replicate.on_poll = lambda n: seen.append(repo.latest(execution, "gen", "generate")) if n == 1 else None
    generate(replicate_provider(replicate, fake_clock), repo.for_job(execution, "gen"), tmp_path / "o.mp4")
    assert seen[0] is not None and seen[0].status == "submitted" and seen[0].vendor_job_id == "p1"


# -- lost and refused answers -----------------------------------------------------------------


@pytest.mark.parametrize("fault, after, looks", [
    (Reply(drop=True, after=True), True, 1),  # created, then the connection closed without an answer
    (Reply(500, {"detail": "internal"}, after=True), True, 1),  # created, then a 500
    (Reply(201, {"id": "late"}, delay_s=1.0, after=True), True, 1),  # created, answer too late (read timeout)
    (Reply(drop=True), False, 2),  # the connection closed before anything was created
    (Reply(502, {"detail": "bad gateway"}), False, 2),  # a proxy's 502: nothing created
], ids=["dropped-after-create", "500-after-create", "timeout-after-create", "dropped-before-create", "502"])
def test_a_lost_create_answer_is_looked_up_not_resent_blindly(replicate: FakeReplicate, repo: VendorJobRepository,
                                                              execution: str, fake_clock: FakeClock, tmp_path: Path,
                                                              clip_bytes: bytes, fault: Reply, after: bool,
                                                              looks: int) -> None:
    replicate.fault("POST", PREDICT, fault)
    provider = replicate_provider(replicate, fake_clock, request_timeout_s=0.3)
    generate(provider, repo.for_job(execution, "gen"), tmp_path / "o.mp4")
    assert (tmp_path / "o.mp4").read_bytes() == clip_bytes
    assert replicate.created == 1, replicate.predictions
    [job] = repo.for_execution(execution)
    assert job.status == "succeeded" and job.vendor_job_id == "p1"
    lookups = replicate.seen("GET", r"^/v1/predictions$")
    assert len(lookups) == looks and "created_after" in lookups[0].query
    assert "create unanswered" in events(job)
    if after:
        assert job.posts == 1 and "found by lookup" in events(job)
    else:  # two empty lookups, then (and only then) the create is sent again
        assert job.posts == 2 and "sending again" in events(job)
    assert 5.0 in fake_clock.sleeps  # lookups wait for the vendor to settle


@pytest.mark.parametrize("status", [429, 503])
def test_refusals_are_retried_after_retry_after(replicate: FakeReplicate, repo: VendorJobRepository, execution: str,
                                                fake_clock: FakeClock, tmp_path: Path, status: int) -> None:
    replicate.fault("POST", PREDICT, Reply(status, {"detail": "slow down"}, {"Retry-After": "7"}))
    generate(replicate_provider(replicate, fake_clock), repo.for_job(execution, "gen"), tmp_path / "o.mp4")
    assert replicate.created == 1 and replicate.count("POST", PREDICT) == 2
    assert fake_clock.sleeps[0] == 7.0 and replicate.count("GET", r"^/v1/predictions$") == 0
    assert repo.for_execution(execution)[0].posts == 2


def test_backoff_has_jitter() -> None:
    delays = {policy(jitter=0.5).backoff(2) for _ in range(50)}
    assert len(delays) > 1 and all(1.0 <= d <= 2.0 for d in delays)
    assert policy().backoff(2) == 2.0  # the tests' policy has none


def test_refused_creates_end_the_attempt_so_the_next_call_may_create(replicate: FakeReplicate,
                                                                     repo: VendorJobRepository, execution: str,
                                                                     fake_clock: FakeClock, tmp_path: Path) -> None:
    replicate.fault("POST", PREDICT, Reply(422, {"detail": "- duration: must be 6 or 10"}))
    with pytest.raises(ProviderError) as info:
        generate(replicate_provider(replicate, fake_clock), repo.for_job(execution, "gen"), tmp_path / "o.mp4")
    assert info.value.code == "provider_rejected" and replicate.created == 0
    generate(replicate_provider(replicate, fake_clock), repo.for_job(execution, "gen"), tmp_path / "o.mp4")
    assert [(j.vendor_attempt, j.status) for j in repo.for_execution(execution)] == [(1, "not_created"),
                                                                                   (2, "succeeded")]


def test_creates_that_never_arrive_are_not_sent_forever(replicate: FakeReplicate, repo: VendorJobRepository,
                                                        execution: str, fake_clock: FakeClock, tmp_path: Path) -> None:
    replicate.fault("POST", PREDICT, *[Reply(drop=True)] * 5)
    with pytest.raises(ProviderError) as info:
        generate(replicate_provider(replicate, fake_clock, max_retries=1), repo.for_job(execution, "gen"),
                 tmp_path / "o.mp4")
    assert info.value.code == "vendor_create_unconfirmed" and "2 creates went unanswered" in str(info.value)
    assert replicate.count("POST", PREDICT) == 2 and replicate.count("GET", r"^/v1/predictions$") == 4
    assert repo.for_execution(execution)[0].status == "unconfirmed"


def test_a_recorded_job_the_vendor_does_not_know_ends_the_attempt(replicate: FakeReplicate,
                                                                  repo: VendorJobRepository, execution: str,
                                                                  fake_clock: FakeClock, tmp_path: Path) -> None:
    recorded_by_dead_worker(repo, execution, replicate, "p404")
    with pytest.raises(ProviderError) as info:
        generate(replicate_provider(replicate, fake_clock), repo.for_job(execution, "gen"), tmp_path / "o.mp4")
    assert info.value.code == "provider_rejected" and replicate.created == 0
    assert repo.for_execution(execution)[0].status == "failed"  # the next call may create


def test_same_input_matching() -> None:
    sent = {"prompt": "fox", "seed": 7, "duration": 5, "image": "https://s3/x/in.png?X-Amz-Signature=a",
            "video": "data:video/mp4;base64,AAAA"}
    assert same_input(sent, {"prompt": "fox", "seed": 7, "duration": 5.0, "image": "https://s3/x/in.png?sig=b"})
    assert same_input(sent, {"prompt": "fox", "video": "https://replicate.delivery/x.mp4"})
    assert not same_input(sent, {"prompt": "fox", "seed": 8})
    assert not same_input(sent, {"video": "https://anything"})  # only a data: URI in common proves nothing
    assert not same_input(sent, None) and not same_input({"flag": True}, {"flag": 1})


# -- crashes: the claim or the recorded job a dead worker left --------------------------------


def test_a_dead_workers_unanswered_create_is_found_and_followed(replicate: FakeReplicate, repo: VendorJobRepository,
                                                                execution: str, fake_clock: FakeClock,
                                                                tmp_path: Path) -> None:
    """Killed after sending the create, before its answer was recorded: the next run takes the
    claim over, finds the prediction the dead worker made and follows it."""
    dead = f"{this_host()}:{dead_pid()}:gone"
    claim = repo.claim(execution, "gen", "generate", 1, vendor="replicate", model="acme/video-gen",
                       input_digest="0" * 64, holder=dead, lease_s=600)
    assert claim is not None and repo.renew(claim.id, dead, 600, posted=True)
    create_at_vendor(replicate)
    result = generate(replicate_provider(replicate, fake_clock), repo.for_job(execution, "gen"), tmp_path / "o.mp4")
    assert result.details["predictionId"] == "p1" and replicate.created == 1
    [job] = repo.for_execution(execution)
    assert job.vendor_job_id == "p1" and job.status == "succeeded"
    assert events(job)[:3] == ["claimed", "taken over", "looked up"] and "found by lookup" in events(job)


def test_a_dead_worker_that_never_sent_its_create(replicate: FakeReplicate, repo: VendorJobRepository,
                                                  execution: str, fake_clock: FakeClock, tmp_path: Path) -> None:
    dead = f"{this_host()}:{dead_pid()}:gone"
    repo.claim(execution, "gen", "generate", 1, vendor="replicate", model="acme/video-gen", input_digest="0" * 64,
               holder=dead, lease_s=600)
    generate(replicate_provider(replicate, fake_clock), repo.for_job(execution, "gen"), tmp_path / "o.mp4")
    assert replicate.created == 1 and replicate.count("GET", r"^/v1/predictions$") == 0  # nothing to look for


def test_a_recorded_job_is_followed_never_created_again(replicate: FakeReplicate, repo: VendorJobRepository,
                                                        execution: str, fake_clock: FakeClock,
                                                        tmp_path: Path) -> None:
    """Killed while polling: the next run polls the recorded prediction."""
    pid = create_at_vendor(replicate)
    recorded_by_dead_worker(repo, execution, replicate, pid)
    generate(replicate_provider(replicate, fake_clock), repo.for_job(execution, "gen"), tmp_path / "o.mp4")
    assert replicate.created == 1 and replicate.count("GET", rf"^/v1/predictions/{pid}$") == 3


def test_two_workers_racing_create_exactly_one(replicate: FakeReplicate, repo: VendorJobRepository,
                                               execution: str, tmp_path: Path, clip_bytes: bytes) -> None:
    """A zombie and a retried run on the same job: one claims and creates, the other waits for the
    answer to be recorded and follows the same prediction."""
    gate = threading.Event()
    replicate.on_create = lambda pid: gate.wait(5)  # hold the first create's answer a moment
    replicate.polls_needed = 4
    provider = replicate_provider(replicate, None, poll_interval_s=0.02, ledger_wait_s=0.02)
    results: dict[int, Any] = {}

    def work(n: int) -> None:
        try:
            results[n] = generate(provider, repo.for_job(execution, "gen"), tmp_path / f"o{n}.mp4")
        except BaseException as exc:  # noqa: BLE001 - reported below
            results[n] = exc

    threads = [threading.Thread(target=work, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    threading.Timer(0.5, gate.set).start()
    for t in threads:
        t.join(30)
    assert all(getattr(r, "details", {}).get("predictionId") == "p1" for r in results.values()), results
    assert replicate.created == 1 and len(repo.for_execution(execution)) == 1
    assert (tmp_path / "o1.mp4").read_bytes() == (tmp_path / "o2.mp4").read_bytes() == clip_bytes


def test_claims_and_vendor_job_ids_are_unique(repo: VendorJobRepository, execution: str) -> None:
    values = dict(vendor="replicate", model="m", input_digest="0" * 64, lease_s=60)
    first = repo.claim(execution, "gen", "generate", 1, holder="a", **values)  # type: ignore[arg-type]
    assert first is not None
    assert repo.claim(execution, "gen", "generate", 1, holder="b", **values) is None  # type: ignore[arg-type]
    second = repo.claim(execution, "gen", "generate", 2, holder="b", **values)  # type: ignore[arg-type]
    assert second is not None
    assert repo.created(first.id, VendorRef("p9")) is not None
    assert repo.created(second.id, VendorRef("p9")) is None  # one vendor job, one attempt
    assert repo.get(second.id).status == "creating"  # type: ignore[union-attr]


# -- vendors that cannot find a lost job --------------------------------------------------------


def fal_provider(server: FakeFal, clock: FakeClock, **overrides: Any) -> FalProvider:
    return FalProvider(base_url=server.url, policy=policy(**overrides), timing=clock.timing)


def fal_generate(server: FakeFal, clock: FakeClock, ledger: JobLedger, out: Path) -> Any:
    request = GenerateRequest(prompt="a fox", duration=5, aspect_ratio="16:9", resolution="720p", model=FAL_MODEL)
    return generate(fal_provider(server, clock), ledger, out, request=request)


def test_fal_lost_submit_fails_clearly_and_keeps_the_evidence(fal: FakeFal, repo: VendorJobRepository, execution: str,
                                                              services, fake_clock: FakeClock,  # type: ignore[no-untyped-def]
                                                              tmp_path: Path) -> None:
    fal.fault("POST", rf"^/{FAL_MODEL}$", Reply(drop=True, after=True))
    with pytest.raises(ProviderError) as info:
        fal_generate(fal, fake_clock, repo.for_job(execution, "gen"), tmp_path / "o.mp4")
    assert info.value.code == "vendor_create_unconfirmed" and fal.created == 1
    [job] = repo.for_execution(execution)
    assert job.status == "unconfirmed" and job.error_code == "vendor_create_unconfirmed" and job.posts == 1
    assert "create unanswered" in events(job) and "RemoteProtocolError" in str(job.evidence)

    # A resumed or retried run fails the same way without submitting again...
    with pytest.raises(ProviderError) as info:
        fal_generate(fal, fake_clock, repo.for_job(execution, "gen"), tmp_path / "o.mp4")
    assert info.value.code == "vendor_create_unconfirmed" and fal.created == 1
    # ...until someone retries the execution on purpose (POST /retry), accepting the risk.
    services.repo.job_failed(execution, "gen", status="failed", error="x", error_code="vendor_create_unconfirmed")
    services.repo.finish(execution, "failed")
    services.repo.prepare_retry(execution)
    fal_generate(fal, fake_clock, repo.for_job(execution, "gen"), tmp_path / "o.mp4")
    assert fal.created == 2
    assert [(j.vendor_attempt, j.status) for j in repo.for_execution(execution)] == [(1, "released"),
                                                                                   (2, "succeeded")]


def test_fal_sends_a_start_deadline_retries_refusals_and_records_usage(fal: FakeFal, repo: VendorJobRepository,
                                                                       execution: str, fake_clock: FakeClock,
                                                                       tmp_path: Path) -> None:
    fal.fault("POST", rf"^/{FAL_MODEL}$", Reply(429, {"detail": "concurrency"}, {"Retry-After": "3"}))
    fal_generate(fal, fake_clock, repo.for_job(execution, "gen"), tmp_path / "o.mp4")
    assert fal.created == 1 and fake_clock.sleeps[0] == 3.0
    assert fal.submitted["r1"]["timeout"] == "120"
    [job] = repo.for_execution(execution)
    assert job.status == "succeeded" and job.usage == {"inference_time": 2.5}
    assert job.urls == {"response_url": f"{fal.url}/fal-ai/kling-video/requests/r1"}


def test_fal_resumes_a_recorded_request(fal: FakeFal, repo: VendorJobRepository, execution: str,
                                        fake_clock: FakeClock, tmp_path: Path, clip_bytes: bytes) -> None:
    fal.polls_needed = 2
    fal_generate(fal, fake_clock, repo.for_job(execution, "gen"), tmp_path / "o.mp4")
    fal_generate(fal, fake_clock, repo.for_job(execution, "gen"), tmp_path / "again.mp4")  # crash while downloading
    assert fal.created == 1 and (tmp_path / "again.mp4").read_bytes() == clip_bytes


def test_vertex_lost_create_fails_clearly(repo: VendorJobRepository, execution: str, fake_clock: FakeClock,
                                          tmp_path: Path, clip_bytes: bytes) -> None:
    server = FakeVertex()
    server.files["out.mp4"] = clip_bytes
    try:
        server.fault("POST", r":predictLongRunning$", Reply(504, {"error": {"message": "deadline"}}, after=True))
        provider = VertexProvider(project="proj", base_url=f"{server.url}/v1", policy=policy(), timing=fake_clock.timing)
        with pytest.raises(ProviderError) as info:
            generate(provider, repo.for_job(execution, "gen"), tmp_path / "o.mp4",
                     request=GenerateRequest(prompt="a fox", duration=5, aspect_ratio="16:9", resolution="720p"))
        assert info.value.code == "vendor_create_unconfirmed" and "HTTP 504" in str(info.value)
        assert server.created == 1 and server.count("POST", r":predictLongRunning$") == 1
    finally:
        server.stop()


# -- stopping: timeouts, cancellation, failures -------------------------------------------------


def test_a_timeout_cancels_the_billed_job_and_records_it(replicate: FakeReplicate, repo: VendorJobRepository,
                                                         execution: str, fake_clock: FakeClock, tmp_path: Path) -> None:
    replicate.polls_needed = 10_000
    with pytest.raises(ProviderError) as info:
        generate(replicate_provider(replicate, fake_clock, timeout_s=30.0), repo.for_job(execution, "gen"),
                 tmp_path / "o.mp4")
    assert info.value.code == "timeout" and replicate.count("POST", r"/v1/predictions/p1/cancel$") == 1
    [job] = repo.for_execution(execution)
    assert job.status == "canceled" and job.error_code == "timeout" and "cancelled at the vendor" in events(job)
    # A retry of the timed-out job makes a new attempt (the first one ended).
    replicate.polls_needed = 0
    generate(replicate_provider(replicate, fake_clock), repo.for_job(execution, "gen"), tmp_path / "o.mp4")
    assert replicate.created == 2 and [j.vendor_attempt for j in repo.for_execution(execution)] == [1, 2]


def test_a_cancel_the_vendor_refuses_leaves_the_job_in_flight(replicate: FakeReplicate, repo: VendorJobRepository,
                                                               execution: str, fake_clock: FakeClock,
                                                               tmp_path: Path) -> None:
    cancel = threading.Event()
    replicate.polls_needed = 100
    replicate.on_poll = lambda n: cancel.set() if n == 2 else None
    replicate.fault("POST", r"/cancel$", Reply(500, {"detail": "try later"}))
    with pytest.raises(ProviderCancelled):
        generate(replicate_provider(replicate, fake_clock), repo.for_job(execution, "gen"), tmp_path / "o.mp4", cancel)
    [job] = repo.for_execution(execution)
    assert job.status == "submitted" and "cancel not accepted" in events(job)


def test_cancelling_an_execution_cancels_its_in_flight_vendor_jobs(replicate: FakeReplicate, repo: VendorJobRepository,
                                                                   execution: str, services,  # type: ignore[no-untyped-def]
                                                                   fake_clock: FakeClock) -> None:
    pid = create_at_vendor(replicate)
    recorded_by_dead_worker(repo, execution, replicate, pid)
    registry = ProviderRegistry({"replicate": replicate_provider(replicate, fake_clock)})
    handled = cancel_in_flight(repo, registry, execution, {"providers": {"replicate": KEY}})
    assert [j.vendor_job_id for j in handled] == [pid]
    cancels = replicate.seen("POST", rf"/v1/predictions/{pid}/cancel$")
    assert len(cancels) == 1 and cancels[0].headers["authorization"] == f"Bearer {KEY}"
    assert replicate.predictions[pid]["status"] == "canceled"
    assert repo.for_execution(execution)[0].status == "canceled"
    assert cancel_in_flight(repo, registry, execution, {}) == []  # nothing left in flight


def test_a_vendor_failure_ends_the_attempt(replicate: FakeReplicate, repo: VendorJobRepository, execution: str,
                                           fake_clock: FakeClock, tmp_path: Path) -> None:
    replicate.status, replicate.error = "failed", "CUDA out of memory"
    with pytest.raises(ProviderError):
        generate(replicate_provider(replicate, fake_clock), repo.for_job(execution, "gen"), tmp_path / "o.mp4")
    [job] = repo.for_execution(execution)
    assert job.status == "failed" and job.error_code == "provider_failed" and job.usage
    replicate.status, replicate.error = "succeeded", None
    generate(replicate_provider(replicate, fake_clock), repo.for_job(execution, "gen"), tmp_path / "o.mp4")
    assert replicate.created == 2


def test_an_output_that_is_gone_ends_the_attempt(replicate: FakeReplicate, repo: VendorJobRepository, execution: str,
                                                 fake_clock: FakeClock, tmp_path: Path) -> None:
    replicate.output = [replicate.file_url("expired.mp4")]
    with pytest.raises(ProviderError) as info:
        generate(replicate_provider(replicate, fake_clock), repo.for_job(execution, "gen"), tmp_path / "o.mp4")
    assert info.value.code == "provider_rejected"
    assert repo.for_execution(execution)[0].status == "output_lost"


# -- through the executor: the job runner hands each job its ledger ------------------------------


def executor_for(settings: Any, replicate: FakeReplicate, fal: FakeFal) -> tuple[Any, Any]:
    from tests.providers.ledger_worker import registry
    from vidassets.execution.executor import PlanExecutor
    from vidassets.execution.operations import OperationRunner
    from vidassets.services import build_services

    settings = settings.model_copy(update={"replicate_base_url": f"{replicate.url}/v1", "fal_base_url": fal.url,
                                           "provider_poll_interval_s": 0.05, "provider_timeout_s": 60.0})
    services = build_services(settings)
    return services, PlanExecutor(services, OperationRunner(services, registry(settings)), max_workers=2)


def vendor_plan(vendor: str, model: str) -> dict[str, Any]:
    return {"jobs": [{"id": "gen", "type": "generate", "params": {"provider": vendor, "modelId": model,
                                                                  "prompt": "a red fox", "duration": 5}}],
            "providerApiKeys": {vendor: KEY}}


@pytest.mark.parametrize("vendor, fault, outcome", [
    ("replicate", Reply(drop=True, after=True), "completed"),
    ("replicate", Reply(drop=True), "completed"),
    ("replicate", Reply(500, {"detail": "oops"}, after=True), "completed"),
    ("replicate", Reply(429, {"detail": "slow"}, {"Retry-After": "1"}), "completed"),
    ("replicate", Reply(503, {"detail": "busy"}, {"Retry-After": "1"}), "completed"),
    ("fal", Reply(drop=True, after=True), "vendor_create_unconfirmed"),
    ("fal", Reply(500, {"detail": "oops"}, after=True), "vendor_create_unconfirmed"),
    ("fal", Reply(429, {"detail": "slow"}, {"Retry-After": "1"}), "completed"),
], ids=["replicate-dropped-after-create", "replicate-dropped-before-create", "replicate-500-after-create",
        "replicate-429", "replicate-503", "fal-dropped-after-create", "fal-500-after-create", "fal-429"])
def test_executions_with_lost_and_refused_creates(settings, replicate: FakeReplicate, fal: FakeFal,  # type: ignore[no-untyped-def]
                                                  vendor: str, fault: Reply, outcome: str) -> None:
    services, executor = executor_for(settings, replicate, fal)
    server, model, create = ((replicate, "acme/video-1", r"^/v1/models/acme/video-1/predictions$") if vendor == "replicate"
                             else (fal, FAL_MODEL, rf"^/{FAL_MODEL}$"))
    server.fault("POST", create, fault)
    eid = submit(services, vendor_plan(vendor, model))
    _, summary = executor.run_to_end(eid, "run-1")
    status = executor.finalize(eid, summary)
    assert server.created == 1
    if outcome == "completed":
        assert status == "completed", summary.failures
    else:
        assert status == "failed" and summary.failures["gen"].code == outcome
        assert "not sent again" in summary.failures["gen"].message
        # Dagster's run retry resumes the failed job: it fails the same way, nothing is sent.
        _, again = executor.run_to_end(eid, "run-2")
        assert again.failures["gen"].code == outcome and server.created == 1
    assert len(VendorJobRepository(services.settings.resolved_database_url).for_execution(eid)) == 1


def test_a_cancelled_execution_cancels_what_a_dead_worker_left_running(settings, replicate: FakeReplicate,  # type: ignore[no-untyped-def]
                                                                       fal: FakeFal) -> None:
    """The worker died while polling; the execution is cancelled before its run is resumed: the
    resumed run starts nothing and cancels the recorded prediction at Replicate."""
    services, executor = executor_for(settings, replicate, fal)
    eid = submit(services, vendor_plan("replicate", "acme/video-1"))
    services.repo.start_run(eid, "run-1")
    services.repo.job_started(eid, "gen", "run-1")
    pid = create_at_vendor(replicate)
    repo = VendorJobRepository(services.settings.resolved_database_url)
    recorded_by_dead_worker(repo, eid, replicate, pid, model="acme/video-1")
    services.repo.request_cancel(eid)
    _, summary = executor.run_to_end(eid, "run-2")
    assert summary.status == "cancelled"
    assert replicate.count("POST", rf"/v1/predictions/{pid}/cancel$") == 1
    assert replicate.count("GET", rf"^/v1/predictions/{pid}$") == 0  # the job was not run again
    assert repo.for_execution(eid)[0].status == "canceled" and replicate.created == 1
