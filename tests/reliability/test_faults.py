"""Dependencies failing under the API and the executor: clear answers while down, recovery by
itself when back, and nothing accepted is lost."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from tests.conftest import make_client
from tests.helpers import submit
from tests.reliability.conftest import PrivatePostgres, PrivateRedis
from vidassets.settings import Settings
from vidassets.storage.migrate import upgrade

PLAN = {"jobs": [{"id": "a", "type": "generate", "params": {"prompt": "fault", "duration": 1, "resolution": "160x90"}}]}


def test_postgres_restart_under_load_gives_503_then_recovers(private_postgres: PrivatePostgres, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=private_postgres.url, key_cache_s=60)
    upgrade(settings.resolved_database_url)
    client = make_client(settings)
    accepted: list[str] = []
    answers: list[int] = []
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            resp = client.post("/api/execute", json=PLAN)
            answers.append(resp.status_code)
            if resp.status_code == 202:
                accepted.append(resp.json()["id"])
            time.sleep(0.01)

    worker = threading.Thread(target=load)
    worker.start()
    time.sleep(0.5)
    private_postgres.stop()
    time.sleep(1.0)
    down = client.post("/api/execute", json=PLAN)
    ready = client.get("/ready")
    private_postgres.start()
    time.sleep(1.0)
    stop.set()
    worker.join()

    assert down.status_code == 503 and down.json()["code"] == "dependency_unavailable"
    assert down.json()["details"] == {"dependency": "database"} and down.headers["retry-after"]
    assert ready.status_code == 503 and ready.json()["checks"]["database"]["status"] == "down"
    assert set(answers) <= {202, 503}, set(answers)  # never a 500
    assert 503 in answers and answers[-1] == 202  # recovered by itself
    assert client.get("/ready").json()["checks"]["database"]["status"] == "ok"
    for eid in accepted:  # every 202 was durably committed
        assert client.get(f"/api/execute/{eid}/status").status_code == 200


def test_redis_stop_and_return(private_redis: PrivateRedis, tmp_path: Path) -> None:
    from tests.conftest import embedded_settings

    settings = embedded_settings(tmp_path / "data", redis_url=private_redis.url)
    client = make_client(settings)
    assert client.get("/ready").json()["checks"]["redis"]["status"] == "ok"
    private_redis.stop()
    ready = client.get("/ready")
    assert ready.status_code == 503 and ready.json()["checks"]["redis"]["status"] == "down"
    assert client.post("/api/execute", json=PLAN).status_code == 202  # limits fail open; work is accepted
    private_redis.start()
    assert client.get("/ready").json()["checks"]["redis"]["status"] == "ok"


def test_object_store_errors_fail_cleanly_and_retry_completes(tmp_path: Path) -> None:
    """The object store refuses writes (moto server stopped): the job fails with storage_error
    after its in-job retries; once the store is back, POST /retry finishes the execution."""
    import socket

    from moto.server import ThreadedMotoServer

    from tests.conftest import S3_BUCKET, embedded_settings
    from vidassets.execution.executor import PlanExecutor
    from vidassets.execution.operations import OperationRunner
    from vidassets.providers import default_registry
    from vidassets.services import build_services
    from vidassets.storage.artefacts import s3_client

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    s3_client(endpoint, "us-east-1", "testing", "testing").create_bucket(Bucket=S3_BUCKET)
    settings = embedded_settings(tmp_path / "data", artefact_store="s3", s3_endpoint_url=endpoint, s3_bucket=S3_BUCKET,
                                 s3_access_key_id="testing", s3_secret_access_key="testing")
    services = build_services(settings)
    executor = PlanExecutor(services, OperationRunner(services, default_registry(settings=settings)))
    import vidassets.execution.job_runner as executor_module

    executor_module.TRANSIENT_ATTEMPTS, saved = 2, executor_module.TRANSIENT_ATTEMPTS
    try:
        eid = submit(services, PLAN)
        server.stop()  # the store goes away
        _, summary = executor.run_to_end(eid, "run-1")
        assert summary.status == "failed" and summary.failures["a"].code == "storage_error"
        assert executor.finalize(eid, summary) == "failed"
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        s3_client(endpoint, "us-east-1", "testing", "testing").create_bucket(Bucket=S3_BUCKET)
        services.repo.prepare_retry(eid)
        _, summary = executor.run_to_end(eid, "run-2")
        assert summary.status == "completed" and executor.finalize(eid, summary) == "completed"
        assert services.store.exists(services.repo.get(eid).result["key"])
    finally:
        executor_module.TRANSIENT_ATTEMPTS = saved
        server.stop()
