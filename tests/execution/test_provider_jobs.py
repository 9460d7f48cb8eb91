"""Plans whose jobs go through real HTTP provider clients (a fake Replicate on loopback)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.helpers import submit
from tests.providers.fakes import FakeReplicate
from vidassets.execution.executor import PlanExecutor
from vidassets.execution.operations import OperationRunner
from vidassets.providers import default_registry
from vidassets.services import build_services

KEY = "r8_PlanKeyForTests0123456789"


@pytest.fixture
def replicate(media_dir) -> Iterator[FakeReplicate]:  # type: ignore[no-untyped-def]
    server = FakeReplicate()
    server.polls_needed = 2
    server.files["out.mp4"] = (media_dir / "clip.mp4").read_bytes()
    yield server
    server.stop()


def test_generate_lipsync_and_transcription_through_a_provider(settings, replicate: FakeReplicate, media_url: str,  # type: ignore[no-untyped-def]
                                                              caplog: pytest.LogCaptureFixture) -> None:
    settings = settings.model_copy(update={"replicate_base_url": f"{replicate.url}/v1", "provider_poll_interval_s": 0.05})
    services = build_services(settings)
    executor = PlanExecutor(services, OperationRunner(services, default_registry(settings=settings)), max_workers=1)
    eid = submit(services, {"jobs": [
        {"id": "gen", "type": "generate", "params": {"provider": "replicate", "modelId": "acme/video-1",
                                                    "prompt": "a red fox", "duration": 1}},
        {"id": "lips", "type": "lipSync", "params": {"provider": "replicate", "audioUrl": f"{media_url}/voice.m4a"},
         "dependsOn": ["gen"]},
    ], "providerApiKeys": {"replicate": KEY}})
    caplog.set_level(logging.DEBUG)
    _, summary = executor.run_to_end(eid, "run-p")
    assert summary.status == "completed", summary.failures
    jobs = {j.job_id: j for j in services.repo.jobs(eid)}
    assert jobs["gen"].result["provider"] == "replicate" and jobs["gen"].result["model"] == "acme/video-1"
    assert jobs["lips"].result["provider"] == "replicate"
    posts = replicate.seen("POST", r"/v1/.*predictions")
    assert len(posts) == 2 and all(p.headers["authorization"] == f"Bearer {KEY}" for p in posts)
    assert KEY not in caplog.text
    assert KEY not in str([j.result for j in jobs.values()])

    # Resumed or retried: finished provider jobs are never submitted again.
    _, summary = executor.run_to_end(eid, "run-p2")
    assert list(summary.ran) == [] and len(replicate.seen("POST", r"/v1/.*predictions")) == 2


def test_a_provider_auth_error_fails_the_job_at_once(settings, replicate: FakeReplicate) -> None:  # type: ignore[no-untyped-def]
    from tests.providers.fakes import Reply

    settings = settings.model_copy(update={"replicate_base_url": f"{replicate.url}/v1", "provider_poll_interval_s": 0.05})
    services = build_services(settings)
    executor = PlanExecutor(services, OperationRunner(services, default_registry(settings=settings)), max_workers=1)
    replicate.fault("POST", r"/v1/.*predictions", Reply(401, {"detail": "Invalid token."}))
    eid = submit(services, {"jobs": [{"id": "gen", "type": "generate",
                                      "params": {"provider": "replicate", "prompt": "x", "apiKey": "r8_bad_key_000000"}}]})
    _, summary = executor.run_to_end(eid, "run-a")
    assert summary.failures["gen"].code == "provider_auth"
    assert len(replicate.seen("POST", r"/v1/.*predictions")) == 1  # not retried
    assert "r8_bad_key_000000" not in summary.failures["gen"].message
