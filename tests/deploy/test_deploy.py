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
    from dagster import DagsterInstance

    from vidassets.storage.artefacts import s3_client

    s3_client(s3_endpoint, "us-east-1", "testing", "testing").create_bucket(Bucket="dagster-logs")
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_POSTGRES_URL", pg_database.replace("+psycopg2", ""))  # the plain URL users write
    monkeypatch.setenv("DAGSTER_COMPUTE_LOGS_BUCKET", "dagster-logs")
    monkeypatch.setenv("DAGSTER_S3_ENDPOINT_URL", s3_endpoint)
    instance = DagsterInstance.from_config(str(home))
    try:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.compute_log_manager).__name__ == "S3ComputeLogManager"
        assert type(instance.run_coordinator).__name__ == "PromptQueuedRunCoordinator"
        assert type(instance.run_launcher).__name__ == "ForkserverRunLauncher"
        queue = instance.get_concurrency_config().run_queue_config
        assert queue and queue.max_concurrent_runs == 8 and queue.tag_concurrency_limits
        assert instance.run_monitoring_enabled and instance.run_retries_enabled
        assert instance.get_runs() == []  # storage reachable and migrated
    finally:
        instance.dispose()


def test_ecs_dagster_yaml_validates() -> None:
    from dagster._core.instance.config import dagster_instance_config

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
    assert {"postgres", "redis", "minio", "code-server", "dagster-webserver", "dagster-daemon", "api"} <= set(compose["services"])
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "deploy/dagster.yaml" in dockerfile and "uvicorn api.main:app" in dockerfile


def test_api_reference_is_generated_from_the_openapi_document(tmp_path: Path) -> None:
    from api.apidocs import render
    from api.main import create_app
    from vidassets.settings import Settings

    current = render(create_app(Settings(data_dir=tmp_path)).openapi())
    assert (ROOT / "docs" / "API.md").read_text() == current, "docs/API.md is stale: python -m api.apidocs > docs/API.md"
