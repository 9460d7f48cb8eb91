"""What CI can check of the deployment without a cluster: files parse, the production Dagster
instance really starts against PostgreSQL and S3, the image's entry points start."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from dagster import DagsterRun

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_every_yaml_file_is_well_formed() -> None:
    files = [*ROOT.glob("*.yaml"), *(ROOT / "deploy").rglob("*.yaml"), *(ROOT / "deploy").rglob("*.yml")]
    assert len(files) >= 7
    for path in files:
        docs = list(yaml.safe_load_all(path.read_text()))
        assert docs and all(d is not None for d in docs), path


def test_production_dagster_yaml_starts_an_instance(tmp_path: Path, pg_database: str, s3_endpoint: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster import DagsterEventType, DagsterInstance

    from vidassets.storage.artefacts import s3_client

    s3_client(s3_endpoint, "us-east-1", "testing", "testing").create_bucket(Bucket="dagster-logs")
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    # The URL as docs/DEPLOYMENT.md and Compose write it: the driver named (psycopg2).
    monkeypatch.setenv("DAGSTER_POSTGRES_URL", pg_database)
    monkeypatch.setenv("DAGSTER_COMPUTE_LOGS_BUCKET", "dagster-logs")
    monkeypatch.setenv("DAGSTER_S3_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("DAGSTER_CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
    monkeypatch.setenv("DAGSTER_CELERY_BACKEND_URL", "redis://127.0.0.1:6379/14")
    instance = DagsterInstance.from_config(str(home))
    try:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.compute_log_manager).__name__ == "S3ComputeLogManager"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        launcher = instance.run_launcher
        assert type(launcher).__name__ == "CeleryRunLauncher" and launcher.supports_check_run_worker_health
        assert launcher.broker == "redis://127.0.0.1:6379/14" and launcher.backend == "redis://127.0.0.1:6379/14"
        assert launcher.queues == ["render", "provider"] and launcher.provider_queue == "provider"
        assert (launcher.urgent_priority, launcher.backfill_priority) == (8, 2)
        queue = instance.get_concurrency_config().run_queue_config
        assert queue and queue.max_concurrent_runs == 16 and queue.tag_concurrency_limits
        assert instance.run_monitoring_enabled and instance.run_retries_enabled
        assert instance.run_monitoring_max_resume_run_attempts == 0  # lost runs are retried, not resumed
        assert instance.get_runs() == []  # storage reachable and migrated
        # ...and writable: a run and its events (a bare postgresql:// URL selects psycopg 3, on
        # which dagster-postgres' event writes fail).
        run = instance.add_run(DagsterRun(job_name="probe", run_id="0" * 8 + "-probe"))
        instance.report_engine_event("written through the production instance", run)
        assert [e.message for e in instance.all_logs(run.run_id, of_type=DagsterEventType.ENGINE_EVENT)] == [
            "written through the production instance"]
    finally:
        instance.dispose()


def test_helm_values_and_workers_match_the_production_instance() -> None:
    """Kubernetes runs the same launcher with the same options as deploy/dagster.yaml, and every
    worker pool consumes queues that launcher sends to."""
    instance = yaml.safe_load((ROOT / "deploy" / "dagster.yaml").read_text())
    values = yaml.safe_load((ROOT / "deploy" / "helm" / "values.yaml").read_text())
    assert values["runLauncher"]["type"] == "CustomRunLauncher"
    assert values["runLauncher"]["config"]["customRunLauncher"] == instance["run_launcher"]
    assert values["postgresql"]["postgresqlScheme"] == "postgresql+psycopg2"
    image = values["dagsterDaemon"]["image"]["repository"]
    assert values["dagsterWebserver"]["image"]["repository"] == image == "ghcr.io/vidassets/vidassets"
    queues = set(instance["run_launcher"]["config"]["queues"])
    docs = [d for d in yaml.safe_load_all((ROOT / "deploy" / "k8s" / "workers.yaml").read_text()) if d]
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    scaled = {d["spec"]["scaleTargetRef"]["name"] for d in docs if d["kind"] == "HorizontalPodAutoscaler"}
    assert deployments and scaled == set(deployments)
    for name, d in deployments.items():
        spec = d["spec"]["template"]["spec"]
        argv = spec["containers"][0]["command"]
        assert argv[:4] == ["celery", "-A", "vidassets.dagster.celery_app", "worker"], name
        assert set(argv[argv.index("-Q") + 1].split(",")) <= queues, name
        assert spec["volumes"][0]["configMap"]["name"] == "dagster-instance"
        assert spec["terminationGracePeriodSeconds"] >= 600  # warm shutdown lets runs finish
    overlay = yaml.safe_load((ROOT / "deploy" / "helm" / "values-k8s-launcher.yaml").read_text())
    assert overlay["runLauncher"]["type"] == "K8sRunLauncher"


def test_ecs_dagster_yaml_validates() -> None:
    from vidassets.dagster.embedded._dagster_internals import dagster_instance_config

    env = {"DAGSTER_POSTGRES_URL": "postgresql://u@h/db", "DAGSTER_COMPUTE_LOGS_BUCKET": "b"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        config, _ = dagster_instance_config(str(ROOT / "deploy" / "ecs"))
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert config["run_launcher"]["class"] == "EcsRunLauncher"


def test_entry_points_start() -> None:
    out = subprocess.run([str(BIN / "vidassets"), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "rerender" in out.stdout and "keys" in out.stdout
    out = subprocess.run([str(BIN / "dagster"), "definitions", "validate", "-m", "vidassets.dagster.definitions",
                          "-a", "defs"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    out = subprocess.run([sys.executable, "-c", "import api.main as m; print(m.create_app.__name__)"],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 0 and "create_app" in out.stdout


def test_compose_services_and_dockerfile_roles() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "minio", "code-server", "dagster-webserver", "dagster-daemon", "api",
            "worker"} <= set(services)
    env = compose["x-vidassets-env"]
    assert env["DAGSTER_POSTGRES_URL"].startswith("postgresql+psycopg2://")
    assert "redis://redis:6379/1" in env["DAGSTER_CELERY_BROKER_URL"] and env["DAGSTER_CELERY_BACKEND_URL"]
    # `docker compose up --scale worker=N`: no fixed name or host port, node names from the hostname.
    worker = services["worker"]
    assert "container_name" not in worker and "ports" not in worker
    assert "celery -A vidassets.dagster.celery_app worker" in " ".join(worker["command"])
    assert "worker@$$HOSTNAME" in " ".join(worker["command"])
    assert worker["environment"]["DAGSTER_CELERY_BROKER_URL"] == env["DAGSTER_CELERY_BROKER_URL"]
    queues = set(yaml.safe_load((ROOT / "deploy" / "dagster.yaml").read_text())["run_launcher"]["config"]["queues"])
    for name in ("worker", "provider-worker"):
        argv = " ".join(services[name]["command"]).split()
        assert set(argv[argv.index("-Q") + 1].split(",")) <= queues, name
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "deploy/dagster.yaml" in dockerfile and "uvicorn api.main:app" in dockerfile


def test_api_reference_is_generated_from_the_openapi_document(tmp_path: Path) -> None:
    from api.apidocs import render
    from api.main import create_app
    from vidassets.settings import Settings

    current = render(create_app(Settings(data_dir=tmp_path)).openapi())
    assert (ROOT / "docs" / "API.md").read_text() == current, "docs/API.md is stale: python -m api.apidocs > docs/API.md"
